"""Facts shared by the functions, the stack, the emulator and the tests: each is defined here once.

Standard library only, so that the CDK app (infra/) and the operator commands can import it without the Lambda
runtime's dependencies.
"""

from __future__ import annotations

from typing import Final, Literal, get_args

# The notification types a person can subscribe to, in the order they are listed in docs and config errors.
EventName = Literal["completed", "failed", "stopped", "stalled", "resumed"]
EVENT_TYPES: Final[tuple[EventName, ...]] = get_args(EventName)
# `gtwatch test-notify` sends this type; it passes every channel's filter, whatever the configured events.
TEST_EVENT_TYPE: Final = "test"
# The publisher sets these SNS message attributes; subscriptions filter on the event type.
EVENT_TYPE_ATTRIBUTE: Final = "event_type"

# Which channels a publish is for (quiet hours can hold one and not the other): "email", "slack" or ALL_CHANNELS.
CHANNEL_ATTRIBUTE: Final = "channel"
ALL_CHANNELS: Final = "all"

# SageMaker's EventBridge event for a labeling job's status change.
STATE_CHANGE_SOURCE: Final = "aws.sagemaker"
STATE_CHANGE_DETAIL_TYPE: Final = "SageMaker Ground Truth Labeling Job State Change"

# The kinds of SageMaker job gtwatch watches (config `kinds`, scenario `kind`), in the order docs list them.
KindName = Literal["labeling", "training", "processing", "transform", "tuning", "pipeline"]
JOB_KINDS: Final[tuple[KindName, ...]] = get_args(KindName)
DEFAULT_KINDS: Final[tuple[KindName, ...]] = ("labeling",)
# A pipeline execution never stalls (its steps' jobs can, as jobs of their own kind).
STALLING_KINDS: Final[tuple[KindName, ...]] = tuple(kind for kind in JOB_KINDS if kind != "pipeline")
# Each kind's EventBridge event (source aws.sagemaker), as SageMaker names it (Amazon SageMaker developer guide,
# "Events that Amazon SageMaker AI sends to Amazon EventBridge").
KIND_DETAIL_TYPES: Final[dict[KindName, str]] = {
    "labeling": STATE_CHANGE_DETAIL_TYPE,
    "training": "SageMaker Training Job State Change",
    "processing": "SageMaker Processing Job State Change",
    "transform": "SageMaker Transform Job State Change",
    "tuning": "SageMaker HyperParameter Tuning Job State Change",
    "pipeline": "SageMaker Model Building Pipeline Execution Status Change",
}
# The resource type in each kind's ARN (arn:aws:sagemaker:<region>:<account>:<type>/<name>); a pipeline execution's
# ARN is pipeline/<pipeline>/execution/<id>.
KIND_ARN_TYPES: Final[dict[KindName, str]] = {
    "labeling": "labeling-job",
    "training": "training-job",
    "processing": "processing-job",
    "transform": "transform-job",
    "tuning": "hyper-parameter-tuning-job",
    "pipeline": "pipeline",
}
# The CloudWatch Logs group each kind writes to (streams `<job>/...`): the stall signal of the kinds with logs.
KIND_LOG_GROUPS: Final[dict[KindName, str]] = {
    "training": "/aws/sagemaker/TrainingJobs",
    "processing": "/aws/sagemaker/ProcessingJobs",
    "transform": "/aws/sagemaker/TransformJobs",
}
# The SageMaker API actions watching each kind needs (the poller's and the event handler's role get these only).
KIND_LIST_ACTIONS: Final[dict[KindName, tuple[str, ...]]] = {
    "labeling": ("sagemaker:ListLabelingJobs",),
    "training": ("sagemaker:ListTrainingJobs",),
    "processing": ("sagemaker:ListProcessingJobs",),
    "transform": ("sagemaker:ListTransformJobs",),
    "tuning": ("sagemaker:ListHyperParameterTuningJobs",),
    "pipeline": ("sagemaker:Search",),
}
KIND_DESCRIBE_ACTIONS: Final[dict[KindName, tuple[str, ...]]] = {
    "labeling": ("sagemaker:DescribeLabelingJob",),
    "training": ("sagemaker:DescribeTrainingJob",),
    "processing": ("sagemaker:DescribeProcessingJob",),
    "transform": ("sagemaker:DescribeTransformJob",),
    "tuning": ("sagemaker:DescribeHyperParameterTuningJob",),
    "pipeline": ("sagemaker:DescribePipelineExecution", "sagemaker:ListPipelineExecutionSteps"),
}

