"""Lambda handler: posts each labeling-job notification arriving from the SQS queue to Slack, exactly once."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from . import aws, container, slack_client, slack_message
from .model import Notification

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig
    from aws_lambda_powertools.utilities.parameters import SecretsProvider

    from .settings import SlackSettings

logger = Logger(service="gtwatch")
# botocore logs whole response bodies at DEBUG, GetSecretValue's SecretString (the webhook URL) among them.
logging.getLogger("botocore.parsers").setLevel(logging.INFO)
# With ReportBatchItemFailures, listing every record as failed retries them all, as raising would, but says which.
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
# Keyed on the notification id; SQS keeps a message 14 days at most, so no redelivery outlives its record.
IDEMPOTENCY_EXPIRY_SECONDS = 14 * 24 * 3600


@dataclass(frozen=True)
class _Container:
    settings: SlackSettings
    secrets: SecretsProvider
    idempotency: IdempotencyConfig
    post_once: Callable[..., Any]


def _cold_start() -> _Container:
    return container.keep("slack-notifier", _build_container)


def _build_container() -> _Container:
    # Built on the first invocation, not at import: boto3 clients made before an emulator starts would escape it,
    # and the imports (pydantic, idempotency, parameters) are paid once per container instead of at every import.
    from aws_lambda_powertools.utilities.idempotency import (
        DynamoDBPersistenceLayer,
        IdempotencyConfig,
        idempotent_function,
    )
    from aws_lambda_powertools.utilities.parameters import SecretsProvider

    from .settings import SlackSettings
    from .settings import settings as read_settings

    settings = read_settings(SlackSettings)
    idempotency = IdempotencyConfig(event_key_jmespath="id", expires_after_seconds=IDEMPOTENCY_EXPIRY_SECONDS)
    store = DynamoDBPersistenceLayer(settings.idempotency_table_name, boto3_client=aws.client("dynamodb"))
    post_once = idempotent_function(
        _post, data_keyword_argument="document", persistence_store=store, config=idempotency
    )
    secrets = SecretsProvider(boto3_client=aws.client("secretsmanager"))
    return _Container(settings, secrets, idempotency, post_once)


def _post(*, document: dict[str, Any], notification: Notification) -> dict[str, str]:
    # Raising here releases the idempotency record, so the redelivered message gets a fresh attempt.
    settings = _cold_start().settings
    secret = _cold_start().secrets.get(settings.webhook_secret, max_age=settings.secret_max_age_seconds)
    url = slack_client.webhook_url_from_secret(secret)
    slack_client.post(url, slack_message.payload(notification), timeout=settings.timeout_seconds)
    logger.info("Posted to Slack")
    return {"posted": notification.id}


def _record_handler(record: SQSRecord) -> None:
    logger.append_keys(message_id=record.message_id, notification_id=None)
    try:
        document = json.loads(record.body)
        notification = Notification.from_document(document)
        if not isinstance(notification.id, str) or not notification.id:
            raise ValueError("id: expected a non-empty string")
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        # A body that does not parse now never will: retrying would only hold it in the queue until the DLQ takes
        # it. It is logged with its message id and counted as processed, so SQS deletes it.
        logger.error("Skipping a malformed notification", extra={"error": f"{type(error).__name__}: {error}"})
        return
    logger.append_keys(notification_id=notification.id)
    # A notification already posted returns its stored result without calling _post again.
    _cold_start().post_once(document=document, notification=notification)


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    container = _cold_start()  # settings first: a missing variable fails the invocation before any record is read
    container.idempotency.register_lambda_context(context)
    return process_partial_response(event=event, record_handler=_record_handler, processor=processor, context=context)
