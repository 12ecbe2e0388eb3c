"""Log lines are read round the running jobs: when a run may read only some jobs' logs (CloudWatch Logs is throttled
per account and region, so the adapter has a budget of reads per run), it reads on from where the last run stopped.
A job that keeps writing is then read before its stall falls due, whatever its place in the listing, and a job that
never writes cannot take every read."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from watcher import container
from watcher.domain.diff import WatchRules
from watcher.domain.job import JobKind, Scope
from watcher.domain.kinds import KindJob, TrainingFacts
from watcher.usecases.poll import poll_scope
from watcher.usecases.watch import Run, Watcher

from tests.fakes.jobs import InMemoryJobSource
from tests.fakes.mutes import InMemoryMutes
from tests.fakes.publisher import RecordingPublisher
from tests.fakes.store import InMemoryStateStore

REGION = "us-east-1"
START = datetime(2026, 4, 14, 8, 0, tzinfo=UTC)
RULES = WatchRules(stall_after_by_kind={JobKind.TRAINING: timedelta(minutes=30)})


@pytest.fixture(autouse=True)
def cold_container():
    container.reset()
    yield
    container.reset()


def training(name: str) -> KindJob:
    return KindJob(
        kind=JobKind.TRAINING,
        region=REGION,
        name=name,
        arn=f"arn:aws:sagemaker:{REGION}:123456789012:training-job/{name}",
        status="InProgress",
        creation_time=START,
        last_modified_time=START,
        facts=TrainingFacts(secondary_status="Training"),
        detailed=True,
    )


class Account:
    def __init__(self, *names: str, jobs_read_per_run: int | None) -> None:
        self.store = InMemoryStateStore()
        self.jobs = InMemoryJobSource(REGION, JobKind.TRAINING)
        self.jobs.log_budget = jobs_read_per_run
        self.publisher = RecordingPublisher()
        for name in names:
            self.jobs.put(training(name))

    def run(self, now: datetime) -> None:
        watcher = Watcher(self.store, self.publisher, RULES, Run.starting(now, seconds_left=60), InMemoryMutes())
        poll_scope(Scope(REGION, JobKind.TRAINING), source=self.jobs, watcher=watcher)

    def said(self) -> list[tuple[str, str]]:
        return [(n.job.name, n.event_type.value) for n, _ in self.publisher.published]


def test_jobs_that_keep_writing_never_stall_when_a_run_may_read_only_one_of_three():
    account = Account("a", "b", "c", jobs_read_per_run=1)
    for tick in range(0, 181, 5):  # Three hours of runs; every job writes a line before every run.
        now = START + timedelta(minutes=tick)
        for name in ("a", "b", "c"):
            account.jobs.log_lines[name] = now - timedelta(minutes=1)
        account.run(now)

    assert account.said() == []
    assert account.jobs.log_reads[:6] == ["a", "b", "c", "a", "b", "c"]


def test_a_job_seen_for_the_first_time_costs_no_log_read_and_reads_go_on_from_where_the_last_run_stopped():
    account = Account("a", "b", "c", jobs_read_per_run=2)
    account.run(START)  # First seen: no line can be progress since a clock that starts now.
    assert account.jobs.log_reads == []

    for minutes in (5, 10, 15):
        account.run(START + timedelta(minutes=minutes))

    assert account.jobs.log_reads == ["a", "b", "c", "a", "b", "c"]


def test_a_job_that_writes_nothing_stalls_and_takes_no_read_from_the_others():
    account = Account("busy-1", "busy-2", "quiet", jobs_read_per_run=1)
    for tick in range(0, 61, 5):
        now = START + timedelta(minutes=tick)
        for name in ("busy-1", "busy-2"):
            account.jobs.log_lines[name] = now - timedelta(minutes=1)
        account.run(now)

    assert account.said() == [("quiet", "stalled")]
