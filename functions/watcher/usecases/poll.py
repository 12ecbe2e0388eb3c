"""One scheduled run over each scope (one kind of job in one region): find the jobs worth a look, then watch each one
(watch.watch_job).

What a steady run lists, per scope, so that its cost follows the active jobs and not the account's history:
- the jobs in the status where nearly all active ones are (StatusEquals=InProgress; a pipeline's Executing): one page
  per 100 of them, with the newest log line of each job of a kind with logs;
- the jobs created since the last successful listing (CreationTimeAfter, with a safety margin), which
  reveals new jobs, including those created and finished between two runs;
- a describe for each remembered active job that neither listing returned: it finished, or it is
  Initializing or Stopping (brief states, few jobs at a time), and for each job the last run failed to watch;
  never for a job remembered in a final status (one whose news quiet hours hold): nothing it could say changes;
  and for a listed job that owes a notification, since a summary says too little to tell people.
The baseline run lists every active status (Initializing, InProgress, Stopping), since it remembers nothing yet.
LastModifiedTime is never relied on: it is not documented to move when counters change.

One job that cannot be watched (a describe, decision, write or publish that raises) is logged and counted, and
never holds up the others: the region's run goes on, and the next run looks at that job again by name.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from aws_lambda_powertools import Logger
from botocore.exceptions import ClientError, ConnectionError, HTTPClientError

from watcher.domain.accounts import AccountUnreadable
from watcher.domain.contract import (
    METRIC_ACCOUNTS_UNREADABLE,
    METRIC_JOB_ERRORS,
    METRIC_OUTBOX_AGE,
    METRIC_POLL_SUCCEEDED,
    METRIC_PUBLISH_FAILURES,
)
from watcher.domain.job import LOG_KINDS, Scope, StatusClass
from watcher.domain.kinds import KindJob
from watcher.domain.model import AnyJob, JobState
from watcher.domain.mute_rules import mute_job_key
from watcher.domain.poll_work import Pair, PollWork, plan_batches, scopes_of
from watcher.domain.ports import JobSource, JobStateStore, RunRecord
from watcher.usecases.watch import RunReport, Watcher, watch_job, with_log_of

logger = Logger(child=True)

# Listings may lag job creation slightly; re-reading a few minutes of history costs little and misses nothing.
CREATION_MARGIN = timedelta(minutes=10)
# Throttling as botocore's standard retry mode sees it (besides HTTP 429 and codes naming it).
THROTTLING_CODES = frozenset({"ProvisionedThroughputExceededException", "RequestLimitExceeded", "SlowDown"})


@dataclass
class PollOutcome:
    """One scheduled run over every watched scope: each scope's report, why each failed scope failed, and the spoke
    accounts whose role could not be assumed (by id: why), whose scopes were not read this run."""

    reports: list[RunReport] = field(default_factory=list)
    errors: dict[str, Exception] = field(default_factory=dict)
    unreadable: dict[str, AccountUnreadable] = field(default_factory=dict)

    @property
    def failed(self) -> list[str]:
        return list(self.errors)


def poll_scopes(scopes: tuple[Scope, ...], *, sources: Callable[[Scope], JobSource], watcher: Watcher) -> PollOutcome:
    """Run the watch over each scope; one scope's outage does not hide the others."""
    outcome = PollOutcome()
    for scope in scopes:
        try:
            if scope.account is not None and scope.account in outcome.unreadable:
                # Its role could not be assumed a moment ago: its other scopes wait for the next run too.
                _record_unreadable(watcher, scope, outcome.unreadable[scope.account])
                continue
            outcome.reports.append(poll_scope(scope, source=sources(scope), watcher=watcher))
        except AccountUnreadable as unreadable:
            # Only this account's jobs wait (its run records keep their last listing, so the next run that can read
            # it catches up on everything since); the other accounts are read now.
            outcome.unreadable[unreadable.account.id] = unreadable
            _record_unreadable(watcher, scope, unreadable)
        except Exception as error:
            outcome.errors[str(scope)] = error  # The run still fails afterwards (the handler), so that alarms see it.
    return outcome


