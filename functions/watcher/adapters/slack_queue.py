"""The SQS adapter of the Slack notifier: when a message of the Slack queue is offered again, its deletion, and the
dead-letter queue that keeps what Slack rejected for good."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

logger = Logger(child=True)


class SqsSlackQueue:
    """The Slack queue (`queue_url`, None when not configured: the queue's own visibility timeout applies and nothing
    is deleted ahead of Lambda) and its dead-letter queue."""

    def __init__(self, sqs: SQSClient, queue_url: str | None, dead_letter_queue_url: str) -> None:
        self._sqs, self._queue_url, self._dead_letter_queue_url = sqs, queue_url, dead_letter_queue_url

    def retry_in(self, receipt: str, seconds: int) -> None:
        if self._queue_url is None:
            return
        try:
            self._sqs.change_message_visibility(
                QueueUrl=self._queue_url, ReceiptHandle=receipt, VisibilityTimeout=seconds
            )
        except Exception:
            logger.exception("Could not set when to retry; the queue's visibility timeout applies")

    def delete(self, receipt: str) -> None:
        if self._queue_url is not None:
            self._sqs.delete_message(QueueUrl=self._queue_url, ReceiptHandle=receipt)

    def dead_letter(self, body: dict[str, Any], attributes: dict[str, str]) -> None:
        self._sqs.send_message(
            QueueUrl=self._dead_letter_queue_url,
            MessageBody=json.dumps(body, ensure_ascii=False),
            MessageAttributes={
                name: {"DataType": "String", "StringValue": value} for name, value in attributes.items()
            },
        )
