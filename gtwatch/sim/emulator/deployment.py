"""gtwatch deployed on the local emulator: the stack's resources in moto, the handlers' environment, a fake context.

The resources mirror the CDK stack (tables, topic, Slack queue and its dead-letter queue, email subscription,
webhook secret), with the same filter policies, so that the handlers run unchanged.
"""

from __future__ import annotations

import json
import os
import socket
import urllib.request
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from typing import Any, Literal, cast
from unittest import mock

from aws_lambda_powertools.utilities.typing import LambdaContext
from moto import mock_aws
from watcher import container
from watcher.adapters import aws
from watcher.domain.contract import (
    ACTIVE_INDEX_KEY,
    ACTIVE_INDEX_NAME,
    ALL_CHANNELS,
    CHANNEL_ATTRIBUTE,
    DEFAULT_KINDS,
    EVENT_TYPE_ATTRIBUTE,
    EVENT_TYPES,
    SLACK_DEAD_LETTER_RETENTION_SECONDS,
    SLACK_HTTP_TIMEOUT_SECONDS,
    SLACK_MAX_RECEIVE_COUNT,
    SLACK_MAX_RETRY_AFTER_SECONDS,
    SLACK_QUEUE_RETENTION_SECONDS,
    SLACK_QUEUE_VISIBILITY_SECONDS,
    TABLE_PARTITION_KEY,
    TEST_EVENT_TYPE,
    TTL_ATTRIBUTE,
)
from watcher.domain.env import LAMBDA_REGION, Env

from . import cloudformation, email, sagemaker_jobs
from .labeling_jobs import DEFAULT_ACCOUNT_ID

EmulatorMode = Literal["inprocess", "server"]

REGION = "us-east-1"
ACCOUNT_ID = DEFAULT_ACCOUNT_ID
EMAIL_ADDRESS = "ml-team@example.com"
MAX_RECEIVES = SLACK_MAX_RECEIVE_COUNT  # The Slack queue's redrive policy, as in the stack.
VISIBILITY_TIMEOUT_SECONDS = SLACK_QUEUE_VISIBILITY_SECONDS


@dataclass(frozen=True)
class Routing:
    """Where notifications go: email by event type (the subscription's filter policy), Slack as the notifier
    routes them (the webhook for `slack_events`, or the app mode `routes` as their JSON)."""

    slack_events: tuple[str, ...]
    email_events: tuple[str, ...]
    slack_mode: str = "webhook"
    slack_routes_json: str | None = None


@dataclass(frozen=True)
class Resources:
    table_name: str
    topic_arn: str
    slack_queue_url: str
    slack_queue_arn: str
    dead_letter_queue_url: str
    secret_name: str