def _record_unreadable(watcher: Watcher, scope: Scope, unreadable: AccountUnreadable) -> None:
    """Note in the scope's run record that its account cannot be read, and since when (`gtwatch status` and the
    digest name it); the record keeps its last listing, so the first run that can read it again catches up."""
    store, now = watcher.store, watcher.run.now
    record = store.load_run(scope) or store.start_watching(scope, now)
    if record.unreadable == unreadable.reason:
        return  # Already noted: one write when it starts, not one a run.
    store.save_run(replace(record, unreadable=unreadable.reason, unreadable_since=record.unreadable_since or now))


def record_watch_start(store: JobStateStore, scopes: tuple[Scope, ...], now: datetime) -> dict[str, str]:
    """Each scope's watch start (the deployment records it): the existing one, or `now`. ISO times by scope."""
    return {
        str(scope): (store.load_run(scope) or store.start_watching(scope, now)).started_at.isoformat()
        for scope in scopes
    }


def poll_scope(scope: Scope, *, source: JobSource, watcher: Watcher) -> RunReport:
    store, run, rules = watcher.store, watcher.run, watcher.rules
    report = RunReport(region=scope.region, kind=scope.kind.value)
    # The watch normally begins at deployment (the stack records it); failing that, the first run that can write
    # records it, before anything else can fail.
    record = store.load_run(scope) or store.start_watching(scope, run.now)
    report.baseline = not record.baseline_done
    since = record.listed_at or record.started_at
    observed = _observe_scope(source, rules.name_contains, every_status=not record.baseline_done, since=since)
    if not record.baseline_done and run.now > record.started_at:
        # The baseline listing comes after the watch began (a failed first run, or the first run after deployment);
        # a job that ended meanwhile is in no listing above (it is not active, and may be older than the creation
        # window). Only here, bounded to the time since the watch began, does gtwatch use the LastModifiedTimeAfter
        # filter: a status change sets LastModifiedTime.
        changed_after = record.started_at - CREATION_MARGIN
        for job in source.list_recent(modified_after=changed_after, name_contains=rules.name_contains):
            observed.setdefault(job.name, job)

    states = store.active_states(scope)
    states |= store.get_states(scope, (observed.keys() | set(record.retry)) - states.keys())
    observed, log_cursor = _with_newest_log_lines(source, observed, states, record.log_cursor)
    mutes = watcher.mutes.in_scope(scope)
    for name in sorted(observed.keys() | states.keys() | set(record.retry)):
        try:
            report.jobs_seen += watch_job(
                watcher,
                record,
                states.get(name),
                name=name,
                observed=observed.get(name),
                source=source,
                report=report,
                mute=mutes.get(mute_job_key(name)),
            )
        except AccountUnreadable:
            raise  # Its account cannot be read: not this job's fault, and every job of the account waits.
        except Exception as error:
            if is_service_outage(error):
                raise  # Not this job's fault: the scope's run fails as a whole and is redone, and alarms see it.
            logger.exception("Could not watch this job this run; the next run tries again", extra={"job": name})
            report.failed_jobs.append(name)

    # Only a run that listed everything moves the creation window forward; a failed run is redone in full. Jobs
    # that failed here are named, so the next run describes them even if no listing shows them again.
    store.save_run(
        RunRecord(
            scope=scope,
            started_at=record.started_at,
            listed_at=run.now,
            retry=tuple(report.failed_jobs),
            log_cursor=log_cursor,
        )
    )
    return report


def is_service_outage(error: Exception) -> bool:
    """An AWS service that did not answer, even after botocore's retries: throttled, 5xx or unreachable."""
    if isinstance(error, ConnectionError | HTTPClientError):
        return True
    if isinstance(error, ClientError):
        status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        code = error.response.get("Error", {}).get("Code", "")
        return status >= 500 or status == 429 or "Throttl" in code or code in THROTTLING_CODES
    return False


def _observe_scope(
    source: JobSource,
    name_contains: str | None,
    *,
    every_status: bool,
    since: datetime,
) -> dict[str, AnyJob]:
    observed: dict[str, AnyJob] = {}
    for job in source.list_active(name_contains=name_contains, every_status=every_status):
        observed[job.name] = job
    created_after = since - CREATION_MARGIN
    for job in source.list_recent(created_after=created_after, name_contains=name_contains):
        listed = observed.get(job.name)
        # Listed last, so its view of a job is the freshest; the active listing's log read stays with it.
        observed[job.name] = job if listed is None else with_log_of(job, listed)
    return observed