# Many accounts (config `accounts`): the hub, in the home account, reads every other listed account (a spoke) through
# a read-only role of this name that the spoke's own stack creates (arn:<partition>:iam::<account>:role/<name>).
SPOKE_ROLE_NAME: Final = "gtwatch-spoke-reader"
# The IAM path of the hub's roles that may assume a spoke's role (the poller's and the event handler's): a spoke's
# role trusts the hub account's roles under this path only (aws:PrincipalArn), whatever their generated names.
HUB_ROLE_PATH: Final = "/gtwatch-hub/"
# The event bus in the hub's home region to which every spoke (and every other region of the home account) forwards
# the watched kinds' SageMaker events; its policy lets only the listed accounts put events on it.
HUB_EVENT_BUS_NAME: Final = "gtwatch-hub"

# The state table: one item per job and one run record per region, keyed by `pk`; a sparse index of the jobs
# that are still active, by region.
TABLE_PARTITION_KEY: Final = "pk"
# Key prefixes: `job#<region>#<name>` for a job's state, `run#<region>` for a region's run record.
JOB_KEY_PREFIX: Final = "job#"
RUN_KEY_PREFIX: Final = "run#"
# Partition values of the sparse index besides a region's active jobs: finished jobs by region and UTC day
# (`ended#<region>#<YYYY-MM-DD>`, for the digest) and mutes (`mute#<region>`).
ENDED_KEY_PREFIX: Final = "ended#"
# A job's mute: `mute#<region>#<name>`, indexed under `mute#<region>`. The Slack notifier may read these by key.
MUTE_KEY_PREFIX: Final = "mute#"
ACTIVE_INDEX_NAME: Final = "active"
ACTIVE_INDEX_KEY: Final = "active_region"
TTL_ATTRIBUTE: Final = "expires_at"

# The Slack notifier and its queue. Lambda's advice for SQS event sources: a visibility timeout of at least six
# times the function's timeout, so that a message is not handed out again while its batch is still worked on.
SLACK_FUNCTION_TIMEOUT_SECONDS: Final = 30
SLACK_QUEUE_VISIBILITY_SECONDS: Final = SLACK_FUNCTION_TIMEOUT_SECONDS * 6
# One message per invocation: the timeout then budgets one slow Slack answer, not ten (see the budget below).
SLACK_BATCH_SIZE: Final = 1
# A safety net only: the notifier keeps a message while Slack is down (backing off, at most 10 minutes between
# attempts) and dead-letters itself what Slack rejects for good. 500 receives outlast about 3.5 days of
# 10-minute retries, far beyond the 24-hour outage the notifier is built to ride out.
SLACK_MAX_RECEIVE_COUNT: Final = 500

# The poller's timeout: a run takes at most this long (the digest counts a region late after a schedule period and
# this, plus a minute).
POLLER_TIMEOUT_SECONDS: Final = 120

# The fan-out (docs/performance.md, "Fan-out"). A run whose (account, region) pairs would not fit in half the poller's
# timeout is cut into batches that do, each read by a poll worker (same timeout) fed by the poll-work queue. What a
# steady pair costs, per kind, at 20 jobs in progress (2 of them moving), taking the slow end of each AWS latency:
# two SageMaker listings (100-300 ms each), six DynamoDB requests (3 reads, 3 writes, ~15 ms each) and the code's own
# time (about 50 ms measured on one core of the emulator, moto's own work included: gtwatch.sim.bench PAIRS_RECORDED;
# a 256 MB function has 256/1769 of a vCPU, so 345 ms). A kind with logs adds a log read per running job
# (DescribeLogStreams is throttled at 5 TPS per account and region: 200 ms each, plus GetLogEvents ~100 ms); a pair adds
# a cold AssumeRole (~200 ms; pessimistically every pair in an account of its own).
POLL_RUN_BUDGET_SECONDS: Final = POLLER_TIMEOUT_SECONDS // 2
POLL_PAIR_ASSUME_ROLE_MS: Final = 200
POLL_CODE_MS: Final = 50 * 1769 // 256
POLL_KIND_MS: Final = 2 * 300 + 6 * 15 + POLL_CODE_MS
POLL_LOG_KIND_MS: Final = 20 * (200 + 100)


