"""The delivery rules on in-memory fakes behind the ports: each transition reaches each channel once, whatever fails
or overlaps; quiet hours hold and release per destination; mutes apply when decided and when released. The broken
safeguards (a write that ignores the version read, a lease that is ignored) are fake variants the checks catch."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from watcher import container
from watcher.domain.diff import WatchRules
from watcher.domain.job import JobKind, Scope
from watcher.domain.kinds import KindJob, TrainingFacts
from watcher.domain.model import JobStatus, LabelCounters, LabelingJob
from watcher.domain.mute_rules import Mute
from watcher.domain.ports import JobStateStore
from watcher.domain.quiet import parse_quiet_hours
from watcher.usecases.poll import poll_scope
from watcher.usecases.watch import Run, RunReport, Watcher

from tests.fakes.jobs import InMemoryJobSource
from tests.fakes.mutes import InMemoryMutes
from tests.fakes.publisher import RecordingPublisher
from tests.fakes.store import BeforeSave, InMemoryStateStore, LeaseIgnored, UnconditionalWrite

REGION = "us-east-1"
# 22:00 in Berlin (winter, UTC+1): inside quiet hours 21:00-07:00.
EVENING = datetime(2026, 1, 5, 21, 0, tzinfo=UTC)
NIGHT = parse_quiet_hours(
    {"start": "21:00", "end": "07:00", "timezone": "Europe/Berlin", "hold": ["stalled", "resumed"]}
)
WINDOW_END = datetime(2026, 1, 6, 6, 0, tzinfo=UTC)
RULES = WatchRules(stall_after=timedelta(minutes=30))


@pytest.fixture(autouse=True)
def cold_container():
    container.reset()
    yield
    container.reset()


def job(name: str, status: str, done: int, at: datetime) -> LabelingJob:
    return LabelingJob(
        region=REGION,
        name=name,
        arn=f"arn:aws:sagemaker:{REGION}:123456789012:labeling-job/{name}",
        status=JobStatus(status),
        counters=LabelCounters(total_labeled=done, human_labeled=done, unlabeled=10 - done),
        creation_time=EVENING - timedelta(hours=1),
        last_modified_time=at,
    )


class World:
    """The ports' fakes, and one scheduled run at a time over them."""

    def __init__(
        self, *, quiet: bool = False, email_events: frozenset[str] | None = None, kind: JobKind = JobKind.LABELING
    ) -> None:
        self.store = InMemoryStateStore()
        self.jobs = InMemoryJobSource(REGION, kind)
        self.publisher = RecordingPublisher()
        self.mutes = InMemoryMutes()
        self.quiet = NIGHT if quiet else None
        self.email_events = email_events

    def watcher(self, now: datetime, store: JobStateStore | None = None) -> Watcher:
        extra = {} if self.email_events is None else {"email_events": self.email_events}
        return Watcher(
            store=store or self.store,
            publish=self.publisher,
            rules=RULES,
            run=Run.starting(now, seconds_left=60),
            mutes=self.mutes,
            quiet=self.quiet,
            **extra,
        )

    def run(self, now: datetime, store: JobStateStore | None = None) -> RunReport:
        return poll_scope(self.jobs.scope, source=self.jobs, watcher=self.watcher(now, store))

    def deliveries(self) -> Counter[tuple[str, str]]:
        """(event type, channel) -> how many times it was published there, mute marks included."""
        return Counter(
            (notification.event_type.value + (" (muted)" if notification.muted else ""), channel)
            for notification, channels in self.publisher.published
            for channel in channels
        )


def training(status: str, at: datetime) -> KindJob:
    """The training job `resnet-7` as a describe reports it (its log lines are the source's: `log_lines`)."""
    return KindJob(
        kind=JobKind.TRAINING,
        region=REGION,
        name="resnet-7",
        arn=f"arn:aws:sagemaker:{REGION}:123456789012:training-job/resnet-7",
        status=status,
        creation_time=EVENING - timedelta(hours=1),
        last_modified_time=at,
        facts=TrainingFacts(secondary_status="Training"),
        failure_reason="AlgorithmError: loss is NaN" if status == "Failed" else None,
        detailed=True,
    )


def started(world: World) -> None:
    """A job in progress at the baseline run, evening: nothing to say yet."""
    world.jobs.put(job("cats", "InProgress", 2, EVENING - timedelta(minutes=30)))
    world.run(EVENING)
    assert world.publisher.published == []


