"""Lambda handler of the daily digest: EventBridge Scheduler invokes it at the configured local time. It reads the
state table (never SageMaker), builds the digest and sends one per configured channel; nothing on a quiet day."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from . import aws, clock, container, digest, slack_client
from .contract import CHANNEL_ATTRIBUTE, EVENT_TYPE_ATTRIBUTE
from .model import JobState
from .mute import Mute, MuteStore

if TYPE_CHECKING:
    from .settings import DigestSettings
from .state_store import StateStore

logger = Logger(service="gtwatch")
DIGEST_EVENT_TYPE = "digest"


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    from .settings import DigestSettings, settings  # pydantic loads at the cold start, not at every import

    config = settings(DigestSettings)
    now = clock.now()
    store = StateStore(aws.client("dynamodb"), config.table_name)
    mutes = MuteStore(aws.client("dynamodb"), config.table_name)
    active: list[JobState] = []
    ended: list[JobState] = []
    muted: dict[tuple[str, str], Mute] = {}
    last_runs = {}
    for region in config.watched_regions:
        states = store.active_states(region)
        active += [state for state in states.values() if not state.status.is_terminal]
        ended += [state for state in states.values() if state.status.is_terminal]  # still delivering
        ended += store.ended_states(region, now - digest.DIGEST_WINDOW, now + timedelta(seconds=1))
        muted |= {(region, name): mute for name, mute in mutes.in_region(region).items()}
        record = store.load_run(region)
        last_runs[region] = record.listed_at if record is not None else None
    local = now.astimezone(ZoneInfo(config.timezone))
    built = digest.build(
        now,
        local_label=f"{local:%A %d %B %Y, %H:%M} {config.timezone}",
        active=active,
        ended=list({(s.region, s.name): s for s in ended}.values()),
        mutes=muted,
        health=_health(config, last_runs),
        rules=config.rules,
    )
    if built is None:
        logger.info("Nothing to report today; no digest sent")
        return {"sent": []}
    sent = []
    if "email" in config.channels:
        _email(config, built)
        sent.append("email")
    if "slack" in config.channels:
        _slack(config, built)
        sent.append("slack")
    logger.info("Digest sent", extra={"channels": sent, "summary": built.counts})
    return {"sent": sent}


def _health(config: DigestSettings, last_runs: dict[str, Any]) -> digest.Health:
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
        last_runs=last_runs, schedule_minutes=config.schedule_minutes, slack_waiting=waiting, dead_letters=dead
    )


def _email(config: DigestSettings, built: digest.Digest) -> None:
    body = digest.email_body(built)
    aws.client("sns").publish(
        TopicArn=config.topic_arn,
        Subject=digest.email_subject(built),
        Message=json.dumps({"default": body, "email": body, "sqs": json.dumps({"digest": True})}),
        MessageStructure="json",
        MessageAttributes={
            EVENT_TYPE_ATTRIBUTE: {"DataType": "String", "StringValue": DIGEST_EVENT_TYPE},
            CHANNEL_ATTRIBUTE: {"DataType": "String", "StringValue": "email"},
        },
    )


def _slack(config: DigestSettings, built: digest.Digest) -> None:
    from aws_lambda_powertools.utilities.parameters import SecretsProvider

    secrets = container.keep("digest-secrets", lambda: SecretsProvider(boto3_client=aws.client("secretsmanager")))
    payload = digest.slack_payload(built)
    if config.slack_mode == "app":
        from .slack_app import SlackApp, token_from_secret

        token = token_from_secret(secrets.get(str(config.token_secret)))
        app = SlackApp(token, timeout=config.slack_timeout_seconds, rate_limit_retries=2, api_url=config.api_url)
        channel = str(config.slack_channel)
        app.post(app.channel_id(channel) if channel.startswith("#") else channel, payload)
        return
    url = slack_client.webhook_url_from_secret(secrets.get(str(config.webhook_secret)))
    slack_client.post(url, payload, timeout=config.slack_timeout_seconds)
