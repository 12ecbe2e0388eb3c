"""The names of the environment variables the stack sets and the handlers' settings read: each spelled here once.

Standard library only, so that the stack (infra/), the emulator and the tests import the names without the Lambda
runtime's dependencies. The values are documented names (docs/deploy.md); renaming one breaks deployed stacks.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final


class Env(StrEnum):
    """A gtwatch environment variable; each member is its name (a `str`, usable wherever a name is)."""

    # What the watching functions (poller, event handler, watch start) and the digest read.
    TABLE_NAME = "GTWATCH_TABLE_NAME"
    TOPIC_ARN = "GTWATCH_TOPIC_ARN"
    REGIONS = "GTWATCH_REGIONS"
    KINDS = "GTWATCH_KINDS"
    LOG_READS_PER_RUN = "GTWATCH_LOG_READS_PER_RUN"
    NAME_CONTAINS = "GTWATCH_NAME_CONTAINS"
    STALL_AFTER_MINUTES = "GTWATCH_STALL_AFTER_MINUTES"
    STALL_REPEAT_MINUTES = "GTWATCH_STALL_REPEAT_MINUTES"
    SCHEDULE_MINUTES = "GTWATCH_SCHEDULE_MINUTES"
    QUIET_HOURS = "GTWATCH_QUIET_HOURS"
    EMAIL_EVENTS = "GTWATCH_EMAIL_EVENTS"
    # Many accounts: the listed accounts as JSON ([{id, alias?, regions, role_arn?}], the home account first, without
    # role_arn), and the external ID the hub passes when it assumes a spoke's role (only when one is configured).
    ACCOUNTS = "GTWATCH_ACCOUNTS"
    SPOKE_EXTERNAL_ID = "GTWATCH_SPOKE_EXTERNAL_ID"
    # The poller's fan-out: more (account, region) pairs than this are read by poll workers, this many (at most) each,
    # through the poll-work queue (its URL; set only in a stack whose pairs outgrow one invocation).
    POLL_BATCH_PAIRS = "GTWATCH_POLL_BATCH_PAIRS"
    POLL_WORK_QUEUE_URL = "GTWATCH_POLL_WORK_QUEUE_URL"
    # The Slack notifier's.
    SLACK_MODE = "GTWATCH_SLACK_MODE"
    SLACK_WEBHOOK_SECRET = "GTWATCH_SLACK_WEBHOOK_SECRET"  # noqa: S105 - a variable's name
    SLACK_TOKEN_SECRET = "GTWATCH_SLACK_TOKEN_SECRET"  # noqa: S105 - a variable's name
    SLACK_EVENTS = "GTWATCH_SLACK_EVENTS"
    SLACK_ROUTES = "GTWATCH_SLACK_ROUTES"
    SLACK_QUEUE_URL = "GTWATCH_SLACK_QUEUE_URL"
    SLACK_DEAD_LETTER_QUEUE_URL = "GTWATCH_SLACK_DEAD_LETTER_QUEUE_URL"
    SLACK_API_URL = "GTWATCH_SLACK_API_URL"
    SLACK_TIMEOUT_SECONDS = "GTWATCH_SLACK_TIMEOUT_SECONDS"
    SLACK_MAX_RETRY_AFTER_SECONDS = "GTWATCH_SLACK_MAX_RETRY_AFTER_SECONDS"
    SECRET_MAX_AGE_SECONDS = "GTWATCH_SECRET_MAX_AGE_SECONDS"  # noqa: S105 - a variable's name
    SLACK_LAG_ALARM_SECONDS = "GTWATCH_SLACK_LAG_ALARM_SECONDS"
    # The daily digest's.
    DIGEST_CHANNELS = "GTWATCH_DIGEST_CHANNELS"
    DIGEST_SLACK_CHANNEL = "GTWATCH_DIGEST_SLACK_CHANNEL"
    DIGEST_TIMEZONE = "GTWATCH_DIGEST_TIMEZONE"


# Lambda sets it to the function's region (a reserved variable); the watcher's home region.
LAMBDA_REGION: Final = "AWS_REGION"

# Read by the settings but never set by the stack, which keeps their defaults: Slack's own API (the emulator and the
# tests point it at a local Slack), how long a secret's value is cached, the CloudWatch Logs calls a run may make per
# kind and region, and the pairs per poll invocation (the stack builds the fan-out from the same default,
# contract.POLL_BATCH_PAIRS; tests lower it).
LEFT_TO_DEFAULTS: Final = frozenset(
    {Env.SLACK_API_URL, Env.SECRET_MAX_AGE_SECONDS, Env.LOG_READS_PER_RUN, Env.POLL_BATCH_PAIRS}
)