def test_a_transition_reaches_each_channel_once_through_publish_failures():
    world = World()
    started(world)
    world.jobs.put(job("cats", "Completed", 10, EVENING + timedelta(minutes=3)))
    world.publisher.failures = 2
    for minute in (5, 10, 15, 20, 25):
        world.run(EVENING + timedelta(minutes=minute))
    assert world.deliveries() == {("completed", "email"): 1, ("completed", "slack"): 1}
    assert world.store.active_states(Scope(REGION)) == {}


def overlapping_completion(variant: type[UnconditionalWrite] | None) -> World:
    """A second run starts and finishes while the first is about to store the job's completion."""
    world = World()
    started(world)
    world.jobs.put(job("cats", "Completed", 10, EVENING + timedelta(minutes=3)))
    now = EVENING + timedelta(minutes=5)
    store: JobStateStore = world.store if variant is None else variant(world.store)

    def second_run() -> None:
        world.run(now, store)

    report = world.run(now, BeforeSave(store, second_run))
    assert report.published == [] or variant is not None
    return world


def test_overlapping_runs_announce_a_transition_once_per_channel():
    world = overlapping_completion(None)
    assert world.deliveries() == {("completed", "email"): 1, ("completed", "slack"): 1}


def test_a_write_that_ignores_the_version_read_is_caught():
    world = overlapping_completion(UnconditionalWrite)
    assert world.deliveries()[("completed", "email")] == 2  # What the check above would reject.


def leased_outbox(ignore_lease: bool) -> World:
    """Run A leased the job's outbox (its completion) and is still publishing when run B comes."""
    world = World()
    started(world)
    world.jobs.put(job("cats", "Completed", 10, EVENING + timedelta(minutes=3)))
    now = EVENING + timedelta(minutes=5)

    def run_b_while_a_publishes(notification: object) -> None:
        leased = world.store.get_state(Scope(REGION), "cats")
        assert leased is not None and leased.lease_owner is not None  # A holds the lease
        world.run(now + timedelta(seconds=30), LeaseIgnored(world.store) if ignore_lease else None)

    world.publisher.before = run_b_while_a_publishes
    world.run(now)
    return world


def test_a_run_leaves_an_outbox_leased_to_another_run_alone():
    world = leased_outbox(ignore_lease=False)
    assert world.deliveries() == {("completed", "email"): 1, ("completed", "slack"): 1}


def test_an_ignored_lease_is_caught():
    world = leased_outbox(ignore_lease=True)
    assert world.deliveries()[("completed", "slack")] == 2


def test_a_held_stall_waits_for_the_window_end_and_goes_once():
    world = World(quiet=True)
    started(world)
    for minute in range(5, 601, 5):  # Nothing moves all night: the stall is held until 07:00 Berlin.
        world.run(EVENING + timedelta(minutes=minute))
        if EVENING + timedelta(minutes=minute) < WINDOW_END:
            assert world.publisher.published == []
    assert world.deliveries() == {("stalled", "email"): 1, ("stalled", "slack"): 1}
    [(stall, _)] = world.publisher.published
    assert stall.held_until == WINDOW_END


def stalled_then_completed(world: World) -> None:
    started(world)
    world.run(EVENING + timedelta(minutes=35))  # Stalled: held for the night.
    world.jobs.put(job("cats", "Completed", 10, EVENING + timedelta(minutes=38)))
    world.run(EVENING + timedelta(minutes=40))  # Completed is not held: it releases the stall before it.


def test_news_that_is_not_held_releases_the_held_news_before_it_on_each_channel():
    world = World(quiet=True)
    stalled_then_completed(world)
    assert [(n.event_type.value, sorted(c)) for n, c in world.publisher.published] == [
        ("stalled", ["email", "slack"]),
        ("completed", ["email", "slack"]),
    ]
    early = world.publisher.published[0][0]
    assert early.held_until == WINDOW_END and early.released_by == frozenset({"completed"})
    # Slack still owes the stall to the channels the completion does not reach: sent again at the window's end.
    world.run(WINDOW_END)
    assert world.deliveries()[("stalled", "slack")] == 2
    assert world.deliveries()[("stalled", "email")] == 1


