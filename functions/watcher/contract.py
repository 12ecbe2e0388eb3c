"""Facts shared by the functions, the stack, the emulator and the tests: each is defined here once.

Standard library only, so that the CDK app (infra/) and the operator commands can import it without the Lambda
runtime's dependencies.
"""

from __future__ import annotations

from typing import Final

# The notification types a person can subscribe to, in the order they are listed in docs and config errors.
EVENT_TYPES: Final = ("completed", "failed", "stopped", "stalled", "resumed")
# `gtwatch test-notify` sends this type; it passes every channel's filter, whatever the configured events.
TEST_EVENT_TYPE: Final = "test"
# The publisher sets these SNS message attributes; subscriptions filter on the event type.
EVENT_TYPE_ATTRIBUTE: Final = "event_type"

# SageMaker's EventBridge event for a labeling job's status change.
STATE_CHANGE_SOURCE: Final = "aws.sagemaker"
STATE_CHANGE_DETAIL_TYPE: Final = "SageMaker Ground Truth Labeling Job State Change"

# The state table: one item per job and one run record per region, keyed by `pk`; a sparse index of the jobs
# that are still active, by region.
TABLE_PARTITION_KEY: Final = "pk"
ACTIVE_INDEX_NAME: Final = "active"
ACTIVE_INDEX_KEY: Final = "active_region"
TTL_ATTRIBUTE: Final = "expires_at"

# Powertools idempotency's default table layout.
IDEMPOTENCY_KEY: Final = "id"
IDEMPOTENCY_TTL_ATTRIBUTE: Final = "expiration"

# The Slack notifier and its queue. Lambda's advice for SQS event sources: a visibility timeout of at least six
# times the function's timeout, so that a message is not handed out again while its batch is still worked on.
SLACK_FUNCTION_TIMEOUT_SECONDS: Final = 30
SLACK_QUEUE_VISIBILITY_SECONDS: Final = SLACK_FUNCTION_TIMEOUT_SECONDS * 6
SLACK_BATCH_SIZE: Final = 10
SLACK_MAX_RECEIVE_COUNT: Final = 5
