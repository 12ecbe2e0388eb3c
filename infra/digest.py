"""The daily digest: a function that EventBridge Scheduler runs once a day at a local time, summing up the watched
jobs. It publishes to the topic once per channel: the email subscriptions take the email, the Slack queue the Slack
messages, which the Slack notifier delivers (retried while Slack is down), so the digest never reads a Slack secret."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

from aws_cdk import Aws, Duration
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_scheduler as scheduler
from constructs import Construct
from watcher.domain.env import Env
from watcher.domain.vocabulary import NOTIFICATION_CHANNELS

from infra.config import DigestConfig, GtwatchConfig
from infra.function import WatcherFunction
from infra.notifications import Notifications
from infra.state import JobState

DIGEST_HANDLER = "watcher.handlers.digest_handler.lambda_handler"
DIGEST_TIMEOUT = Duration.seconds(60)
# The watcher's settings the digest reads as the poller does (the same values, defined once in Polling).
SHARED_VARIABLES = (
    Env.TABLE_NAME,
    Env.TOPIC_ARN,
    Env.REGIONS,
    Env.ACCOUNTS,
    Env.KINDS,
    Env.STALL_AFTER_MINUTES,
    Env.STALL_REPEAT_MINUTES,
    Env.SCHEDULE_MINUTES,
)
# It reports how many Slack messages wait and how many were set aside.
QUEUE_DEPTH_ACTIONS = ("sqs:GetQueueAttributes",)
# What EventBridge Scheduler calls on a Lambda target (Invoke, asynchronously), with the schedule's role.
INVOKE_ACTIONS = ("lambda:InvokeFunction",)
# Scheduler retries an invocation it could not make (throttled, Lambda unavailable) for at most this long; a digest
# hours late would read like the next one.
SCHEDULE_RETRY_SECONDS = 3600
# What the function receives: when the run was due (the day it sums up does not depend on when it starts) and
# Scheduler's id of the run (EventBridge Scheduler's context attributes).
SCHEDULE_INPUT = json.dumps(
    {"scheduled_time": "<aws.scheduler.scheduled-time>", "execution_id": "<aws.scheduler.execution-id>"},
    separators=(",", ":"),
)


class Digest(Construct):
    """The digest function, what it may read and send, and the daily schedule that runs it."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: GtwatchConfig,
        digest: DigestConfig,
        code: lambda_.Code,
        layers: Sequence[lambda_.ILayerVersion],
        watch_environment: Mapping[str, str],
        state: JobState,
        notifications: Notifications,
    ) -> None:
        super().__init__(scope, construct_id)
        self.function = self._build_function(config, digest, code, layers, watch_environment, state, notifications)
        self._allow_reading(state, notifications)
        notifications.grant_publish(self.function.function)
        self.role = self._build_scheduler_role()
        self.schedule = self._build_schedule(digest)

    @staticmethod
    def _environment(
        config: GtwatchConfig,
        digest: DigestConfig,
        watch_environment: Mapping[str, str],
        notifications: Notifications,
    ) -> dict[str, str]:
        environment: dict[str, str] = {
            name: watch_environment[name] for name in SHARED_VARIABLES if name in watch_environment
        }
        environment |= {
            Env.DIGEST_CHANNELS: ",".join(channel for channel in NOTIFICATION_CHANNELS if channel in digest.channels),
            # The zone the digest names its local time in (the schedule itself runs in it too).
            Env.DIGEST_TIMEZONE: digest.timezone,
            # Only to report how many Slack messages wait and how many were set aside.
            Env.SLACK_QUEUE_URL: notifications.slack_queue.queue_url,
            Env.SLACK_DEAD_LETTER_QUEUE_URL: notifications.dead_letter_queue.queue_url,
        }
        # App mode: the channel the notifier posts the digest to (webhook mode: the webhook's own).
        if config.slack_app and digest.slack_channel is not None:
            environment[Env.DIGEST_SLACK_CHANNEL] = digest.slack_channel
        return environment

    def _build_function(
        self,
        config: GtwatchConfig,
        digest: DigestConfig,
        code: lambda_.Code,
        layers: Sequence[lambda_.ILayerVersion],
        watch_environment: Mapping[str, str],
        state: JobState,
        notifications: Notifications,
    ) -> WatcherFunction:
        return WatcherFunction(
            self,
            "Function",
            code=code,
            layers=layers,
            handler=DIGEST_HANDLER,
            name="digest",
            description=f"Sends the daily gtwatch digest of the watched jobs ({digest.at} {digest.timezone}).",
            timeout=DIGEST_TIMEOUT,
            log_level=config.log_level,
            key=state.key,
            tracing=config.tracing,
            environment=self._environment(config, digest, watch_environment, notifications),
            # A retry would send again the channels that already got the day's digest; the digest-errors alarm
            # tells the operator instead, and the next day's digest comes anyway.
            retry_attempts=0,
        )

    def _allow_reading(self, state: JobState, notifications: Notifications) -> None:
        # Jobs, mutes and ended jobs through the index; the run records by key; nothing written.
        state.grant_query_index(self.function.function)
        state.grant_read_run_records(self.function.function)
        self.function.allow(
            QUEUE_DEPTH_ACTIONS, [notifications.slack_queue.queue_arn, notifications.dead_letter_queue.queue_arn]
        )

    def _build_scheduler_role(self) -> iam.Role:
        # The schedule's execution role: EventBridge Scheduler assumes it to invoke the target. Only schedules of
        # this account may assume it (the confused-deputy guard), and it may invoke this one function only.
        return iam.Role(
            self,
            "SchedulerRole",
            assumed_by=iam.ServicePrincipal(
                "scheduler.amazonaws.com", conditions={"StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID}}
            ),
            description="EventBridge Scheduler runs the gtwatch daily digest with this role.",
            inline_policies={
                "InvokeDigest": iam.PolicyDocument(
                    statements=[
                        iam.PolicyStatement(
                            actions=list(INVOKE_ACTIONS), resources=[self.function.function.function_arn]
                        )
                    ]
                )
            },
        )

    def _build_schedule(self, digest: DigestConfig) -> scheduler.CfnSchedule:
        # CfnSchedule, not the L2 Schedule: its LambdaInvoke target grants the role every version and alias too
        # ("<function>:*"), a wildcard that cdk-nag would flag and the digest does not need.
        return scheduler.CfnSchedule(
            self,
            "Schedule",
            description=f"Runs the gtwatch daily digest at {digest.at} ({digest.timezone}).",
            schedule_expression=digest.cron_expression,
            # Scheduler evaluates the cron in this zone and follows its daylight saving time.
            schedule_expression_timezone=digest.timezone,
            # At the minute asked for, not spread over a window.
            flexible_time_window=scheduler.CfnSchedule.FlexibleTimeWindowProperty(mode="OFF"),
            state="ENABLED",
            target=scheduler.CfnSchedule.TargetProperty(
                arn=self.function.function.function_arn,
                role_arn=self.role.role_arn,
                input=SCHEDULE_INPUT,
                retry_policy=scheduler.CfnSchedule.RetryPolicyProperty(
                    maximum_event_age_in_seconds=SCHEDULE_RETRY_SECONDS
                ),
            ),
        )
