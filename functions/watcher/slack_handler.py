"""Lambda handler: delivers each notification arriving from the SQS queue to Slack, in its job's order, once; and
the daily digest, which comes the same way (slack_delivery.deliver_digest).

The work is slack_delivery.deliver; this handler reads the settings and the secret, sorts a failure into "later"
(back off and let SQS offer it again), "rejected for good" (dead-letter it for that destination) and
"misconfigured" (retry too, and fail the invocation so the notifier-errors alarm fires).
"""

from __future__ import annotations

import json
import logging
import math
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.batch import BatchProcessor, process_partial_response
from aws_lambda_powertools.utilities.batch import EventType as BatchEventType
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from . import aws, clock, container, slack_client
from .contract import SLACK_FUNCTION_TIMEOUT_SECONDS, SLACK_POST_ATTEMPTS
from .digest import SlackDigest
from .model import EventType, Notification
from .mute import MuteStore
from .slack_delivery import Attempt, NotYet, Slack, deliver, deliver_digest, deliver_redriven, deliver_test
from .slack_ledger import LedgerStore
from .slack_routes import WEBHOOK_DESTINATION, Route

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.parameters import SecretsProvider

    from .settings import SlackSettings
    from .slack_app import SlackApp

logger = Logger(service="gtwatch")
# botocore logs whole response bodies at DEBUG, GetSecretValue's SecretString (a URL or token) among them.
logging.getLogger("botocore.parsers").setLevel(logging.INFO)
# With ReportBatchItemFailures, listing every record as failed retries them all, as raising would, but says which.
processor = BatchProcessor(event_type=BatchEventType.SQS, raise_on_entire_batch_failure=False)

# Set on a dead letter: the destination it failed at. `gtwatch redrive` keeps message attributes, so a redriven
# message goes to that destination only.
ROUTE_ATTRIBUTE = "gtwatch_route"
# Backing off while Slack is down: 1, 2, 4 ... minutes between attempts, at most 10, so that delivery resumes
# within 10 minutes (plus Lambda's polling) of Slack's recovery, however long the outage.
FIRST_RETRY_SECONDS = 60
LONGEST_RETRY_SECONDS = 600
# A message waiting for an earlier one of its job comes back when the job's ledger says that one is next tried, or
# soon while the job's messages are going out (slack_delivery.waiting_time). When the ledger cannot tell, it backs
# off too (30 s, 1, 2, 4 minutes, then every 5), so that a day-long outage stays far from the receive limit.
FIRST_WAITING_SECONDS = 30
LONGEST_WAITING_SECONDS = 300
# One Slack call's worst case (attempts of the HTTP timeout plus Retry-After waits): enough time must remain.
CLAIM_MARGIN = timedelta(seconds=30)


def retry_delay_seconds(receive_count: int, *, waiting: bool = False) -> int:
    """How long a message waits before its next attempt (`receive_count` >= 1): Slack could not take it, or
    (`waiting`) an earlier message of its job has not gone out yet."""
    first, longest = (
        (FIRST_WAITING_SECONDS, LONGEST_WAITING_SECONDS) if waiting else (FIRST_RETRY_SECONDS, LONGEST_RETRY_SECONDS)
    )
    delay: int = first * 2 ** min(10, max(0, receive_count - 1))
    return min(longest, delay)


@dataclass(frozen=True)
class _Container:
    settings: SlackSettings
    secrets: SecretsProvider
    ledgers: LedgerStore
    routes: tuple[Route, ...]
    mutes: MuteStore


def _cold_start() -> _Container:
    return container.keep("slack-notifier", _build_container)


def _build_container() -> _Container:
    # Built on the first invocation, not at import: boto3 clients made before an emulator starts would escape it,
    # and the imports (pydantic, parameters) are paid once per container instead of at every import.
    from aws_lambda_powertools.utilities.parameters import SecretsProvider

    from .settings import SlackSettings
    from .settings import settings as read_settings

    settings = read_settings(SlackSettings)
    secrets = SecretsProvider(boto3_client=aws.client("secretsmanager"))
    dynamodb = aws.client("dynamodb")
    return _Container(
        settings,
        secrets,
        LedgerStore(dynamodb, settings.table_name),
        settings.routes,
        MuteStore(dynamodb, settings.table_name),
    )


