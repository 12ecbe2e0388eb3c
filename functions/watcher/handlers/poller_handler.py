"""Lambda handler of the scheduled poller: one run of the watcher over every watched kind in every watched region."""

from __future__ import annotations

import os
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from watcher import clock, composition
from watcher.domain.contract import METRIC_JOB_ERRORS, METRIC_OUTBOX_AGE, METRIC_POLL_SUCCEEDED, METRIC_PUBLISH_FAILURES
from watcher.usecases.poll import poll_scopes
from watcher.usecases.watch import Run, RunReport

logger = Logger(service="gtwatch")
metrics = Metrics(namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "Gtwatch"), service="gtwatch")


@metrics.log_metrics
@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    from watcher.settings import PollerSettings, settings  # pydantic loads at the cold start, not at every import

    config = settings(PollerSettings)
    run = Run.starting(clock.now(), seconds_left=context.get_remaining_time_in_millis() / 1000)
    watcher = composition.watcher(config, run)
    outcome = poll_scopes(config.watched_scopes, sources=composition.job_sources(config), watcher=watcher)
    for scope, error in outcome.errors.items():
        logger.error("Run failed", extra={"scope": scope}, exc_info=error)
    for report in outcome.reports:
        logger.info("Run done", extra=report.to_dict())
    reports, failed = outcome.reports, outcome.failed
    _record_metrics(reports, failed, run)
    if failed:
        raise RuntimeError(f"watcher run failed in {', '.join(failed)}; see the log for each")
    return {"regions": [report.to_dict() for report in reports]}


def _record_metrics(reports: list[RunReport], failed: list[str], run: Run) -> None:
    """The few metrics the alarms need. Failure metrics are sent only when above zero: a custom metric is billed
    for the hours it receives data, and an alarm on "above zero" reads no data as fine."""
    publish_failures = sum(report.publish_failures for report in reports)
    job_errors = sum(len(report.failed_jobs) for report in reports)
    waiting = [report.oldest_waiting for report in reports if report.oldest_waiting is not None]
    if publish_failures:
        metrics.add_metric(name=METRIC_PUBLISH_FAILURES, unit=MetricUnit.Count, value=publish_failures)
    if job_errors:
        metrics.add_metric(name=METRIC_JOB_ERRORS, unit=MetricUnit.Count, value=job_errors)
    if waiting:
        oldest = max(0.0, (run.now - min(waiting)).total_seconds())
        metrics.add_metric(name=METRIC_OUTBOX_AGE, unit=MetricUnit.Seconds, value=oldest)
    if not failed and not job_errors and not publish_failures:
        # The "watcher is not running" alarm watches this: missing data means no run that delivered everything.
        metrics.add_metric(name=METRIC_POLL_SUCCEEDED, unit=MetricUnit.Count, value=1)