def test_a_releaser_the_email_subscriptions_do_not_take_releases_nothing_by_email():
    world = World(quiet=True, email_events=frozenset({"stalled", "resumed", "failed"}))
    stalled_then_completed(world)
    assert ("stalled", "email") not in world.deliveries()  # The completion is Slack's only: email keeps the hold.
    assert world.deliveries()[("stalled", "slack")] == 1
    world.run(WINDOW_END)
    assert world.deliveries()[("stalled", "email")] == 1


def test_a_muted_transition_is_never_said():
    world = World()
    started(world)
    world.mutes.put(Mute(REGION, "cats", until=EVENING + timedelta(hours=2), events=frozenset({"completed"})))
    world.jobs.put(job("cats", "Completed", 10, EVENING + timedelta(minutes=3)))
    world.run(EVENING + timedelta(minutes=5))
    world.run(EVENING + timedelta(minutes=10))
    assert world.publisher.published == []


def test_news_muted_while_held_is_dropped_by_email_and_passed_over_in_slack():
    world = World(quiet=True)
    started(world)
    world.run(EVENING + timedelta(minutes=35))  # Stalled: held.
    world.mutes.put(Mute(REGION, "cats", until=WINDOW_END + timedelta(hours=1), events=frozenset({"stalled"})))
    world.run(WINDOW_END)
    assert world.deliveries() == {("stalled (muted)", "slack"): 1}


def test_a_finished_job_whose_news_is_held_is_not_described_again_all_night():
    world = World(quiet=True)
    started(world)
    world.run(EVENING + timedelta(minutes=35))  # Stalled: held for the night.
    world.jobs.put(job("cats", "Stopped", 2, EVENING + timedelta(minutes=38)))
    world.quiet = parse_quiet_hours(
        {"start": "21:00", "end": "07:00", "timezone": "Europe/Berlin", "hold": ["stalled", "stopped"]}
    )
    world.run(EVENING + timedelta(minutes=40))  # Listed as it ends (created recently): no describe needed.
    world.jobs.describes.clear()
    runs = 0
    for minute in range(45, 601, 5):  # Every 5 minutes until the window ends, as the schedule runs.
        world.run(EVENING + timedelta(minutes=minute))
        runs += 1
    assert runs > 100 and world.jobs.describes == []
    assert world.deliveries() == {
        ("stalled", "email"): 1,
        ("stalled", "slack"): 1,
        ("stopped", "email"): 1,
        ("stopped", "slack"): 1,
    }


def test_a_training_job_failure_reaches_each_channel_once_through_an_overlapping_run_and_publish_failures():
    world = World(kind=JobKind.TRAINING)
    world.jobs.put(training("InProgress", EVENING - timedelta(minutes=30)))
    world.run(EVENING)
    world.jobs.put(training("Failed", EVENING + timedelta(minutes=3)))
    world.publisher.failures = 2
    now = EVENING + timedelta(minutes=5)

    def second_run() -> None:  # It stores the failure first.
        world.run(now)

    world.run(now, BeforeSave(world.store, second_run))
    for minute in (10, 15, 20):
        world.run(EVENING + timedelta(minutes=minute))
    assert world.deliveries() == {("failed", "email"): 1, ("failed", "slack"): 1}
    [(failure, _)] = world.publisher.published
    assert failure.id == f"{REGION}:training:resnet-7:failed:final" and failure.job.kind is JobKind.TRAINING
    assert world.store.active_states(Scope(REGION, JobKind.TRAINING)) == {}


def test_a_training_job_stalls_and_resumes_by_its_log_once_per_channel_through_publish_failures():
    world = World(kind=JobKind.TRAINING)
    world.jobs.put(training("InProgress", EVENING - timedelta(minutes=30)))
    world.jobs.log_lines["resnet-7"] = EVENING - timedelta(minutes=2)
    for minute in range(0, 31, 5):  # No new log line for 30 minutes: stalled.
        world.run(EVENING + timedelta(minutes=minute))
    world.jobs.log_lines["resnet-7"] = EVENING + timedelta(minutes=33)
    world.publisher.failures = 1
    for minute in (35, 40, 45):  # The line of minute 33 resumes it; its first publish fails.
        world.run(EVENING + timedelta(minutes=minute))
    assert world.deliveries() == {
        ("stalled", "email"): 1,
        ("stalled", "slack"): 1,
        ("resumed", "email"): 1,
        ("resumed", "slack"): 1,
    }
    assert [n.event_type.value for n, _ in world.publisher.published] == ["stalled", "resumed"]