class FakeLambdaContext(LambdaContext):
    """A Lambda context as the runtime passes it, with the attributes the handlers and Powertools read."""

    def __init__(self, function_name: str) -> None:
        self._function_name = function_name
        self._function_version = "$LATEST"
        self._memory_limit_in_mb = 256
        self._invoked_function_arn = f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{function_name}"
        self._aws_request_id = "00000000-0000-0000-0000-000000000000"
        self._log_group_name = f"/aws/lambda/{function_name}"
        self._log_stream_name = "local"

    @staticmethod
    def get_remaining_time_in_millis() -> int:
        return 60_000


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def deployed(
    *,
    mode: EmulatorMode,
    routing: Routing,
    slack_webhook_url: str,
    handler_env: dict[str, str],
    slack_api_url: str | None = None,
    slack_bot_token: str | None = None,
    port: int | None = None,
) -> Iterator[Resources]:
    """Start the emulator, create the stack's resources and point the handlers at them, for the block's span.

    In server mode the emulator listens on loopback at `port` (default: a free one); OSError when it cannot."""
    sagemaker_jobs.install()  # labeling jobs and the other kinds
    email.install()
    base_env = {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": REGION,
        LAMBDA_REGION: REGION,
        "POWERTOOLS_SERVICE_NAME": "gtwatch",
        "POWERTOOLS_METRICS_NAMESPACE": "Gtwatch",
        # Metrics are EMF lines on standard output, which the replay keeps for notifications.
        "POWERTOOLS_METRICS_DISABLED": "true",
    }
    with ExitStack() as stack:
        stack.enter_context(mock.patch.dict(os.environ, base_env))
        os.environ.pop("AWS_PROFILE", None)
        if mode == "inprocess":
            stack.enter_context(mock_aws())
        else:
            server = sagemaker_jobs.serve(port=free_port() if port is None else port)
            stack.callback(server.stop)
            host, port = server.get_host_and_port()
            os.environ["AWS_ENDPOINT_URL"] = f"http://{host}:{port}"
            # Server mode keeps moto's state for the life of the process; each deployment starts empty.
            urllib.request.urlopen(urllib.request.Request(f"http://{host}:{port}/moto-api/reset", method="POST"))
        container.reset()
        stack.callback(container.reset)
        email.take()  # Nothing from an earlier run.
        resources = _create_resources(routing, slack_webhook_url)
        os.environ.update(
            {
                # The stack's defaults; the scenario or the test may override them in `handler_env`.
                Env.REGIONS: REGION,
                Env.KINDS: ",".join(DEFAULT_KINDS),
                Env.STALL_AFTER_MINUTES: "60",
                Env.SCHEDULE_MINUTES: "5",
                Env.SLACK_TIMEOUT_SECONDS: str(SLACK_HTTP_TIMEOUT_SECONDS),
                Env.SLACK_MAX_RETRY_AFTER_SECONDS: str(SLACK_MAX_RETRY_AFTER_SECONDS),
                Env.SLACK_LAG_ALARM_SECONDS: "1800",
                "POWERTOOLS_LOG_LEVEL": "INFO",
                Env.TABLE_NAME: resources.table_name,
                Env.TOPIC_ARN: resources.topic_arn,
                Env.SLACK_MODE: routing.slack_mode,
                Env.EMAIL_EVENTS: ",".join(event for event in routing.email_events if event in EVENT_TYPES),
                Env.SLACK_QUEUE_URL: resources.slack_queue_url,
                Env.SLACK_DEAD_LETTER_QUEUE_URL: resources.dead_letter_queue_url,
                **_slack_app_env(routing, slack_api_url, slack_bot_token, resources),
                **handler_env,
            }
        )
        yield resources


def _slack_app_env(
    routing: Routing, api_url: str | None, bot_token: str | None, resources: Resources
) -> dict[str, str]:
    if routing.slack_mode != "app":
        # As the stack: the webhook's secret and events in webhook mode, the routes in app mode.
        return {Env.SLACK_WEBHOOK_SECRET: resources.secret_name, Env.SLACK_EVENTS: ",".join(routing.slack_events)}
    if api_url is None or bot_token is None or routing.slack_routes_json is None:
        raise ValueError("app mode needs the local Slack's API URL, its bot token and the routes")
    token_secret = "gtwatch/slack-bot-token"  # noqa: S105 - a name, not a secret
    client("secretsmanager").create_secret(Name=token_secret, SecretString=bot_token)
    return {
        Env.SLACK_TOKEN_SECRET: token_secret,
        Env.SLACK_ROUTES: routing.slack_routes_json,
        Env.SLACK_API_URL: api_url,
    }


