"""`gtwatch redrive`: send the Slack messages that landed in the dead-letter queue back to the Slack queue.

The SQS console's "Start DLQ redrive" (StartMessageMoveTask) does the same; this works everywhere, the local
emulator included, and re-sends each message with its attributes. The notifier is idempotent per notification,
so a message that did reach Slack before landing in the dead-letter queue is not posted twice.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any, TextIO

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


def add_command(subparsers: Any) -> None:
    command = subparsers.add_parser(
        "redrive",
        help="send the Slack notifications in the dead-letter queue back to the Slack queue",
        description="Moves every message of the deployed stack's Slack dead-letter queue back to its queue, once "
        "Slack (or the webhook secret) is fixed. Notifications already posted are not posted again.",
    )
    where = command.add_mutually_exclusive_group(required=True)
    where.add_argument("--stack-name", help="read both queue URLs from this gtwatch stack's outputs")
    where.add_argument("--dead-letter-queue-url", help="the dead-letter queue (with --queue-url)")
    command.add_argument("--queue-url", help="the Slack queue, with --dead-letter-queue-url")
    command.add_argument("--region", help="the stack's region (default: your configured region)")
    command.set_defaults(func=run_redrive)


def run_redrive(args: argparse.Namespace, *, out: TextIO | None = None, err: TextIO | None = None) -> int:
    from .check import OpsError, make_session, run_guarded, stack_output

    out, err = out or sys.stdout, err or sys.stderr

    def command() -> None:
        session = make_session()
        if args.stack_name:
            source = stack_output(session, args.stack_name, args.region, "SlackDeadLetterQueueUrl")
            target = stack_output(session, args.stack_name, args.region, "SlackQueueUrl")
        elif not args.queue_url:
            raise OpsError("--dead-letter-queue-url needs --queue-url")
        else:
            source, target = args.dead_letter_queue_url, args.queue_url
        moved = redrive(session.client("sqs", region_name=args.region), source, target)
        print(f"Moved {moved} message(s) from {source} back to {target}.", file=out or sys.stdout)

    return run_guarded(command, err)
