"""The heart of the watcher: from a job's remembered state and what SageMaker reports now, decide what to say.

Pure: no I/O, no clock reads. Every rule of the scenario contract's promises lives here. Whether a job ended, how,
and whether it moved are read through the job seam (job.Job: status class, progress signal), never from one
kind's statuses or counters; the counters, rate and ETA the messages show are the labeling job's facts.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from watcher.domain.job import Job, JobId, JobKind, Scope, StatusClass
from watcher.domain.model import (
    TERMINAL_EVENTS,
    AnyJob,
    EventType,
    JobState,
    LabelCounters,
    LabelingJob,
    Notification,
    Progress,
    Sample,
    to_iso,
)

HISTORY_LIMIT = 24


@dataclass(frozen=True)
class WatchRules:
    # How long a job may go without progress before it is stalled: `stall_after` for every kind that can stall,
    # unless `stall_after_by_kind` is given: then for the kinds it names, and a kind left out never stalls.
    stall_after: timedelta = timedelta(minutes=60)
    stall_repeat: timedelta | None = None
    name_contains: str | None = None
    rate_window: timedelta = timedelta(minutes=60)
    stall_after_by_kind: Mapping[JobKind, timedelta] | None = None

    def stall_after_for(self, kind: JobKind) -> timedelta | None:
        """The kind's stall threshold; None: its jobs never stall (a pipeline execution's steps' jobs can)."""
        if kind is JobKind.PIPELINE:
            return None
        if self.stall_after_by_kind is None:
            return self.stall_after
        return self.stall_after_by_kind.get(kind)


@dataclass(frozen=True)
class Decision:
    state: JobState | None
    notifications: tuple[Notification, ...] = ()
    changed: bool = False


def stream_of(scope: Scope | str, name: str, first_seen: datetime) -> str:
    """A job's notification stream, from when the watcher first remembered it: a job forgotten and seen again
    (its name filter changed twice) starts a new stream, whose numbers start at 1 again. A labeling job's scope is
    its region, as streams were named before other kinds existed."""
    key = scope.key if isinstance(scope, Scope) else scope
    return f"{key}#{name}#{to_iso(first_seen)}"


def is_watched(name: str, name_contains: str | None) -> bool:
    """The API's NameContains filter, applied again for jobs reached another way (events, describe)."""
    return name_contains is None or name_contains.lower() in name.lower()


def decide(
    previous: JobState | None,
    job: AnyJob,
    now: datetime,
    rules: WatchRules,
    *,
    baseline: bool = False,
    muted: frozenset[str] = frozenset(),
) -> Decision:
    """What the watcher should remember about `job` and which notifications it owes, as of `now`.

    `baseline` marks the watcher's very first look at the job's region: what is already over stays silent.
    `muted`: the event types a person muted for this job now (`gtwatch mute`); they are not said.
    """
    if not is_watched(job.id.name, rules.name_contains):
        return Decision(state=None, changed=previous is not None)  # Forget jobs the filter no longer covers.
    if previous is not None and previous.status_class.is_terminal:
        return Decision(state=previous)  # Terminal statuses are final; the job was dealt with.

    state = _observe(previous, job, now, rules)
    notifications: list[Notification] = []
    if job.status_class.is_terminal:
        if previous is not None or not baseline:
            notifications.append(_notify(TERMINAL_EVENTS[job.status_class], "final", job, state, now, rules))
        # A status change sets LastModifiedTime: when the job ended (bounded by what the watcher knows).
        ended = min(now, max(job.last_modified_time, job.creation_time))
        state = replace(state, stall_notified_at=None, history=(), ended_at=ended)
    elif previous is not None and previous.stall_notified_at is not None and state.stall_notified_at is None:
        if job.status_class is not StatusClass.STOPPING:  # Being stopped is not progress; the episode just ends.
            marker = to_iso(previous.unchanged_since)
            notifications.append(_notify(EventType.RESUMED, marker, job, state, now, rules))
    elif _stall_due(state, job, now, rules):
        state = replace(state, stall_notified_at=now, stall_notices=state.stall_notices + 1)
        marker = f"{to_iso(state.unchanged_since)}#{state.stall_notices}"
        notifications.append(_notify(EventType.STALLED, marker, job, state, now, rules))

    # A muted type is decided (the state moves on as if it had been said) but not said. What is said is numbered in
    # the job's stream, in the order of its transitions: Slack delivers them in this order.
    said = [notification for notification in notifications if notification.event_type.value not in muted]
    numbered = tuple(
        replace(notification, stream=state.stream, sequence=state.sequence + position)
        for position, notification in enumerate(said, start=1)
    )
    state = replace(state, sequence=state.sequence + len(numbered))
    return Decision(state=state, notifications=numbered, changed=state != previous)


