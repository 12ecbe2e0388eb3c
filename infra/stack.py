"""The gtwatch stack: key, job state, notifications, polling, the digest and monitoring, wired together from one
configuration."""

from __future__ import annotations

import json
from typing import Any

from aws_cdk import Aws, CfnOutput, Fn, Stack
from constructs import Construct
from watcher.domain.contract import (
    OUTPUT_ALARM_TOPIC_ARN,
    OUTPUT_CONFIG,
    OUTPUT_DEAD_LETTER_QUEUE_URL,
    OUTPUT_SLACK_QUEUE_URL,
    OUTPUT_SLACK_TOKEN_SECRET_NAME,
    OUTPUT_SLACK_WEBHOOK_SECRET_NAME,
    OUTPUT_STATE_TABLE,
    OUTPUT_TOPIC_ARN,
    SLACK_MAX_RECEIVE_COUNT,
)

from gtwatch import __version__
from infra.bundling import watcher_code
from infra.config import GtwatchConfig
from infra.digest import Digest
from infra.encryption import DataKey
from infra.function import log_group_prefix, powertools_layer
from infra.hub import HubEvents
from infra.monitoring import Monitoring
from infra.notifications import Notifications
from infra.polling import Polling
from infra.state import JobState

# What `aws cloudformation describe-stacks` and the console say the stack is, with the release it was deployed from.
DESCRIPTION = "gtwatch {version} — watches SageMaker jobs and tells Slack and email"


class GtwatchStack(Stack):
    """Everything one deployment of gtwatch needs, in one region of one account."""

    def __init__(self, scope: Construct, construct_id: str, *, config: GtwatchConfig, **kwargs: Any) -> None:
        super().__init__(scope, construct_id, description=DESCRIPTION.format(version=__version__), **kwargs)
        self.config = config
        code = watcher_code()
        layers = [powertools_layer(self, config.powertools_layer_version)]
        self.data_key = DataKey(self, "Encryption")
        self.data_key.allow_log_groups(log_group_prefix(self))
        self.state = JobState(self, "State", key=self.data_key.key)
        self.notifications = Notifications(
            self, "Notifications", config=config, code=code, layers=layers, data_key=self.data_key, state=self.state
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
        # With `accounts`, the events of the spokes and of the home account's other regions come on the hub's bus.
        self.hub = (
            None
            if config.home_account is None
            else HubEvents(self, "Hub", config=config, event_handler=self.polling.event_handler)
        )
        self.digest = (
            None
            if config.digest is None
            else Digest(
                self,
                "Digest",
                config=config,
                digest=config.digest,
                code=code,
                layers=layers,
                watch_environment=self.polling.environment,
                state=self.state,
                notifications=self.notifications,
            )
        )
        self.monitoring = Monitoring(
            self,
            "Monitoring",
            config=config,
            data_key=self.data_key,
            polling=self.polling,
            notifications=self.notifications,
            digest=self.digest,
        )
        self._build_outputs()

    def _config_json(self) -> str:
        """The effective configuration as compact JSON, nulls included; with no regions configured, the stack's
        own region, which CloudFormation fills in at deploy time."""
        # No configured value can contain the marker: "@" appears only in email addresses and in user mentions
        # (<@U...>) of the routes, and neither can hold "@stack-region@" (the patterns in infra/config.py and
        # watcher.domain.slack_routes).
        marker = "@stack-region@"
        parts = json.dumps(self.config.effective(marker), separators=(",", ":")).split(marker)
        if len(parts) == 1:
            return parts[0]
        pieces: list[str] = [parts[0]]
        for part in parts[1:]:
            pieces += [Aws.REGION, part]
        return Fn.join("", pieces)

    def _build_outputs(self) -> None:
        CfnOutput(
            self,
            OUTPUT_TOPIC_ARN,
            value=self.notifications.topic.topic_arn,
            description="Where gtwatch publishes (gtwatch test-notify --stack-name reads it)",
        )
        CfnOutput(self, OUTPUT_STATE_TABLE, value=self.state.table.table_name)
        CfnOutput(
            self,
            OUTPUT_SLACK_QUEUE_URL,
            value=self.notifications.slack_queue.queue_url,
            description="The Slack notifier's queue (gtwatch redrive sends dead letters back here)",
        )
        CfnOutput(
            self,
            OUTPUT_DEAD_LETTER_QUEUE_URL,
            value=self.notifications.dead_letter_queue.queue_url,
            description=(
                f"Slack notifications Slack rejected for good, or received {SLACK_MAX_RECEIVE_COUNT} times "
                "(gtwatch redrive sends them back)"
            ),
        )
        CfnOutput(
            self, OUTPUT_ALARM_TOPIC_ARN, value=self.monitoring.alarm_topic.topic_arn, description="gtwatch's alarms"
        )
        CfnOutput(
            self,
            OUTPUT_CONFIG,
            value=self._config_json(),
            description="What this deployment watches and sends (gtwatch status reads it)",
        )
        if self.monitoring.dashboard is not None:
            CfnOutput(self, "DashboardName", value=self.monitoring.dashboard.dashboard_name)
        webhook_secret = self.notifications.created_webhook_secret_name
        if webhook_secret is not None:
            CfnOutput(
                self,
                OUTPUT_SLACK_WEBHOOK_SECRET_NAME,
                value=webhook_secret,
                description="Put the Slack incoming-webhook URL in this secret",
            )
        token_secret = self.notifications.created_token_secret_name
        if token_secret is not None:
            CfnOutput(
                self,
                OUTPUT_SLACK_TOKEN_SECRET_NAME,
                value=token_secret,
                description="Put the Slack app's bot token (xoxb-...) in this secret",
            )