def _create_resources(routing: Routing, slack_webhook_url: str) -> Resources:
    dynamodb = client("dynamodb")
    dynamodb.create_table(
        TableName="gtwatch-state",
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[
            {"AttributeName": TABLE_PARTITION_KEY, "AttributeType": "S"},
            {"AttributeName": ACTIVE_INDEX_KEY, "AttributeType": "S"},
        ],
        KeySchema=[{"AttributeName": TABLE_PARTITION_KEY, "KeyType": "HASH"}],
        GlobalSecondaryIndexes=[
            {
                "IndexName": ACTIVE_INDEX_NAME,
                "KeySchema": [
                    {"AttributeName": ACTIVE_INDEX_KEY, "KeyType": "HASH"},
                    {"AttributeName": TABLE_PARTITION_KEY, "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
    )
    dynamodb.update_time_to_live(
        TableName="gtwatch-state", TimeToLiveSpecification={"Enabled": True, "AttributeName": TTL_ATTRIBUTE}
    )
    sns = client("sns")
    sqs = client("sqs")
    topic_arn = sns.create_topic(Name="gtwatch-notifications")["TopicArn"]
    dlq_url = sqs.create_queue(
        QueueName="gtwatch-slack-dlq",
        Attributes={"MessageRetentionPeriod": str(SLACK_DEAD_LETTER_RETENTION_SECONDS)},
    )["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    queue_url = sqs.create_queue(
        QueueName="gtwatch-slack",
        Attributes={
            "VisibilityTimeout": str(VISIBILITY_TIMEOUT_SECONDS),
            "MessageRetentionPeriod": str(SLACK_QUEUE_RETENTION_SECONDS),
            "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": MAX_RECEIVES}),
        },
    )["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    # Every event type, as in the stack: the notifier routes, and needs every notification of a job to keep its order.
    sns.subscribe(
        TopicArn=topic_arn,
        Protocol="sqs",
        Endpoint=queue_arn,
        Attributes={"RawMessageDelivery": "true", "FilterPolicy": _channel_policy("slack")},
    )
    if routing.email_events:
        sns.subscribe(
            TopicArn=topic_arn,
            Protocol="email",
            Endpoint=EMAIL_ADDRESS,
            Attributes={"FilterPolicy": _filter_policy(routing.email_events)},
        )
    secret_name = "gtwatch/slack-webhook"  # noqa: S105 - a name, not a secret
    client("secretsmanager").create_secret(Name=secret_name, SecretString=slack_webhook_url)
    return Resources(
        table_name="gtwatch-state",
        topic_arn=topic_arn,
        slack_queue_url=queue_url,
        slack_queue_arn=queue_arn,
        dead_letter_queue_url=dlq_url,
        secret_name=secret_name,
    )


def _filter_policy(events: tuple[str, ...]) -> str:
    """As in the stack: the configured events, plus test notifications, which every channel receives; published for
    email (quiet hours may hold one channel and not the other)."""
    return json.dumps({EVENT_TYPE_ATTRIBUTE: [*events, TEST_EVENT_TYPE], CHANNEL_ATTRIBUTE: ["email", ALL_CHANNELS]})


def _channel_policy(channel: str) -> str:
    return json.dumps({CHANNEL_ATTRIBUTE: [channel, ALL_CHANNELS]})


def client(service: str) -> Any:
    """A client for driving the emulator from tooling (separate from the handlers' own clients)."""
    # Any service the tooling drives (CloudFormation, CloudWatch... as well as the handlers' own).
    return cast(Any, aws.client)(service, REGION)


def sqs_record(message: dict[str, Any], queue_arn: str, receives: int | None = None) -> dict[str, Any]:
    """A message received from a queue as Lambda's SQS event source hands it to a function (one Records item)."""
    attributes = message.get("Attributes", {})
    sent = attributes.get("SentTimestamp", "0")
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": {
            "ApproximateReceiveCount": str(receives or attributes.get("ApproximateReceiveCount", "1")),
            "SentTimestamp": sent,
            "SenderId": ACCOUNT_ID,
            "ApproximateFirstReceiveTimestamp": attributes.get("ApproximateFirstReceiveTimestamp", sent),
        },
        "messageAttributes": {
            name: {
                "stringValue": value.get("StringValue"),
                "binaryValue": value.get("BinaryValue"),
                "stringListValues": [],
                "binaryListValues": [],
                "dataType": value["DataType"],
            }
            for name, value in message.get("MessageAttributes", {}).items()
        },
        "md5OfBody": message.get("MD5OfBody", ""),
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": REGION,
    }


def start_watch() -> dict[str, Any]:
    """Deployment: CloudFormation creates the stack's custom resource, whose function records when the watch began."""
    from watcher.handlers import deployment_handler

    return cloudformation.create(
        deployment_handler.lambda_handler,
        FakeLambdaContext("gtwatch-watch-start"),
        region=REGION,
        logical_id="WatchStart",
    )
