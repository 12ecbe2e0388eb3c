"""The watcher's own health: alarms to an alarm topic (email from config) and a CloudWatch dashboard."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import ArnFormat, Duration, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct

from infra.config import EVENT_TYPES, GtwatchConfig
from infra.encryption import DataKey
from infra.function import METRICS_NAMESPACE, SERVICE_NAME
from infra.notifications import TEST_EVENT_TYPE, Notifications
from infra.polling import Polling

# The poller's Powertools metrics (EMF) carry this dimension; NotificationsPublished adds EventType.
SERVICE_DIMENSION = {"service": SERVICE_NAME}
# The poller is sick when this many schedule periods in a row had no fully successful run.
MISSED_RUNS = 3
# Lambda and SQS metrics of functions that are not on the schedule are looked at in five-minute periods.
SHORT_PERIOD = Duration.minutes(5)


def watcher_metric(
    name: str, *, statistic: str, period: Duration, event_type: str | None = None, label: str | None = None
) -> cloudwatch.Metric:
    """One of the poller's Powertools metrics; NotificationsPublished is per `event_type`."""
    dimensions = dict(SERVICE_DIMENSION)
    if event_type is not None:
        dimensions["EventType"] = event_type
    return cloudwatch.Metric(
        namespace=METRICS_NAMESPACE,
        metric_name=name,
        dimensions_map=dimensions,
        statistic=statistic,
        period=period,
        label=label,
    )


class Monitoring(Construct):
    """Alarms on the poller, the Slack notifier and the dead-letter queue, and one dashboard of the watcher."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: GtwatchConfig,
        data_key: DataKey,
        polling: Polling,
        notifications: Notifications,
    ) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        # Alarm and topic names are fixed so that the key policy can name them (see encryption.py).
        self.alarm_name_prefix = f"{stack.stack_name}-"
        self.alarm_topic_name = f"{stack.stack_name}-alarms"
        self.schedule_period = Duration.minutes(config.schedule_minutes)
        self.alarm_topic = self._build_alarm_topic(data_key)
        data_key.allow_alarms_to_publish(self.alarm_topic_name, self.alarm_name_prefix)
        self._subscribe_emails(config.alarm_email_addresses)
        self.alarms = self._build_alarms(polling, notifications)
        self.dashboard = self._build_dashboard(polling, notifications)

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
            threshold=1,
            comparison_operator=comparison,
            evaluation_periods=periods,
            datapoints_to_alarm=periods,
            treat_missing_data=missing,
        )
        alarm.add_alarm_action(actions.SnsAction(self.alarm_topic))
        alarm.add_ok_action(actions.SnsAction(self.alarm_topic))
        return alarm

    def _build_alarms(self, polling: Polling, notifications: Notifications) -> list[cloudwatch.Alarm]:
        poller = polling.poller.function
        notifier = notifications.slack_notifier.function
        period = self.schedule_period
        return [
            self._alarm(
                "PollerErrors",
                "poller-errors",
                "A gtwatch poller run failed (see the poller's log). The next run retries it.",
                poller.metric_errors(period=period, statistic="Sum"),
            ),
            self._alarm(
                "PollerThrottles",
                "poller-throttles",
                "Lambda throttled the gtwatch poller: a run did not start (account concurrency?).",
                poller.metric_throttles(period=period, statistic="Sum"),
            ),
            self._alarm(
                "PollerNotRunning",
                "poller-not-running",
                f"No gtwatch poller run succeeded in the last {MISSED_RUNS} schedule periods: "
                "nobody is told about labeling jobs.",
                watcher_metric("PollSucceeded", statistic="Sum", period=period),
                comparison=cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
                periods=MISSED_RUNS,
                # No data point at all means no successful run: that is exactly what this alarm is for.
                missing=cloudwatch.TreatMissingData.BREACHING,
            ),
            self._alarm(
                "SlackNotifierErrors",
                "slack-notifier-errors",
                "The gtwatch Slack notifier failed a whole invocation (settings or secret?); see its log.",
                notifier.metric_errors(period=SHORT_PERIOD, statistic="Sum"),
            ),
            self._alarm(
                "SlackDeadLetters",
                "slack-dead-letters",
                "Slack notifications failed five times and wait in the dead-letter queue.",
                notifications.dead_letter_queue.metric_approximate_number_of_messages_visible(
                    period=SHORT_PERIOD, statistic="Maximum"
                ),
                # SQS stops sending metrics of a queue inactive for hours; messages sitting in it are still
                # there, so a gap keeps the alarm as it was.
                missing=cloudwatch.TreatMissingData.IGNORE,
            ),
        ]

    def _build_dashboard(self, polling: Polling, notifications: Notifications) -> cloudwatch.Dashboard:
        period = self.schedule_period
        poller = polling.poller.function
        notification_types = [*EVENT_TYPES, TEST_EVENT_TYPE]
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
                    watcher_metric("PollSucceeded", statistic="Sum", period=period, label="Successful runs"),
                    poller.metric_invocations(period=period, statistic="Sum", label="Invocations"),
                    poller.metric_errors(period=period, statistic="Sum", label="Errors"),
                ],
                width=8,
            ),
            cloudwatch.GraphWidget(
                title="Jobs watched",
                left=[watcher_metric("JobsWatched", statistic="Maximum", period=period, label="Jobs")],
                width=8,
            ),
            cloudwatch.GraphWidget(
                title="Run failures",
                left=[
                    watcher_metric("RegionFailures", statistic="Sum", period=period, label="Regions failed"),
                    watcher_metric("PublishFailures", statistic="Sum", period=period, label="Publishes failed"),
                ],
                width=8,
            ),
        )
        dashboard.add_widgets(
            cloudwatch.GraphWidget(
                title="Notifications sent, by type",
                left=[
                    watcher_metric(
                        "NotificationsPublished",
                        statistic="Sum",
                        period=period,
                        event_type=event_type,
                        label=event_type,
                    )
                    for event_type in notification_types
                ],
                stacked=True,
                width=12,
            ),
            cloudwatch.GraphWidget(
                title="Stalls",
                left=[
                    watcher_metric(
                        "NotificationsPublished", statistic="Sum", period=period, event_type="stalled", label="stalled"
                    ),
                    watcher_metric(
                        "NotificationsPublished", statistic="Sum", period=period, event_type="resumed", label="resumed"
                    ),
                ],
                width=12,
            ),
        )
        dashboard.add_widgets(
            cloudwatch.GraphWidget(
                title="Slack dead-letter queue depth",
                left=[
                    notifications.dead_letter_queue.metric_approximate_number_of_messages_visible(
                        period=SHORT_PERIOD, statistic="Maximum", label="Messages"
                    )
                ],
                width=6,
            ),
            cloudwatch.GraphWidget(
                title="Slack notifier",
                left=[
                    notifications.slack_notifier.function.metric_invocations(
                        period=SHORT_PERIOD, statistic="Sum", label="Invocations"
                    ),
                    notifications.slack_notifier.function.metric_errors(
                        period=SHORT_PERIOD, statistic="Sum", label="Errors"
                    ),
                ],
                width=6,
            ),
            cloudwatch.GraphWidget(
                title="State-change events handled",
                left=[
                    polling.event_handler.function.metric_invocations(
                        period=SHORT_PERIOD, statistic="Sum", label="Invocations"
                    ),
                    polling.event_handler.function.metric_errors(period=SHORT_PERIOD, statistic="Sum", label="Errors"),
                ],
                width=6,
            ),
            cloudwatch.AlarmStatusWidget(title="Alarms", alarms=list(self.alarms), width=6),
        )
        return dashboard