def progress(state: JobState, counters: LabelCounters, now: datetime, rules: WatchRules) -> Progress:
    """Where the job stands as of `now`. A job in an announced stall has not moved since `unchanged_since`:
    its rate is 0 and it has no ETA, whatever progress the rate window still holds from before the stall."""
    stalled_for = None
    if state.stall_notified_at is not None:
        stalled_for = int((now - state.unchanged_since).total_seconds() // 60)
        rate: float | None = 0.0
    else:
        rate = _rate_per_hour(state.history, now, rules.rate_window)
    eta = None
    if rate and counters.unlabeled and not state.status_class.is_terminal:
        eta = now + timedelta(hours=counters.unlabeled / rate)
    return Progress(
        done=counters.done,
        total=counters.total,
        human_labeled=counters.human_labeled,
        machine_labeled=counters.machine_labeled,
        failed=counters.failed_non_retryable_error,
        rate_per_hour=rate,
        eta=eta,
        minutes_since_progress=stalled_for,
    )


def _observe(previous: JobState | None, job: AnyJob, now: datetime, rules: WatchRules) -> JobState:
    """The job's state with this observation folded in, before any notification is decided."""
    counters = job.counters if isinstance(job, LabelingJob) else LabelCounters()
    signal = job.progress_signal
    stored_signal = None if isinstance(job, LabelingJob) else job.signal
    if previous is None:
        return JobState(
            region=job.region,
            name=job.name,
            status=job.status,
            counters=counters,
            unchanged_since=now,
            history=(Sample(at=now, done=counters.done),),
            stream=stream_of(job.scope, job.name, now),
            kind=job.kind,
            arn=None if isinstance(job, LabelingJob) else job.arn,
            account=job.account,
            observed_signal=signal,
            signal=stored_signal,
        )
    same = (previous.status, previous.progress_signal) == (job.status, signal) and not _new_log_line(previous, job)
    if same:
        # Same stall clock; counters may still move while Stopping, and are kept current for messages.
        return replace(previous, status=job.status, counters=counters, observed_signal=signal, signal=stored_signal)
    history = previous.history
    if counters.done != previous.counters.done:
        history = _trim((*history, Sample(at=now, done=counters.done)), now, rules.rate_window)
    return replace(
        previous,
        status=job.status,
        counters=counters,
        unchanged_since=now,
        stall_notified_at=None,
        history=history,
        observed_signal=signal,
        signal=stored_signal,
    )


def _new_log_line(previous: JobState, job: Job) -> bool:
    """A log line written since the job's current stall clock started is progress, while the job runs (not while it
    is being stopped). Lines between two ticks count once: the clock restarts at the tick that reads them. A log that
    could not be read (last_log_at None) neither starts nor ends a stall."""
    return (
        job.status_class is StatusClass.ACTIVE
        and job.last_log_at is not None
        and job.last_log_at > previous.unchanged_since
    )


def stall_due(state: JobState, now: datetime, rules: WatchRules) -> bool:
    """Whether a run at `now` would announce a stall of the job as remembered (if it has not moved meanwhile)."""
    return _stall_due(state, state, now, rules)


def _can_stall(job: Job | JobState) -> bool:
    """An active job (or one being stopped) can stall, unless it has nothing to work on: then it waits."""
    return not job.status_class.is_terminal and not job.waiting


def _stall_due(state: JobState, job: Job | JobState, now: datetime, rules: WatchRules) -> bool:
    stall_after = rules.stall_after_for(job.id.kind)
    if stall_after is None or not _can_stall(job):
        return False
    if state.stall_notified_at is None:
        return now - state.unchanged_since >= stall_after
    return rules.stall_repeat is not None and now - state.stall_notified_at >= rules.stall_repeat


def _notify(
    event: EventType, marker: str, job: AnyJob, state: JobState, now: datetime, rules: WatchRules
) -> Notification:
    return Notification(
        id=f"{notification_prefix(job.id)}:{event.value}:{marker}",
        event_type=event,
        job=job,
        occurred_at=now,
        progress=progress(state, state.counters, now, rules),
    )


def notification_prefix(job: JobId) -> str:
    """What every notification id of a job starts with: its account, region, kind and name (a job of the home account
    leaves out its account, and a labeling job its kind, as ids were before accounts and other kinds existed)."""
    where = job.region if job.account is None else f"{job.account}:{job.region}"
    if job.kind is JobKind.LABELING:
        return f"{where}:{job.name}"
    return f"{where}:{job.kind.value}:{job.name}"


def _rate_per_hour(history: tuple[Sample, ...], now: datetime, window: timedelta) -> float | None:
    """Objects finished per hour since the newest sample at least `window` old (or the oldest one)."""
    if not history:
        return None
    older = [sample for sample in history if sample.at <= now - window]
    reference = older[-1] if older else history[0]
    hours = (now - reference.at).total_seconds() / 3600
    if hours < window.total_seconds() / 3600 / 4:
        return None  # Too short a span to call it a rate.
    return max(0.0, (history[-1].done - reference.done) / hours)


def _trim(history: tuple[Sample, ...], now: datetime, window: timedelta) -> tuple[Sample, ...]:
    """Keep the samples inside the rate window plus the newest one before it, at most HISTORY_LIMIT."""
    older = [sample for sample in history if sample.at <= now - window]
    kept = (*older[-1:], *(sample for sample in history if sample.at > now - window))
    return kept[-HISTORY_LIMIT:]
