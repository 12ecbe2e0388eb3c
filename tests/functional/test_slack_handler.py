"""The Slack notifier Lambda against moto (Secrets Manager, DynamoDB) and a Slack webhook served on loopback."""

from __future__ import annotations

import hashlib
import io
import json
import logging
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from aws_lambda_powertools.utilities.typing import LambdaContext
from watcher.adapters import slack_client
from watcher.domain.env import Env
from watcher.domain.model import EventType, JobStatus, LabelCounters, LabelingJob, Notification, Progress
from watcher.domain.slack_outcomes import SlackPostError
from watcher.handlers import slack_handler
from watcher.settings import SettingsError

from gtwatch.sim.slack_endpoint import SlackEndpoint

REGION = "us-east-1"
SECRET_NAME = "gtwatch/slack-webhook"
TABLE_NAME = "gtwatch-state"
DEAD_LETTER_QUEUE = "gtwatch-slack-dlq"
QUEUE_ARN = f"arn:aws:sqs:{REGION}:123456789012:gtwatch-slack"
NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
FUNCTION_NAME = "gtwatch-slack-notifier"

Invoke = Callable[[dict[str, Any]], dict[str, Any]]


def notification(notification_id: str = "n-1", name: str = "cats-vs-dogs-7", **changes: Any) -> Notification:
    job = LabelingJob(
        region=REGION,
        name=name,
        arn=f"arn:aws:sagemaker:{REGION}:123456789012:labeling-job/{name}",
        status=JobStatus.COMPLETED,
        counters=LabelCounters(
            total_labeled=990, human_labeled=600, machine_labeled=390, failed_non_retryable_error=10
        ),
        creation_time=NOW - timedelta(hours=6),
        last_modified_time=NOW,
        output_uri=f"s3://bucket/output/{name}/manifests/output/output.manifest",
    )
    progress = Progress(done=1000, total=1000, human_labeled=600, machine_labeled=390, failed=10)
    fields: dict[str, Any] = {
        "id": notification_id,
        "event_type": EventType.COMPLETED,
        "job": job,
        "occurred_at": NOW,
        "progress": progress,
        # As the poller numbers them: the job's first notification in its stream.
        "stream": f"{REGION}#{name}#2024-05-01T06:00:00.000Z",
        "sequence": 1,
    }
    return Notification(**(fields | changes))


def body(item: Notification) -> str:
    return json.dumps(item.to_document())


def sqs_record(message_id: str, message_body: str) -> dict[str, Any]:
    """One record as Lambda's SQS event source delivers it."""
    return {
        "messageId": message_id,
        "receiptHandle": f"AQEB{message_id}receipt",
        "body": message_body,
        "attributes": {
            "ApproximateReceiveCount": "1",
            "SentTimestamp": "1714564800000",
            "SenderId": "AIDAIENQZJOLO23YVJ4VO",
            "ApproximateFirstReceiveTimestamp": "1714564800001",
        },
        "messageAttributes": {},
        "md5OfBody": hashlib.md5(message_body.encode(), usedforsecurity=False).hexdigest(),
        "eventSource": "aws:sqs",
        "eventSourceARN": QUEUE_ARN,
        "awsRegion": REGION,
    }


def sqs_event(*records: tuple[str, str]) -> dict[str, Any]:
    return {"Records": [sqs_record(message_id, message_body) for message_id, message_body in records]}


def failed_ids(response: dict[str, Any]) -> list[str]:
    return [item["itemIdentifier"] for item in response["batchItemFailures"]]


def titles(endpoint: SlackEndpoint) -> list[str]:
    """The first line of each message Slack accepted, in order."""
    return [message["blocks"][0]["text"]["text"].split("\n")[0] for message in endpoint.received]