def _silenced(kept: _Container, notification: Notification, now: datetime) -> bool:
    """Whether the job is muted for this notification's type now (`gtwatch mute` after it was sent)."""
    mute = kept.mutes.for_job(notification.job.region, notification.job.name)
    return mute is not None and mute.silences(notification.event_type.value, now)


def _slack(kept: _Container) -> Slack:
    """The Slack side for this invocation; a secret that holds no usable URL or token is a setup error."""
    try:
        return _slack_from_secrets(kept)
    except ValueError as error:  # SlackWebhookSecretError, SlackTokenSecretError: the text never shows the value
        raise slack_client.SlackMisconfigured(str(error)) from None


def _slack_from_secrets(kept: _Container) -> Slack:
    settings = kept.settings
    if settings.mode == "app":
        return Slack(app=_app(kept), channel_id=lambda channel: _channel_id(kept, channel))
    secret = kept.secrets.get(str(settings.webhook_secret), max_age=settings.secret_max_age_seconds)
    url = slack_client.webhook_url_from_secret(secret)
    return Slack(webhook=lambda message: slack_client.post(url, message, timeout=settings.timeout_seconds))


def _app(kept: _Container) -> SlackApp:
    from .slack_app import SlackApp, token_from_secret

    settings = kept.settings
    token = token_from_secret(kept.secrets.get(str(settings.token_secret), max_age=settings.secret_max_age_seconds))
    return container.keep(
        f"slack-app:{hash(token)}",
        lambda: SlackApp(
            token,
            timeout=settings.timeout_seconds,
            rate_limit_retries=SLACK_POST_ATTEMPTS - 1,
            api_url=settings.api_url,
        ),
    )


def _channel_id(kept: _Container, channel: str) -> str:
    """A route's channel as Slack's id: ids as they are; names resolved once per container (conversations.list)."""
    if not channel.startswith("#"):
        return channel
    return container.keep(f"slack-channel:{channel}", lambda: _app(kept).channel_id(channel))


def _dead_letter(kept: _Container, notification: Notification, route: Route, error: str) -> None:
    aws.client("sqs").send_message(
        QueueUrl=kept.settings.dead_letter_queue_url,
        MessageBody=json.dumps(notification.to_document(), ensure_ascii=False),
        MessageAttributes={
            ROUTE_ATTRIBUTE: {"DataType": "String", "StringValue": route.channel},
            "error": {"DataType": "String", "StringValue": error[:256] or "rejected"},
            "event_type": {"DataType": "String", "StringValue": notification.event_type.value},
            "job_name": {"DataType": "String", "StringValue": notification.job.name},
            "notification_id": {"DataType": "String", "StringValue": notification.id},
        },
    )


def _dead_letter_digest(kept: _Container, part: SlackDigest, error: str) -> None:
    """A digest message Slack rejected for good: set aside alone; `gtwatch redrive` posts it again as it is."""
    aws.client("sqs").send_message(
        QueueUrl=kept.settings.dead_letter_queue_url,
        MessageBody=json.dumps(part.to_document(), ensure_ascii=False),
        MessageAttributes={
            ROUTE_ATTRIBUTE: {"DataType": "String", "StringValue": part.destination or WEBHOOK_DESTINATION},
            "error": {"DataType": "String", "StringValue": error[:256] or "rejected"},
            "event_type": {"DataType": "String", "StringValue": SlackDigest.KIND},
            "notification_id": {"DataType": "String", "StringValue": part.id},
        },
    )


