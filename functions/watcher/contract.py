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

# Metrics the poller emits (Powertools EMF, namespace from POWERTOOLS_METRICS_NAMESPACE, which the stack derives
# from its name). Few on purpose: each custom metric is billed monthly.
# 1 per run in which every region was listed and every notification was published or kept in an outbox.
METRIC_POLL_SUCCEEDED: Final = "PollSucceeded"
# Publishes SNS refused (the notification stays in its job's outbox for the next run).
METRIC_PUBLISH_FAILURES: Final = "PublishFailures"
# Jobs whose describe, decision, store or delivery raised; each is retried by the next run.
METRIC_JOB_ERRORS: Final = "JobErrors"
# Age in seconds of the oldest notification still waiting in an outbox after the run (0 when none waits).
METRIC_OUTBOX_AGE: Final = "OutboxOldestAgeSeconds"

# The stack's outputs that the operator commands (gtwatch status, test-notify, redrive, mute) read.
OUTPUT_TOPIC_ARN: Final = "TopicArn"
OUTPUT_STATE_TABLE: Final = "StateTableName"
OUTPUT_SLACK_QUEUE_URL: Final = "SlackQueueUrl"
OUTPUT_DEAD_LETTER_QUEUE_URL: Final = "SlackDeadLetterQueueUrl"
OUTPUT_ALARM_TOPIC_ARN: Final = "AlarmTopicArn"
# The effective gtwatch configuration (regions, filter, routes, stall rules) as compact JSON.
OUTPUT_CONFIG: Final = "WatcherConfig"
