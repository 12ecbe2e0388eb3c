"""Lambda handler of the fast path: a SageMaker job changed state; look at that one job now, not at the next run."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from watcher import clock, composition
from watcher.domain.accounts import AccountUnreadable
from watcher.domain.diff import is_watched
from watcher.domain.job import Scope
from watcher.domain.state_change import MalformedEvent, parse
from watcher.usecases.job_event import watch_changed_job
from watcher.usecases.watch import Run

logger = Logger(service="gtwatch")


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    from watcher.settings import PollerSettings, settings  # pydantic loads at the cold start, not at every import

    config = settings(PollerSettings)
    try:
        change = parse(event, config.watched_kinds)
    except MalformedEvent as error:
        # Retrying cannot make it well-formed: log it and let it go (no error, so no retry loop).
        logger.warning("Ignoring an event that is not a job state change", extra={"error": str(error)})
        return {"ignored": str(error)}
    logger.append_keys(job=change.name, kind=change.kind.value, region=change.region, event_status=change.status)
    accounts = config.watched_accounts
    watched = accounts.watches(change.account, change.region) and change.kind in config.watched_kinds
    if not watched or not is_watched(change.name, config.name_contains):
        logger.info("Event for a job this deployment does not watch")
        return {"ignored": "not watched"}
    run = Run.starting(clock.now(), seconds_left=context.get_remaining_time_in_millis() / 1000)
    scope = Scope(change.region, change.kind, accounts.scope_account(change.account))
    try:
        source = composition.job_sources(config)(scope)
        outcome = watch_changed_job(change, source=source, watcher=composition.watcher(config, run))
    except AccountUnreadable as unreadable:
        # Not an error to retry: the first scheduled run that can read the account delivers what the job owes.
        logger.warning("Account cannot be read; the poll delivers later", extra={"reason": unreadable.reason})
        return {"ignored": "account cannot be read"}
    if isinstance(outcome, str):
        return {"ignored": outcome}
    logger.info("Event handled", extra=outcome.to_dict())
    return outcome.to_dict()