class _Invocation:
    """One invocation's view: who it is, its deadline, and whether a setup error was met (the invocation fails)."""

    def __init__(self, context: LambdaContext) -> None:
        self.context = context
        self.owner = uuid.uuid4().hex
        self.misconfigured: list[str] = []
        self.failed: list[str] = []
        self.lagging: list[str] = []

    def time_left(self) -> bool:
        return self.context.get_remaining_time_in_millis() / 1000 > CLAIM_MARGIN.total_seconds()

    def handle(self, record: SQSRecord) -> None:
        logger.append_keys(message_id=record.message_id, notification_id=None)
        try:
            document = json.loads(record.body)
            item: Notification | SlackDigest
            if SlackDigest.is_document(document):
                item = SlackDigest.from_document(document)
            else:
                item = Notification.from_document(document)
            if not isinstance(item.id, str) or not item.id:
                raise ValueError("id: expected a non-empty string")
        except (ValueError, KeyError, TypeError, AttributeError) as error:
            # A body that does not parse now never will: logged with its message id and counted as processed.
            logger.error("Skipping a malformed notification", extra={"error": f"{type(error).__name__}: {error}"})
            return
        logger.append_keys(notification_id=item.id)
        kept = _cold_start()
        now = clock.now()
        if isinstance(item, Notification) and item.event_type is EventType.TEST:  # `gtwatch test-notify`: one try
            self._try_once(item, kept, record)
            return
        try:
            slack = _slack(kept)
            # Indexing, not .get(): Powertools wraps the attribute (string_value) only on item access.
            redriven = record.message_attributes[ROUTE_ATTRIBUTE]
            attempt = Attempt(
                owner=self.owner,
                now=now,
                claim_until=now + timedelta(seconds=SLACK_FUNCTION_TIMEOUT_SECONDS) + CLAIM_MARGIN,
                time_left=self.time_left,
                retry_at=now + timedelta(seconds=retry_delay_seconds(_receives(record))),
            )
            if isinstance(item, SlackDigest):
                deliver_digest(
                    item,
                    ledgers=kept.ledgers,
                    slack=slack,
                    attempt=attempt,
                    redriven=redriven is not None and bool(redriven.string_value),
                    dead_letter=lambda part, error: _dead_letter_digest(kept, part, error),
                )
                return
            if redriven is not None and redriven.string_value:
                route = next((r for r in kept.routes if r.channel == redriven.string_value), None)
                if route is None:
                    logger.error("Redriven message for a destination no longer configured; dropped")
                    return
                deliver_redriven(item, route, slack, kept.ledgers)
                return
            deliver(
                item,
                kept.routes,
                ledgers=kept.ledgers,
                slack=slack,
                attempt=attempt,
                dead_letter=lambda n, route, error: _dead_letter(kept, n, route, error),
                silenced=lambda n, at: _silenced(kept, n, at),
            )
        except NotYet as waiting:
            logger.info("Not delivered yet", extra={"reason": str(waiting)})
            self._retry_later(record, _waiting_seconds(waiting, record))
            self._note_lag(item, now, kept)
            raise
        except slack_client.SlackMisconfigured as error:
            logger.error(
                "Slack refused gtwatch's setup; fix the token, the channel or the bot's membership (docs/slack.md)",
                extra={"error": str(error)},
            )
            self.misconfigured.append(str(error))
            self._retry_later(record, retry_delay_seconds(_receives(record)))
            raise
        except slack_client.SlackPostError as error:
            logger.warning("Slack did not take the message; retrying later", extra={"error": str(error)})
            self._retry_later(record, retry_delay_seconds(_receives(record)))
            self._note_lag(item, now, kept)
            raise
        except Exception as error:
            # Not Slack's answer: DynamoDB throttled or refused, the dead-letter queue unreachable... Back off as for
            # a Slack error, and fail the invocation so that the notifier-errors alarm shows it now, not after a day
            # of silent retries ending in the dead-letter queue.
            logger.exception("Delivery failed for a reason that is not Slack's; retrying later")
            self.failed.append(f"{type(error).__name__}: {error}")
            self._retry_later(record, retry_delay_seconds(_receives(record)))
            self._note_lag(item, now, kept)
            raise

    def _note_lag(self, item: Notification | SlackDigest, now: datetime, kept: _Container) -> None:
        lag = now - _due_since(item, now)
        if lag.total_seconds() > kept.settings.lag_alarm_seconds:
            logger.error(
                "Slack delivery lags: a notification has waited too long (the message is kept and retried)",
                extra={"lag_minutes": int(lag.total_seconds() // 60)},
            )
            self.lagging.append(f"{item.id} waited {int(lag.total_seconds() // 60)} min")

    def _try_once(self, notification: Notification, kept: _Container, record: SQSRecord) -> None:
        """Post a test notification to every destination, never twice: a retry would post it again where it did
        arrive. A setup error it meets still fails the invocation (so the alarm shows it now), after the message
        is deleted so that the failure does not bring it back."""
        problems: list[str] = []
        try:
            slack = _slack(kept)
            for route in kept.routes:
                try:
                    deliver_test(notification, route, slack)
                except slack_client.SlackPostError as error:
                    logger.error(
                        "Test notification not delivered to this destination",
                        extra={"destination": route.channel, "error": str(error)},
                    )
                    if isinstance(error, slack_client.SlackMisconfigured):
                        problems.append(f"{route.channel}: {error}")
        except slack_client.SlackMisconfigured as error:
            logger.error("Test notification not sent: Slack is not set up", extra={"error": str(error)})
            problems.append(str(error))
        if problems:
            self.forget(record)
            self.misconfigured.extend(problems)

    def forget(self, record: SQSRecord) -> None:
        """Delete a message now (its work is done), so that failing the invocation does not bring it back."""
        queue_url = _cold_start().settings.queue_url
        if queue_url is not None:
            aws.client("sqs").delete_message(QueueUrl=queue_url, ReceiptHandle=record.receipt_handle)

    def _retry_later(self, record: SQSRecord, seconds: int) -> None:
        queue_url = _cold_start().settings.queue_url
        if queue_url is None:
            return  # The queue's own visibility timeout applies.
        try:
            aws.client("sqs").change_message_visibility(
                QueueUrl=queue_url, ReceiptHandle=record.receipt_handle, VisibilityTimeout=seconds
            )
        except Exception:
            logger.exception("Could not set when to retry; the queue's visibility timeout applies")


def _receives(record: SQSRecord) -> int:
    return int(record.attributes.approximate_receive_count or 1)


def _waiting_seconds(waiting: NotYet, record: SQSRecord) -> int:
    """How long a message that cannot go out yet waits: as its job's ledger tells, else its own back-off."""
    if waiting.retry_in is None:
        return retry_delay_seconds(_receives(record), waiting=True)
    return max(1, math.ceil(waiting.retry_in.total_seconds()))


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    _cold_start()  # settings first: a missing variable fails the invocation before any record is read
    invocation = _Invocation(context)
    response = process_partial_response(
        event=event, record_handler=invocation.handle, processor=processor, context=context
    )
    if invocation.misconfigured or invocation.failed or invocation.lagging:
        # Failing the invocation is what makes the alarm fire. It brings back every message of the batch, so the
        # ones that went out are deleted first; the others are kept, their retry set.
        failed = {item["itemIdentifier"] for item in response["batchItemFailures"]}
        for record in event.get("Records", []):
            if record.get("messageId") not in failed:
                invocation.forget(SQSRecord(record))
        kind, problem = next(
            (kind, problems[0])
            for kind, problems in (
                ("Slack refused gtwatch's setup", invocation.misconfigured),
                ("Slack delivery failed", invocation.failed),
                ("Slack delivery lags", invocation.lagging),
            )
            if problems
        )
        raise RuntimeError(f"{kind}: {problem}")
    return response


def _due_since(item: Notification | SlackDigest, now: datetime) -> datetime:
    """Since when Slack has owed `item`: when it happened, or for news held for quiet hours, when the window ended.
    A held notification sent ahead of its window's end is due only where later news released it, and that later
    notification's own lag speaks for the job."""
    held_until = item.held_until if isinstance(item, Notification) else None
    if held_until is None:
        return item.occurred_at
    return max(item.occurred_at, min(held_until, now))
