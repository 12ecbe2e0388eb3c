"""One run of the watcher: list, diff, remember, notify. The scheduled run covers a region; an event covers a job.

What a steady run lists, so that its cost follows the active jobs and not the account's history:
- the labeling jobs, StatusEquals=InProgress: one page per 100 of them, where nearly all active jobs are;
- the jobs created since the last successful listing (CreationTimeAfter, with a safety margin), which
  reveals new jobs, including those created and finished between two runs;
- DescribeLabelingJob for each remembered active job that neither listing returned: it finished, or it is
  Initializing or Stopping (brief states, few jobs at a time).
The baseline run lists every active status (Initializing, InProgress, Stopping), since it remembers nothing yet.
LastModifiedTime is never relied on: it is not documented to move when counters change.

How a notification is delivered once (docs/decisions.md, "Outbox"): it is stored in the job's item together with
the state that produced it, under a lease naming this run, in one write conditioned on the version read; then
published; then removed from the outbox in another conditional write. Overlapping runs lose the conditional
write or respect the lease; a publish that fails stays in the outbox for the next run.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from aws_lambda_powertools import Logger

from .diff import Decision, WatchRules, decide
from .model import ACTIVE_STATUSES, JobState, JobStatus, LabelingJob, Notification
from .sagemaker_jobs import describe_job, list_jobs
from .state_store import RunRecord, StateConflict, StateStore

logger = Logger(child=True)

# Listings may lag job creation slightly; re-reading a few minutes of history costs little and misses nothing.
CREATION_MARGIN = timedelta(minutes=10)
# Clearing a delivered outbox races only with overlapping runs; a few compare-and-set rounds settle it.
CLEAR_ATTEMPTS = 3

Publish = Callable[[Notification], str]

# Notifications SNS accepted whose removal from the outbox is not stored yet (DynamoDB failed right after the
# publish). Kept for the container's life so that a later run here does not publish them again.
_published_unrecorded: set[str] = set()


@dataclass(frozen=True)
class Run:
    """Who is running and until when: the lease an outbox is delivered under."""

    now: datetime
    lease_until: datetime
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex)

    @classmethod
    def starting(cls, now: datetime, *, seconds_left: float) -> Run:
        return cls(now=now, lease_until=now + timedelta(seconds=seconds_left))


@dataclass
class RunReport:
    region: str
    baseline: bool = False
    jobs_seen: int = 0
    states_written: int = 0
    conflicts: int = 0
    published: list[Notification] = field(default_factory=list)
    publish_failures: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "region": self.region,
            "baseline": self.baseline,
            "jobs_seen": self.jobs_seen,
            "states_written": self.states_written,
            "conflicts": self.conflicts,
            "published": [n.id for n in self.published],
            "publish_failures": self.publish_failures,
        }


def poll_region(
    region: str,
    *,
    sagemaker: Any,
    store: StateStore,
    publish: Publish,
    rules: WatchRules,
    run: Run,
) -> RunReport:
    report = RunReport(region=region)
    # The first run that can write records when watching began, before anything else can fail: jobs that end
    # after that moment are announced even if the baseline listing only succeeds a few runs later.
    watch = store.load_run(region) or store.start_watching(region, run.now)
    report.baseline = not watch.baseline_done
    since = watch.listed_at or watch.started_at
    statuses = (JobStatus.IN_PROGRESS,) if watch.baseline_done else ACTIVE_STATUSES
    observed = _observe_region(region, sagemaker, rules, statuses=statuses, since=since)
    if not watch.baseline_done and run.now > watch.started_at:
        # Earlier attempts at the baseline failed; a job that ended meanwhile is in no listing above (it is not
        # active, and may be older than the creation window). Only here, bounded to the time since the watch
        # began, does gtwatch use the LastModifiedTimeAfter filter: a status change sets LastModifiedTime.
        changed_after = watch.started_at - CREATION_MARGIN
        for job in list_jobs(sagemaker, region, modified_after=changed_after, name_contains=rules.name_contains):
            observed.setdefault(job.name, job)

    states = store.active_states(region)
    for name in sorted(states.keys() - observed.keys()):
        described = describe_job(sagemaker, region, name)
        if described is not None:
            observed[name] = described
        elif not states[name].outbox:
            logger.warning("Remembered job no longer exists; forgetting it", extra={"job": name, "region": region})
            _forget(store, states.pop(name), report)
    states |= store.get_states(region, observed.keys() - states.keys())
    report.jobs_seen = len(observed)

    for name, job in sorted(observed.items()):
        previous = states.pop(name, None)
        decision = decide(previous, job, run.now, rules, baseline=already_over(previous, job, watch))
        settle(store, previous, decision, publish, run, report)
    for state in states.values():  # Gone from SageMaker with notifications still to deliver: deliver them.
        _deliver_outbox(store, state, publish, run, report)

    # Only a run that listed everything moves the creation window forward; a failed run is redone in full.
    store.save_run(RunRecord(region=region, started_at=watch.started_at, listed_at=run.now))
    return report


def already_over(previous: JobState | None, job: LabelingJob, watch: RunRecord) -> bool:
    """A job first seen in a final status that it reached before the watch began: the silent baseline.

    A status change sets LastModifiedTime (counter changes are not documented to), so a job that ended after the
    watch began is announced however late the watcher first lists it: after a failed first run, or by an event.
    """
    return previous is None and job.status.is_terminal and job.last_modified_time <= watch.started_at


def settle(
    store: StateStore,
    previous: JobState | None,
    decision: Decision,
    publish: Publish,
    run: Run,
    report: RunReport,
) -> None:
    """Store what was decided about one job, then deliver its outbox."""
    state = _remember(store, previous, decision, run, report)
    if state is not None:
        _deliver_outbox(store, state, publish, run, report)


def _observe_region(
    region: str, sagemaker: Any, rules: WatchRules, *, statuses: tuple[JobStatus, ...], since: datetime
) -> dict[str, LabelingJob]:
    observed: dict[str, LabelingJob] = {}
    for status in statuses:
        for job in list_jobs(sagemaker, region, status=status, name_contains=rules.name_contains):
            observed[job.name] = job
    # Listed last, so its view of a job is the freshest.
    created_after = since - CREATION_MARGIN
    for job in list_jobs(sagemaker, region, created_after=created_after, name_contains=rules.name_contains):
        observed[job.name] = job
    return observed


def _remember(
    store: StateStore, previous: JobState | None, decision: Decision, run: Run, report: RunReport
) -> JobState | None:
    """Store the decided state with its notifications added to the outbox, in one conditional write.

    Returns the state as it now stands (stored or unchanged), or None when the job is not remembered.
    """
    if not decision.changed:
        return previous
    if decision.state is None:
        if previous is not None and not previous.outbox:
            _forget(store, previous, report)
        return previous if previous is not None and previous.outbox else None
    state = decision.state
    outbox = (previous.outbox if previous else ()) + decision.notifications
    if outbox and not (previous and previous.leased_to_another(run.run_id, run.now)):
        state = replace(state, outbox=outbox, lease_owner=run.run_id, lease_until=run.lease_until)
    else:
        # Another run is delivering this outbox: keep its lease; what is added here waits for its turn.
        state = replace(
            state,
            outbox=outbox,
            lease_owner=previous.lease_owner if previous else None,
            lease_until=previous.lease_until if previous else None,
        )
    try:
        saved = store.save(state, expected_version=previous.version if previous else None, now=run.now)
    except StateConflict:
        # An overlapping run (or the event path) stored this job first. Nothing was stored here, so the
        # transition is not lost: whoever stored the newer state owns it, or the next run decides it again.
        logger.info("State changed by another run; leaving this job to it", extra={"job": state.name})
        report.conflicts += 1
        return None
    report.states_written += 1
    return saved


def _forget(store: StateStore, state: JobState, report: RunReport) -> None:
    try:
        store.forget(state)
    except StateConflict:
        report.conflicts += 1  # Changed by another run since it was read: it is not ours to delete.


def _deliver_outbox(store: StateStore, state: JobState, publish: Publish, run: Run, report: RunReport) -> None:
    if not state.outbox or state.leased_to_another(run.run_id, run.now):
        return
    if state.lease_owner != run.run_id:
        try:  # Claim the outbox; the version check makes sure no one else did in the meantime.
            state = store.save(
                replace(state, lease_owner=run.run_id, lease_until=run.lease_until),
                expected_version=state.version,
                now=run.now,
            )
        except StateConflict:
            report.conflicts += 1
            return
        report.states_written += 1
    delivered: list[Notification] = []
    for notification in state.outbox:
        if notification.id not in _published_unrecorded:
            try:
                publish(notification)
            except Exception:
                # Kept in the outbox: a later run publishes it again, in order.
                logger.exception("Publishing failed; will retry next run", extra={"notification": notification.id})
                report.publish_failures += 1
                break
            _published_unrecorded.add(notification.id)
            report.published.append(notification)
        delivered.append(notification)
    _clear_outbox(store, state, delivered, run, report)


def _clear_outbox(
    store: StateStore, state: JobState, delivered: list[Notification], run: Run, report: RunReport
) -> None:
    """Remove what was delivered and give up the lease; compare-and-set against concurrent additions."""
    done = {notification.id for notification in delivered}
    for _ in range(CLEAR_ATTEMPTS):
        remaining = tuple(n for n in state.outbox if n.id not in done)
        try:
            store.save(
                replace(state, outbox=remaining, lease_owner=None, lease_until=None),
                expected_version=state.version,
                now=run.now,
            )
        except StateConflict:
            current = store.get_state(state.region, state.name)
            if current is None or current.lease_owner != run.run_id:
                logger.warning("Outbox taken over by another run", extra={"job": state.name})
                return
            state = current
            continue
        report.states_written += 1
        _published_unrecorded.difference_update(done)
        return
