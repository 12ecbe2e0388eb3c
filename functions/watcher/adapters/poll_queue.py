"""The poll-work queue, as the poller fills it: one message per batch of (account, region) pairs, ten per request."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_sqs.type_defs import SendMessageBatchRequestEntryTypeDef

# SendMessageBatch takes at most ten messages.
SEND_BATCH_MAX = 10


def send_poll_work(sqs: SQSClient, queue_url: str, messages: list[str]) -> None:
    """Send every message; raise naming what SQS refused (after trying them all), so that the run fails and the next
    scheduled run plans every pair again."""
    refused: list[str] = []
    for start in range(0, len(messages), SEND_BATCH_MAX):
        entries: list[SendMessageBatchRequestEntryTypeDef] = [
            {"Id": str(index), "MessageBody": body}
            for index, body in enumerate(messages[start : start + SEND_BATCH_MAX])
        ]
        response = sqs.send_message_batch(QueueUrl=queue_url, Entries=entries)
        refused += [f"{failure['Code']}: {failure.get('Message', '')}" for failure in response.get("Failed", [])]
    if refused:
        raise RuntimeError(f"the poll-work queue refused {len(refused)} of {len(messages)} batches ({refused[0]})")
