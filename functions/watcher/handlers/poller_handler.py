"""Lambda handler of the scheduled poller: one run of the watcher over every watched kind in every watched region,
or, when the watched (account, region) pairs outgrow one invocation, the run's plan: one poll-work message per batch
of pairs, which the poll workers read (poll_worker_handler)."""

from __future__ import annotations

import os
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.utilities.typing import LambdaContext

from watcher import clock, composition
from watcher.domain.poll_work import watched_pairs
from watcher.poll_reporting import report_run
from watcher.usecases.poll import plan_run, poll_scopes
from watcher.usecases.watch import Run

logger = Logger(service="gtwatch")
metrics = Metrics(namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "Gtwatch"), service="gtwatch")


@metrics.log_metrics
@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    from watcher.settings import PollPlanSettings, settings  # pydantic loads at the cold start, not at every import

    config = settings(PollPlanSettings)
    pairs = watched_pairs(config.watched_accounts)
    if config.work_queue_url is not None and len(pairs) > config.pairs_per_invocation:
        # PollSucceeded comes from the workers, a share per batch: planning alone is no run.
        batches = plan_run(
            pairs,
            per_invocation=config.pairs_per_invocation,
            send=composition.poll_work_sender(config.work_queue_url),
        )
        logger.info("Run fanned out", extra={"pairs": len(pairs), "batches": len(batches)})
        return {"pairs": len(pairs), "batches": len(batches)}
    run = Run.starting(clock.now(), seconds_left=context.get_remaining_time_in_millis() / 1000)
    watcher = composition.watcher(config, run)
    outcome = poll_scopes(config.watched_scopes, sources=composition.job_sources(config), watcher=watcher)
    report_run(outcome, run, logger, metrics)
    if outcome.failed:
        raise RuntimeError(f"watcher run failed in {', '.join(outcome.failed)}; see the log for each")
    return {"regions": [report.to_dict() for report in outcome.reports]}
