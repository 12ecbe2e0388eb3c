"""What a poll run (the poller's, or a poll worker's batch) tells the log and the alarms' metrics: shared by both
handlers, so that a run fanned out reports as a run inline does."""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

from watcher.usecases.poll import PollOutcome, run_metrics
from watcher.usecases.watch import Run


def report_run(outcome: PollOutcome, run: Run, log: Logger, sink: Metrics, *, success_share: float = 1.0) -> None:
    """Log each scope's report and error and each unreadable account; add the run's metrics (usecases.poll)."""
    for scope, error in outcome.errors.items():
        log.error("Run failed", extra={"scope": scope}, exc_info=error)
    for account_id, unreadable in outcome.unreadable.items():
        log.error("Account cannot be read", extra={"account": account_id, "reason": unreadable.reason})
    for report in outcome.reports:
        log.info("Run done", extra=report.to_dict())
    for metric in run_metrics(outcome, run.now, success_share=success_share):
        sink.add_metric(name=metric.name, unit=MetricUnit[metric.unit], value=metric.value)
