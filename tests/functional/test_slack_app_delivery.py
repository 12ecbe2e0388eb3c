"""The Slack notifier in app mode, on moto and the local Slack's Web API: a thread per job, routes and mentions,
order per job, nothing twice through lost answers, and Slack's own errors sorted into retry, dead letter, alarm."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from watcher import clock
from watcher.domain.env import Env
from watcher.domain.model import EventType, JobStatus, LabelCounters, LabelingJob, Notification, Progress
from watcher.domain.slack_routes import Route
from watcher.handlers import slack_handler
from watcher.usecases.slack_delivery import retry_delay_seconds

from gtwatch.sim.emulator import deployment
from gtwatch.sim.emulator.deployment import FakeLambdaContext, Resources
from gtwatch.sim.slack_endpoint import SlackEndpoint
from tests.fakes.slack import Oversized

NOW = datetime(2026, 4, 1, 9, 0, tzinfo=UTC)
ROUTES = (
    Route("#labeling", frozenset({"completed", "failed", "stopped", "stalled", "resumed"})),
    Route("#ml-oncall", frozenset({"failed"}), name_contains="prod", mention="<!subteam^S0ABC123|ml-oncall>"),
)
STREAM = f"us-east-1#prod-cats#{NOW.isoformat()}"


def notification(sequence: int, event_type: EventType, status: JobStatus, name: str = "prod-cats") -> Notification:
    job = LabelingJob(
        region="us-east-1",
        name=name,
        arn=f"arn:aws:sagemaker:us-east-1:123456789012:labeling-job/{name}",
        status=status,
        counters=LabelCounters(total_labeled=10 * sequence, human_labeled=10 * sequence, unlabeled=100),
        creation_time=NOW - timedelta(hours=1),
        last_modified_time=NOW,
        failure_reason="ClientError: <!channel> the manifest is gone" if status is JobStatus.FAILED else None,
    )
    return Notification(
        id=f"us-east-1:{name}:{event_type.value}:{sequence}",
        event_type=event_type,
        job=job,
        occurred_at=NOW + timedelta(minutes=sequence),
        progress=Progress(
            done=10 * sequence, total=100 + 10 * sequence, human_labeled=10 * sequence, machine_labeled=0, failed=0
        ),
        stream=f"us-east-1#{name}#{NOW.isoformat()}",
        sequence=sequence,
    )


STALLED = notification(1, EventType.STALLED, JobStatus.IN_PROGRESS)
RESUMED = notification(2, EventType.RESUMED, JobStatus.IN_PROGRESS)
FAILED = notification(3, EventType.FAILED, JobStatus.FAILED)


class Notifier:
    def __init__(self, slack: SlackEndpoint, resources: Resources) -> None:
        self.slack, self.resources = slack, resources
        self.sqs = deployment.client("sqs")
        self.count = 0
        self.handler = slack_handler.lambda_handler

    def deliver(self, *items: Notification, receives: int = 1) -> list[str]:
        """Invoke the notifier with these messages; returns the ids of those it failed (to be retried)."""
        records = []
        for item in items:
            self.count += 1
            records.append(
                {
                    "messageId": f"m-{self.count}",
                    "receiptHandle": f"r-{self.count}",
                    "body": json.dumps(item.to_document()),
                    "attributes": {"ApproximateReceiveCount": str(receives)},
                    "messageAttributes": {},
                    "eventSource": "aws:sqs",
                }
            )
        try:
            response = self.handler({"Records": records}, FakeLambdaContext("gtwatch-slack-notifier"))
        except RuntimeError:
            return [str(record["messageId"]) for record in records]
        return [str(failure["itemIdentifier"]) for failure in response["batchItemFailures"]]

    def dead_letters(self) -> list[dict[str, Any]]:
        letters: list[dict[str, Any]] = self.sqs.receive_message(
            QueueUrl=self.resources.dead_letter_queue_url, MaxNumberOfMessages=10, MessageAttributeNames=["All"]
        ).get("Messages", [])
        return letters


@pytest.fixture
def notifier(deploy: Callable[..., Resources]) -> Iterator[Notifier]:
    with SlackEndpoint(timeout_hold_seconds=1.5, clock=lambda: clock.now().timestamp()) as slack:
        clock.set_clock(lambda: NOW + timedelta(minutes=5))
        resources = deploy(
            slack_events=(),
            email_events=(),
            app_slack=slack,
            routes=ROUTES,
            handler_env={Env.SLACK_TIMEOUT_SECONDS: "1"},
        )
        yield Notifier(slack, resources)


def actions(slack: SlackEndpoint) -> list[tuple[str, str, str | None]]:
    return [
        (action.action, action.channel_name, (action.metadata or {}).get("event_payload", {}).get("event"))
        for action in slack.actions
    ]


def test_a_job_gets_one_root_per_channel_with_replies_and_the_root_kept_current(notifier: Notifier) -> None:
    assert notifier.deliver(STALLED) == []
    assert notifier.deliver(RESUMED) == []
    assert notifier.deliver(FAILED) == []

    assert actions(notifier.slack) == [
        ("post", "#labeling", "stalled"),
        ("reply", "#labeling", "resumed"),
        ("update", "#labeling", "resumed"),
        ("reply", "#labeling", "failed"),
        ("update", "#labeling", "failed"),
        ("post", "#ml-oncall", "failed"),
    ]
    [root] = [m for m in notifier.slack.messages("#labeling") if m.get("thread_ts") in (None, m["ts"])][:1]
    assert root["metadata"]["event_payload"]["event"] == "failed"  # the root shows the job's latest state
    failed_reply = notifier.slack.actions[3]
    assert failed_reply.payload["reply_broadcast"] is True
    oncall = notifier.slack.actions[5].payload
    assert oncall["text"].startswith("<!subteam^S0ABC123|ml-oncall> ")
    assert "<!channel>" not in json.dumps(notifier.slack.actions[3].payload)  # SageMaker's text never pings


def test_a_later_notification_waits_for_the_earlier_one_of_its_job(notifier: Notifier) -> None:
    assert notifier.deliver(RESUMED) == ["m-1"]  # stalled has not gone out yet
    assert notifier.slack.actions == []
    assert notifier.deliver(STALLED) == []
    assert notifier.deliver(RESUMED) == []
    assert [a[2] for a in actions(notifier.slack)] == ["stalled", "resumed", "resumed"]


def test_a_redelivered_message_is_not_posted_again(notifier: Notifier) -> None:
    assert notifier.deliver(STALLED) == []
    assert notifier.deliver(STALLED, receives=2) == []
    assert actions(notifier.slack) == [("post", "#labeling", "stalled")]


@pytest.mark.parametrize("which", ["root", "reply"])
def test_a_post_whose_answer_was_lost_is_found_not_posted_twice(notifier: Notifier, which: str) -> None:
    # Another job's message first, so that the channel's id is known and the lost call is the post itself.
    assert notifier.deliver(notification(1, EventType.STALLED, JobStatus.IN_PROGRESS, name="dogs")) == []
    if which == "reply":
        assert notifier.deliver(STALLED) == []
    lost = STALLED if which == "root" else RESUMED
    notifier.slack.fail_next("lost_response")

    assert len(notifier.deliver(lost)) == 1
    assert notifier.deliver(lost, receives=2) == []

    carried = [(a.action, (a.metadata or {}).get("event_payload", {})) for a in notifier.slack.actions]
    posted = [action for action, item in carried if action != "update" and item.get("notification_id") == lost.id]
    assert posted == ["post" if which == "root" else "reply"]


def test_a_message_slack_rejects_for_good_is_dead_lettered_for_that_channel_and_the_job_moves_on(
    notifier: Notifier,
) -> None:
    # The stalled message is too long for Slack (msg_too_long), as a destination that pads it makes it.
    notifier.handler = slack_handler.handler(
        lambda wired: replace(wired, destination=lambda: Oversized(wired.destination(), STALLED.id))
    )

    assert notifier.deliver(STALLED) == []
    assert notifier.deliver(RESUMED) == []

    [letter] = notifier.dead_letters()
    assert letter["MessageAttributes"]["gtwatch_route"]["StringValue"] == "#labeling"
    assert "msg_too_long" in letter["MessageAttributes"]["error"]["StringValue"]
    assert actions(notifier.slack) == [("post", "#labeling", "resumed")]


@pytest.mark.parametrize("setup_error", ["revoked token", "bot not in channel"])
def test_a_setup_error_keeps_the_message_and_fails_the_invocation_for_the_alarm(
    notifier: Notifier, setup_error: str
) -> None:
    if setup_error == "revoked token":
        notifier.slack.revoke_token()
    else:
        notifier.slack.set_member("#labeling", False)

    with pytest.raises(RuntimeError, match=r"token_revoked|not_in_channel"):
        slack_handler.lambda_handler(
            {
                "Records": [
                    {
                        "messageId": "m-1",
                        "receiptHandle": "r",
                        "body": json.dumps(STALLED.to_document()),
                        "attributes": {"ApproximateReceiveCount": "1"},
                        "messageAttributes": {},
                        "eventSource": "aws:sqs",
                    }
                ]
            },
            FakeLambdaContext("gtwatch-slack-notifier"),
        )
    assert notifier.dead_letters() == []


def test_the_retry_delay_backs_off_to_ten_minutes_at_most() -> None:
    delays = [retry_delay_seconds(receives) for receives in range(1, 9)]
    assert delays == [60, 120, 240, 480, 600, 600, 600, 600]
    # After a day-long outage the next attempt is at most ten minutes away: well within 30 minutes of recovery.
    assert max(retry_delay_seconds(receives) for receives in range(1, 1000)) == 600


def test_another_job_is_not_held_up_by_a_waiting_one(notifier: Notifier) -> None:
    other = replace(
        notification(1, EventType.STALLED, JobStatus.IN_PROGRESS, name="dogs"),
    )
    assert notifier.deliver(RESUMED, other) == ["m-1"]
    assert actions(notifier.slack) == [("post", "#labeling", "stalled")]
