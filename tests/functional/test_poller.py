"""The poller handler on moto (in-process) with the labeling-job extension: what a user would see in SNS."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aws_lambda_powertools.utilities.typing import LambdaContext
from watcher import clock, composition
from watcher.adapters import aws
from watcher.adapters.mute import MuteStore
from watcher.adapters.publisher import publish
from watcher.adapters.sagemaker_jobs import LabelingJobSource
from watcher.adapters.state_store import StateStore
from watcher.domain.diff import WatchRules
from watcher.domain.env import Env
from watcher.domain.job import Scope
from watcher.domain.model import Notification
from watcher.domain.ports import JobSource, Publisher
from watcher.handlers import poller_handler
from watcher.settings import SettingsError
from watcher.usecases.poll import poll_scope
from watcher.usecases.watch import Run, Watcher

from gtwatch.sim.emulator import deployment, email, labeling_jobs
from gtwatch.sim.emulator.deployment import Resources
from tests.fakes.jobs import ThrottledListing
from tests.fakes.publisher import Outage

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
IN_PROGRESS = {"TotalLabeled": 0, "HumanLabeled": 0, "MachineLabeled": 0, "FailedNonRetryableError": 0, "Unlabeled": 10}
DONE = {"TotalLabeled": 10, "HumanLabeled": 10, "MachineLabeled": 0, "FailedNonRetryableError": 0, "Unlabeled": 0}


class Account:
    """The emulated account plus a hand on the simulated clock."""

    def __init__(self, resources: Resources, context: LambdaContext) -> None:
        self.resources = resources
        self.context = context
        self.now = T0
        clock.set_clock(lambda: self.now)
        labeling_jobs.set_clock(lambda: self.now)
        self.sqs = deployment.client("sqs")

    def at(self, minute: int) -> datetime:
        self.now = T0 + timedelta(minutes=minute)
        return self.now

    def create(self, name: str, status: str = "InProgress", region: str = "us-east-1", **kwargs: Any) -> None:
        labeling_jobs.put_labeling_job(
            region=region, name=name, status=status, counters=kwargs.pop("counters", IN_PROGRESS), at=self.now, **kwargs
        )

    def update(self, name: str, region: str = "us-east-1", **kwargs: Any) -> None:
        labeling_jobs.update_labeling_job(region=region, name=name, at=self.now, **kwargs)

    def run(self) -> dict[str, Any]:
        result: dict[str, Any] = poller_handler.lambda_handler({}, self.context)
        return result

    def slack_queue(self) -> list[dict[str, Any]]:
        messages = []
        while batch := self.sqs.receive_message(
            QueueUrl=self.resources.slack_queue_url, MaxNumberOfMessages=10, MessageAttributeNames=["All"]
        ).get("Messages"):
            for message in batch:
                messages.append(message)
                self.sqs.delete_message(QueueUrl=self.resources.slack_queue_url, ReceiptHandle=message["ReceiptHandle"])
        return messages

    def emails(self) -> list[email.EmailDelivery]:
        return email.take()


@pytest.fixture
def account(
    request: pytest.FixtureRequest, deploy: Callable[..., Resources], lambda_context: Callable[[str], LambdaContext]
) -> Account:
    resources = deploy(handler_env=getattr(request, "param", {}))
    return Account(resources, lambda_context("gtwatch-poller"))


def test_first_run_is_silent_then_a_completion_reaches_slack_queue_and_email(account):
    account.create("old-finished", status="Completed", counters=DONE)
    account.create("cats-v1")
    account.run()
    assert account.slack_queue() == [] and account.emails() == []

    account.at(7)
    account.update("cats-v1", status="Completed", counters=DONE, output_uri="s3://labels/cats-v1/output.manifest")
    account.at(10)
    account.run()

    [message] = account.slack_queue()
    document = json.loads(message["Body"])  # Raw delivery: the body is the notification itself.
    assert document["event_type"] == "completed"
    assert document["job"]["output_uri"] == "s3://labels/cats-v1/output.manifest"
    assert message["MessageAttributes"]["event_type"]["StringValue"] == "completed"
    assert message["MessageAttributes"]["job_name"]["StringValue"] == "cats-v1"
    assert message["MessageAttributes"]["status"]["StringValue"] == "Completed"
    [mail] = account.emails()
    assert mail.subject == "[gtwatch] Completed: cats-v1 (us-east-1)"
    assert "100.0% done (10 of 10 objects)" in mail.message
    assert "s3://labels/cats-v1/output.manifest" in mail.message
    assert "#/labeling-jobs/details/cats-v1" in mail.message

    account.at(15)
    account.run()
    assert account.slack_queue() == [] and account.emails() == []


def test_a_job_created_and_finished_between_two_runs_is_notified(account):
    account.run()
    account.at(2)
    account.create("quick-job")
    account.at(3)
    account.update("quick-job", status="Failed", failure_reason="ClientError: no objects")
    account.at(5)
    account.run()
    [mail] = account.emails()
    assert mail.subject == "[gtwatch] Failed: quick-job (us-east-1)"
    assert "ClientError: no objects" in mail.message


def test_a_job_that_finished_long_after_creation_is_found_by_describe(account):
    account.create("long-job")
    account.run()
    for minute in range(5, 300, 5):
        account.at(minute)
        account.run()
    account.update("long-job", status="Stopped")
    account.at(305)
    account.run()
    # No progress for five hours: a stall notice first, then the terminal notification.
    assert [m.subject for m in account.emails()] == [
        "[gtwatch] Stalled: long-job (us-east-1)",
        "[gtwatch] Stopped: long-job (us-east-1)",
    ]


@pytest.mark.parametrize("account", [{Env.REGIONS: "us-east-1,eu-west-1"}], indirect=True)
def test_state_is_kept_per_region_so_one_name_in_two_regions_is_two_jobs(account):
    account.create("shared-name", region="us-east-1")
    account.create("shared-name", region="eu-west-1")
    account.run()
    account.at(5)
    account.update("shared-name", region="eu-west-1", status="Completed", counters=DONE)
    account.at(10)
    account.run()
    [mail] = account.emails()
    assert mail.subject == "[gtwatch] Completed: shared-name (eu-west-1)"
    assert "region=eu-west-1" in mail.message
    account.update("shared-name", region="us-east-1", status="Failed")
    account.at(15)
    account.run()
    assert [m.subject for m in account.emails()] == ["[gtwatch] Failed: shared-name (us-east-1)"]


@pytest.mark.parametrize("account", [{Env.NAME_CONTAINS: "cats"}], indirect=True)
def test_only_jobs_matching_the_name_filter_are_watched(account):
    account.create("cats-v1")
    account.create("dogs-v1")
    account.run()
    account.at(5)
    account.update("cats-v1", status="Completed", counters=DONE)
    account.update("dogs-v1", status="Completed", counters=DONE)
    account.at(10)
    account.run()
    assert [m.attributes["job_name"] for m in account.emails()] == ["cats-v1"]


def test_a_steady_run_writes_only_what_changed(account):
    for index in range(30):
        account.create(f"done-{index:02d}", status="Completed", counters=DONE)
    account.create("busy")
    account.run()
    account.at(30)
    account.run()  # The creation window has moved past the finished jobs.
    account.at(35)
    account.update("busy", counters={**IN_PROGRESS, "TotalLabeled": 3, "HumanLabeled": 3, "Unlabeled": 7})
    [report] = account.run()["regions"]
    assert report["jobs_seen"] == 1
    assert report["states_written"] == 1


def test_a_publish_that_fails_stays_in_the_outbox_and_is_sent_by_the_next_run(account):
    account.create("cats-v1")
    account.run()
    account.at(5)
    account.update("cats-v1", status="Completed", counters=DONE)

    def sns_down(publisher: Publisher) -> Publisher:
        return Outage(publisher)

    with composition.overriding(composition.Overrides(publisher=sns_down)):
        account.at(10)
        account.run()
    assert account.emails() == []

    account.at(15)
    account.run()
    account.at(20)
    account.run()
    assert [m.subject for m in account.emails()] == ["[gtwatch] Completed: cats-v1 (us-east-1)"]
    assert len(account.slack_queue()) == 1


def test_overlapping_runs_notify_a_transition_once(account):
    """Run B happens entirely while run A is between reading and writing: A's conditional write loses."""
    account.create("cats-v1")
    account.run()
    account.at(5)
    account.update("cats-v1", status="Completed", counters=DONE)
    account.at(10)

    store = StateStore(aws.client("dynamodb"), account.resources.table_name)
    sns = aws.client("sns")
    rules = WatchRules()
    mutes = MuteStore(aws.client("dynamodb"), account.resources.table_name)

    def send(notification: Notification, channels: frozenset[str]) -> str:
        return publish(sns, account.resources.topic_arn, notification, channels)

    class InterleavedStore(StateStore):
        interleaved = False

        def save(self, state, *, expected_version, now):
            if not self.interleaved:
                self.interleaved = True
                poll_scope(
                    Scope("us-east-1"),
                    source=LabelingJobSource(aws.client("sagemaker", "us-east-1"), "us-east-1"),
                    watcher=Watcher(store, send, rules, Run.starting(account.now, seconds_left=60), mutes),
                )
            return super().save(state, expected_version=expected_version, now=now)

    slow = InterleavedStore(aws.client("dynamodb"), account.resources.table_name)
    report = poll_scope(
        Scope("us-east-1"),
        source=LabelingJobSource(aws.client("sagemaker", "us-east-1"), "us-east-1"),
        watcher=Watcher(slow, send, rules, Run.starting(account.now, seconds_left=60), mutes),
    )
    assert report.conflicts == 1 and report.published == []
    assert len(account.emails()) == 1
    assert len(account.slack_queue()) == 1


