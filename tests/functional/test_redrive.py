"""`gtwatch redrive`: long-polled until the dead-letter queue is drained, and `--dry-run`, on the emulator."""

from __future__ import annotations

import argparse
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import pytest
from watcher.domain.contract import EVENT_TYPES, OUTPUT_DEAD_LETTER_QUEUE_URL, OUTPUT_SLACK_QUEUE_URL

from gtwatch.ops import add_commands, redrive
from gtwatch.sim.emulator import deployment
from gtwatch.sim.emulator.deployment import Resources, Routing

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

ALL = EVENT_TYPES


@dataclass
class Queues:
    resources: Resources
    out: io.StringIO = field(default_factory=io.StringIO)
    err: io.StringIO = field(default_factory=io.StringIO)

    def gtwatch(self, *argv: str) -> int:
        parser = argparse.ArgumentParser(prog="gtwatch")
        add_commands(parser.add_subparsers(dest="command", required=True))
        args = parser.parse_args(list(argv))
        result: int = args.func(args, out=self.out, err=self.err)
        return result

    def by_url(self) -> list[str]:
        return [
            "--dead-letter-queue-url",
            self.resources.dead_letter_queue_url,
            "--queue-url",
            self.resources.slack_queue_url,
            "--wait-seconds",
            "1",
        ]

    def dead_letter(self, job: str, event_type: str) -> None:
        document = {"schema": 1, "id": f"us-east-1:{job}:{event_type}:final", "event_type": event_type}
        document["job"] = {"region": "us-east-1", "name": job}
        deployment.client("sqs").send_message(
            QueueUrl=self.resources.dead_letter_queue_url,
            MessageBody=json.dumps(document),
            MessageAttributes={"event_type": {"DataType": "String", "StringValue": event_type}},
        )

    def drain(self, url: str) -> list[dict[str, Any]]:
        sqs, messages = deployment.client("sqs"), []
        while batch := sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, MessageAttributeNames=["All"], AttributeNames=["All"]
        ).get("Messages"):
            messages += batch
            for message in batch:
                sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        return messages


@pytest.fixture(params=["inprocess", "server"])
def queues(request: pytest.FixtureRequest) -> Iterator[Queues]:
    with deployment.deployed(
        mode=request.param,
        routing=Routing(slack_events=ALL, email_events=ALL),
        slack_webhook_url="http://127.0.0.1:9/x",
        handler_env={},
    ) as resources:
        yield Queues(resources)


def lines(text: str) -> list[str]:
    return [" ".join(line.split()) for line in text.splitlines()]


def test_dry_run_lists_each_dead_letter_and_moves_nothing(queues):
    queues.dead_letter("cats-batch-1", "failed")
    queues.dead_letter("dogs-batch-1", "stalled")

    assert queues.gtwatch("redrive", "--dry-run", *queues.by_url()) == 0

    shown = lines(queues.out.getvalue())
    assert shown[0].startswith("Would move 2 message(s) from ")
    assert "NOTIFICATION TYPE JOB RECEIVES AGE" in shown
    assert "us-east-1:cats-batch-1:failed:final failed us-east-1/cats-batch-1 1 0 min" in shown
    assert "us-east-1:dogs-batch-1:stalled:final stalled us-east-1/dogs-batch-1 1 0 min" in shown
    assert shown[-1] == "Nothing was moved (--dry-run); the messages are visible in the dead-letter queue again."
    # Visible again at once (not after a visibility timeout), and nothing reached the Slack queue.
    assert len(queues.drain(queues.resources.dead_letter_queue_url)) == 2
    assert queues.drain(queues.resources.slack_queue_url) == []


def test_redrive_lists_what_it_moved_and_keeps_attributes(queues):
    for index in range(12):
        queues.dead_letter(f"job-{index:02}", "failed")

    assert queues.gtwatch("redrive", *queues.by_url()) == 0

    shown = lines(queues.out.getvalue())
    assert shown[0].startswith("Moved 12 message(s) from ")
    assert sum("us-east-1:job-" in line for line in shown) == 12
    moved = queues.drain(queues.resources.slack_queue_url)
    assert sorted(json.loads(m["Body"])["job"]["name"] for m in moved) == [f"job-{i:02}" for i in range(12)]
    assert {m["MessageAttributes"]["event_type"]["StringValue"] for m in moved} == {"failed"}
    assert queues.drain(queues.resources.dead_letter_queue_url) == []


def test_an_empty_dead_letter_queue_is_said_so(queues):
    assert queues.gtwatch("redrive", *queues.by_url()) == 0
    assert queues.out.getvalue().startswith("Moved 0 message(s) from ")


def test_a_message_that_is_not_a_notification_is_moved_all_the_same(queues):
    deployment.client("sqs").send_message(QueueUrl=queues.resources.dead_letter_queue_url, MessageBody="not json")

    assert queues.gtwatch("redrive", "--dry-run", *queues.by_url()) == 0
    assert "(not a gtwatch notification: message " in queues.out.getvalue()
    assert queues.gtwatch("redrive", *queues.by_url()) == 0
    assert [m["Body"] for m in queues.drain(queues.resources.slack_queue_url)] == ["not json"]


