"""The gtwatch stack: job state, notifications and polling, wired together from one configuration."""

from __future__ import annotations

from typing import Any

from aws_cdk import CfnOutput, Stack
from constructs import Construct

from infra.bundling import watcher_code
from infra.config import GtwatchConfig
from infra.notifications import Notifications
from infra.polling import Polling
from infra.state import JobState


class GtwatchStack(Stack):
    """Everything one deployment of gtwatch needs, in one region of one account."""

    def __init__(self, scope: Construct, construct_id: str, *, config: GtwatchConfig, **kwargs: Any) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.config = config
        code = watcher_code()
        self.state = JobState(self, "State")
        self.notifications = Notifications(self, "Notifications", config=config, code=code)
        self.polling = Polling(
            self, "Polling", config=config, code=code, state=self.state, notifications=self.notifications
        )
        self._build_outputs()

    def _build_outputs(self) -> None:
        CfnOutput(self, "TopicArn", value=self.notifications.topic.topic_arn, description="Where gtwatch publishes")
        CfnOutput(self, "StateTableName", value=self.state.table.table_name)
        CfnOutput(
            self,
            "SlackDeadLetterQueueUrl",
            value=self.notifications.dead_letter_queue.queue_url,
            description="Slack notifications that failed five times",
        )
        secret_name = self.notifications.created_webhook_secret_name
        if secret_name is not None:
            CfnOutput(
                self,
                "SlackWebhookSecretName",
                value=secret_name,
                description="Put the Slack incoming-webhook URL in this secret",
            )
