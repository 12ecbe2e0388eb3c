"""How news of a job reaches people: one topic, fanned out to email and, through a queue, to Slack."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from aws_cdk import ArnFormat, Duration, Names, SecretValue, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from constructs import Construct
from watcher.domain.contract import (
    ALL_CHANNELS,
    CHANNEL_ATTRIBUTE,
    DIGEST_EVENT_TYPE,
    EVENT_TYPE_ATTRIBUTE,
    SLACK_BATCH_SIZE,
    SLACK_DEAD_LETTER_RETENTION_SECONDS,
    SLACK_FUNCTION_TIMEOUT_SECONDS,
    SLACK_HTTP_TIMEOUT_SECONDS,
    SLACK_MAX_RECEIVE_COUNT,
    SLACK_MAX_RETRY_AFTER_SECONDS,
    SLACK_QUEUE_RETENTION_SECONDS,
    SLACK_QUEUE_VISIBILITY_SECONDS,
    TEST_EVENT_TYPE,
)
from watcher.domain.env import Env

from infra.config import GtwatchConfig
from infra.encryption import DataKey
from infra.function import WatcherFunction, acknowledge
from infra.state import JobState

SLACK_HANDLER = "watcher.handlers.slack_handler.lambda_handler"
# The budgets behind these numbers are in watcher.domain.contract (one message, its posts and Retry-After waits).
SLACK_TIMEOUT = Duration.seconds(SLACK_FUNCTION_TIMEOUT_SECONDS)
SLACK_QUEUE_VISIBILITY = Duration.seconds(SLACK_QUEUE_VISIBILITY_SECONDS)
SLACK_QUEUE_RETENTION = Duration.seconds(SLACK_QUEUE_RETENTION_SECONDS)
DEAD_LETTER_RETENTION = Duration.seconds(SLACK_DEAD_LETTER_RETENTION_SECONDS)
# Two pollers (the least Lambda allows) keep posts to one webhook well under Slack's rate limit.
SLACK_MAX_CONCURRENCY = 2

# Powertools' SecretsProvider reads the value, nothing else.
SECRET_ACTIONS = ("secretsmanager:GetSecretValue",)
# A publisher to a topic under a customer managed key (SNS docs, "Allow a user to send messages to a topic
# with SSE"): GenerateDataKey and Decrypt, on that key.
PUBLISH_KEY_ACTIONS = ("kms:GenerateDataKey", "kms:Decrypt")
# What Lambda's event source mapping calls on the Slack queue as the notifier's role (Lambda developer guide, "Using
# Lambda with Amazon SQS": ReceiveMessage, DeleteMessage, GetQueueAttributes), and the notifier's own calls: it
# deletes what it delivered and sets a message's visibility to back off. Not SqsEventSource's grant, which adds
# sqs:GetQueueUrl, a call nothing makes (the notifier has the queue's URL in its environment).
SLACK_QUEUE_ACTIONS = (
    "sqs:ReceiveMessage",
    "sqs:DeleteMessage",
    "sqs:GetQueueAttributes",
    "sqs:ChangeMessageVisibility",
)
DEAD_LETTER_ACTIONS = ("sqs:SendMessage",)
# Sending to the encrypted dead-letter queue: GenerateDataKey and Decrypt (SQS developer guide, Key management,
# "Configure KMS permissions for producers"). Reading the queue, the state table and the secret need Decrypt only.
NOTIFIER_KEY_ACTIONS = ("kms:GenerateDataKey", "kms:Decrypt")


@dataclass(frozen=True)
class SlackSecretKind:
    """What the notifier reads from Secrets Manager in a mode: its construct, the name the stack gives it when it
    creates it, the placeholder a person replaces, and why it cannot be rotated by a Lambda function."""

    construct_id: str
    name_suffix: str
    description: str
    placeholder: str
    not_rotated_because: str


WEBHOOK_SECRET = SlackSecretKind(
    construct_id="SlackWebhookSecret",
    name_suffix="slack-webhook-url",
    description="Slack incoming-webhook URL that gtwatch posts to; replace the placeholder value.",
    placeholder="REPLACE-WITH-THE-SLACK-INCOMING-WEBHOOK-URL",
    not_rotated_because=(
        "The value is a Slack incoming-webhook URL that only Slack can issue; no rotation Lambda can make a new "
        "one. Rotate by creating a new webhook in Slack and putting it into this secret."
    ),
)
BOT_TOKEN_SECRET = SlackSecretKind(
    construct_id="SlackBotTokenSecret",
    name_suffix="slack-bot-token",
    description="Bot token (xoxb-...) of the Slack app gtwatch posts as; replace the placeholder value.",
    placeholder="REPLACE-WITH-THE-SLACK-BOT-TOKEN",
    not_rotated_because=(
        "The value is a Slack app's bot token, which only Slack issues when the app is installed; no rotation "
        "Lambda can make a new one. Rotate by reinstalling the app (or regenerating its token) in Slack and "
        "putting the new token into this secret."
    ),
)


@dataclass(frozen=True)
class SlackSecret:
    """The secret the notifier reads: the construct, how the notifier names it, the ARN its role may read, and the
    name people fill in when the stack created it (None when the configuration named an existing secret)."""

    secret: secretsmanager.ISecret
    reference: str
    arn: str
    created_name: str | None


def event_type_filter(event_types: Sequence[str], *, digest: bool = False) -> dict[str, sns.SubscriptionFilter]:
    """An email subscription's filter: the given event types, plus test notifications, which every channel gets,
    and the daily digest if it goes to email; published for email (quiet hours may publish a notification for one
    channel now and the other later)."""
    allowed = [*event_types, TEST_EVENT_TYPE, *([DIGEST_EVENT_TYPE] if digest else [])]
    return {
        EVENT_TYPE_ATTRIBUTE: sns.SubscriptionFilter.string_filter(allowlist=allowed),
        **channel_filter("email"),
    }


def channel_filter(channel: str) -> dict[str, sns.SubscriptionFilter]:
    """Only what is published for `channel` (or for every channel, the usual case)."""
    return {CHANNEL_ATTRIBUTE: sns.SubscriptionFilter.string_filter(allowlist=[channel, ALL_CHANNELS])}


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
        state: JobState,
    ) -> None:
        super().__init__(scope, construct_id)
        self.key = data_key.key
        self.topic_name = topic_name(Stack.of(self))
        self.topic = self._build_topic()
        digest_by_email = config.digest is not None and "email" in config.digest.channels
        self._subscribe_emails(config.email_addresses, config.email_events, digest=digest_by_email)
        self.dead_letter_queue = self._build_dead_letter_queue()
        self.slack_queue = self._build_slack_queue(self.dead_letter_queue)
        data_key.allow_sns_delivery_to_queues(self.topic_name)
        self._subscribe_slack_queue()
        if config.slack_app:
            self.slack_secret_kind, configured = BOT_TOKEN_SECRET, config.slack.token_secret_name
        else:
            self.slack_secret_kind, configured = WEBHOOK_SECRET, config.slack_webhook_secret_name
        self.slack_mode: str = config.slack.mode
        self.slack_secret = self._build_slack_secret(self.slack_secret_kind, configured)
        self.slack_notifier = self._build_slack_notifier(code, layers, config, state)

    @property
    def created_webhook_secret_name(self) -> str | None:
        """The name of the webhook secret if the stack made it (someone must then fill it in), else None."""
        return self.slack_secret.created_name if self.slack_secret_kind is WEBHOOK_SECRET else None

    @property
    def created_token_secret_name(self) -> str | None:
        """The name of the bot token secret if the stack made it (app mode; someone must fill it in), else None."""
        return self.slack_secret.created_name if self.slack_secret_kind is BOT_TOKEN_SECRET else None

    def grant_read_slack_secret(self, function: WatcherFunction) -> None:
        """Read the mode's Slack secret (the webhook URL, or the bot token in app mode), as the notifier does."""
        function.allow(SECRET_ACTIONS, [self.slack_secret.arn])

    def slack_environment(self) -> dict[str, str]:
        """How a function finds Slack as the notifier does: the mode and that mode's secret."""
        app = self.slack_secret_kind is BOT_TOKEN_SECRET
        secret_variable = Env.SLACK_TOKEN_SECRET if app else Env.SLACK_WEBHOOK_SECRET
        return {Env.SLACK_MODE: self.slack_mode, secret_variable: self.slack_secret.reference}

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

    def _subscribe_emails(self, addresses: Sequence[str], event_types: Sequence[str], *, digest: bool) -> None:
        for address in addresses:
            self.topic.add_subscription(
                subscriptions.EmailSubscription(address, filter_policy=event_type_filter(event_types, digest=digest))
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
            retention_period=SLACK_QUEUE_RETENTION,
            # The customer managed key, whose policy lets SNS deliver here (the AWS managed aws/sqs key cannot).
            encryption=sqs.QueueEncryption.KMS,
            encryption_master_key=self.key,
            enforce_ssl=True,
            # A safety net: the notifier backs off while Slack is down and dead-letters what Slack rejects itself.
            dead_letter_queue=sqs.DeadLetterQueue(queue=dead_letter_queue, max_receive_count=SLACK_MAX_RECEIVE_COUNT),
        )

    def _subscribe_slack_queue(self) -> None:
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
            # Every event type: the notifier routes by itself, and it needs every notification of a job (each
            # carries the job's next sequence number) to deliver them in order. Only what is published for Slack.
            filter_policy=channel_filter("slack"),
        )
        if allowed.policy_dependable is not None:
            subscription.node.add_dependency(allowed.policy_dependable)

    def _build_slack_secret(self, kind: SlackSecretKind, configured: str | None) -> SlackSecret:
        """The configured secret (a name or an ARN), or a new one holding a placeholder for a person to replace."""
        if configured is None:
            # Named after the stack so that people can find it, and two deployments do not collide.
            name = f"{Stack.of(self).stack_name}/{kind.name_suffix}"
            secret = secretsmanager.Secret(
                self,
                kind.construct_id,
                secret_name=name,
                description=kind.description,
                encryption_key=self.key,
                # A placeholder, not a secret: the real value is put in by hand after the first deployment.
                secret_string_value=SecretValue.unsafe_plain_text(kind.placeholder),
            )
            acknowledge(secret, "AwsSolutions-SMG4", kind.not_rotated_because)
            return SlackSecret(secret, secret.secret_arn, secret.secret_arn, name)
        if configured.startswith("arn:"):
            imported = secretsmanager.Secret.from_secret_complete_arn(self, kind.construct_id, configured)
            return SlackSecret(imported, configured, configured, None)
        imported = secretsmanager.Secret.from_secret_name_v2(self, kind.construct_id, configured)
        # Secrets Manager appends "-" and six random characters to a secret's name in its ARN.
        arn = Stack.of(self).format_arn(
            service="secretsmanager",
            resource="secret",
            resource_name=f"{configured}-??????",
            arn_format=ArnFormat.COLON_RESOURCE_NAME,
        )
        return SlackSecret(imported, configured, arn, None)

    def _notifier_environment(self, config: GtwatchConfig, state: JobState) -> dict[str, str]:
        """watcher.settings.SlackSettings, as the stack sets it (GTWATCH_SLACK_API_URL stays Slack's own)."""
        environment = {
            **self.slack_environment(),
            Env.TABLE_NAME: state.table.table_name,
            Env.SLACK_QUEUE_URL: self.slack_queue.queue_url,
            Env.SLACK_DEAD_LETTER_QUEUE_URL: self.dead_letter_queue.queue_url,
            # The per-attempt HTTP timeout and the Retry-After waits one message may spend: within them, a
            # message always fits the function's timeout (watcher.domain.contract, tests/infra).
            Env.SLACK_TIMEOUT_SECONDS: str(SLACK_HTTP_TIMEOUT_SECONDS),
            Env.SLACK_MAX_RETRY_AFTER_SECONDS: str(SLACK_MAX_RETRY_AFTER_SECONDS),
            # A notification Slack has not taken for this long fails the invocation: the notifier-errors alarm
            # then says delivery lags (a Slack outage), while the message is kept and retried.
            Env.SLACK_LAG_ALARM_SECONDS: str(config.slack_lag_alarm_minutes * 60),
        }
        if config.slack_app:
            environment[Env.SLACK_ROUTES] = config.slack_routes_json
        else:
            environment[Env.SLACK_EVENTS] = ",".join(config.slack_events)
        return environment

    def _build_slack_notifier(
        self, code: lambda_.Code, layers: Sequence[lambda_.ILayerVersion], config: GtwatchConfig, state: JobState
    ) -> WatcherFunction:
        destination = "a Slack app's channels" if config.slack_app else "the Slack webhook"
        notifier = WatcherFunction(
            self,
            "SlackNotifier",
            code=code,
            layers=layers,
            handler=SLACK_HANDLER,
            name="slack-notifier",
            description=f"Posts gtwatch notifications from the Slack queue, in each job's order, to {destination}.",
            timeout=SLACK_TIMEOUT,
            log_level=config.log_level,
            key=self.key,
            tracing=config.tracing,
            environment=self._notifier_environment(config, state),
        )
        self.grant_read_slack_secret(notifier)
        state.grant_slack_ledgers(notifier.function)
        state.grant_read_mutes(notifier.function)
        notifier.allow(SLACK_QUEUE_ACTIONS, [self.slack_queue.queue_arn])
        notifier.allow(DEAD_LETTER_ACTIONS, [self.dead_letter_queue.queue_arn])
        notifier.allow(NOTIFIER_KEY_ACTIONS, [self.key.key_arn])
        notifier.function.add_event_source_mapping(
            # The id SqsEventSource gave the mapping, so that a deployed stack's mapping is updated in place: a new
            # one would be created before the old one is deleted, and Lambda refuses a second mapping of one queue
            # to one function (ResourceConflictException).
            f"SqsEventSource:{Names.node_unique_id(self.slack_queue.node)}",
            event_source_arn=self.slack_queue.queue_arn,
            batch_size=SLACK_BATCH_SIZE,
            report_batch_item_failures=True,
            max_concurrency=SLACK_MAX_CONCURRENCY,
        )
        return notifier
