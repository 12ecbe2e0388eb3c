"""The watcher's own health: alarms to an alarm topic (email from config) and, if configured, a dashboard."""

from __future__ import annotations

import math
from collections.abc import Sequence

from aws_cdk import ArnFormat, Duration, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct
from watcher.domain.contract import (
    METRIC_ACCOUNTS_UNREADABLE,
    METRIC_JOB_ERRORS,
    METRIC_OUTBOX_AGE,
    METRIC_POLL_SUCCEEDED,
    METRIC_PUBLISH_FAILURES,
    POLL_WORK_MAX_RECEIVE_COUNT,
    SLACK_MAX_RECEIVE_COUNT,
)

from infra.config import GtwatchConfig
from infra.digest import Digest
from infra.encryption import DataKey
from infra.function import SERVICE_NAME, metrics_namespace
from infra.notifications import Notifications
from infra.poll_work import PollWorkQueue
from infra.polling import POLLER_TIMEOUT, Polling

# The poller's Powertools metrics (EMF) carry this one dimension.
SERVICE_DIMENSION = {"service": SERVICE_NAME}
# The watcher is not running when this many schedule periods in a row had no fully successful run.
MISSED_RUNS = 3
# A job is failing (not just unlucky) when its errors come back in this many schedule periods in a row.
FAILING_RUNS = 3
# A notification waiting in an outbox longer than this many schedule periods (plus a run's longest duration)
# has missed at least two retries.
OUTBOX_PERIODS = 2
# Lambda and SQS metrics of what does not run on the schedule are looked at in five-minute periods.
SHORT_PERIOD = Duration.minutes(5)