def pairs_per_invocation(kinds: tuple[str, ...]) -> int:
    """How many (account, region) pairs of these kinds one invocation reads within POLL_RUN_BUDGET_SECONDS (48 for
    the default kinds, 8 for training alone, 2 for every kind); GTWATCH_POLL_BATCH_PAIRS overrides it."""
    pair_ms = POLL_PAIR_ASSUME_ROLE_MS + sum(
        POLL_KIND_MS + (POLL_LOG_KIND_MS if kind in KIND_LOG_GROUPS else 0) for kind in kinds
    )
    return max(1, POLL_RUN_BUDGET_SECONDS * 1000 // pair_ms)


# The poll-work queue: a batch that fails is offered again after the visibility timeout (Lambda's advice for SQS event
# sources: at least six times the function's timeout) and dead-lettered after POLL_WORK_MAX_RECEIVE_COUNT receives;
# the next scheduled runs plan the same pairs anyway, so a late retry only repeats a read. The queue keeps a message
# long enough for its receives; the dead-letter queue keeps it for people to read (longer than the source's).
POLL_WORKER_TIMEOUT_SECONDS: Final = POLLER_TIMEOUT_SECONDS
POLL_WORK_VISIBILITY_SECONDS: Final = POLL_WORKER_TIMEOUT_SECONDS * 6
POLL_WORK_MAX_RECEIVE_COUNT: Final = 3
POLL_WORK_RETENTION_SECONDS: Final = 2 * 3600
POLL_WORK_DEAD_LETTER_RETENTION_SECONDS: Final = 14 * 24 * 3600
# One batch per invocation: its pairs are what fits one invocation's budget.
POLL_WORK_BATCH_SIZE: Final = 1

# Metrics the poller emits (Powertools EMF, namespace from POWERTOOLS_METRICS_NAMESPACE, which the stack derives
# from its name). Few on purpose: each custom metric is billed monthly.
# 1 per run in which every region was listed and every notification was published or kept in an outbox; a run fanned
# out adds 1/n for each of its n batches that did so (poll_work.PollWork.success_share), so 1 when all did.
METRIC_POLL_SUCCEEDED: Final = "PollSucceeded"
# Publishes SNS refused (the notification stays in its job's outbox for the next run).
METRIC_PUBLISH_FAILURES: Final = "PublishFailures"
# Jobs whose describe, decision, store or delivery raised; each is retried by the next run.
METRIC_JOB_ERRORS: Final = "JobErrors"
# Spoke accounts whose read-only role could not be assumed this run (their jobs wait; the others were read).
METRIC_ACCOUNTS_UNREADABLE: Final = "AccountsUnreadable"
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

# The Slack notifier's time budget. A message costs at most SLACK_POST_ATTEMPTS HTTP attempts (the post and its
# retries after a 429) of SLACK_HTTP_TIMEOUT_SECONDS each, plus Retry-After waits that add up to at most
# SLACK_MAX_RETRY_AFTER_SECONDS (a longer Retry-After fails the message; SQS offers it again after the visibility
# timeout). The function's timeout must hold a whole batch of such messages and the start-up margin (settings,
# secret, the job stream's ledger): tests/infra checks
#   SLACK_FUNCTION_TIMEOUT_SECONDS >= SLACK_BATCH_SIZE * (HTTP * ATTEMPTS + RETRY_AFTER) + SLACK_STARTUP_MARGIN_SECONDS.
# The stack passes the first and the third as GTWATCH_SLACK_TIMEOUT_SECONDS and GTWATCH_SLACK_MAX_RETRY_AFTER_SECONDS.
SLACK_HTTP_TIMEOUT_SECONDS: Final = 5
SLACK_POST_ATTEMPTS: Final = 3
SLACK_MAX_RETRY_AFTER_SECONDS: Final = 8
SLACK_STARTUP_MARGIN_SECONDS: Final = 7

# The Slack notifier's ledger: one item per job stream in the state table, keyed `slack#<stream>`; the stack lets
# the notifier read and write those items only (dynamodb:LeadingKeys).
SLACK_LEDGER_KEY_PREFIX: Final = "slack#"
# How long the Slack queue keeps a message: beyond the longest the notifier retries one (SLACK_MAX_RECEIVE_COUNT
# receives at most 10 minutes apart, about 3.5 days), and a week to notice a notifier that takes nothing. The
# dead-letter queue keeps messages longer (the SQS maximum): a message moved there by the redrive policy keeps its
# first enqueue time, so the dead-letter queue's retention must exceed the source queue's.
SLACK_QUEUE_RETENTION_SECONDS: Final = 7 * 24 * 3600
SLACK_DEAD_LETTER_RETENTION_SECONDS: Final = 14 * 24 * 3600
# Outputs naming the secret the stack created for Slack (absent when the configuration names an existing one).
OUTPUT_SLACK_WEBHOOK_SECRET_NAME: Final = "SlackWebhookSecretName"  # noqa: S105 - an output name
OUTPUT_SLACK_TOKEN_SECRET_NAME: Final = "SlackBotTokenSecretName"  # noqa: S105 - an output name

# The daily digest publishes to the topic with this event type, once per channel: for "email" (the email
# subscriptions take it when the digest goes to email) and for "slack" (the Slack queue takes it, and the notifier
# delivers it as it does any notification: retried while Slack is down).
DIGEST_EVENT_TYPE: Final = "digest"
