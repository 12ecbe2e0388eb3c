"""Quiet hours on the emulator: a held outbox does not keep the event path waiting."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from watcher import clock, composition
from watcher.domain.contract import STATE_CHANGE_DETAIL_TYPE, STATE_CHANGE_SOURCE
from watcher.domain.env import Env
from watcher.domain.ports import JobSource
from watcher.handlers import event_handler, poller_handler

from gtwatch.sim.emulator import deployment, email, labeling_jobs
from gtwatch.sim.emulator.deployment import Resources
from tests.fakes.jobs import CountingDescribes

T0 = datetime(2026, 1, 10, 22, 0, tzinfo=UTC)  # 22:00 in London: inside the window
ALL_NIGHT = {
    "start": "20:00",
    "end": "08:00",
    "timezone": "Europe/London",
    "hold": ["stalled"],
    "channels": ["slack", "email"],
}


def test_a_failure_announced_by_its_event_goes_out_at_once_after_the_jobs_held_stall(
    deploy: Callable[..., Resources], lambda_context
) -> None:
    now = {"at": T0}
    clock.set_clock(lambda: now["at"])
    labeling_jobs.set_clock(lambda: now["at"])
    deploy(handler_env={Env.QUIET_HOURS: json.dumps(ALL_NIGHT), Env.STALL_AFTER_MINUTES: "5"})
    labeling_jobs.put_labeling_job(
        region="us-east-1", name="cats-v1", status="InProgress", counters={"Unlabeled": 10}, at=T0
    )
    poller_handler.lambda_handler({}, lambda_context("gtwatch-poller"))
    now["at"] = T0 + timedelta(minutes=6)
    poller_handler.lambda_handler({}, lambda_context("gtwatch-poller"))  # stalled: held on both channels
    poller_handler.metrics.clear_metrics()
    assert email.take() == []

    # Half a minute later, within that run's lease: the job fails and SageMaker says so.
    now["at"] = T0 + timedelta(minutes=6, seconds=30)
    labeling_jobs.update_labeling_job(
        region="us-east-1", name="cats-v1", at=now["at"], status="Failed", failure_reason="ClientError: gone"
    )
    arn = labeling_jobs.describe_labeling_job(labeling_jobs.labeling_job_backend(), "cats-v1")["LabelingJobArn"]
    event = {
        "source": STATE_CHANGE_SOURCE,
        "detail-type": STATE_CHANGE_DETAIL_TYPE,
        "resources": [arn],
        "region": deployment.REGION,
        "detail": {"LabelingJobStatus": "Failed"},
    }
    event_handler.lambda_handler(event, lambda_context("gtwatch-events"))

    assert [mail.subject for mail in email.take()] == [
        "[gtwatch] Stalled: cats-v1 (us-east-1)",
        "[gtwatch] Failed: cats-v1 (us-east-1)",
    ]


def test_news_released_at_the_windows_end_tells_slack_since_when_it_is_owed(
    deploy: Callable[..., Resources], lambda_context
) -> None:
    # The notifier measures its delivery lag from when Slack owes a message: for news held overnight, 08:00.
    import boto3

    now = {"at": T0}
    clock.set_clock(lambda: now["at"])
    labeling_jobs.set_clock(lambda: now["at"])
    resources = deploy(handler_env={Env.QUIET_HOURS: json.dumps(ALL_NIGHT), Env.STALL_AFTER_MINUTES: "5"})
    labeling_jobs.put_labeling_job(
        region="us-east-1", name="cats-v1", status="InProgress", counters={"Unlabeled": 10}, at=T0
    )
    for at in (T0, T0 + timedelta(minutes=6), datetime(2026, 1, 11, 8, 0, tzinfo=UTC)):
        now["at"] = at
        poller_handler.lambda_handler({}, lambda_context("gtwatch-poller"))
        poller_handler.metrics.clear_metrics()

    sqs = boto3.client("sqs", region_name=deployment.REGION)
    messages = sqs.receive_message(QueueUrl=resources.slack_queue_url, MaxNumberOfMessages=10)["Messages"]
    documents = [json.loads(message["Body"]) for message in messages]  # raw delivery: the notification itself
    assert [(d["event_type"], d.get("held_until")) for d in documents] == [("stalled", "2026-01-11T08:00:00.000Z")]


def test_a_finished_job_whose_news_is_held_all_night_is_not_described_at_every_run(
    deploy: Callable[..., Resources], lambda_context
) -> None:
    now = {"at": T0}
    clock.set_clock(lambda: now["at"])
    labeling_jobs.set_clock(lambda: now["at"])
    night = {**ALL_NIGHT, "hold": ["stalled", "completed"]}
    deploy(handler_env={"GTWATCH_QUIET_HOURS": json.dumps(night)})
    labeling_jobs.put_labeling_job(
        region="us-east-1", name="cats-v1", status="InProgress", counters={"Unlabeled": 10}, at=T0 - timedelta(days=1)
    )
    poller_handler.lambda_handler({}, lambda_context("gtwatch-poller"))
    now["at"] = T0 + timedelta(minutes=3)
    labeling_jobs.update_labeling_job(
        region="us-east-1", name="cats-v1", at=now["at"], status="Completed", counters={"TotalLabeled": 10}
    )
    now["at"] = T0 + timedelta(minutes=5)
    poller_handler.lambda_handler({}, lambda_context("gtwatch-poller"))  # Described once as it ends: held.

    describes: list[str] = []

    def counting(source: JobSource) -> JobSource:
        return CountingDescribes(source, describes)

    with composition.overriding(composition.Overrides(source=counting)):
        for minutes in range(30, 600, 30):  # Through the night, until 08:00 London.
            now["at"] = T0 + timedelta(minutes=minutes)
            poller_handler.lambda_handler({}, lambda_context("gtwatch-poller"))
    poller_handler.metrics.clear_metrics()
    assert email.take() == []
    assert describes == []

    now["at"] = datetime(2026, 1, 11, 8, 0, tzinfo=UTC)
    poller_handler.lambda_handler({}, lambda_context("gtwatch-poller"))
    poller_handler.metrics.clear_metrics()
    assert [mail.subject for mail in email.take()] == ["[gtwatch] Completed: cats-v1 (us-east-1)"]
