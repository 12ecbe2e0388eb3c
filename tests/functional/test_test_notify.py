"""`gtwatch test-notify` in Slack app mode, end to end on the emulator: the command publishes through the topic, the
notifier takes the message from its queue and posts it in every route's channel, whatever events the route takes.

(Webhook mode, end to end, is in test_ops.py beside the command's other tests.)
"""

from __future__ import annotations

import argparse
import io
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from watcher.domain.env import Env
from watcher.domain.slack_routes import Route
from watcher.handlers import slack_handler

from gtwatch.ops import check as ops
from gtwatch.sim.emulator import deployment
from gtwatch.sim.emulator.deployment import FakeLambdaContext, Resources
from gtwatch.sim.slack_endpoint import SlackEndpoint

# Neither route takes a test by its events (or its name filter): test notifications go to every route all the same.
ROUTES = (
    Route("#labeling", frozenset({"completed"})),
    Route("#ml-oncall", frozenset({"failed"}), name_contains="prod", mention="<!subteam^S0ABC123|ml-oncall>"),
)


@dataclass
class AppDeployment:
    resources: Resources
    slack: SlackEndpoint
    out: io.StringIO = field(default_factory=io.StringIO)
    err: io.StringIO = field(default_factory=io.StringIO)

    def test_notify(self) -> int:
        """`gtwatch test-notify --topic-arn <the topic>`, through the parser cli.py builds."""
        parser = argparse.ArgumentParser(prog="gtwatch")
        ops.add_commands(parser.add_subparsers(dest="command", required=True))
        args = parser.parse_args(["test-notify", "--topic-arn", self.resources.topic_arn])
        code: int = args.func(args, out=self.out, err=self.err)
        return code

    def run_notifier(self) -> list[str]:
        """The Slack notifier on what its queue holds, as Lambda's event source invokes it; the ids it failed."""
        messages = deployment.client("sqs").receive_message(
            QueueUrl=self.resources.slack_queue_url, MaxNumberOfMessages=10, AttributeNames=["All"]
        )["Messages"]
        records = [
            {
                "messageId": message["MessageId"],
                "receiptHandle": message["ReceiptHandle"],
                "body": message["Body"],
                "attributes": {"ApproximateReceiveCount": message["Attributes"]["ApproximateReceiveCount"]},
                "messageAttributes": {},
                "eventSource": "aws:sqs",
                "eventSourceARN": self.resources.slack_queue_arn,
            }
            for message in messages
        ]
        response = slack_handler.lambda_handler({"Records": records}, FakeLambdaContext("gtwatch-slack-notifier"))
        return [str(failure["itemIdentifier"]) for failure in response["batchItemFailures"]]

    def posted(self, channel: str) -> list[dict[str, Any]]:
        """The channel's messages, each with the notification its metadata carries."""
        return self.slack.messages(channel)


@pytest.fixture
def app_mode(
    deploy: Callable[..., Resources], aws_environment: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Iterator[AppDeployment]:
    monkeypatch.chdir(tmp_path)  # no cdk.json: the command takes only what it is given
    with SlackEndpoint(timeout_hold_seconds=1.5) as slack:
        resources = deploy(
            slack_events=(),
            email_events=(),
            app_slack=slack,
            routes=ROUTES,
            handler_env={Env.SLACK_TIMEOUT_SECONDS: "1"},
        )
        yield AppDeployment(resources, slack)


def carried(message: dict[str, Any]) -> dict[str, Any]:
    payload: dict[str, Any] = (message.get("metadata") or {}).get("event_payload") or {}
    return payload


def test_test_notify_posts_in_every_routes_channel_in_app_mode(app_mode: AppDeployment) -> None:
    assert app_mode.test_notify() == 0

    (document,) = [json.loads(m["Body"]) for m in _peek(app_mode.resources)]
    # Outside any job's stream: nothing to wait for, so it never holds up (or is held up by) a job's messages.
    assert (document["event_type"], document["stream"], document["sequence"]) == ("test", "", 0)

    assert app_mode.run_notifier() == []

    for route in ROUTES:
        (message,) = app_mode.posted(route.channel)
        assert carried(message)["event"] == "test"
        assert carried(message)["job"] == ops.TEST_JOB_NAME
        assert carried(message)["notification_id"] == document["id"]
        assert "TEST: gtwatch can reach this channel; no job changed" in message["text"]
        assert "thread_ts" not in message  # a message of its own, never a job's card or a reply in a thread
    assert [action.action for action in app_mode.slack.actions] == ["post", "post"]


def test_each_test_notify_posts_again_in_app_mode(app_mode: AppDeployment) -> None:
    assert app_mode.test_notify() == 0
    assert app_mode.run_notifier() == []
    assert app_mode.test_notify() == 0
    assert app_mode.run_notifier() == []

    for route in ROUTES:
        first, second = app_mode.posted(route.channel)
        assert carried(first)["notification_id"] != carried(second)["notification_id"]


def test_test_notify_shows_a_bot_missing_from_a_channel(app_mode: AppDeployment) -> None:
    """The point of the command: a setup error shows now, not at the first failure of a job."""
    app_mode.slack.set_member("#ml-oncall", False)
    assert app_mode.test_notify() == 0

    with pytest.raises(RuntimeError, match="not_in_channel"):  # the invocation fails: the notifier-errors alarm
        app_mode.run_notifier()


def _peek(resources: Resources) -> list[dict[str, Any]]:
    """The queue's messages, left visible for the notifier."""
    messages: list[dict[str, Any]] = deployment.client("sqs").receive_message(
        QueueUrl=resources.slack_queue_url, MaxNumberOfMessages=10, VisibilityTimeout=0
    )["Messages"]
    return messages
