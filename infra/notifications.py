"""How news of a job reaches people: one topic, fanned out to email and, through a queue, to Slack."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Duration, RemovalPolicy, SecretValue, Stack
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as event_sources
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra.config import GtwatchConfig
from infra.function import WatcherFunction

SLACK_HANDLER = "watcher.slack_handler.lambda_handler"
# The publisher sets this message attribute; subscriptions filter on it.
EVENT_TYPE_ATTRIBUTE = "event_type"

SLACK_TIMEOUT = Duration.seconds(30)
# Lambda's advice for SQS event sources: at least six times the function's timeout, so that a message is
# not handed out again while a retried batch is still being worked on.
SLACK_QUEUE_VISIBILITY = Duration.seconds(SLACK_TIMEOUT.to_seconds() * 6)
SLACK_BATCH_SIZE = 10
SLACK_MAX_RECEIVE_COUNT = 5
# Two pollers (the least Lambda allows) keep posts to one webhook well under Slack's rate limit.
SLACK_MAX_CONCURRENCY = 2
WEBHOOK_PLACEHOLDER = "REPLACE-WITH-THE-SLACK-INCOMING-WEBHOOK-URL"

# Powertools idempotency's default table layout.
IDEMPOTENCY_KEY = "id"
IDEMPOTENCY_TTL_ATTRIBUTE = "expiration"
IDEMPOTENCY_ACTIONS = ("dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem")


def event_type_filter(event_types: Sequence[str]) -> dict[str, sns.SubscriptionFilter]:
    """A subscription filter that lets through only the given event types."""
    return {EVENT_TYPE_ATTRIBUTE: sns.SubscriptionFilter.string_filter(allowlist=list(event_types))}


class Notifications(Construct):
    """The topic the poller publishes to, its email and Slack subscribers, and the Slack notifier."""

    def __init__(self, scope: Construct, construct_id: str, *, config: GtwatchConfig, code: lambda_.Code) -> None:
        super().__init__(scope, construct_id)
        self.topic = self._build_topic()
        self._subscribe_emails(config.email_addresses, config.email_events)
        self.dead_letter_queue = self._build_dead_letter_queue()
        self.slack_queue = self._build_slack_queue(self.dead_letter_queue)
        self._subscribe_slack_queue(config.slack_events)
        self.webhook_secret, self.webhook_secret_id = self._build_webhook_secret(config.slack_webhook_secret_name)
        self.idempotency_table = self._build_idempotency_table()
        self.slack_notifier = self._build_slack_notifier(code, config.log_level)

    @property
    def created_webhook_secret_name(self) -> str | None:
        """The name of the webhook secret if the stack made it (someone must then fill it in), else None."""
        if isinstance(self.webhook_secret, secretsmanager.Secret):
            return self._created_secret_name()
        return None

    def _created_secret_name(self) -> str:
        # Named after the stack so that people can find it, and two deployments do not collide.
        return f"{Stack.of(self).stack_name}/slack-webhook-url"

    def grant_publish(self, grantee: iam.IGrantable) -> iam.Grant:
        return self.topic.grant_publish(grantee)

    def _build_topic(self) -> sns.Topic:
        return sns.Topic(
            self,
            "Topic",
            display_name="gtwatch",
            enforce_ssl=True,
            # The AWS-managed key: enough for a Lambda publisher. Alarms publishing here need a customer
            # managed key instead.
            master_key=kms.Alias.from_alias_name(self, "AwsSnsKey", "alias/aws/sns"),
        )

    def _subscribe_emails(self, addresses: Sequence[str], event_types: Sequence[str]) -> None:
        for address in addresses:
            self.topic.add_subscription(
                subscriptions.EmailSubscription(address, filter_policy=event_type_filter(event_types))
            )

    def _build_dead_letter_queue(self) -> sqs.Queue:
        return sqs.Queue(
            self,
            "SlackDeadLetterQueue",
            retention_period=Duration.days(14),
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
        )

    def _build_slack_queue(self, dead_letter_queue: sqs.IQueue) -> sqs.Queue:
        return sqs.Queue(
            self,
            "SlackQueue",
            visibility_timeout=SLACK_QUEUE_VISIBILITY,
            # SQS-owned encryption: SNS cannot deliver to a queue under the AWS-managed aws/sqs key.
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            dead_letter_queue=sqs.DeadLetterQueue(queue=dead_letter_queue, max_receive_count=SLACK_MAX_RECEIVE_COUNT),
        )

    def _subscribe_slack_queue(self, event_types: Sequence[str]) -> None:
        self.topic.add_subscription(
            subscriptions.SqsSubscription(
                self.slack_queue,
                # The notifier reads the message the publisher wrote for "sqs", not an SNS envelope.
                raw_message_delivery=True,
                filter_policy=event_type_filter(event_types),
            )
        )

    def _build_webhook_secret(self, name: str | None) -> tuple[secretsmanager.ISecret, str]:
        """The secret holding the webhook URL, and how the notifier names it."""
        if name is None:
            secret = secretsmanager.Secret(
                self,
                "SlackWebhookSecret",
                secret_name=self._created_secret_name(),
                description="Slack incoming-webhook URL that gtwatch posts to; replace the placeholder value.",
                # A placeholder, not a secret: the real URL is put in by hand after the first deployment.
                secret_string_value=SecretValue.unsafe_plain_text(WEBHOOK_PLACEHOLDER),
            )
            return secret, secret.secret_arn
        if name.startswith("arn:"):
            return secretsmanager.Secret.from_secret_complete_arn(self, "SlackWebhookSecret", name), name
        return secretsmanager.Secret.from_secret_name_v2(self, "SlackWebhookSecret", name), name

    def _build_idempotency_table(self) -> dynamodb.Table:
        return dynamodb.Table(
            self,
            "IdempotencyTable",
            partition_key=dynamodb.Attribute(name=IDEMPOTENCY_KEY, type=dynamodb.AttributeType.STRING),
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            time_to_live_attribute=IDEMPOTENCY_TTL_ATTRIBUTE,
            encryption=dynamodb.TableEncryption.AWS_MANAGED,
            # Records live minutes; nothing in them is worth keeping after the stack.
            removal_policy=RemovalPolicy.DESTROY,
        )

    def _build_slack_notifier(self, code: lambda_.Code, log_level: str) -> WatcherFunction:
        notifier = WatcherFunction(
            self,
            "SlackNotifier",
            code=code,
            handler=SLACK_HANDLER,
            description="Posts gtwatch notifications from the Slack queue to the Slack webhook.",
            timeout=SLACK_TIMEOUT,
            log_level=log_level,
            environment={
                "GTWATCH_SLACK_WEBHOOK_SECRET": self.webhook_secret_id,
                "GTWATCH_IDEMPOTENCY_TABLE_NAME": self.idempotency_table.table_name,
            },
        )
        function = notifier.function
        self.webhook_secret.grant_read(function)
        self.idempotency_table.grant(function, *IDEMPOTENCY_ACTIONS)
        function.add_event_source(
            event_sources.SqsEventSource(
                self.slack_queue,
                batch_size=SLACK_BATCH_SIZE,
                report_batch_item_failures=True,
                max_concurrency=SLACK_MAX_CONCURRENCY,
            )
        )
        return notifier
