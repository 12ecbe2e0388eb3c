"""The fast path's use case: a job changed state; watch that one job now (watch.watch_job), not at the next run."""

from __future__ import annotations

from aws_lambda_powertools import Logger

from watcher.domain.ports import JobSource
from watcher.domain.state_change import StateChange
from watcher.usecases.watch import RunReport, Watcher, watch_job

# The handler's logger (same service): the job's real name, appended below, goes with every line the watch logs.
logger = Logger(service="gtwatch")


def watch_changed_job(change: StateChange, *, source: JobSource, watcher: Watcher) -> RunReport | str:
    """Watch the job the event names, in the source's scope (its kind, region and account). Returns the run's report,
    or why the event was let go."""
    scope = source.scope
    record = watcher.store.load_run(scope)
    if record is None:
        logger.info("No run has started watching this kind in this region yet; the first scheduled run will see it")
        return "not watching yet"
    report = RunReport(region=change.region, kind=change.kind.value, jobs_seen=1)
    # The ARN spells the name in lower case; Describe finds the job whatever the case and answers with its real
    # name, by which its state and mutes are kept. So describe first, then read what is remembered of it.
    job = source.describe(change.name, change.arn)
    if job is None:
        logger.warning("Event for a job SageMaker does not know")
        return "unknown job"
    logger.append_keys(job=job.name)
    # A job that ended before the watch began stays silent, as at the baseline: a late event cannot announce it.
    watch_job(
        watcher,
        record,
        watcher.store.get_state(scope, job.name),
        name=job.name,
        observed=job,
        source=source,
        report=report,
        mute=watcher.mutes.for_job(scope, job.name),
    )
    return report
