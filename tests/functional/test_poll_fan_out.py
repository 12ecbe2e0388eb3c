"""A run fanned out through the poll-work queue (moto SQS and the emulator): with more watched (account, region) pairs
than GTWATCH_POLL_BATCH_PAIRS, the poller only plans, one message per batch, and the poll workers, each handed its
message as Lambda's SQS trigger hands it, deliver what a run inline delivers."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aws_lambda_powertools.utilities.typing import LambdaContext
from watcher import clock, composition
from watcher.domain.env import Env
from watcher.domain.ports import JobSource
from watcher.handlers import poll_worker_handler, poller_handler

from gtwatch.sim.emulator import deployment, email, labeling_jobs
from gtwatch.sim.emulator.deployment import Resources
from tests.fakes.jobs import ThrottledListing

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
IN_PROGRESS = {"TotalLabeled": 0, "HumanLabeled": 0, "MachineLabeled": 0, "FailedNonRetryableError": 0, "Unlabeled": 10}
DONE = {"TotalLabeled": 10, "HumanLabeled": 10, "MachineLabeled": 0, "FailedNonRetryableError": 0, "Unlabeled": 0}
REGIONS = ("us-east-1", "eu-west-1", "us-west-2")
# What a day across the three regions tells people, whichever way the runs go.
DELIVERED = [
    ("[gtwatch] Completed: cats (us-east-1)", "completed", "cats"),
    ("[gtwatch] Failed: dogs (eu-west-1)", "failed", "dogs"),
]


class Watcher:
    """The emulated account, its clock, and its poll-work queue when `fan_out`."""

    def __init__(self, resources: Resources, context: Callable[[str], LambdaContext], *, fan_out: bool) -> None:
        self.resources, self.context = resources, context
        self.now = T0
        clock.set_clock(lambda: self.now)
        labeling_jobs.set_clock(lambda: self.now)
        self.sqs = deployment.client("sqs")
        self.work_queue_url = self.sqs.create_queue(QueueName="gtwatch-poll-work")["QueueUrl"]
        self.work_queue_arn = self.sqs.get_queue_attributes(QueueUrl=self.work_queue_url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        if fan_out:  # As the stack sets it; the pairs per invocation lowered below the three watched.
            os.environ[Env.POLL_WORK_QUEUE_URL] = self.work_queue_url
            os.environ[Env.POLL_BATCH_PAIRS] = "1"

    def at(self, minute: int) -> None:
        self.now = T0 + timedelta(minutes=minute)

    def run(self) -> dict[str, Any]:
        result: dict[str, Any] = poller_handler.lambda_handler({}, self.context("gtwatch-poller"))
        return result

    def work(self) -> list[dict[str, Any]]:
        """Every message the poller planned, each handed to a poll worker; its answer to Lambda."""
        answers = []
        while batch := self.sqs.receive_message(
            QueueUrl=self.work_queue_url, MaxNumberOfMessages=10, AttributeNames=["All"]
        ).get("Messages"):
            for message in batch:
                event = {"Records": [deployment.sqs_record(message, self.work_queue_arn)]}
                answers.append(poll_worker_handler.lambda_handler(event, self.context("gtwatch-poll-worker")))
                self.sqs.delete_message(QueueUrl=self.work_queue_url, ReceiptHandle=message["ReceiptHandle"])
        return answers

    def delivered(self) -> list[tuple[str, str, str]]:
        """Emails by subject and the Slack queue's notifications (event type, job), in the same order."""
        slack: list[tuple[str, str]] = []
        while batch := self.sqs.receive_message(QueueUrl=self.resources.slack_queue_url, MaxNumberOfMessages=10).get(
            "Messages"
        ):
            for message in batch:
                document = json.loads(message["Body"])
                slack.append((document["event_type"], document["job"]["name"]))
                self.sqs.delete_message(QueueUrl=self.resources.slack_queue_url, ReceiptHandle=message["ReceiptHandle"])
        subjects = sorted(str(mail.subject) for mail in email.take())
        return [(subject, kind, job) for subject, (kind, job) in zip(subjects, sorted(slack), strict=True)]


@pytest.fixture
def watched(
    deploy: Callable[..., Resources], lambda_context: Callable[[str], LambdaContext]
) -> Iterator[Callable[[bool], Watcher]]:
    def start(fan_out: bool) -> Watcher:
        return Watcher(deploy(handler_env={Env.REGIONS: ",".join(REGIONS)}), lambda_context, fan_out=fan_out)

    yield start
    for name in (Env.POLL_WORK_QUEUE_URL, Env.POLL_BATCH_PAIRS):
        os.environ.pop(name, None)


