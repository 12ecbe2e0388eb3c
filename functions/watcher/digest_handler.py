"""Lambda handler of the daily digest: EventBridge Scheduler invokes it at the configured local time. It reads the
state table (never SageMaker), builds the digest and publishes it to the topic once per configured channel: the
email subscriptions take the email; the Slack queue takes the Slack messages, which the notifier delivers as it does
any notification (retried while Slack is down). Nothing on a quiet day. A channel that fails does not keep the
other from its digest; the invocation fails afterwards all the same, for the digest-errors alarm."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from . import aws, clock, digest
from .model import JobState, Mute, from_iso
from .mute import MuteStore
from .publisher import publish_digest
from .state_store import StateStore

if TYPE_CHECKING:
    from .settings import DigestSettings

logger = Logger(service="gtwatch")


class DigestNotSent(RuntimeError):
    """The digest could not be published for a channel (the others got theirs)."""


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    from .settings import DigestSettings, settings  # pydantic loads at the cold start, not at every import

    config = settings(DigestSettings)
    built = _build(config, _scheduled_time(event) or clock.now())
    if built is None:
        logger.info("Nothing to report today; no digest sent")
        return {"sent": []}
    senders = {"email": _email, "slack": _slack}
    sent, failed = [], []
    for channel in config.channels:
        try:
            senders[channel](config, built)
            sent.append(channel)
        except Exception:
            logger.exception("The digest could not be sent to this channel", extra={"channel": channel})
            failed.append(channel)
    logger.info("Digest sent", extra={"channels": sent, "failed": failed, "summary": built.counts})
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


def _build(config: DigestSettings, now: datetime) -> digest.Digest | None:
    store = StateStore(aws.client("dynamodb"), config.table_name)
    mutes = MuteStore(aws.client("dynamodb"), config.table_name)
    active: list[JobState] = []
    ended: list[JobState] = []
    muted: dict[tuple[str, str], Mute] = {}
    last_runs: dict[str, datetime | None] = {}
    started: dict[str, datetime] = {}
    failing: dict[str, tuple[str, ...]] = {}
    for region in config.watched_regions:
        states = store.active_states(region)
        active += [state for state in states.values() if not state.status.is_terminal]
        ended += [state for state in states.values() if state.status.is_terminal]  # still delivering
        ended += store.ended_states(region, now - digest.DIGEST_WINDOW, now + timedelta(seconds=1))
        muted |= {(region, name): mute for name, mute in mutes.in_region(region).items()}
        record = store.load_run(region)
        last_runs[region] = record.listed_at if record is not None else None
        if record is not None:
            started[region] = record.started_at
            failing[region] = record.retry
    local = now.astimezone(ZoneInfo(config.timezone))
    return digest.build(
        now,
        local_label=f"{local:%A %d %B %Y, %H:%M} {config.timezone}",
        active=active,
        ended=list({(s.region, s.name): s for s in ended}.values()),
        mutes=muted,
        health=_health(config, last_runs, failing),
        rules=config.rules,
        watch_started=started,
    )


def _health(
    config: DigestSettings, last_runs: dict[str, datetime | None], failing: dict[str, tuple[str, ...]]
) -> digest.Health:
    waiting = dead = None
    sqs = aws.client("sqs")
    if config.queue_url:
        attributes = sqs.get_queue_attributes(QueueUrl=config.queue_url, AttributeNames=["ApproximateNumberOfMessages"])
        waiting = int(attributes["Attributes"]["ApproximateNumberOfMessages"])
    if config.dead_letter_queue_url:
        attributes = sqs.get_queue_attributes(
            QueueUrl=config.dead_letter_queue_url, AttributeNames=["ApproximateNumberOfMessages"]
        )
        dead = int(attributes["Attributes"]["ApproximateNumberOfMessages"])
    return digest.Health(
        last_runs=last_runs,
        schedule_minutes=config.schedule_minutes,
        slack_waiting=waiting,
        dead_letters=dead,
        failing_jobs=failing,
    )


def _email(config: DigestSettings, built: digest.Digest) -> None:
    publish_digest(
        aws.client("sns"),
        config.topic_arn,
        channel="email",
        digest_id=built.id,
        subject=digest.email_subject(built),
        message=digest.email_body(built),
    )


def _slack(config: DigestSettings, built: digest.Digest) -> None:
    document = digest.SlackDigest.of(built, destination=config.slack_channel)
    message = json.dumps(document.to_document(), ensure_ascii=False)
    publish_digest(aws.client("sns"), config.topic_arn, channel="slack", digest_id=built.id, message=message)
