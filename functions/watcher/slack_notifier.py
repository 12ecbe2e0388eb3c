"""What the Slack notifier's Lambda container keeps (its settings and the delivery's ports, built once on the first
invocation), and how a message of the Slack queue is read."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from watcher import container
from watcher.adapters import aws
from watcher.adapters.mute import MuteStore
from watcher.adapters.slack_destinations import slack_destination
from watcher.adapters.slack_ledger import LedgerStore
from watcher.adapters.slack_queue import SqsSlackQueue
from watcher.domain.digest import SlackDigest
from watcher.domain.model import Notification
from watcher.usecases.slack_delivery import Notifier

if TYPE_CHECKING:
    from watcher.settings import SlackSettings

# botocore logs whole response bodies at DEBUG, GetSecretValue's SecretString (a URL or token) among them.
logging.getLogger("botocore.parsers").setLevel(logging.INFO)


@dataclass(frozen=True)
class Kept:
    settings: SlackSettings
    notifier: Notifier
    queue: SqsSlackQueue


def cold_start() -> Kept:
    return container.keep("slack-notifier", _build)


def _build() -> Kept:
    # Built on the first invocation, not at import: boto3 clients made before an emulator starts would escape it,
    # and the imports (pydantic, parameters) are paid once per container instead of at every import.
    from aws_lambda_powertools.utilities.parameters import SecretsProvider

    from watcher.settings import SlackSettings
    from watcher.settings import settings as read_settings

    settings = read_settings(SlackSettings)
    secrets = SecretsProvider(boto3_client=aws.client("secretsmanager"))
    dynamodb = aws.client("dynamodb")
    mutes = MuteStore(dynamodb, settings.table_name)
    queue = SqsSlackQueue(aws.client("sqs"), settings.queue_url, settings.dead_letter_queue_url)

    def silenced(notification: Notification, now: datetime) -> bool:
        """Whether the job is muted for this notification's type now (`gtwatch mute` after it was sent)."""
        mute = mutes.for_job(notification.job.scope, notification.job.name)
        return mute is not None and mute.silences(notification.event_type.value, now)

    notifier = Notifier(
        routes=settings.routes,
        ledgers=LedgerStore(dynamodb, settings.table_name),
        queue=queue,
        destination=lambda: slack_destination(settings, secrets),
        silenced=silenced,
        lag_alarm=timedelta(seconds=settings.lag_alarm_seconds),
    )
    return Kept(settings, notifier, queue)


def message_from(body: str) -> Notification | SlackDigest:
    """The notification or digest a message of the Slack queue holds; ValueError (or KeyError, TypeError,
    AttributeError) when it holds neither."""
    document = json.loads(body)
    item: Notification | SlackDigest
    if SlackDigest.is_document(document):
        item = SlackDigest.from_document(document)
    else:
        item = Notification.from_document(document)
    if not isinstance(item.id, str) or not item.id:
        raise ValueError("id: expected a non-empty string")
    return item
