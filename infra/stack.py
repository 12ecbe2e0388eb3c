"""The gtwatch stack: key, job state, notifications, polling and monitoring, wired together from one configuration."""

from __future__ import annotations

from typing import Any

from aws_cdk import CfnOutput, Stack
from constructs import Construct

from infra.bundling import watcher_code
from infra.config import GtwatchConfig
from infra.encryption import DataKey
from infra.function import powertools_layer
from infra.monitoring import Monitoring
from infra.notifications import Notifications
from infra.polling import Polling
from infra.state import JobState


class GtwatchStack(Stack):
    """Everything one deployment of gtwatch needs, in one region of one account."""

    def __init__(self, scope: Construct, construct_id: str, *, config: GtwatchConfig, **kwargs: Any) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.config = config
        code = watcher_code()
        layers = [powertools_layer(self, config.powertools_layer_version)]
        self.data_key = DataKey(self, "Encryption")
        self.state = JobState(self, "State", key=self.data_key.key)
        self.notifications = Notifications(
            self, "Notifications", config=config, code=code, layers=layers, data_key=self.data_key
        )
        self.polling = Polling(
            self,
            "Polling",
            config=config,
            code=code,
            layers=layers,
            state=self.state,
            notifications=self.notifications,
        )
        self.monitoring = Monitoring(
            self,
            "Monitoring",
            config=config,
            data_key=self.data_key,
            polling=self.polling,
            notifications=self.notifications,
        )
        self._build_outputs()

    def _build_outputs(self) -> None:
        CfnOutput(
            self,
            "TopicArn",
            value=self.notifications.topic.topic_arn,
            description="Where gtwatch publishes (gtwatch test-notify --stack-name reads it)",
        )
        CfnOutput(self, "StateTableName", value=self.state.table.table_name)
        CfnOutput(
            self,
            "SlackQueueUrl",
            value=self.notifications.slack_queue.queue_url,
            description="The Slack notifier's queue (gtwatch redrive sends dead letters back here)",
        )
        CfnOutput(
            self,
            "SlackDeadLetterQueueUrl",
            value=self.notifications.dead_letter_queue.queue_url,
            description="Slack notifications that failed five times",
        )
        CfnOutput(self, "AlarmTopicArn", value=self.monitoring.alarm_topic.topic_arn, description="gtwatch's alarms")
        CfnOutput(self, "DashboardName", value=self.monitoring.dashboard.dashboard_name)
        secret_name = self.notifications.created_webhook_secret_name
        if secret_name is not None:
            CfnOutput(
                self,
                "SlackWebhookSecretName",
                value=secret_name,
                description="Put the Slack incoming-webhook URL in this secret",
            )
