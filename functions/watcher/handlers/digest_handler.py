"""Lambda handler of the daily digest: EventBridge Scheduler invokes it at the configured local time. It reads the
state table (never SageMaker), builds the digest and publishes it to the topic once per configured channel: the
email subscriptions take the email; the Slack queue takes the Slack messages, which the notifier delivers as it does
any notification (retried while Slack is down). Nothing on a quiet day. A channel that fails does not keep the
other from its digest; the invocation fails afterwards all the same, for the digest-errors alarm."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from watcher import clock, composition
from watcher.domain.model import from_iso
from watcher.usecases.daily_digest import send_digest

logger = Logger(service="gtwatch")


class DigestNotSent(RuntimeError):
    """The digest could not be published for a channel (the others got theirs)."""


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    from watcher.settings import DigestSettings, settings  # pydantic loads at the cold start, not at every import

    config = settings(DigestSettings)
    outcome = send_digest(
        config,
        _scheduled_time(event) or clock.now(),
        store=composition.state_store(config.table_name),
        mutes=composition.mute_reader(config.table_name),
        queue_depth=composition.queue_depth(),
        publish=composition.digest_publisher(config.topic_arn),
    )
    if outcome.summary is None:
        logger.info("Nothing to report today; no digest sent")
        return {"sent": []}
    sent, failed = outcome.sent, outcome.failed
    logger.info("Digest sent", extra={"channels": sent, "failed": failed, "summary": outcome.summary})
    if failed:
        raise DigestNotSent(f"daily digest not sent to {', '.join(failed)} (sent to {', '.join(sent) or 'none'})")
    return {"sent": sent}


def _scheduled_time(event: dict[str, Any]) -> datetime | None:
    """When Scheduler meant this run for (the schedule's input): the digest is as of then, however late it runs,
    and its id is the same if Scheduler invokes it twice."""
    raw = event.get("scheduled_time")
    if not isinstance(raw, str):
        return None
    try:
        return from_iso(raw)
    except ValueError:
        logger.warning("The schedule's scheduled_time is not a time; using the clock", extra={"value": raw[:100]})
        return None