def test_a_remembered_job_that_disappeared_is_forgotten_quietly(account):
    account.create("ghost")
    account.run()
    labeling_jobs.labeling_job_backend().__dict__["gtwatch_labeling_jobs"].clear()
    account.at(5)
    [report] = account.run()["regions"]
    assert report["jobs_seen"] == 0
    assert account.emails() == []
    store = StateStore(aws.client("dynamodb"), account.resources.table_name)
    assert store.active_states(Scope("us-east-1")) == {}


@pytest.mark.parametrize("account", [{Env.STALL_AFTER_MINUTES: "soon"}], indirect=True)
def test_a_bad_setting_fails_the_cold_start_naming_the_variable(account):
    with pytest.raises(SettingsError, match=Env.STALL_AFTER_MINUTES):
        account.run()


def test_a_job_that_ends_while_the_first_runs_fail_is_still_announced(account):
    """Older than the creation window and no longer active when the baseline finally lists: still announced."""
    labeling_jobs.put_labeling_job(
        region="us-east-1", name="old-busy", status="InProgress", counters=IN_PROGRESS, at=T0 - timedelta(days=2)
    )
    account.create("old-done", status="Completed", counters=DONE)  # Over before the watch began: silent.
    labeling_jobs.update_labeling_job(region="us-east-1", name="old-done", at=T0 - timedelta(hours=1))

    def throttled(source: JobSource) -> JobSource:
        return ThrottledListing(source)

    with composition.overriding(composition.Overrides(source=throttled)), pytest.raises(RuntimeError):
        account.run()  # The first run records that the watch began, then fails to list.

    account.at(2)
    account.update("old-busy", status="Completed", counters=DONE)
    account.at(5)
    account.run()
    assert [m.subject for m in account.emails()] == ["[gtwatch] Completed: old-busy (us-east-1)"]
    account.at(10)
    account.run()
    assert account.emails() == []
