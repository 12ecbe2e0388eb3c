"""The pure diff: every status transition, the silent baseline, the name filter, stalls, progress."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from itertools import product

import pytest
from watcher.domain.diff import HISTORY_LIMIT, WatchRules, decide, is_watched, progress
from watcher.domain.model import EventType, JobState, JobStatus, LabelCounters, LabelingJob

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
RULES = WatchRules(stall_after=timedelta(minutes=60))


def minutes(n: float) -> datetime:
    return T0 + timedelta(minutes=n)


def counters(labeled: int = 0, unlabeled: int = 100, failed: int = 0, machine: int = 0) -> LabelCounters:
    return LabelCounters(
        total_labeled=labeled,
        human_labeled=labeled - machine,
        machine_labeled=machine,
        failed_non_retryable_error=failed,
        unlabeled=unlabeled,
    )


def job(status: JobStatus = JobStatus.IN_PROGRESS, name: str = "cats-v1", **changes: object) -> LabelingJob:
    base = LabelingJob(
        region="us-east-1",
        name=name,
        arn=f"arn:aws:sagemaker:us-east-1:123456789012:labeling-job/{name}",
        status=status,
        counters=counters(),
        creation_time=T0,
        last_modified_time=T0,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


class Watcher:
    """Feeds observations through decide() the way successive runs do, keeping the state between them."""

    def __init__(self, rules: WatchRules = RULES) -> None:
        self.rules = rules
        self.state: JobState | None = None
        self.first = True

    def see(self, observed: LabelingJob, at: float) -> list[EventType]:
        decision = decide(self.state, observed, minutes(at), self.rules, baseline=self.first)
        self.first = False
        self.state = decision.state
        return [n.event_type for n in decision.notifications]


TERMINAL = {
    JobStatus.COMPLETED: EventType.COMPLETED,
    JobStatus.FAILED: EventType.FAILED,
    JobStatus.STOPPED: EventType.STOPPED,
}


@pytest.mark.parametrize(("before", "after"), list(product(JobStatus, JobStatus)))
def test_every_status_transition_notifies_exactly_when_a_job_reaches_a_terminal_status(before, after):
    watcher = Watcher()
    watcher.see(job(before), at=0)
    events = watcher.see(job(after), at=5)
    if before in TERMINAL:
        assert events == []  # Terminal statuses are final; nothing more is said.
    elif after in TERMINAL:
        assert events == [TERMINAL[after]]
    else:
        assert events == []


@pytest.mark.parametrize("status", list(JobStatus))
def test_the_first_run_is_a_silent_baseline(status):
    decision = decide(None, job(status), T0, RULES, baseline=True)
    assert decision.notifications == ()
    assert decision.state is not None and decision.state.status is status
    assert decision.changed


@pytest.mark.parametrize("status", list(TERMINAL))
def test_a_job_created_and_finished_between_two_runs_is_notified(status):
    decision = decide(None, job(status), minutes(5), RULES, baseline=False)
    assert [n.event_type for n in decision.notifications] == [TERMINAL[status]]


def test_a_new_active_job_is_remembered_silently():
    decision = decide(None, job(JobStatus.IN_PROGRESS), minutes(5), RULES)
    assert decision.notifications == () and decision.changed


def test_a_terminal_notification_is_sent_once():
    watcher = Watcher()
    watcher.see(job(), at=0)
    assert watcher.see(job(JobStatus.COMPLETED), at=5) == [EventType.COMPLETED]
    assert watcher.see(job(JobStatus.COMPLETED), at=10) == []
    assert watcher.see(job(JobStatus.COMPLETED), at=15) == []


def test_nothing_changed_means_nothing_to_write():
    watcher = Watcher()
    watcher.see(job(), at=0)
    decision = decide(watcher.state, job(), minutes(5), RULES)
    assert not decision.changed and decision.notifications == ()


def test_counter_progress_is_remembered_without_notifying():
    watcher = Watcher()
    watcher.see(job(), at=0)
    decision = decide(watcher.state, job(counters=counters(labeled=10, unlabeled=90)), minutes(5), RULES)
    assert decision.changed and decision.notifications == ()


def test_notification_ids_are_stable_for_the_same_transition():
    state = decide(None, job(), T0, RULES, baseline=True).state
    first = decide(state, job(JobStatus.FAILED), minutes(5), RULES).notifications[0]
    again = decide(state, job(JobStatus.FAILED), minutes(6), RULES).notifications[0]
    assert first.id == again.id == "us-east-1:cats-v1:failed:final"


def test_a_failed_notification_carries_the_reason_output_and_console_link():
    state = decide(None, job(), T0, RULES, baseline=True).state
    failed = job(JobStatus.FAILED, failure_reason="ClientError: bad manifest", output_uri="s3://out/x.manifest")
    notification = decide(state, failed, minutes(5), RULES).notifications[0]
    assert notification.job.failure_reason == "ClientError: bad manifest"
    assert isinstance(notification.job, LabelingJob) and notification.job.output_uri == "s3://out/x.manifest"
    assert notification.job.console_url.endswith("#/labeling-jobs/details/cats-v1")


@pytest.mark.parametrize(
    ("name", "filter_text", "watched"),
    [
        ("cats-v1", None, True),
        ("cats-v1", "cats", True),
        ("cats-v1", "CATS", True),  # NameContains matches regardless of case.
        ("dogs-v1", "cats", False),
        ("my-cats", "cats", True),
    ],
)
def test_the_name_filter(name, filter_text, watched):
    assert is_watched(name, filter_text) is watched
    rules = replace(RULES, name_contains=filter_text)
    state = decide(None, job(name=name), T0, rules, baseline=True).state
    if not watched:
        assert state is None
        return
    decision = decide(state, job(JobStatus.COMPLETED, name=name), minutes(5), rules)
    assert [n.event_type for n in decision.notifications] == [EventType.COMPLETED]


def test_a_job_outside_a_changed_filter_is_forgotten_without_notifying():
    state = decide(None, job(name="dogs-v1"), T0, RULES, baseline=True).state
    decision = decide(state, job(JobStatus.COMPLETED, name="dogs-v1"), minutes(5), replace(RULES, name_contains="cats"))
    assert decision.state is None and decision.changed and decision.notifications == ()


# Stalls -------------------------------------------------------------------------------------------------


def test_a_job_stalls_exactly_at_the_threshold_and_not_a_tick_before():
    watcher = Watcher()
    watcher.see(job(), at=0)
    assert watcher.see(job(), at=59) == []
    assert watcher.see(job(), at=60) == [EventType.STALLED]


@pytest.mark.parametrize("tick", [7, 11, 25, 45])
def test_ticks_that_do_not_divide_the_threshold_stall_at_the_first_tick_past_it(tick):
    watcher = Watcher()
    events_at = {}
    for at in range(0, 200, tick):
        events_at[at] = watcher.see(job(), at=at)
    stalled_at = [at for at, events in events_at.items() if events == [EventType.STALLED]]
    assert stalled_at == [next(at for at in events_at if at >= 60)]


def test_a_stall_is_announced_once_per_episode_and_resumes_once():
    watcher = Watcher()
    events = [watcher.see(job(), at=at) for at in range(0, 130, 5)]
    assert sum(e == [EventType.STALLED] for e in events) == 1
    assert watcher.see(job(counters=counters(labeled=5, unlabeled=95)), at=130) == [EventType.RESUMED]
    assert watcher.see(job(counters=counters(labeled=9, unlabeled=91)), at=135) == []


def test_several_stall_episodes_of_one_job():
    watcher = Watcher()
    log = []
    labeled = 0
    for at in range(0, 400, 5):
        if at in (100, 250):
            labeled += 10
        log.append((at, watcher.see(job(counters=counters(labeled=labeled, unlabeled=100 - labeled)), at=at)))
    assert [(at, e) for at, e in log if e] == [
        (60, [EventType.STALLED]),
        (100, [EventType.RESUMED]),
        (160, [EventType.STALLED]),
        (250, [EventType.RESUMED]),
        (310, [EventType.STALLED]),
    ]


def test_a_job_first_seen_mid_stall_is_measured_from_the_first_run_that_saw_it():
    watcher = Watcher()
    watcher.first = False
    stale = job(last_modified_time=minutes(-600))  # No change for ten hours before the watcher looked.
    assert watcher.see(stale, at=0) == []
    assert watcher.see(stale, at=55) == []
    assert watcher.see(stale, at=60) == [EventType.STALLED]


def test_a_streaming_job_waiting_for_data_never_stalls():
    watcher = Watcher()
    waiting = job(counters=counters(labeled=50, unlabeled=0), input_sns_topic_arn="arn:aws:sns:us-east-1:1:in")
    assert all(watcher.see(waiting, at=at) == [] for at in range(0, 600, 5))


def test_a_streaming_job_with_work_waiting_stalls_from_when_the_work_arrived():
    watcher = Watcher()
    watcher.see(job(counters=counters(labeled=50, unlabeled=0)), at=0)
    watcher.see(job(counters=counters(labeled=50, unlabeled=20)), at=300)
    assert watcher.see(job(counters=counters(labeled=50, unlabeled=20)), at=355) == []
    assert watcher.see(job(counters=counters(labeled=50, unlabeled=20)), at=360) == [EventType.STALLED]


def test_a_job_stuck_initializing_stalls():
    watcher = Watcher()
    watcher.see(job(JobStatus.INITIALIZING, counters=counters(unlabeled=0)), at=0)
    assert watcher.see(job(JobStatus.INITIALIZING, counters=counters(unlabeled=0)), at=60) == [EventType.STALLED]
    assert watcher.see(job(JobStatus.IN_PROGRESS), at=65) == [EventType.RESUMED]


def test_a_job_stuck_stopping_stalls_even_if_counters_trickle():
    watcher = Watcher()
    watcher.see(job(), at=0)
    watcher.see(job(JobStatus.STOPPING), at=5)
    assert watcher.see(job(JobStatus.STOPPING, counters=counters(labeled=3, unlabeled=97)), at=30) == []
    assert watcher.see(job(JobStatus.STOPPING, counters=counters(labeled=3, unlabeled=97)), at=65) == [
        EventType.STALLED
    ]
    assert watcher.see(job(JobStatus.STOPPED), at=70) == [EventType.STOPPED]


def test_being_stopped_while_stalled_is_not_progress():
    watcher = Watcher()
    for at in range(0, 65, 5):
        watcher.see(job(), at=at)
    assert watcher.see(job(JobStatus.STOPPING), at=65) == []
    assert watcher.see(job(JobStatus.STOPPED), at=70) == [EventType.STOPPED]


@pytest.mark.parametrize("status", list(TERMINAL))
def test_a_stalled_job_that_ends_gets_only_its_terminal_notification(status):
    watcher = Watcher()
    for at in range(0, 65, 5):
        watcher.see(job(), at=at)
    assert watcher.see(job(status, counters=counters(labeled=100, unlabeled=0)), at=70) == [TERMINAL[status]]


def test_stall_repeat_resends_while_still_stalled():
    watcher = Watcher(replace(RULES, stall_repeat=timedelta(minutes=30)))
    stalled = [at for at in range(0, 200, 5) if watcher.see(job(), at=at) == [EventType.STALLED]]
    assert stalled == [60, 90, 120, 150, 180]


def test_stall_notification_ids_differ_per_episode_and_repeat():
    watcher = Watcher(replace(RULES, stall_repeat=timedelta(minutes=30)))
    ids = []
    for at in range(0, 100, 5):
        decision = decide(watcher.state, job(), minutes(at), watcher.rules, baseline=at == 0)
        watcher.state = decision.state
        ids += [n.id for n in decision.notifications]
    assert len(ids) == len(set(ids)) == 2


# Progress -----------------------------------------------------------------------------------------------


def test_progress_counts_labeled_and_failed_over_the_total():
    watcher = Watcher()
    watcher.see(job(), at=0)
    done = job(JobStatus.COMPLETED, counters=counters(labeled=90, unlabeled=0, failed=10, machine=30))
    notification = decide(watcher.state, done, minutes(5), RULES).notifications[0]
    assert notification.progress.percent == 100.0
    assert (notification.progress.human_labeled, notification.progress.machine_labeled) == (60, 30)
    assert notification.progress.failed == 10 and notification.progress.eta is None


def test_rate_and_eta_come_from_the_recent_window():
    watcher = Watcher()
    for at, labeled in [(0, 0), (30, 100), (60, 200), (90, 300)]:
        watcher.see(job(counters=counters(labeled=labeled, unlabeled=1000 - labeled)), at=at)
    # Stopping is not an end: nothing is said yet, and the job's rate is still the one measured while it ran.
    decision = decide(watcher.state, job(JobStatus.STOPPING, counters=counters(300, 700)), minutes(90), RULES)
    assert decision.notifications == ()
    assert decision.state is not None and decision.state.status is JobStatus.STOPPING

    now = minutes(90)
    measured = progress(decision.state, decision.state.counters, now, RULES)
    assert measured.rate_per_hour == pytest.approx(200.0)
    assert measured.eta == now + timedelta(hours=700 / 200)


def test_a_stalled_notice_says_how_long_since_progress():
    watcher = Watcher()
    watcher.see(job(counters=counters(labeled=10, unlabeled=90)), at=0)
    for at in range(5, 60, 5):
        watcher.see(job(counters=counters(labeled=10, unlabeled=90)), at=at)
    notification = decide(watcher.state, job(counters=counters(labeled=10, unlabeled=90)), minutes(60), RULES)
    assert notification.notifications[0].progress.minutes_since_progress == 60
    assert notification.notifications[0].progress.rate_per_hour == 0.0


def test_history_stays_bounded():
    watcher = Watcher()
    for step in range(500):
        watcher.see(job(counters=counters(labeled=step, unlabeled=1000 - step)), at=step)
    assert watcher.state is not None and len(watcher.state.history) <= HISTORY_LIMIT


def test_a_stalled_notice_shows_no_rate_or_eta_even_with_progress_from_before_the_stall_in_the_window():
    # Given a job that labeled 40 objects in its first 15 minutes, then stopped moving; stalls are announced after
    # 30 minutes, shorter than the 60-minute rate window, which still holds the early progress.
    rules = WatchRules(stall_after=timedelta(minutes=30), rate_window=timedelta(minutes=60))
    watcher = Watcher(rules)
    watcher.see(job(counters=counters(labeled=0, unlabeled=100)), at=0)
    for at in range(5, 35, 5):
        watcher.see(job(counters=counters(labeled=40, unlabeled=60)), at=at)
    # When the stall is announced
    decision = decide(watcher.state, job(counters=counters(labeled=40, unlabeled=60)), minutes(35), rules)
    # Then it says how long the job has not moved, with a rate of 0 and no ETA
    [stalled] = decision.notifications
    assert stalled.event_type is EventType.STALLED
    assert stalled.progress.minutes_since_progress == 30
    assert stalled.progress.rate_per_hour == 0.0
    assert stalled.progress.eta is None


def test_a_repeated_stall_notice_shows_no_rate_or_eta_either():
    from watcher.domain.model import Notification

    rules = WatchRules(stall_after=timedelta(minutes=30), stall_repeat=timedelta(minutes=20))
    watcher = Watcher(rules)
    watcher.see(job(counters=counters(labeled=0, unlabeled=100)), at=0)
    notices: list[Notification] = []
    for at in range(5, 80, 5):
        decision = decide(watcher.state, job(counters=counters(labeled=40, unlabeled=60)), minutes(at), rules)
        watcher.state = decision.state
        notices += decision.notifications
    assert [n.progress.minutes_since_progress for n in notices] == [30, 50, 70]
    assert all(n.progress.rate_per_hour == 0.0 and n.progress.eta is None for n in notices)


def test_a_job_moving_again_after_a_stall_gets_its_rate_back():
    rules = WatchRules(stall_after=timedelta(minutes=30), rate_window=timedelta(minutes=60))
    watcher = Watcher(rules)
    watcher.see(job(counters=counters(labeled=0, unlabeled=100)), at=0)
    for at in range(5, 50, 5):
        watcher.see(job(counters=counters(labeled=40, unlabeled=60)), at=at)
    decision = decide(watcher.state, job(counters=counters(labeled=50, unlabeled=50)), minutes(50), rules)
    [resumed] = decision.notifications
    assert resumed.event_type is EventType.RESUMED
    assert resumed.progress.rate_per_hour == pytest.approx(60.0)  # 50 objects in 50 minutes
    assert resumed.progress.eta == minutes(100)


@pytest.mark.parametrize(
    ("done", "total", "percent"),
    [(0, 10, 0.0), (1, 3, 33.3), (2, 3, 66.6), (19_999, 20_000, 99.9), (999_999, 1_000_000, 99.9), (10, 10, 100.0)],
)
def test_percent_is_floored_to_one_decimal_and_reaches_100_only_when_nothing_remains(done, total, percent):
    from watcher.domain.model import Progress

    measured = Progress(done=done, total=total, human_labeled=done, machine_labeled=0, failed=0)
    assert measured.percent == percent
    assert measured.to_document()["percent"] == percent
    assert Progress.from_document(measured.to_document()).percent == percent


def test_a_muted_type_is_decided_but_not_said_and_takes_no_number_in_the_job_stream() -> None:
    rules = WatchRules(stall_after=timedelta(minutes=30))
    start = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)
    job = LabelingJob(
        region="us-east-1",
        name="noisy",
        arn="arn:aws:sagemaker:us-east-1:123456789012:labeling-job/noisy",
        status=JobStatus.IN_PROGRESS,
        counters=LabelCounters(unlabeled=10),
        creation_time=start,
        last_modified_time=start,
    )
    first = decide(None, job, start, rules)
    stalled = decide(first.state, job, start + timedelta(minutes=30), rules, muted=frozenset({"stalled"}))
    assert stalled.notifications == ()
    assert stalled.state is not None and stalled.state.stall_notified_at is not None  # the stall is known
    failed = replace(job, status=JobStatus.FAILED, failure_reason="ClientError")
    ended = decide(stalled.state, failed, start + timedelta(minutes=40), rules, muted=frozenset({"stalled"}))
    assert [(n.event_type.value, n.sequence) for n in ended.notifications] == [("failed", 1)]


def test_the_watchers_event_types_are_the_contracts() -> None:
    from watcher.domain.contract import EVENT_TYPES, TEST_EVENT_TYPE

    assert tuple(event.value for event in EventType if event is not EventType.TEST) == EVENT_TYPES
    assert EventType.TEST.value == TEST_EVENT_TYPE
