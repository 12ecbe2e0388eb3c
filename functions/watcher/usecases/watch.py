"""One path per job: describe it if needed (never once it is final), decide, store, deliver. The poller, the event
handler and the bench all watch a job through `watch_job`; the outbox rules it applies are outbox.py's.

How a notification is delivered once (docs/decisions.md, "Outbox"): it is stored in the job's item together with
the state that produced it, under a lease naming this run, in one write conditioned on the version read; then
published; then removed from the outbox in another conditional write. Overlapping runs lose the conditional
write or respect the lease; a publish that fails stays in the outbox for the next run.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from aws_lambda_powertools import Logger

from watcher import container
from watcher.domain.contract import EVENT_TYPES
from watcher.domain.diff import Decision, WatchRules, decide
from watcher.domain.job import Job
from watcher.domain.kinds import KindJob
from watcher.domain.model import AnyJob, JobState, Notification, OutboxEntry
from watcher.domain.mute_rules import Mute, silenced
from watcher.domain.outbox import after_delivery, due_channels, entry_for, releases
from watcher.domain.ports import ItemConflict, JobSource, JobStateStore, MuteReader, Publisher, RunRecord
from watcher.domain.quiet import QuietHours

logger = Logger(child=True)

# Clearing a delivered outbox races only with overlapping runs; a few compare-and-set rounds settle it.
CLEAR_ATTEMPTS = 3


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
    """What one run (of a region, or of one event) did; the handlers log it and turn it into metrics."""

    region: str
    kind: str = "labeling"
    baseline: bool = False
    jobs_seen: int = 0
    states_written: int = 0
    conflicts: int = 0
    published: list[Notification] = field(default_factory=list)
    publish_failures: int = 0
    # Jobs whose watch raised this run: each is logged, and looked at again by the next run.
    failed_jobs: list[str] = field(default_factory=list)
    # When the oldest notification still waiting in an outbox after this run was decided.
    oldest_waiting: datetime | None = None

    def waiting_since(self, moment: datetime) -> None:
        if self.oldest_waiting is None or moment < self.oldest_waiting:
            self.oldest_waiting = moment

    def to_dict(self) -> dict[str, Any]:
        return {
            "region": self.region,
            "kind": self.kind,
            "baseline": self.baseline,
            "jobs_seen": self.jobs_seen,
            "states_written": self.states_written,
            "conflicts": self.conflicts,
            "published": [n.id for n in self.published],
            "publish_failures": self.publish_failures,
            "failed_jobs": self.failed_jobs,
        }


@dataclass(frozen=True)
class Watcher:
    """Everything watching one job needs besides the job: where state lives, how to publish, the rules, the run."""

    store: JobStateStore
    publish: Publisher
    rules: WatchRules
    run: Run
    mutes: MuteReader
    quiet: QuietHours | None = None
    # The types the email subscriptions take (their filter policy): only those release held email.
    email_events: frozenset[str] = frozenset(EVENT_TYPES)

    def entry(self, notification: Notification) -> OutboxEntry:
        """A new notification's outbox entry: held for the quiet-hours channels if its type is held now."""
        return entry_for(notification, self.quiet, self.run.now)


def watch_job(
    watcher: Watcher,
    record: RunRecord,
    previous: JobState | None,
    *,
    name: str,
    observed: AnyJob | None,
    source: JobSource,
    report: RunReport,
    mute: Mute | None = None,
) -> bool:
    """Watch one job: describe it unless `observed` or already final, decide what it owes, store that, deliver its
    outbox. Returns whether the job exists: SageMaker knows it, or it is remembered as final.
    """
    if observed is None and previous is not None and previous.status_class.is_terminal:
        # A final status is final: nothing SageMaker could say now changes what the job owes (decide ignores it),
        # so a finished job whose news is held for quiet hours costs no DescribeLabelingJob call per run.
        _deliver_outbox(watcher, previous, report, mute)
        return True
    job = observed or source.describe(name, previous.arn if previous else None)
    if job is None:
        if previous is not None and previous.outbox:  # Gone with notifications still to deliver: deliver them.
            _deliver_outbox(watcher, previous, report, mute)
        elif previous is not None:
            logger.warning("Remembered job no longer exists; forgetting it", extra={"job": name})
            _forget(watcher.store, previous, report)
        return False
    decision = _decide(watcher, record, previous, job, mute)
    if decision.notifications and not job.detailed:
        # A list summary says too little to tell people (a training job's metrics, a pipeline's failed step): the
        # job is described once, when it owes a notification, and decided again on what the describe says.
        described = source.describe(name, job.arn)
        if described is not None:
            # A describe reads no logs: the newest log line this run read stays part of what was observed.
            job = with_log_of(described, job)
            decision = _decide(watcher, record, previous, job, mute)
    state = _remember(watcher, previous, decision, report)
    if state is not None:
        _deliver_outbox(watcher, state, report, mute)
    return True


def _decide(watcher: Watcher, record: RunRecord, previous: JobState | None, job: AnyJob, mute: Mute | None) -> Decision:
    return decide(
        previous,
        job,
        watcher.run.now,
        watcher.rules,
        baseline=already_over(previous, job, record),
        muted=silenced(mute, watcher.run.now),
    )


