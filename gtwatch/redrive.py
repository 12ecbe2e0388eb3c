"""`gtwatch redrive`: send the Slack messages that landed in the dead-letter queue back to the Slack queue.

The SQS console's "Start DLQ redrive" (StartMessageMoveTask) does the same; this works everywhere, the local
emulator included, and re-sends each message with its attributes. The notifier is idempotent per notification,
so a message that did reach Slack before landing in the dead-letter queue is not posted twice.
"""

from __future__ import annotations

from typing import Any

BATCH = 10


def redrive(sqs: Any, dead_letter_queue_url: str, queue_url: str) -> int:
    """Move every message from the dead-letter queue to `queue_url`; returns how many moved."""
    moved = 0
    while True:
        messages = sqs.receive_message(
            QueueUrl=dead_letter_queue_url,
            MaxNumberOfMessages=BATCH,
            MessageAttributeNames=["All"],
            VisibilityTimeout=60,
            WaitTimeSeconds=0,
        ).get("Messages", [])
        if not messages:
            return moved
        entries = [
            {
                "Id": str(index),
                "MessageBody": message["Body"],
                **({"MessageAttributes": message["MessageAttributes"]} if message.get("MessageAttributes") else {}),
            }
            for index, message in enumerate(messages)
        ]
        sent = sqs.send_message_batch(QueueUrl=queue_url, Entries=entries)
        done = {entry["Id"] for entry in sent.get("Successful", [])}
        # Delete only what was re-sent: a message that failed to move stays in the dead-letter queue.
        sqs.delete_message_batch(
            QueueUrl=dead_letter_queue_url,
            Entries=[
                {"Id": str(index), "ReceiptHandle": message["ReceiptHandle"]}
                for index, message in enumerate(messages)
                if str(index) in done
            ],
        )
        moved += len(done)
        if len(done) < len(messages):
            raise RuntimeError(f"{len(messages) - len(done)} messages could not be re-sent; they stay in the DLQ")