@pytest.fixture
def lambda_log() -> Iterator[io.StringIO]:
    """What the function prints to CloudWatch: Powertools JSON lines, with the keys appended at the time."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(slack_handler.logger.registered_formatter)
    logging.getLogger("gtwatch").addHandler(handler)
    yield stream
    logging.getLogger("gtwatch").removeHandler(handler)


def log_lines(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.startswith("{")]


@pytest.fixture
def aws_env(mocked_aws: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """The notifier's settings, the state table (its delivery ledger) and the dead-letter queue in moto; the webhook
    secret is each test's."""
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", FUNCTION_NAME)
    monkeypatch.setenv(Env.SLACK_WEBHOOK_SECRET, SECRET_NAME)
    monkeypatch.setenv(Env.TABLE_NAME, TABLE_NAME)
    monkeypatch.setenv(Env.SLACK_TIMEOUT_SECONDS, "2")
    # These notifications were decided in 2024: no lag alarm for them (tests/functional/test_slack_app_delivery.py
    # has the lag alarm).
    monkeypatch.setenv(Env.SLACK_LAG_ALARM_SECONDS, str(10 * 365 * 24 * 3600))
    boto3.client("dynamodb").create_table(
        TableName=TABLE_NAME,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    queue_url = boto3.client("sqs").create_queue(QueueName=DEAD_LETTER_QUEUE)["QueueUrl"]
    monkeypatch.setenv(Env.SLACK_DEAD_LETTER_QUEUE_URL, queue_url)


@pytest.fixture
def endpoint(aws_env: None) -> Iterator[SlackEndpoint]:
    with SlackEndpoint(timeout_hold_seconds=1.0) as server:
        boto3.client("secretsmanager").create_secret(Name=SECRET_NAME, SecretString=server.url)
        yield server


@pytest.fixture
def invoke(lambda_context: Callable[[str], LambdaContext]) -> Invoke:
    """The notifier, invoked as Lambda's SQS event source does, returning its batch response."""
    return lambda event: dict(slack_handler.lambda_handler(event, lambda_context(FUNCTION_NAME)))


def test_a_batch_posts_each_notification_once(endpoint: SlackEndpoint, invoke: Invoke) -> None:
    event = sqs_event(
        ("m-1", body(notification("n-1", name="cats"))),
        ("m-2", body(notification("n-2", name="dogs"))),
        ("m-3", body(notification("n-3", name="birds", event_type=EventType.STALLED))),
    )

    response = invoke(event)

    assert failed_ids(response) == []
    assert titles(endpoint) == [
        ":white_check_mark: *Labeling job cats completed*",
        ":white_check_mark: *Labeling job dogs completed*",
        ":hourglass: *Labeling job birds is stalled*",
    ]


def test_a_redelivered_message_is_not_posted_again(endpoint: SlackEndpoint, invoke: Invoke) -> None:
    event = sqs_event(("m-1", body(notification("n-1"))))

    first, second = invoke(event), invoke(event)

    assert failed_ids(first) == failed_ids(second) == []
    assert len(endpoint.received) == 1


def test_a_republished_notification_is_posted_once(endpoint: SlackEndpoint, invoke: Invoke) -> None:
    # The poller re-publishes from its outbox when it cannot tell whether SNS took the message: new message id,
    # same notification id, sometimes in the same batch.
    same = body(notification("n-1"))

    response = invoke(sqs_event(("m-1", same), ("m-2", same)))
    later = invoke(sqs_event(("m-3", same)))

    assert failed_ids(response) == failed_ids(later) == []
    assert len(endpoint.received) == 1
    assert endpoint.attempts == 1


def test_a_redriven_dead_letter_is_posted_to_the_destination_it_failed_at(
    endpoint: SlackEndpoint, invoke: Invoke
) -> None:
    # `gtwatch redrive` sends a dead letter back with its attributes, the destination among them.
    event = sqs_event(("m-1", body(notification("n-1", name="cats"))))
    event["Records"][0]["messageAttributes"] = {"gtwatch_route": {"stringValue": "webhook", "dataType": "String"}}

    response = invoke(event)

    assert failed_ids(response) == []
    assert titles(endpoint) == [":white_check_mark: *Labeling job cats completed*"]


def test_a_slack_error_fails_only_that_record_and_a_later_retry_posts_it(
    endpoint: SlackEndpoint, invoke: Invoke
) -> None:
    event = sqs_event(("m-1", body(notification("n-1", name="cats"))), ("m-2", body(notification("n-2", name="dogs"))))
    endpoint.fail_next("http_500")

    response = invoke(event)

    assert failed_ids(response) == ["m-1"]
    assert titles(endpoint) == [":white_check_mark: *Labeling job dogs completed*"]

    retry = invoke(sqs_event(("m-1", body(notification("n-1", name="cats")))))

    assert failed_ids(retry) == []
    assert titles(endpoint) == [
        ":white_check_mark: *Labeling job dogs completed*",
        ":white_check_mark: *Labeling job cats completed*",
    ]


def test_a_rate_limited_post_is_retried_after_retry_after_within_the_invocation(
    endpoint: SlackEndpoint, invoke: Invoke
) -> None:
    endpoint.fail_next("http_429")

    response = invoke(sqs_event(("m-1", body(notification("n-1")))))

    assert failed_ids(response) == []
    assert endpoint.attempts == 2
    assert len(endpoint.received) == 1


def test_slack_not_answering_in_time_fails_the_record(
    endpoint: SlackEndpoint, monkeypatch: pytest.MonkeyPatch, invoke: Invoke
) -> None:
    monkeypatch.setenv(Env.SLACK_TIMEOUT_SECONDS, "0.2")
    endpoint.fail_next("timeout")

    response = invoke(sqs_event(("m-1", body(notification("n-1"))), ("m-2", body(notification("n-2", name="dogs")))))

    assert failed_ids(response) == ["m-1"]
    assert len(endpoint.received) == 1
    retry = invoke(sqs_event(("m-1", body(notification("n-1")))))
    assert failed_ids(retry) == []
    assert len(endpoint.received) == 2


@pytest.mark.parametrize(
    "malformed",
    [
        "not json at all",
        "[1, 2, 3]",
        json.dumps({"schema": 1, "id": "n-9"}),
        json.dumps(notification("n-9").to_document() | {"schema": 99}),
        json.dumps(notification("n-9").to_document() | {"event_type": "exploded"}),
        json.dumps(notification("n-9").to_document() | {"id": ""}),
    ],
)
def test_a_malformed_body_is_logged_and_skipped_not_retried(
    endpoint: SlackEndpoint, lambda_log: io.StringIO, malformed: str, invoke: Invoke
) -> None:
    event = sqs_event(("m-bad", malformed), ("m-good", body(notification("n-1"))))

    response = invoke(event)

    assert failed_ids(response) == []
    assert len(endpoint.received) == 1
    skipped = [line for line in log_lines(lambda_log) if line["message"] == "Skipping a malformed notification"]
    assert [(line["level"], line["message_id"]) for line in skipped] == [("ERROR", "m-bad")]
    assert skipped[0]["error"]


def test_the_secret_may_hold_json_with_the_webhook_url(aws_env: None, invoke: Invoke) -> None:
    with SlackEndpoint() as endpoint:
        secret = json.dumps({"webhook_url": endpoint.url})
        boto3.client("secretsmanager").create_secret(Name=SECRET_NAME, SecretString=secret)

        response = invoke(sqs_event(("m-1", body(notification("n-1")))))

        assert failed_ids(response) == []
        assert len(endpoint.received) == 1


@pytest.mark.parametrize("secret", ["http://hooks.example.com/services/T/B/X", "ftp://x", '{"url": "x"}', "{oops"])
def test_a_secret_without_a_usable_url_is_a_setup_error(aws_env: None, secret: str, invoke: Invoke) -> None:
    """The message is kept for a retry, and the invocation fails so that the notifier-errors alarm fires."""
    boto3.client("secretsmanager").create_secret(Name=SECRET_NAME, SecretString=secret)

    with pytest.raises(RuntimeError, match="Slack refused gtwatch's setup: the webhook secret") as raised:
        invoke(sqs_event(("m-1", body(notification("n-1")))))
    assert secret not in str(raised.value)


@pytest.mark.parametrize("variable", [Env.SLACK_WEBHOOK_SECRET, Env.TABLE_NAME])
def test_a_missing_setting_fails_with_its_variable_name(
    aws_env: None, monkeypatch: pytest.MonkeyPatch, variable: str, invoke: Invoke
) -> None:
    monkeypatch.delenv(variable)

    with pytest.raises(SettingsError, match=variable):
        invoke(sqs_event(("m-1", body(notification("n-1")))))


def test_the_webhook_url_never_reaches_the_logs(
    endpoint: SlackEndpoint,
    caplog: pytest.LogCaptureFixture,
    lambda_log: io.StringIO,
    monkeypatch: pytest.MonkeyPatch,
    invoke: Invoke,
) -> None:
    caplog.set_level(logging.DEBUG)
    monkeypatch.setenv(Env.SLACK_TIMEOUT_SECONDS, "0.2")
    endpoint.fail_next("http_500")
    invoke(sqs_event(("m-1", body(notification("n-1"))), ("m-2", body(notification("n-2", name="dogs")))))
    endpoint.fail_next("timeout")
    invoke(sqs_event(("m-1", body(notification("n-1")))))
    endpoint.fail_next("http_429")
    invoke(sqs_event(("m-1", body(notification("n-1")))))

    assert len(endpoint.received) == 2
    token = endpoint.url.rsplit("/", 1)[1]
    rendered = caplog.text + lambda_log.getvalue()
    assert "Posted to Slack" in rendered
    assert "Record processing exception" in rendered
    assert endpoint.url not in rendered
    assert token not in rendered


def test_a_failed_post_names_status_and_body_but_not_the_url(endpoint: SlackEndpoint) -> None:
    endpoint.fail_next("http_500")

    with pytest.raises(SlackPostError) as raised:
        slack_client.post(endpoint.url, {"text": "hello"}, timeout=2)

    assert "500" in str(raised.value)
    assert "internal_error" in str(raised.value)
    assert endpoint.url not in str(raised.value)


def test_the_endpoint_refuses_what_slack_refuses(endpoint: SlackEndpoint) -> None:
    refused: list[tuple[dict[str, Any], str]] = [
        ({"username": "gtwatch"}, "no_text"),
        ({"text": "", "blocks": []}, "no_text"),
        ({"text": "hi", "blocks": [{"type": "marquee"}]}, "invalid_blocks"),
        ({"blocks": [{"type": "header", "text": {"type": "plain_text", "text": "x" * 151}}]}, "invalid_blocks"),
        ({"blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "x" * 3001}}]}, "invalid_blocks"),
        ({"blocks": [{"type": "section", "fields": [{"type": "mrkdwn", "text": "x"}] * 11}]}, "invalid_blocks"),
        ({"blocks": [{"type": "section", "fields": [{"type": "mrkdwn", "text": "x" * 2001}]}]}, "invalid_blocks"),
        ({"blocks": [{"type": "divider"}] * 51}, "invalid_blocks"),
    ]
    for message, error in refused:
        with pytest.raises(SlackPostError, match=f"400: '{error}'"):
            slack_client.post(endpoint.url, message, timeout=2)
    assert endpoint.received == []
    assert endpoint.attempts == 8


def test_news_released_after_quiet_hours_that_waits_for_its_predecessor_is_not_counted_as_lagging(
    endpoint: SlackEndpoint, invoke: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Held overnight, released at 07:00: a stall of 21:00 and its resumed of 23:00 reach the queue together, the
    # resumed first. Slack has owed them since 07:00, not since the night: waiting a moment is no 30-minute lag.
    from watcher import clock

    monkeypatch.setenv(Env.SLACK_LAG_ALARM_SECONDS, "1800")
    clock.set_clock(lambda: NOW)
    night = NOW - timedelta(hours=10)
    resumed = notification(
        "n-2", event_type=EventType.RESUMED, occurred_at=night, sequence=2, held_until=NOW - timedelta(minutes=1)
    )
    try:
        response = invoke(sqs_event(("m-2", body(resumed))))
    finally:
        clock.set_clock(None)

    assert failed_ids(response) == ["m-2"]  # waits for the stall, without failing the invocation (the alarm)
    assert endpoint.received == []


def test_a_failure_that_is_not_slacks_fails_the_invocation_for_its_alarm_and_keeps_the_message(
    endpoint: SlackEndpoint, invoke: Invoke
) -> None:
    # The delivery ledger cannot be read (here: the table is gone; in AWS: throttled, or refused by IAM). Retrying
    # quietly for a day would hide it: the invocation fails, which is what the notifier-errors alarm counts.
    boto3.client("dynamodb").delete_table(TableName=TABLE_NAME)

    with pytest.raises(RuntimeError, match=r"^Slack delivery failed: ResourceNotFoundException"):
        invoke(sqs_event(("m-1", body(notification("n-1")))))

    assert endpoint.received == []