def test_redrive_finds_the_queues_from_the_stack_named_in_cdk_json(queues, tmp_path: Path, monkeypatch):
    (tmp_path / "cdk.json").write_text(json.dumps({"context": {"gtwatch": {"stack_name": "GtwatchProd"}}}))
    monkeypatch.chdir(tmp_path)
    outputs = {
        OUTPUT_SLACK_QUEUE_URL: queues.resources.slack_queue_url,
        OUTPUT_DEAD_LETTER_QUEUE_URL: queues.resources.dead_letter_queue_url,
    }
    template = {
        "Resources": {"Placeholder": {"Type": "AWS::SNS::Topic"}},
        "Outputs": {key: {"Value": value} for key, value in outputs.items()},
    }
    deployment.client("cloudformation").create_stack(StackName="GtwatchProd", TemplateBody=json.dumps(template))
    queues.dead_letter("cats-batch-1", "failed")

    assert queues.gtwatch("redrive", "--wait-seconds", "1") == 0

    assert queues.out.getvalue().startswith(f"Moved 1 message(s) from {queues.resources.dead_letter_queue_url}")
    assert len(queues.drain(queues.resources.slack_queue_url)) == 1


# --- when to stop: an in-memory SQS that answers like the real one can ---------------------------------------


class SampledSqs:
    """An SQS whose receives may come back empty while messages wait, as a short poll's sampling can."""

    def __init__(self, answers: list[list[str]], counts: list[int], *, refuse: frozenset[str] = frozenset()) -> None:
        self.answers, self.counts, self.refuse = answers, counts, refuse
        self.receives = 0
        self.sent: list[str] = []
        self.deleted: list[str] = []

    def receive_message(self, **kwargs: Any) -> dict[str, Any]:
        self.receives += 1
        bodies = self.answers.pop(0) if self.answers else []
        return {
            "Messages": [
                {"MessageId": body, "ReceiptHandle": body, "Body": body, "Attributes": {"ApproximateReceiveCount": "6"}}
                for body in bodies
            ]
        }

    def get_queue_attributes(self, **kwargs: Any) -> dict[str, Any]:
        return {"Attributes": {"ApproximateNumberOfMessages": str(self.counts.pop(0) if self.counts else 0)}}

    def send_message_batch(self, *, Entries: list[dict[str, Any]], **kwargs: Any) -> dict[str, Any]:
        ok = [entry for entry in Entries if entry["MessageBody"] not in self.refuse]
        self.sent += [entry["MessageBody"] for entry in ok]
        return {"Successful": [{"Id": entry["Id"]} for entry in ok]}

    def delete_message_batch(self, *, Entries: list[dict[str, Any]], **kwargs: Any) -> dict[str, Any]:
        self.deleted += [entry["ReceiptHandle"] for entry in Entries]
        return {"Successful": [{"Id": entry["Id"]} for entry in Entries]}


def move(sqs: SampledSqs) -> list[redrive.DeadLetter]:
    # SampledSqs answers only the calls redrive() makes, so it stands in for the typed client.
    return redrive.redrive(cast("SQSClient", sqs), "dlq", "queue", wait_seconds=0)


def test_an_empty_long_poll_while_sqs_still_counts_messages_is_polled_again():
    sqs = SampledSqs(answers=[["a"], [], ["b"], []], counts=[1, 1, 1, 0])

    moved = move(sqs)

    assert [letter.message_id for letter in moved] == ["a", "b"]
    assert sqs.deleted == ["a", "b"]


def test_two_empty_long_polls_in_a_row_end_it_whatever_the_count():
    # Messages counted but never handed out: another consumer holds them, or the count lags.
    sqs = SampledSqs(answers=[], counts=[3, 3, 3])

    assert move(sqs) == []
    assert sqs.receives == 2


def test_a_message_sqs_refuses_to_resend_stays_in_the_dead_letter_queue_and_the_command_says_so(monkeypatch):
    sqs = SampledSqs(answers=[["a", "b"]], counts=[0], refuse=frozenset({"b"}))

    with pytest.raises(redrive.RedriveIncomplete, match="SQS refused to re-send 1; they stay in the dead-letter"):
        move(sqs)
    assert sqs.sent == ["a"] and sqs.deleted == ["a"]

    class Session:
        def client(self, *args: Any, **kwargs: Any) -> SampledSqs:
            return SampledSqs(answers=[["a", "b"]], counts=[0], refuse=frozenset({"b"}))

    monkeypatch.setattr("gtwatch.ops.common.make_session", Session)
    err = io.StringIO()
    parser = argparse.ArgumentParser(prog="gtwatch")
    add_commands(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["redrive", "--dead-letter-queue-url", "dlq", "--queue-url", "queue"])
    assert redrive.run_redrive(args, out=io.StringIO(), err=err) == 1
    assert err.getvalue().startswith("gtwatch: moved 1 message(s), but SQS refused to re-send 1;")


def test_a_region_that_does_not_exist_is_named_as_such(queues):
    queues.dead_letter("cats-batch-1", "failed")

    assert queues.gtwatch("redrive", "--region", "us-east-7", *queues.by_url()) == 2

    assert queues.err.getvalue().startswith("gtwatch: --region: 'us-east-7' is not an AWS region that botocore ")
    assert len(queues.drain(queues.resources.dead_letter_queue_url)) == 1  # Nothing was moved.