class Monitoring(Construct):
    """One alarm per way the watcher can fail silently, to an encrypted alarm topic; a dashboard if configured."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: GtwatchConfig,
        data_key: DataKey,
        polling: Polling,
        notifications: Notifications,
        digest: Digest | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        # Alarm and topic names are fixed so that the key policy can name them (see encryption.py).
        self.alarm_name_prefix = f"{stack.stack_name}-"
        self.alarm_topic_name = f"{stack.stack_name}-alarms"
        self.namespace = metrics_namespace(self)
        self.schedule_period = Duration.minutes(config.schedule_minutes)
        self.alarm_topic = self._build_alarm_topic(data_key)
        data_key.allow_alarms_to_publish(self.alarm_topic_name, self.alarm_name_prefix)
        self._subscribe_emails(config.alarm_email_addresses)
        self.alarms = [
            *self._build_poller_alarms(polling),
            *([self._build_account_alarm()] if config.spokes else []),
            *([] if polling.poll_work is None else [self._build_poll_work_alarm(polling.poll_work)]),
            *self._build_slack_alarms(notifications, config.slack_lag_alarm_minutes),
            *([] if digest is None else [self._build_digest_alarm(digest)]),
        ]
        self.dashboard = self._build_dashboard(polling, notifications) if config.dashboard else None

    def watcher_metric(self, name: str, *, statistic: str, label: str | None = None) -> cloudwatch.Metric:
        """One of the poller's metrics (watcher.domain.contract METRIC_*), per schedule period."""
        return cloudwatch.Metric(
            namespace=self.namespace,
            metric_name=name,
            dimensions_map=SERVICE_DIMENSION,
            statistic=statistic,
            period=self.schedule_period,
            label=label,
        )

    @property
    def outbox_age_threshold_seconds(self) -> int:
        return OUTBOX_PERIODS * int(self.schedule_period.to_seconds()) + int(POLLER_TIMEOUT.to_seconds())

    def _build_alarm_topic(self, data_key: DataKey) -> sns.Topic:
        topic = sns.Topic(
            self,
            "AlarmTopic",
            topic_name=self.alarm_topic_name,
            display_name="gtwatch alarms",
            enforce_ssl=True,
            master_key=data_key.key,
        )
        stack = Stack.of(self)
        # The topic policy replaces SNS's default one, so CloudWatch needs saying it may publish here.
        topic.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowThisStacksAlarmsToPublish",
                principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
                actions=["sns:Publish"],
                resources=[topic.topic_arn],
                conditions={
                    "StringEquals": {"aws:SourceAccount": stack.account},
                    "ArnLike": {"aws:SourceArn": self._alarm_arn_pattern()},
                },
            )
        )
        return topic

    def _alarm_arn_pattern(self) -> str:
        return Stack.of(self).format_arn(
            service="cloudwatch",
            resource="alarm",
            resource_name=f"{self.alarm_name_prefix}*",
            arn_format=ArnFormat.COLON_RESOURCE_NAME,
        )

    def _subscribe_emails(self, addresses: Sequence[str]) -> None:
        for address in addresses:
            self.alarm_topic.add_subscription(subscriptions.EmailSubscription(address))

    def _alarm(
        self,
        construct_id: str,
        name: str,
        description: str,
        metric: cloudwatch.IMetric,
        *,
        threshold: float = 1,
        comparison: cloudwatch.ComparisonOperator = cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        periods: int = 1,
        missing: cloudwatch.TreatMissingData = cloudwatch.TreatMissingData.NOT_BREACHING,
    ) -> cloudwatch.Alarm:
        alarm = cloudwatch.Alarm(
            self,
            construct_id,
            alarm_name=f"{self.alarm_name_prefix}{name}",
            alarm_description=description,
            metric=metric,
            threshold=threshold,
            comparison_operator=comparison,
            evaluation_periods=periods,
            datapoints_to_alarm=periods,
            treat_missing_data=missing,
        )
        alarm.add_alarm_action(actions.SnsAction(self.alarm_topic))
        alarm.add_ok_action(actions.SnsAction(self.alarm_topic))
        return alarm

    def _build_poller_alarms(self, polling: Polling) -> list[cloudwatch.Alarm]:
        poller = polling.poller.function
        minutes = int(self.schedule_period.to_minutes())
        outbox_minutes = math.ceil(self.outbox_age_threshold_seconds / 60)
        return [
            self._alarm(
                "PollerNotRunning",
                "poller-not-running",
                f"No gtwatch run completed in the last {MISSED_RUNS} schedule periods ({MISSED_RUNS * minutes} min): "
                "nobody is told about the watched jobs. A run counts only if it listed every region and published or "
                "kept every notification. Look at the poller's log and its Errors/Throttles metrics; check that "
                "the schedule rule is enabled. Runbook: docs/deploy.md#alarms.",
                self.watcher_metric(METRIC_POLL_SUCCEEDED, statistic="Sum"),
                comparison=cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
                periods=MISSED_RUNS,
                # No data point at all means no successful run: that is exactly what this alarm is for.
                missing=cloudwatch.TreatMissingData.BREACHING,
            ),
            self._alarm(
                "PollerErrors",
                "poller-errors",
                "A gtwatch poller invocation failed outright (exception, timeout or out of memory); the next run "
                "redoes its work. If it repeats, read the poller's log for the error. Runbook: docs/deploy.md#alarms.",
                poller.metric_errors(period=self.schedule_period, statistic="Sum"),
            ),
            self._alarm(
                "PublishFailures",
                "publish-failures",
                "SNS refused a gtwatch notification after retries; it waits in its job's outbox and the next run "
                "publishes it. Check SNS in the region and the key policy. Runbook: docs/deploy.md#alarms.",
                self.watcher_metric(METRIC_PUBLISH_FAILURES, statistic="Sum"),
            ),
            self._alarm(
                "OutboxBacklog",
                "outbox-backlog",
                f"A gtwatch notification has waited in an outbox for over {outbox_minutes} min: at least two runs "
                "failed to publish it. People are not being told. Look at publish-failures and the poller's log. "
                "Runbook: docs/deploy.md#alarms.",
                self.watcher_metric(METRIC_OUTBOX_AGE, statistic="Maximum"),
                threshold=self.outbox_age_threshold_seconds,
                comparison=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            ),
            self._alarm(
                "JobErrors",
                "job-errors",
                f"Some job failed in each of the last {FAILING_RUNS} gtwatch runs: its news may be stuck. "
                "The poller's log names the job and the error. Runbook: docs/deploy.md#alarms.",
                self.watcher_metric(METRIC_JOB_ERRORS, statistic="Sum"),
                periods=FAILING_RUNS,
            ),
        ]

    def _build_account_alarm(self) -> cloudwatch.Alarm:
        return self._alarm(
            "AccountUnreadable",
            "account-unreadable",
            "gtwatch could not assume a spoke account's read-only role (deleted, denied or throttled): that "
            "account's jobs wait, the others are read on time, and everything owed is delivered once the role works "
            'again. The poller\'s log names the account ("Account cannot be read"); `gtwatch status` shows its '
            "runs as late. Check the spoke stack in that account and its trust of the hub. Runbook: "
            "docs/deploy.md#alarms.",
            self.watcher_metric(METRIC_ACCOUNTS_UNREADABLE, statistic="Maximum"),
        )

    def _build_poll_work_alarm(self, work: PollWorkQueue) -> cloudwatch.Alarm:
        return self._alarm(
            "PollWorkDeadLetters",
            "poll-work-dead-letters",
            "A batch of a gtwatch run fanned out (some account-regions, named in the message) failed "
            f"{POLL_WORK_MAX_RECEIVE_COUNT} times and waits in the poll-work dead-letter queue: those pairs' jobs "
            "may be late (poller-not-running has fired meanwhile). The poll worker's log names the scope and the "
            "error. Nothing needs redriving: every scheduled run plans every pair again; delete the messages once "
            "read. Runbook: docs/deploy.md#alarms.",
            work.dead_letter_queue.metric_approximate_number_of_messages_visible(
                period=SHORT_PERIOD, statistic="Maximum"
            ),
            # SQS stops sending metrics of a queue inactive for hours; messages sitting in it are still there.
            missing=cloudwatch.TreatMissingData.IGNORE,
        )

    def _build_slack_alarms(self, notifications: Notifications, lag_minutes: int) -> list[cloudwatch.Alarm]:
        notifier = notifications.slack_notifier.function
        return [
            self._alarm(
                "SlackLag",
                "slack-lag",
                f"A gtwatch Slack notification has waited over {lag_minutes} min in the Slack queue without being "
                "tried three times: the notifier is not taking messages (disabled trigger, throttling, no "
                "permission to read the queue or use the key). Messages waiting out a Slack outage do not count "
                "here (SQS leaves messages received three times out of this metric). Runbook: docs/deploy.md#alarms.",
                notifications.slack_queue.metric_approximate_age_of_oldest_message(
                    period=SHORT_PERIOD, statistic="Maximum"
                ),
                threshold=lag_minutes * 60,
                comparison=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            ),
            self._alarm(
                "SlackNotifierErrors",
                "slack-notifier-errors",
                "The gtwatch Slack notifier failed a whole invocation: its settings, its secret or the key, Slack "
                "refused its setup (invalid_auth, token_revoked, channel_not_found, not_in_channel), or delivery "
                f"lags: a notification has waited over {lag_minutes} min (Slack down, or an earlier message of its "
                "job stuck). Its messages are kept and retried, backing off to every 10 min. See its log. "
                "Runbook: docs/deploy.md#alarms.",
                notifier.metric_errors(period=SHORT_PERIOD, statistic="Sum"),
            ),
            self._alarm(
                "SlackDeadLetters",
                "slack-dead-letters",
                "Slack notifications wait in the dead-letter queue: Slack rejected them for good (the message "
                f"itself), or they were received {SLACK_MAX_RECEIVE_COUNT} times without being delivered. Read "
                "their error attribute and the notifier's log, fix the cause, then run gtwatch redrive. "
                "Runbook: docs/deploy.md#alarms.",
                notifications.dead_letter_queue.metric_approximate_number_of_messages_visible(
                    period=SHORT_PERIOD, statistic="Maximum"
                ),
                # SQS stops sending metrics of a queue inactive for hours; messages sitting in it are still
                # there, so a gap keeps the alarm as it was.
                missing=cloudwatch.TreatMissingData.IGNORE,
            ),
        ]

    def _build_digest_alarm(self, digest: Digest) -> cloudwatch.Alarm:
        # One run a day, not retried (a retry would resend what already went out): a failure is worth a message.
        return self._alarm(
            "DigestErrors",
            "digest-errors",
            "The gtwatch daily digest failed for a channel (exception, timeout, its settings, or SNS refused a "
            "publish); it is not retried, and the other channel may have had it (Slack's copy is delivered by the "
            "notifier, whose alarms cover Slack). Read the digest's log; tomorrow's digest comes as usual. "
            "Runbook: docs/deploy.md#alarms.",
            digest.function.function.metric_errors(period=SHORT_PERIOD, statistic="Sum"),
        )

    def _build_dashboard(self, polling: Polling, notifications: Notifications) -> cloudwatch.Dashboard:
        # Only metrics that exist anyway: the alarms' own, and what Lambda, SNS and SQS report for free.
        period = self.schedule_period
        poller = polling.poller.function
        notifier = notifications.slack_notifier.function
        dashboard = cloudwatch.Dashboard(
            self,
            "Dashboard",
            dashboard_name=f"{Stack.of(self).stack_name}-watcher",
            default_interval=Duration.days(1),
        )
        dashboard.add_widgets(
            cloudwatch.GraphWidget(
                title="Poller runs",
                left=[
                    self.watcher_metric(METRIC_POLL_SUCCEEDED, statistic="Sum", label="Successful runs"),
                    poller.metric_invocations(period=period, statistic="Sum", label="Invocations"),
                    poller.metric_errors(period=period, statistic="Sum", label="Errors"),
                ],
                width=8,
            ),
            cloudwatch.GraphWidget(
                title="Run failures",
                left=[
                    self.watcher_metric(METRIC_PUBLISH_FAILURES, statistic="Sum", label="Publishes failed"),
                    self.watcher_metric(METRIC_JOB_ERRORS, statistic="Sum", label="Job errors"),
                ],
                right=[self.watcher_metric(METRIC_OUTBOX_AGE, statistic="Maximum", label="Oldest outbox (s)")],
                width=8,
            ),
            cloudwatch.GraphWidget(
                title="Notifications published",
                left=[
                    notifications.topic.metric_number_of_messages_published(
                        period=period, statistic="Sum", label="Published"
                    ),
                    notifications.topic.metric_number_of_notifications_failed(
                        period=period, statistic="Sum", label="Deliveries failed"
                    ),
                ],
                width=8,
            ),
        )
        dashboard.add_widgets(
            cloudwatch.GraphWidget(
                title="Slack queue",
                left=[
                    notifications.slack_queue.metric_approximate_age_of_oldest_message(
                        period=SHORT_PERIOD, statistic="Maximum", label="Oldest message (s)"
                    )
                ],
                right=[
                    notifications.dead_letter_queue.metric_approximate_number_of_messages_visible(
                        period=SHORT_PERIOD, statistic="Maximum", label="Dead letters"
                    )
                ],
                width=8,
            ),
            cloudwatch.GraphWidget(
                title="Slack notifier and event handler",
                left=[
                    notifier.metric_invocations(period=SHORT_PERIOD, statistic="Sum", label="Notifier invocations"),
                    notifier.metric_errors(period=SHORT_PERIOD, statistic="Sum", label="Notifier errors"),
                    polling.event_handler.function.metric_invocations(
                        period=SHORT_PERIOD, statistic="Sum", label="Events handled"
                    ),
                    polling.event_handler.function.metric_errors(
                        period=SHORT_PERIOD, statistic="Sum", label="Event handler errors"
                    ),
                ],
                width=8,
            ),
            cloudwatch.AlarmStatusWidget(title="Alarms", alarms=list(self.alarms), width=8),
        )
        return dashboard
