"""Lambda handler of the fast path: a labeling job changed state; look at that one job now, not at the next run."""

from __future__ import annotations

from functools import partial
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from . import aws, clock
from .diff import is_watched
from .mute import MuteStore
from .publisher import publish
from .sagemaker_jobs import describe_job
from .state_change import MalformedEvent, parse
from .state_store import StateStore
from .watch import Run, RunReport, Watcher, watch_job

logger = Logger(service="gtwatch")


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    from .settings import PollerSettings, settings  # pydantic loads at the cold start, not at every import

    config = settings(PollerSettings)
    try:
        change = parse(event)
    except MalformedEvent as error:
        # Retrying cannot make it well-formed: log it and let it go (no error, so no retry loop).
        logger.warning("Ignoring an event that is not a labeling job state change", extra={"error": str(error)})
        return {"ignored": str(error)}
    logger.append_keys(job=change.name, region=change.region, event_status=change.status)
    if change.region not in config.watched_regions or not is_watched(change.name, config.name_contains):
        logger.info("Event for a job this deployment does not watch")
        return {"ignored": "not watched"}
    store = StateStore(aws.client("dynamodb"), config.table_name)
    record = store.load_run(change.region)
    if record is None:
        logger.info("No run has started watching this region yet; the first scheduled run will see the job")
        return {"ignored": "not watching yet"}

    run = Run.starting(clock.now(), seconds_left=context.get_remaining_time_in_millis() / 1000)
    mutes = MuteStore(aws.client("dynamodb"), config.table_name)
    send = partial(publish, aws.client("sns"), config.topic_arn)
    watcher = Watcher(
        store, send, config.rules, run, mutes, config.quiet_hours, email_events=frozenset(config.email_events)
    )
    report = RunReport(region=change.region, jobs_seen=1)
    # The ARN spells the name in lower case; Describe finds the job whatever the case and answers with its real
    # name, by which its state and mutes are kept. So describe first, then read what is remembered of it.
    job = describe_job(aws.client("sagemaker", change.region), change.region, change.name)
    if job is None:
        logger.warning("Event for a job SageMaker does not know")
        return {"ignored": "unknown job"}
    logger.append_keys(job=job.name)
    # A job that ended before the watch began stays silent, as at the baseline: a late event cannot announce it.
    watch_job(
        watcher,
        record,
        store.get_state(change.region, job.name),
        name=job.name,
        observed=job,
        sagemaker=aws.client("sagemaker", change.region),
        report=report,
        mute=mutes.for_job(change.region, job.name),
    )
    logger.info("Event handled", extra=report.to_dict())
    return report.to_dict()