def a_day(watcher: Watcher, *, fan_out: bool) -> list[list[tuple[str, str, str]]]:
    """Three regions, a job in each; a run, two jobs end, two more runs. What each run delivered."""
    for region, name in zip(REGIONS, ("cats", "dogs", "birds"), strict=True):
        labeling_jobs.put_labeling_job(region=region, name=name, status="InProgress", counters=IN_PROGRESS, at=T0)
    delivered = []
    for minute in (0, 10, 15):
        watcher.at(minute)
        if minute == 10:
            labeling_jobs.update_labeling_job(
                region="us-east-1", name="cats", at=T0 + timedelta(minutes=7), status="Completed", counters=DONE
            )
            labeling_jobs.update_labeling_job(
                region="eu-west-1",
                name="dogs",
                at=T0 + timedelta(minutes=8),
                status="Failed",
                failure_reason="ClientError: no objects",
            )
        result = watcher.run()
        if fan_out:
            assert result == {"pairs": 3, "batches": 3}
            assert watcher.work() == [{"batchItemFailures": []}] * 3
        else:
            assert [report["region"] for report in result["regions"]] == list(REGIONS)
            assert watcher.work() == []
        delivered.append(watcher.delivered())
    return delivered


@pytest.mark.parametrize("fan_out", [False, True], ids=["inline", "fanned-out"])
def test_a_run_fanned_out_delivers_what_a_run_inline_delivers(watched: Callable[[bool], Watcher], fan_out: bool):
    watcher = watched(fan_out)
    assert a_day(watcher, fan_out=fan_out) == [[], DELIVERED, []]


def test_the_poller_sends_one_small_message_per_batch_of_pairs(watched: Callable[[bool], Watcher]):
    watcher = watched(True)
    watcher.run()
    bodies = []
    while batch := watcher.sqs.receive_message(QueueUrl=watcher.work_queue_url, MaxNumberOfMessages=10).get("Messages"):
        bodies += [json.loads(message["Body"]) for message in batch]
    assert sorted(bodies, key=lambda body: body["pairs"][0][1]) == [
        {"pairs": [[None, "eu-west-1"]], "batches": 3},
        {"pairs": [[None, "us-east-1"]], "batches": 3},
        {"pairs": [[None, "us-west-2"]], "batches": 3},
    ]


def test_without_more_pairs_than_one_invocation_reads_the_poller_polls_inline(watched: Callable[[bool], Watcher]):
    watcher = watched(True)
    os.environ[Env.POLL_BATCH_PAIRS] = "3"
    result = watcher.run()
    assert [report["region"] for report in result["regions"]] == list(REGIONS)
    assert watcher.work() == []


def test_a_batch_that_cannot_be_read_is_reported_failed_so_sqs_offers_it_again(watched: Callable[[bool], Watcher]):
    watcher = watched(True)
    watcher.run()

    def throttled(source: JobSource) -> JobSource:
        return ThrottledListing(source)

    message = watcher.sqs.receive_message(QueueUrl=watcher.work_queue_url, MaxNumberOfMessages=1)["Messages"][0]
    event = {"Records": [deployment.sqs_record(message, watcher.work_queue_arn)]}
    with composition.overriding(composition.Overrides(source=throttled)):
        answer = poll_worker_handler.lambda_handler(event, watcher.context("gtwatch-poll-worker"))
    assert answer == {"batchItemFailures": [{"itemIdentifier": message["MessageId"]}]}


def test_a_message_that_is_no_poll_work_fails_and_is_left_to_the_dead_letter_queue(
    watched: Callable[[bool], Watcher],
):
    watcher = watched(True)
    watcher.sqs.send_message(QueueUrl=watcher.work_queue_url, MessageBody='{"pairs": "all"}')
    message = watcher.sqs.receive_message(QueueUrl=watcher.work_queue_url, MaxNumberOfMessages=1)["Messages"][0]
    event = {"Records": [deployment.sqs_record(message, watcher.work_queue_arn)]}
    answer = poll_worker_handler.lambda_handler(event, watcher.context("gtwatch-poll-worker"))
    assert answer == {"batchItemFailures": [{"itemIdentifier": message["MessageId"]}]}
