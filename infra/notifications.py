"""How news of a job reaches people: one topic, fanned out to email and, through a queue, to Slack."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import ArnFormat, Duration, RemovalPolicy, SecretValue, Stack
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as event_sources
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from constructs import Construct
from watcher.contract import (
    EVENT_TYPE_ATTRIBUTE,
    IDEMPOTENCY_KEY,
    IDEMPOTENCY_TTL_ATTRIBUTE,
    SLACK_BATCH_SIZE,
    SLACK_FUNCTION_TIMEOUT_SECONDS,
    SLACK_HTTP_TIMEOUT_SECONDS,
    SLACK_MAX_RECEIVE_COUNT,
    SLACK_MAX_RETRY_AFTER_SECONDS,
    SLACK_QUEUE_VISIBILITY_SECONDS,
    TEST_EVENT_TYPE,
)

from infra.config import GtwatchConfig
from infra.encryption import DataKey
from infra.function import WatcherFunction, acknowledge

SLACK_HANDLER = "watcher.slack_handler.lambda_handler"
# The budgets behind these numbers are in watcher.contract (one message, its posts and Retry-After waits).
SLACK_TIMEOUT = Duration.seconds(SLACK_FUNCTION_TIMEOUT_SECONDS)
SLACK_QUEUE_VISIBILITY = Duration.seconds(SLACK_QUEUE_VISIBILITY_SECONDS)
DEAD_LETTER_RETENTION = Duration.days(14)
# Two pollers (the least Lambda allows) keep posts to one webhook well under Slack's rate limit.
SLACK_MAX_CONCURRENCY = 2
WEBHOOK_PLACEHOLDER = "REPLACE-WITH-THE-SLACK-INCOMING-WEBHOOK-URL"

# The item calls Powertools idempotency's DynamoDB persistence layer makes.
IDEMPOTENCY_ACTIONS = ("dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem")
# Powertools' SecretsProvider reads the value, nothing else.
SECRET_ACTIONS = ("secretsmanager:GetSecretValue",)
# A publisher to a topic under a customer managed key (SNS docs, "Allow a user to send messages to a topic
# with SSE"): GenerateDataKey and Decrypt, on that key.
PUBLISH_KEY_ACTIONS = ("kms:GenerateDataKey", "kms:Decrypt")
# Reading the queue, the idempotency table and the created webhook secret: Decrypt only.
NOTIFIER_KEY_ACTIONS = ("kms:Decrypt",)


def event_type_filter(event_types: Sequence[str]) -> dict[str, sns.SubscriptionFilter]:
    """A subscription filter for the given event types, plus test notifications, which every channel gets."""
    return {EVENT_TYPE_ATTRIBUTE: sns.SubscriptionFilter.string_filter(allowlist=[*event_types, TEST_EVENT_TYPE])}


def topic_name(stack: Stack) -> str:
    return f"{stack.stack_name}-notifications"


class Notifications(Construct):
    """The topic the watcher publishes to, its email and Slack subscribers, and the Slack notifier."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: GtwatchConfig,
        code: lambda_.Code,
        layers: Sequence[lambda_.ILayerVersion],
        data_key: DataKey,
    ) -> None:
        super().__init__(scope, construct_id)
        self.key = data_key.key
        self.topic_name = topic_name(Stack.of(self))
        self.topic = self._build_topic()
        self._subscribe_emails(config.email_addresses, config.email_events)
        self.dead_letter_queue = self._build_dead_letter_queue()
        self.slack_queue = self._build_slack_queue(self.dead_letter_queue)
        data_key.allow_sns_delivery_to_queues(self.topic_name)
        self._subscribe_slack_queue(config.slack_events)
        self.webhook_secret, self.webhook_secret_id, self.webhook_secret_arn = self._build_webhook_secret(
            config.slack_webhook_secret_name
        )
        self.idempotency_table = self._build_idempotency_table()
        self.slack_notifier = self._build_slack_notifier(code, layers, config)

    @property
    def created_webhook_secret_name(self) -> str | None:
        """The name of the webhook secret if the stack made it (someone must then fill it in), else None."""
        if isinstance(self.webhook_secret, secretsmanager.Secret):
            return self._created_secret_name()
        return None

    def _created_secret_name(self) -> str:
        # Named after the stack so that people can find it, and two deployments do not collide.
        return f"{Stack.of(self).stack_name}/slack-webhook-url"

    def grant_publish(self, grantee: iam.IGrantable) -> None:
        """sns:Publish on the topic and the key use it needs; not Topic.grant_publish, which adds a wildcard."""
        iam.Grant.add_to_principal(grantee=grantee, actions=["sns:Publish"], resource_arns=[self.topic.topic_arn])
        iam.Grant.add_to_principal(grantee=grantee, actions=list(PUBLISH_KEY_ACTIONS), resource_arns=[self.key.key_arn])

    def _build_topic(self) -> sns.Topic:
        return sns.Topic(
            self,
            "Topic",
            # Named, so that the key policy can name it without referring to the topic (see encryption.py).
            topic_name=self.topic_name,
            display_name="gtwatch",
            enforce_ssl=True,
            master_key=self.key,
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
            retention_period=DEAD_LETTER_RETENTION,
            encryption=sqs.QueueEncryption.KMS,
            encryption_master_key=self.key,
            enforce_ssl=True,
        )

    def _build_slack_queue(self, dead_letter_queue: sqs.IQueue) -> sqs.Queue:
        return sqs.Queue(
            self,
            "SlackQueue",
            visibility_timeout=SLACK_QUEUE_VISIBILITY,
            # The customer managed key, whose policy lets SNS deliver here (the AWS managed aws/sqs key cannot).
            encryption=sqs.QueueEncryption.KMS,
            encryption_master_key=self.key,
            enforce_ssl=True,
            dead_letter_queue=sqs.DeadLetterQueue(queue=dead_letter_queue, max_receive_count=SLACK_MAX_RECEIVE_COUNT),
        )

    def _subscribe_slack_queue(self, event_types: Sequence[str]) -> None:
        # Built by hand rather than with SqsSubscription: that one also writes a key policy statement naming
        # the topic by its Ref, and the topic already refers to the key (a circular dependency). The key
        # policy names the topic by its ARN instead (DataKey.allow_sns_delivery_to_queues).
        allowed = self.slack_queue.add_to_resource_policy(
            iam.PolicyStatement(
                principals=[iam.ServicePrincipal("sns.amazonaws.com")],
                actions=["sqs:SendMessage"],
                resources=[self.slack_queue.queue_arn],
                conditions={"ArnEquals": {"aws:SourceArn": self.topic.topic_arn}},
            )
        )
        subscription = sns.Subscription(
            self,
            "SlackSubscription",
            topic=self.topic,
            protocol=sns.SubscriptionProtocol.SQS,
            endpoint=self.slack_queue.queue_arn,
            # The notifier reads the message the publisher wrote for "sqs", not an SNS envelope.
            raw_message_delivery=True,
            filter_policy=event_type_filter(event_types),
        )
        if allowed.policy_dependable is not None:
            subscription.node.add_dependency(allowed.policy_dependable)

    def _build_webhook_secret(self, name: str | None) -> tuple[secretsmanager.ISecret, str, str]:
        """The secret holding the webhook URL, how the notifier names it, and the ARN its role may read."""
        if name is None:
            secret = secretsmanager.Secret(
                self,
                "SlackWebhookSecret",
                secret_name=self._created_secret_name(),
                description="Slack incoming-webhook URL that gtwatch posts to; replace the placeholder value.",
                encryption_key=self.key,
                # A placeholder, not a secret: the real URL is put in by hand after the first deployment.
                secret_string_value=SecretValue.unsafe_plain_text(WEBHOOK_PLACEHOLDER),
            )
            acknowledge(
                secret,
                "AwsSolutions-SMG4",
                "The value is a Slack incoming-webhook URL that only Slack can issue; no rotation Lambda can make "
                "a new one. Rotate by creating a new webhook in Slack and putting it into this secret.",
            )
            return secret, secret.secret_arn, secret.secret_arn
        if name.startswith("arn:"):
            return secretsmanager.Secret.from_secret_complete_arn(self, "SlackWebhookSecret", name), name, name
        imported = secretsmanager.Secret.from_secret_name_v2(self, "SlackWebhookSecret", name)
        # Secrets Manager appends "-" and six random characters to a secret's name in its ARN.
        arn = Stack.of(self).format_arn(
            service="secretsmanager",
            resource="secret",
            resource_name=f"{name}-??????",
            arn_format=ArnFormat.COLON_RESOURCE_NAME,
        )
        return imported, name, arn

    def _build_idempotency_table(self) -> dynamodb.Table:
        return dynamodb.Table(
            self,
            "IdempotencyTable",
            partition_key=dynamodb.Attribute(name=IDEMPOTENCY_KEY, type=dynamodb.AttributeType.STRING),
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            time_to_live_attribute=IDEMPOTENCY_TTL_ATTRIBUTE,
            encryption=dynamodb.TableEncryption.CUSTOMER_MANAGED,
            encryption_key=self.key,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            # Records live minutes; nothing in them is worth keeping after the stack.
            removal_policy=RemovalPolicy.DESTROY,
        )

    def _build_slack_notifier(
        self, code: lambda_.Code, layers: Sequence[lambda_.ILayerVersion], config: GtwatchConfig
    ) -> WatcherFunction:
        notifier = WatcherFunction(
            self,
            "SlackNotifier",
            code=code,
            layers=layers,
            handler=SLACK_HANDLER,
            name="slack-notifier",
            description="Posts gtwatch notifications from the Slack queue to the Slack webhook.",
            timeout=SLACK_TIMEOUT,
            log_level=config.log_level,
            key=self.key,
            tracing=config.tracing,
            environment={
                "GTWATCH_SLACK_WEBHOOK_SECRET": self.webhook_secret_id,
                "GTWATCH_IDEMPOTENCY_TABLE_NAME": self.idempotency_table.table_name,
                # The per-attempt HTTP timeout and the Retry-After waits one message may spend: within them, a
                # message always fits the function's timeout (watcher.contract, tests/infra).
                "GTWATCH_SLACK_TIMEOUT_SECONDS": str(SLACK_HTTP_TIMEOUT_SECONDS),
                "GTWATCH_SLACK_MAX_RETRY_AFTER_SECONDS": str(SLACK_MAX_RETRY_AFTER_SECONDS),
            },
        )
        notifier.allow(SECRET_ACTIONS, [self.webhook_secret_arn])
        notifier.allow(IDEMPOTENCY_ACTIONS, [self.idempotency_table.table_arn])
        notifier.allow(NOTIFIER_KEY_ACTIONS, [self.key.key_arn])
        # Also grants the queue reads the event source mapping makes (Receive, Delete, ChangeVisibility ...).
        notifier.function.add_event_source(
            event_sources.SqsEventSource(
                self.slack_queue,
                batch_size=SLACK_BATCH_SIZE,
                report_batch_item_failures=True,
                max_concurrency=SLACK_MAX_CONCURRENCY,
            )
        )
        return notifier
