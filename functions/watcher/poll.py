"""One scheduled run of the watcher over one region: list, diff, remember, notify.

What a steady run lists, so that its cost follows the active jobs and not the account's history:
- the active jobs, one StatusEquals listing per active status (Initializing, InProgress, Stopping);
- the jobs created since the last successful listing (CreationTimeAfter, with a safety margin), which
  reveals jobs created and finished between two runs;
- DescribeLabelingJob for each job remembered as active that neither listing returned: it has finished.
LastModifiedTime is never relied on: it is not documented to move when counters change.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from aws_lambda_powertools import Logger

from .diff import Decision, WatchRules, decide
from .model import ACTIVE_STATUSES, JobState, LabelingJob, Notification
from .sagemaker_jobs import describe_job, list_jobs
from .state_store import RunRecord, StateConflict, StateStore

logger = Logger(child=True)

# Listings may lag job creation slightly; re-reading a few minutes of history costs little and misses nothing.
CREATION_MARGIN = timedelta(minutes=10)

Publish = Callable[[Notification], str]


@dataclass
class RegionReport:
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
    now: datetime,
) -> RegionReport:
    report = RegionReport(region=region)
    run = store.load_run(region)
    report.baseline = run is None
    observed = _observe_region(region, sagemaker, rules, since=(now if run is None else run.listed_at))

    states = store.active_states(region)
    for name in sorted(states.keys() - observed.keys()):
        job = describe_job(sagemaker, region, name)
        if job is None:
            logger.warning("Remembered job no longer exists; forgetting it", extra={"job": name, "region": region})
            store.forget(region, name)
            states.pop(name)
        else:
            observed[name] = job
    states |= store.get_states(region, observed.keys() - states.keys())
    report.jobs_seen = len(observed)

    for name, job in sorted(observed.items()):
        previous = states.get(name)
        decision = decide(previous, job, now, rules, baseline=report.baseline)
        saved = _remember(store, previous, decision, now, report)
        if saved is not None:
            states[name] = saved
        elif decision.state is None:
            states.pop(name, None)

    for state in states.values():
        if state.outbox:
            _deliver_outbox(store, state, publish, now, report)

    # Only a run that listed everything moves the creation window forward; a failed run is redone in full.
    baseline_at = now if run is None else run.baseline_at
    store.save_run(RunRecord(region=region, listed_at=now, baseline_at=baseline_at))
    return report


def _observe_region(region: str, sagemaker: Any, rules: WatchRules, *, since: datetime) -> dict[str, LabelingJob]:
    observed: dict[str, LabelingJob] = {}
    for status in ACTIVE_STATUSES:
        for job in list_jobs(sagemaker, region, status=status, name_contains=rules.name_contains):
            observed[job.name] = job
    # Listed last, so its view of a job is the freshest.
    for job in list_jobs(sagemaker, region, created_after=since - CREATION_MARGIN, name_contains=rules.name_contains):
        observed[job.name] = job
    return observed


def _remember(
    store: StateStore, previous: JobState | None, decision: Decision, now: datetime, report: RegionReport
) -> JobState | None:
    """Store the decided state with its notifications in the outbox, atomically; None if nothing was stored."""
    if not decision.changed:
        return None
    if decision.state is None:
        if previous is not None:
            store.forget(previous.region, previous.name)
        return None
    outbox = (previous.outbox if previous else ()) + decision.notifications
    expected = previous.version if previous else None
    try:
        saved = store.save(replace(decision.state, outbox=outbox), expected_version=expected, now=now)
    except StateConflict:
        # An overlapping run (or the event path) stored this job first; its notifications are its own.
        logger.info("State changed by another run; leaving this job to it", extra={"job": decision.state.name})
        report.conflicts += 1
        return None
    report.states_written += 1
    return saved


def _deliver_outbox(store: StateStore, state: JobState, publish: Publish, now: datetime, report: RegionReport) -> None:
    delivered: list[Notification] = []
    for notification in state.outbox:
        try:
            publish(notification)
        except Exception:
            # Kept in the outbox: the next run publishes it again.
            logger.exception("Publishing failed; will retry next run", extra={"notification": notification.id})
            report.publish_failures += 1
            break
        delivered.append(notification)
    if not delivered:
        return
    remaining = tuple(n for n in state.outbox if n not in delivered)
    try:
        store.save(replace(state, outbox=remaining), expected_version=state.version, now=now)
    except StateConflict:
        logger.warning("Outbox changed by another run after publishing", extra={"job": state.name})
        report.conflicts += 1
    report.states_written += 1
    report.published.extend(delivered)