def _with_newest_log_lines(
    source: JobSource, observed: dict[str, AnyJob], states: dict[str, JobState], cursor: str | None
) -> tuple[dict[str, AnyJob], str | None]:
    """The running jobs with the newest log line of each, and the new log cursor. A run may read only some jobs' logs
    (a budget of reads: CloudWatch Logs throttles per account and region), so it reads on from where the last run
    stopped, round the jobs in name order: each running job is read in turn, every run or every few, whatever the
    others do (an order by need would let the jobs that never write take every read). A job seen for the first time
    needs no read: no line can be progress since a clock that starts now."""
    running = sorted(
        name
        for name, job in observed.items()
        if job.id.kind in LOG_KINDS and job.status_class is StatusClass.ACTIVE and name in states
    )
    start = bisect.bisect_right(running, cursor) if cursor is not None else 0
    ordered = running[start:] + running[:start]
    lines = source.newest_log_lines(ordered)
    read = [name for name in ordered if name in lines]
    with_lines = {
        name: replace(job, last_log_at=lines[name]) if isinstance(job, KindJob) and name in lines else job
        for name, job in observed.items()
    }
    return with_lines, read[-1] if read else cursor


@dataclass(frozen=True)
class RunMetric:
    """One of the metrics the alarms watch, as a run reports it: its name, unit ("Count" or "Seconds") and value."""

    name: str
    unit: str
    value: float


def run_metrics(outcome: PollOutcome, now: datetime, *, success_share: float = 1.0) -> list[RunMetric]:
    """The few metrics the alarms need, from one run (or one batch of a run fanned out, which succeeds for its
    `success_share` of PollSucceeded). Failure metrics are sent only when above zero: a custom metric is billed for
    the hours it receives data, and an alarm on "above zero" reads no data as fine."""
    reports = outcome.reports
    publish_failures = sum(report.publish_failures for report in reports)
    job_errors = sum(len(report.failed_jobs) for report in reports)
    waiting = [report.oldest_waiting for report in reports if report.oldest_waiting is not None]
    metrics = []
    if publish_failures:
        metrics.append(RunMetric(METRIC_PUBLISH_FAILURES, "Count", publish_failures))
    if job_errors:
        metrics.append(RunMetric(METRIC_JOB_ERRORS, "Count", job_errors))
    if waiting:
        metrics.append(RunMetric(METRIC_OUTBOX_AGE, "Seconds", max(0.0, (now - min(waiting)).total_seconds())))
    if not outcome.failed and not job_errors and not publish_failures:
        # The "watcher is not running" alarm watches this: missing data means no run that delivered everything.
        metrics.append(RunMetric(METRIC_POLL_SUCCEEDED, "Count", success_share))
    if outcome.unreadable:
        # An unreadable spoke is its own alarm; it does not fail the run (nor mark the others as not running).
        metrics.append(RunMetric(METRIC_ACCOUNTS_UNREADABLE, "Count", len(outcome.unreadable)))
    return metrics


def plan_run(
    pairs: tuple[Pair, ...], *, per_invocation: int, send: Callable[[list[str]], None]
) -> tuple[PollWork, ...]:
    """Fan a run out: its pairs cut into batches of at most `per_invocation`, one poll-work message each, sent.
    Nothing is polled here; each poll worker polls its batch (poll_work_scopes)."""
    batches = plan_batches(pairs, per_invocation)
    send([batch.to_message() for batch in batches])
    return batches


def poll_work_scopes(
    work: PollWork, watched: tuple[Scope, ...], *, sources: Callable[[Scope], JobSource], watcher: Watcher
) -> tuple[PollOutcome, tuple[Pair, ...]]:
    """One batch of a run fanned out: poll_scopes over the batch's watched scopes. Also the batch's pairs no longer
    watched (the configuration changed since the plan), which are left alone."""
    scopes = scopes_of(work, watched)
    gone = tuple(pair for pair in work.pairs if pair not in {Pair(scope.account, scope.region) for scope in scopes})
    return poll_scopes(scopes, sources=sources, watcher=watcher), gone
