"""The daily digest at scale and when one channel fails, on the emulator: the digest function publishes, the email
subscriptions and the Slack queue take it, and the Slack notifier posts it to a Slack served on loopback."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from watcher import clock
from watcher.adapters.state_store import StateStore
from watcher.domain.contract import DIGEST_EVENT_TYPE
from watcher.domain.digest import GROUP_LIMIT, SLACK_MAX_BLOCKS, SLACK_MESSAGE_TEXT_BUDGET
from watcher.domain.env import Env
from watcher.domain.job import Scope
from watcher.domain.model import JobState, JobStatus, LabelCounters, to_iso
from watcher.domain.ports import RunRecord
from watcher.domain.slack_message import slack_length
from watcher.handlers import digest_handler, slack_handler

from gtwatch.sim.emulator import deployment, email
from gtwatch.sim.emulator.deployment import Resources
from gtwatch.sim.faults import Faults
from gtwatch.sim.slack_endpoint import SlackEndpoint, validate_payload
from tests.conftest import EVERY_EVENT

REGION = deployment.REGION
NOW = datetime(2026, 5, 4, 9, 0, tzinfo=UTC)
WATCH_STARTED = NOW - timedelta(days=3)
# SNS Publish takes at most 256 KiB, the message and its attributes together (SNS API reference, Publish).
SNS_LIMIT = 256 * 1024
# The longest job name SageMaker allows is 63 characters.
NAME_PREFIX = "x" * 51
STALLED, ACTIVE, ENDED = 320, 700, 260
NEVER_WATCHED = 60  # over before the watch began
LONG_AGO = 40  # ended more than 24 hours before the digest


def name(kind: str, index: int) -> str:
    return f"{NAME_PREFIX}{kind[:1]}-{index:010d}"  # 63 characters


def job(kind: str, index: int, **changes: Any) -> JobState:
    fields: dict[str, Any] = {
        "region": REGION,
        "name": name(kind, index),
        "status": JobStatus.IN_PROGRESS,
        "counters": LabelCounters(total_labeled=1234, human_labeled=1234, unlabeled=98766),
        "unchanged_since": NOW - timedelta(minutes=20),
        "stream": f"{REGION}#{name(kind, index)}#{to_iso(WATCH_STARTED)}",
    }
    return JobState(**(fields | changes))


def thousands_of_jobs() -> list[JobState]:
    stalled = [
        # The longest stall is the one with the highest index: it must come first.
        job(
            "stalled",
            i,
            unchanged_since=NOW - timedelta(hours=3, minutes=i),
            stall_notified_at=NOW - timedelta(hours=1),
        )
        for i in range(STALLED)
    ]
    active = [job("active", i) for i in range(ACTIVE)]
    ended = [
        job("ended", i, status=JobStatus.COMPLETED, ended_at=NOW - timedelta(hours=20) + timedelta(minutes=i))
        for i in range(ENDED)
    ]
    never = [
        job("never", i, status=JobStatus.FAILED, ended_at=WATCH_STARTED - timedelta(minutes=i))
        for i in range(NEVER_WATCHED)
    ]
    old = [
        job("old", i, status=JobStatus.STOPPED, ended_at=NOW - timedelta(hours=25, minutes=i)) for i in range(LONG_AGO)
    ]
    return stalled + active + ended + never + old


@pytest.fixture
def slack() -> Iterator[SlackEndpoint]:
    with SlackEndpoint(timeout_hold_seconds=1.0) as endpoint:
        yield endpoint


@pytest.fixture
def watched(deploy: Callable[..., Resources], slack: SlackEndpoint) -> Callable[..., Resources]:
    """The stack on the emulator with a digest to Slack (webhook) and email, and a watch that began three days ago
    and whose last run was two minutes ago."""

    def with_jobs(jobs: list[JobState], channels: str = "slack,email") -> Resources:
        clock.set_clock(lambda: NOW)
        resources = deploy(
            slack_webhook_url=slack.url,
            email_events=(*EVERY_EVENT, DIGEST_EVENT_TYPE),
            handler_env={Env.DIGEST_CHANNELS: channels, Env.DIGEST_TIMEZONE: "Europe/Berlin"},
        )
        store = StateStore(deployment.client("dynamodb"), resources.table_name)
        store.save_run(RunRecord(scope=Scope(REGION), started_at=WATCH_STARTED, listed_at=NOW - timedelta(minutes=2)))
        for state in jobs:
            store.save(state, expected_version=None, now=NOW)
        email.take()
        return resources

    return with_jobs


def run_digest(lambda_context: Any) -> dict[str, Any]:
    return digest_handler.lambda_handler({"scheduled_time": to_iso(NOW)}, lambda_context("gtwatch-digest"))


def queued(resources: Resources) -> list[dict[str, Any]]:
    """Every message waiting in the Slack queue, received (the notifier's event source does this)."""
    sqs = deployment.client("sqs")
    messages: list[dict[str, Any]] = []
    while batch := sqs.receive_message(
        QueueUrl=resources.slack_queue_url, MaxNumberOfMessages=10, MessageAttributeNames=["All"]
    ).get("Messages", []):
        messages += batch
    return messages


def notify_slack(messages: list[dict[str, Any]], lambda_context: Any) -> dict[str, Any]:
    records = [
        {
            "messageId": message["MessageId"],
            "receiptHandle": message["ReceiptHandle"],
            "body": message["Body"],
            "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "0"},
            "messageAttributes": {
                key: {"stringValue": value.get("StringValue"), "dataType": value["DataType"]}
                for key, value in message.get("MessageAttributes", {}).items()
            },
            "md5OfBody": hashlib.md5(message["Body"].encode(), usedforsecurity=False).hexdigest(),
            "eventSource": "aws:sqs",
            "awsRegion": REGION,
        }
        for message in messages
    ]
    return dict(slack_handler.lambda_handler({"Records": records}, lambda_context("gtwatch-slack-notifier")))


def block_texts(payload: dict[str, Any]) -> list[str]:
    texts = [block["text"]["text"] for block in payload["blocks"] if "text" in block]
    return texts + [e["text"] for block in payload["blocks"] for e in block.get("elements", [])]


def test_a_digest_of_over_a_thousand_jobs_reaches_both_channels_within_their_limits_with_exact_counts(
    watched: Callable[..., Resources], slack: SlackEndpoint, lambda_context: Any
) -> None:
    resources = watched(thousands_of_jobs())

    assert run_digest(lambda_context) == {"sent": ["slack", "email"]}

    # Email: one message, far below SNS's limit, each group counted exactly and naming its first 50.
    (mail,) = email.take()
    assert mail.subject == f"[gtwatch] Daily digest: {STALLED} stalled, {ACTIVE} active, {ENDED} ended in 24 h"
    assert len(mail.message.encode("utf-8")) + len(mail.subject.encode("utf-8")) < SNS_LIMIT // 4
    body = mail.message
    for title, count in (("Stalled", STALLED), ("Active", ACTIVE), ("Ended in the last 24 hours", ENDED)):
        assert f"\n{title} ({count})\n" in body
        assert f"\n  +{count - GROUP_LIMIT} more\n" in body
    assert body.count(NAME_PREFIX) == 3 * GROUP_LIMIT
    # Stalled ones by longest stall first: the highest indexes stalled longest.
    stalled_named = [line.split()[0] for line in body.splitlines() if line.strip().startswith(f"{NAME_PREFIX}s-")]
    assert stalled_named == [name("stalled", i) for i in range(STALLED - 1, STALLED - 1 - GROUP_LIMIT, -1)]
    assert f"{NAME_PREFIX}n-" not in body and f"{NAME_PREFIX}o-" not in body  # never watched, or too long ago

    # Slack: the published document fits SNS, and the notifier posts every message of it, each within Slack's limits.
    messages = queued(resources)
    assert len(messages) == 1
    assert len(messages[0]["Body"].encode("utf-8")) < SNS_LIMIT // 2
    assert notify_slack(messages, lambda_context) == {"batchItemFailures": []}
    posted = slack.received
    assert 1 <= len(posted) <= 4
    for payload in posted:
        assert validate_payload(payload) is None
        assert len(payload["blocks"]) <= SLACK_MAX_BLOCKS
        assert sum(slack_length(text) for text in block_texts(payload)) <= SLACK_MESSAGE_TEXT_BUDGET + 400
        assert payload["metadata"]["event_payload"]["event"] == "digest"
    if len(posted) > 1:
        assert [p["blocks"][0]["text"]["text"] for p in posted] == [
            f"gtwatch daily digest ({n} of {len(posted)})" for n in range(1, len(posted) + 1)
        ]
    slack_text = "\n".join(text for payload in posted for text in block_texts(payload))
    for title, count in (("Stalled", STALLED), ("Active", ACTIVE), ("Ended in the last 24 hours", ENDED)):
        assert f"*{title}* ({count})" in slack_text
        assert f"+{count - GROUP_LIMIT} more" in slack_text
    assert slack_text.count(NAME_PREFIX) == 3 * GROUP_LIMIT
    stalled_in_slack = [n for n in (name("stalled", i) for i in range(STALLED)) if n in slack_text]
    assert sorted(stalled_in_slack) == sorted(name("stalled", i) for i in range(STALLED - GROUP_LIMIT, STALLED))
    assert "Watcher health" in slack_text and f"{NAME_PREFIX}n-" not in slack_text


@pytest.mark.parametrize(
    ("channels", "failing", "delivered"), [("slack,email", "slack", "email"), ("email,slack", "email", "slack")]
)
def test_a_channel_whose_publish_fails_does_not_keep_the_other_from_its_digest_and_the_run_fails(
    watched: Callable[..., Resources],
    slack: SlackEndpoint,
    lambda_context: Any,
    channels: str,
    failing: str,
    delivered: str,
) -> None:
    resources = watched([job("active", 1)], channels=channels)

    with Faults(slack).installed() as faults:
        # Every attempt botocore makes at the first channel's publish fails: the first and its five retries
        # (watcher.adapters.aws.RETRY_CONFIG's max_attempts counts the retries).
        faults.arm("sns", "error", 6)
        with pytest.raises(digest_handler.DigestNotSent) as failed:
            run_digest(lambda_context)

    # The invocation fails (Lambda's Errors metric: the digest-errors alarm), saying what went where.
    assert str(failed.value) == f"daily digest not sent to {failing} (sent to {delivered})"
    mails = email.take()
    messages = queued(resources)
    if delivered == "email":
        assert [mail.subject for mail in mails] == ["[gtwatch] Daily digest: 0 stalled, 1 active, 0 ended in 24 h"]
        assert messages == []
    else:
        assert mails == []
        assert notify_slack(messages, lambda_context) == {"batchItemFailures": []}
        assert [p["text"] for p in slack.received] == ["gtwatch daily digest: 0 stalled, 1 active, 0 ended in 24 h"]


def test_scheduler_invoking_the_same_digest_twice_posts_it_to_slack_once(
    watched: Callable[..., Resources], slack: SlackEndpoint, lambda_context: Any
) -> None:
    # EventBridge Scheduler invokes at least once; both runs carry the same scheduled time (the schedule's input),
    # which the digest is as of, so they make the same digest id, whenever each starts.
    resources = watched([job("active", 1)], channels="slack")
    clock.set_clock(lambda: NOW + timedelta(seconds=5))
    run_digest(lambda_context)
    clock.set_clock(lambda: NOW + timedelta(seconds=40))
    run_digest(lambda_context)
    messages = queued(resources)
    assert len(messages) == 2
    assert {json.loads(m["Body"])["id"] for m in messages} == {f"digest#{to_iso(NOW)}"}
    assert notify_slack(messages, lambda_context) == {"batchItemFailures": []}
    assert len(slack.received) == 1


def test_a_digest_of_several_messages_goes_on_where_slack_stopped_taking_it_each_message_once_in_order(
    watched: Callable[..., Resources], slack: SlackEndpoint, lambda_context: Any
) -> None:
    resources = watched(thousands_of_jobs(), channels="slack")
    run_digest(lambda_context)
    messages = queued(resources)
    requests = {"made": 0}

    def second_request() -> bool:
        requests["made"] += 1
        return requests["made"] == 2

    slack.fail_while("http_500", second_request)  # Slack takes the first message, then answers 500 once
    assert notify_slack(messages, lambda_context) == {
        "batchItemFailures": [{"itemIdentifier": messages[0]["MessageId"]}]
    }
    assert len(slack.received) == 1
    assert notify_slack(messages, lambda_context) == {"batchItemFailures": []}  # SQS offers it again
    headers = [payload["blocks"][0]["text"]["text"] for payload in slack.received]
    assert headers == [f"gtwatch daily digest ({n} of {len(headers)})" for n in range(1, len(headers) + 1)]
    assert len(headers) > 1
    assert notify_slack(messages, lambda_context) == {"batchItemFailures": []}  # a duplicate delivery: nothing new
    assert len(slack.received) == len(headers)


def test_a_digest_message_slack_rejects_for_good_is_set_aside_alone_and_a_redrive_posts_it_as_it_is(
    watched: Callable[..., Resources], slack: SlackEndpoint, lambda_context: Any
) -> None:
    resources = watched([job("active", 1)], channels="slack")
    run_digest(lambda_context)
    (message,) = queued(resources)
    document = json.loads(message["Body"])
    good = document["messages"][0]
    # Two good messages around one that Slack can never show (HTTP 400, invalid_blocks).
    broken = {**good, "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": ""}}]}
    message["Body"] = json.dumps({**document, "id": "digest#rejected", "messages": [good, broken, good]})

    assert notify_slack([message], lambda_context) == {"batchItemFailures": []}
    assert len(slack.received) == 2  # the first and the third
    sqs = deployment.client("sqs")
    (dead,) = sqs.receive_message(QueueUrl=resources.dead_letter_queue_url, MessageAttributeNames=["All"])["Messages"]
    assert json.loads(dead["Body"])["messages"] == [broken]
    assert dead["MessageAttributes"]["gtwatch_route"]["StringValue"] == "webhook"
    assert dead["MessageAttributes"]["event_type"]["StringValue"] == "digest"

    # `gtwatch redrive` sends it back with its attributes: the notifier posts it as it is, whatever the digest's
    # ledger says, and what Slack refuses again is set aside again (not retried).
    attempts = slack.attempts
    assert notify_slack([dead], lambda_context) == {"batchItemFailures": []}
    assert slack.attempts == attempts + 1 and len(slack.received) == 2
    (again,) = sqs.receive_message(QueueUrl=resources.dead_letter_queue_url, MessageAttributeNames=["All"])["Messages"]
    assert json.loads(again["Body"])["messages"] == [broken]