def with_log_of(job: AnyJob, listed: AnyJob) -> AnyJob:
    """`job` (a describe, or a later listing) with the log line `listed` was read with, if in the same status."""
    if isinstance(job, KindJob) and listed.last_log_at is not None and job.status == listed.status:
        return replace(job, last_log_at=listed.last_log_at)
    return job


def already_over(previous: JobState | None, job: Job, record: RunRecord) -> bool:
    """A job first seen in a final status that it reached before the watch began: the silent baseline.

    A status change sets LastModifiedTime (counter changes are not documented to), so a job that ended after the
    watch began is announced however late the watcher first lists it: after a failed first run, or by an event.
    """
    return previous is None and job.status_class.is_terminal and job.last_modified_time <= record.started_at


def _remember(watcher: Watcher, previous: JobState | None, decision: Decision, report: RunReport) -> JobState | None:
    """Store the decided state with its notifications added to the outbox, in one conditional write.

    Returns the state as it now stands (stored or unchanged), or None when the job is not remembered.
    """
    if not decision.changed:
        return previous
    if decision.state is None:
        if previous is not None and not previous.outbox:
            _forget(watcher.store, previous, report)
        return previous if previous is not None and previous.outbox else None
    run = watcher.run
    outbox = (previous.outbox if previous else ()) + tuple(watcher.entry(n) for n in decision.notifications)
    if previous is not None and previous.leased_to_another(run.run_id, run.now):
        # Another run is delivering this outbox: keep its lease; what is added here waits for its turn.
        state = replace(
            decision.state, outbox=outbox, lease_owner=previous.lease_owner, lease_until=previous.lease_until
        )
    elif any(due_channels(outbox, run.now)):
        state = replace(decision.state, outbox=outbox, lease_owner=run.run_id, lease_until=run.lease_until)
    else:
        # Nothing to send now (held for quiet hours): no lease, so that a run with news due (an event's) is free to
        # deliver it the moment it comes.
        state = replace(decision.state, outbox=outbox, lease_owner=None, lease_until=None)
    try:
        saved = watcher.store.save(state, expected_version=previous.version if previous else None, now=run.now)
    except ItemConflict:
        # An overlapping run (or the event path) stored this job first. Nothing was stored here, so the
        # transition is not lost: whoever stored the newer state owns it, or the next run decides it again.
        logger.info("State changed by another run; leaving this job to it", extra={"job": state.name})
        report.conflicts += 1
        return None
    report.states_written += 1
    return saved


def _forget(store: JobStateStore, state: JobState, report: RunReport) -> None:
    try:
        store.forget(state)
    except ItemConflict:
        report.conflicts += 1  # Changed by another run since it was read: it is not ours to delete.


def _deliver_outbox(watcher: Watcher, state: JobState, report: RunReport, mute: Mute | None = None) -> None:
    run, store = watcher.run, watcher.store
    plan = releases(state.outbox, run.now, silenced(mute, run.now), watcher.email_events)
    if not plan:
        return  # Nothing due (empty, or held for quiet hours).
    if state.leased_to_another(run.run_id, run.now):
        report.waiting_since(state.outbox[0].notification.occurred_at)  # Kept safely; the lease holder delivers.
        return
    if state.lease_owner != run.run_id:
        try:  # Claim the outbox; the version check makes sure no one else did in the meantime.
            state = store.save(
                replace(state, lease_owner=run.run_id, lease_until=run.lease_until),
                expected_version=state.version,
                now=run.now,
            )
        except ItemConflict:
            report.conflicts += 1
            return
        report.states_written += 1
    delivered: dict[str, frozenset[str]] = {}
    for release in plan:
        notification = release.notification
        # Per channel, what SNS already accepted in this container (the outbox could not be cleared after it).
        unsent = frozenset(
            channel
            for channel in release.channels
            if not release.settles(channel) or _memo_key(notification, channel) not in container.published_unrecorded
        )
        if unsent:
            try:
                watcher.publish(notification, unsent)
            except Exception:
                # Kept in the outbox: a later run publishes it again, in order.
                logger.exception("Publishing failed; will retry next run", extra={"notification": notification.id})
                report.publish_failures += 1
                report.waiting_since(notification.occurred_at)
                break
            container.published_unrecorded.update(
                _memo_key(notification, channel) for channel in unsent if release.settles(channel)
            )
            if not notification.muted:
                report.published.append(notification)
        delivered[notification.id] = release.delivers
    _clear_outbox(watcher, state, delivered, report)


def _memo_key(notification: Notification, channel: str) -> str:
    return f"{notification.id}|{channel}"


def _clear_outbox(watcher: Watcher, state: JobState, delivered: dict[str, frozenset[str]], report: RunReport) -> None:
    """Remove what was delivered and give up the lease; compare-and-set against concurrent additions."""
    for _ in range(CLEAR_ATTEMPTS):
        try:
            watcher.store.save(
                replace(state, outbox=after_delivery(state.outbox, delivered), lease_owner=None, lease_until=None),
                expected_version=state.version,
                now=watcher.run.now,
            )
        except ItemConflict:
            current = watcher.store.get_state(state.scope, state.name)
            if current is None or current.lease_owner != watcher.run.run_id:
                logger.warning("Outbox taken over by another run", extra={"job": state.name})
                return
            state = current
            continue
        report.states_written += 1
        container.published_unrecorded.difference_update(
            _memo_key(entry.notification, channel)
            for entry in state.outbox
            for channel in delivered.get(entry.notification.id, frozenset())
        )
        return
