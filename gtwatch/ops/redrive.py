"""`gtwatch redrive`: send the Slack messages that landed in the dead-letter queue back to the Slack queue.

The SQS console's "Start DLQ redrive" (StartMessageMoveTask) does the same; this works everywhere, the local
emulator included, and re-sends each message with its attributes. The notifier's ledger of each job says what was
delivered, so a message that did reach Slack before landing in the dead-letter queue is not posted twice.

SQS answers a short receive from a sample of its servers, so one empty answer does not prove a queue empty: the
command long-polls (which asks every server), and stops once SQS counts no visible message after a batch or an empty
long poll, or after two empty long polls in a row (messages another consumer holds are not waited for).
`--dry-run` lists what would move and leaves it in place: it hides each message only while listing and then makes
them all visible again.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TextIO

from watcher import clock
from watcher.adapters.aws import RETRY_CONFIG
from watcher.domain.contract import OUTPUT_DEAD_LETTER_QUEUE_URL, OUTPUT_SLACK_QUEUE_URL
from watcher.domain.formatting import duration

from . import common
from .common import OpsError, default_region, known_region, run_guarded
from .config import load_local_config
from .stack import read_stack

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_sqs.type_defs import MessageTypeDef, SendMessageBatchRequestEntryTypeDef

BATCH = 10  # SQS's most per receive.
LONG_POLL_SECONDS = 20  # SQS's longest wait per receive.
# While moving, a received message stays hidden this long; it is deleted as soon as it is re-sent.
MOVE_VISIBILITY_SECONDS = 60
# While listing (--dry-run): long enough to list a dead-letter queue's worth, short enough to heal on its own
# if the command is interrupted before it gives the messages back.
DRY_RUN_VISIBILITY_SECONDS = 30
EMPTY_POLLS_TO_STOP = 2


class RedriveIncomplete(Exception):
    """SQS refused to re-send some messages; they stay in the dead-letter queue."""


@dataclass(frozen=True)
class DeadLetter:
    """One message of the dead-letter queue, as far as its body says which notification it carries."""

    message_id: str
    notification_id: str | None
    event_type: str | None
    job: str | None  # region/name
    receive_count: int
    sent_at: datetime | None

    @classmethod
    def from_message(cls, message: MessageTypeDef) -> DeadLetter:
        attributes = message.get("Attributes", {})
        sent = attributes.get("SentTimestamp")
        try:
            document = json.loads(message.get("Body", ""))
        except json.JSONDecodeError:
            document = None
        if not isinstance(document, dict):
            document = {}  # Not a gtwatch notification; it is moved all the same.
        job: dict[str, Any] = document["job"] if isinstance(document.get("job"), dict) else {}
        return cls(
            message_id=message["MessageId"],
            notification_id=document.get("id"),
            event_type=document.get("event_type"),
            job=f"{job['region']}/{job['name']}" if job.get("region") and job.get("name") else None,
            receive_count=int(attributes.get("ApproximateReceiveCount", 0)),
            sent_at=datetime.fromtimestamp(int(sent) / 1000, UTC) if sent else None,
        )

    def to_document(self, now: datetime) -> dict[str, Any]:
        return {
            "message_id": self.message_id,
            "notification_id": self.notification_id,
            "event_type": self.event_type,
            "job": self.job,
            "receive_count": self.receive_count,
            "age_seconds": None if self.sent_at is None else int((now - self.sent_at).total_seconds()),
        }


def redrive(
    sqs: SQSClient, dead_letter_queue_url: str, queue_url: str, *, wait_seconds: int = LONG_POLL_SECONDS
) -> list[DeadLetter]:
    """Move every message from the dead-letter queue to `queue_url`; returns those moved."""
    moved: list[DeadLetter] = []
    for messages in _batches(sqs, dead_letter_queue_url, wait_seconds, MOVE_VISIBILITY_SECONDS):
        sent = sqs.send_message_batch(
            QueueUrl=queue_url, Entries=[_resend_entry(str(index), message) for index, message in enumerate(messages)]
        )
        done = {entry["Id"] for entry in sent.get("Successful", [])}
        resent = [message for index, message in enumerate(messages) if str(index) in done]
        if resent:
            # Delete only what was re-sent: a message that failed to move stays in the dead-letter queue.
            sqs.delete_message_batch(
                QueueUrl=dead_letter_queue_url,
                Entries=[
                    {"Id": str(index), "ReceiptHandle": message["ReceiptHandle"]}
                    for index, message in enumerate(resent)
                ],
            )
        moved += [DeadLetter.from_message(message) for message in resent]
        if len(resent) < len(messages):
            raise RedriveIncomplete(
                f"moved {len(moved)} message(s), but SQS refused to re-send {len(messages) - len(resent)}; "
                "they stay in the dead-letter queue (run gtwatch redrive again)"
            )
    return moved


def _resend_entry(entry_id: str, message: MessageTypeDef) -> SendMessageBatchRequestEntryTypeDef:
    entry: SendMessageBatchRequestEntryTypeDef = {"Id": entry_id, "MessageBody": message["Body"]}
    if message.get("MessageAttributes"):
        entry["MessageAttributes"] = message["MessageAttributes"]
    return entry


def preview(sqs: SQSClient, dead_letter_queue_url: str, *, wait_seconds: int = LONG_POLL_SECONDS) -> list[DeadLetter]:
    """What redrive() would move, leaving every message in the dead-letter queue, visible again at the end."""
    held: dict[str, MessageTypeDef] = {}  # By message id: a message seen twice is listed once (latest handle kept).
    try:
        for messages in _batches(sqs, dead_letter_queue_url, wait_seconds, DRY_RUN_VISIBILITY_SECONDS, seen=held):
            held.update((message["MessageId"], message) for message in messages)
    finally:
        _give_back(sqs, dead_letter_queue_url, list(held.values()))
    return [DeadLetter.from_message(message) for message in held.values()]


def _batches(
    sqs: SQSClient, queue_url: str, wait_seconds: int, visibility: int, *, seen: dict[str, MessageTypeDef] | None = None
) -> Iterator[list[MessageTypeDef]]:
    """Batches of messages until the queue is drained; with `seen`, a batch of nothing new counts as empty."""
    empty_polls = 0
    while True:
        messages = sqs.receive_message(
            QueueUrl=queue_url,
            MaxNumberOfMessages=BATCH,
            MessageAttributeNames=["All"],
            MessageSystemAttributeNames=["ApproximateReceiveCount", "SentTimestamp"],
            VisibilityTimeout=visibility,
            WaitTimeSeconds=wait_seconds,
        ).get("Messages", [])
        if seen is not None and messages and all(message["MessageId"] in seen for message in messages):
            seen.update((message["MessageId"], message) for message in messages)  # Their newest receipt handles.
            messages = []
        if messages:
            empty_polls = 0
            yield messages
            if visible_messages(sqs, queue_url) == 0:
                return  # Saves the last long poll's wait when SQS already counts the queue empty.
            continue
        empty_polls += 1
        if empty_polls >= EMPTY_POLLS_TO_STOP or visible_messages(sqs, queue_url) == 0:
            return


def visible_messages(sqs: SQSClient, queue_url: str) -> int:
    attributes = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["ApproximateNumberOfMessages"])
    return int(attributes["Attributes"]["ApproximateNumberOfMessages"])


def _give_back(sqs: SQSClient, queue_url: str, messages: list[MessageTypeDef]) -> None:
    for start in range(0, len(messages), BATCH):
        chunk = messages[start : start + BATCH]
        # A message whose hold already ran out is visible again, and SQS says so for it; nothing to do there.
        sqs.change_message_visibility_batch(
            QueueUrl=queue_url,
            Entries=[
                {"Id": str(index), "ReceiptHandle": message["ReceiptHandle"], "VisibilityTimeout": 0}
                for index, message in enumerate(chunk)
            ],
        )


def print_dead_letters(letters: list[DeadLetter], now: datetime, out: TextIO) -> None:
    rows = [("NOTIFICATION", "TYPE", "JOB", "RECEIVES", "AGE")]
    for letter in letters:
        age = "?" if letter.sent_at is None else duration(max(0, int((now - letter.sent_at).total_seconds() // 60)))
        rows.append(
            (
                letter.notification_id or f"(not a gtwatch notification: message {letter.message_id})",
                letter.event_type or "?",
                letter.job or "?",
                str(letter.receive_count),
                age,
            )
        )
    widths = [max(len(row[column]) for row in rows) for column in range(4)]
    for notification, event_type, job, receives, age in rows:
        print(
            f"  {notification:<{widths[0]}}  {event_type:<{widths[1]}}  {job:<{widths[2]}}  "
            f"{receives:>{widths[3]}}  {age}",
            file=out,
        )


def add_command(subparsers: Any) -> None:
    command = subparsers.add_parser(
        "redrive",
        help="send the Slack notifications in the dead-letter queue back to the Slack queue",
        description="Moves every message of the deployed stack's Slack dead-letter queue back to its queue, once "
        "Slack (or the webhook secret) is fixed. Notifications already posted are not posted again.",
    )
    where = command.add_mutually_exclusive_group()
    where.add_argument(
        "--stack-name", help="read both queue URLs from this gtwatch stack's outputs (default: cdk.json's stack_name)"
    )
    where.add_argument("--dead-letter-queue-url", help="the dead-letter queue (with --queue-url)")
    command.add_argument("--queue-url", help="the Slack queue, with --dead-letter-queue-url")
    command.add_argument("--region", help="the stack's region (default: your configured region)")
    command.add_argument(
        "--dry-run",
        action="store_true",
        help="list what would move (notification, job, type, receive count, age) and move nothing",
    )
    command.add_argument(
        "--wait-seconds",
        type=int,
        choices=range(21),
        default=LONG_POLL_SECONDS,
        metavar="0-20",
        help=f"how long each receive waits for messages (default: {LONG_POLL_SECONDS}, SQS's longest)",
    )
    command.set_defaults(func=run_redrive)


def run_redrive(args: argparse.Namespace, *, out: TextIO | None = None, err: TextIO | None = None) -> int:
    out, err = out or sys.stdout, err or sys.stderr
    incomplete: list[str] = []

    def command() -> None:
        session = common.make_session()
        region = known_region(args.region, "--region") if args.region else None
        if args.dead_letter_queue_url:
            if not args.queue_url:
                raise OpsError("--dead-letter-queue-url needs --queue-url")
            source, target = args.dead_letter_queue_url, args.queue_url
        else:
            stack_name = args.stack_name or load_local_config().config.stack_name
            stack = read_stack(session, stack_name, region or default_region(session))
            source, target = stack.output(OUTPUT_DEAD_LETTER_QUEUE_URL), stack.output(OUTPUT_SLACK_QUEUE_URL)
            region = stack.region
        sqs = session.client("sqs", region_name=region, config=RETRY_CONFIG)
        now = clock.now()
        if args.dry_run:
            letters = preview(sqs, source, wait_seconds=args.wait_seconds)
            print(f"Would move {len(letters)} message(s) from {source} back to {target}.", file=out)
            if letters:
                print_dead_letters(letters, now, out)
            print("Nothing was moved (--dry-run); the messages are visible in the dead-letter queue again.", file=out)
            return
        try:
            letters = redrive(sqs, source, target, wait_seconds=args.wait_seconds)
        except RedriveIncomplete as error:
            incomplete.append(str(error))
            return
        print(f"Moved {len(letters)} message(s) from {source} back to {target}.", file=out)
        if letters:
            print_dead_letters(letters, now, out)

    code = run_guarded(command, err)
    if code == 0 and incomplete:
        print(f"gtwatch: {incomplete[0]}", file=err)
        return 1
    return code
