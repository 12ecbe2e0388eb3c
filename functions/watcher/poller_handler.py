"""Lambda handler of the scheduled poller: one run of the watcher over every watched region."""

from __future__ import annotations

import os
from collections import Counter
from datetime import timedelta
from functools import partial
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import EphemeralMetrics, MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from . import aws, clock
from .diff import WatchRules
from .poll import Run, RunReport, poll_region
from .publisher import publish
from .state_store import StateStore

if TYPE_CHECKING:
    from .settings import PollerSettings

logger = Logger(service="gtwatch")
metrics = Metrics(namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "Gtwatch"), service="gtwatch")

_settings: PollerSettings | None = None


def settings() -> PollerSettings:
    """Read once per container; a bad value fails the cold start with the variable's name."""
    global _settings
    if _settings is None:
        from .settings import PollerSettings  # pydantic loads at the cold start, not at every import

        _settings = PollerSettings.from_env()
    return _settings


def reset() -> None:
    global _settings
    _settings = None


def rules_from(config: PollerSettings) -> WatchRules:
    return WatchRules(
        stall_after=timedelta(minutes=config.stall_after_minutes),
        stall_repeat=None if config.stall_repeat_minutes is None else timedelta(minutes=config.stall_repeat_minutes),
        name_contains=config.name_contains,
    )


@metrics.log_metrics
@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    config = settings()
    run = Run.starting(clock.now(), seconds_left=context.get_remaining_time_in_millis() / 1000)
    store = StateStore(aws.client("dynamodb"), config.table_name)
    send = partial(publish, aws.client("sns"), config.topic_arn)
    reports: list[RunReport] = []
    failed: list[str] = []
    for region in config.watched_regions:
        try:
            report = poll_region(
                region,
                sagemaker=aws.client("sagemaker", region),
                store=store,
                publish=send,
                rules=rules_from(config),
                run=run,
            )
        except Exception:
            # One region's outage must not hide the others; the run still fails so that alarms see it.
            logger.exception("Region run failed", extra={"region": region})
            failed.append(region)
            continue
        logger.info("Region run done", extra=report.to_dict())
        reports.append(report)
    _record_metrics(reports, failed)
    if failed:
        raise RuntimeError(f"watcher run failed in {', '.join(failed)}; see the log for each")
    return {"regions": [report.to_dict() for report in reports]}


def _record_metrics(reports: list[RunReport], failed: list[str]) -> None:
    metrics.add_metric(name="JobsWatched", unit=MetricUnit.Count, value=sum(r.jobs_seen for r in reports))
    metrics.add_metric(name="PublishFailures", unit=MetricUnit.Count, value=sum(r.publish_failures for r in reports))
    metrics.add_metric(name="RegionFailures", unit=MetricUnit.Count, value=len(failed))
    if not failed:
        # The "watcher is not running" alarm watches this: missing data means no successful run.
        metrics.add_metric(name="PollSucceeded", unit=MetricUnit.Count, value=1)
    by_type = Counter(n.event_type.value for report in reports for n in report.published)
    for event_type, count in sorted(by_type.items()):
        # Its own metric set, so that the EventType dimension applies to this metric alone.
        per_type = EphemeralMetrics(namespace=metrics.namespace, service="gtwatch")
        per_type.add_dimension(name="EventType", value=event_type)
        per_type.add_metric(name="NotificationsPublished", unit=MetricUnit.Count, value=count)
        per_type.flush_metrics()
