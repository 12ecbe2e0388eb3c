"""The Slack delivery rules on in-memory fakes of its ports (tests/fakes/slack.py): each job's notifications in
order per destination, each once per destination through lost answers, the waiting rules as values, quiet hours'
held news per destination, the digest's parts once and in order, redrive, and the test notification tried once."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from watcher.domain.digest import SlackDigest
from watcher.domain.model import EventType, JobStatus, LabelCounters, LabelingJob, Notification, Progress
from watcher.domain.slack_outcomes import Delivered, Dropped, Failed, Misconfigured, RejectedForGood, RetryIn
from watcher.domain.slack_ports import SlackDestination
from watcher.domain.slack_routes import WEBHOOK_DESTINATION, Route
from watcher.usecases.slack_delivery import (
    DRAINING_WAIT,
    ROUTE_ATTRIBUTE,
    WAKE_MARGIN,
    Attempt,
    Notifier,
    deliver_message,
)

from tests.fakes.slack import FakeLedgers, FakeQueue, FakeSlack, NoLookup

NOW = datetime(2026, 4, 1, 9, 0, tzinfo=UTC)
LABELING = Route("#labeling", frozenset({"stalled", "resumed", "failed"}))
ONCALL = Route("#ml-oncall", frozenset({"stalled", "failed"}))
ROUTES = (LABELING, ONCALL)


def notification(sequence: int, event_type: EventType, name: str = "cats", **extra: Any) -> Notification:
    status = JobStatus.FAILED if event_type is EventType.FAILED else JobStatus.IN_PROGRESS
    job = LabelingJob(
        region="us-east-1",
        name=name,
        arn=f"arn:aws:sagemaker:us-east-1:123456789012:labeling-job/{name}",
        status=status,
        counters=LabelCounters(total_labeled=sequence, human_labeled=sequence, unlabeled=10),
        creation_time=NOW - timedelta(hours=1),
        last_modified_time=NOW,
    )
    return Notification(
        id=f"us-east-1:{name}:{event_type.value}:{sequence}",
        event_type=event_type,
        job=job,
        occurred_at=NOW + timedelta(minutes=sequence),
        progress=Progress(done=sequence, total=10, human_labeled=sequence, machine_labeled=0, failed=0),
        stream=f"us-east-1#{name}#{NOW.isoformat()}",
        sequence=sequence,
        **extra,
    )


STALLED = notification(1, EventType.STALLED)
RESUMED = notification(2, EventType.RESUMED)
FAILED = notification(3, EventType.FAILED)


class World:
    """The ports' fakes and a way to offer one message to delivery, as the notifier would."""

    def __init__(self, *, threads: bool = True, routes: tuple[Route, ...] = ROUTES) -> None:
        self.slack = FakeSlack(threads=threads)
        self.ledgers = FakeLedgers()
        self.queue = FakeQueue()
        self.destination: SlackDestination = self.slack
        self.notifier = Notifier(routes, self.ledgers, self.queue, destination=lambda: self.destination)
        self.minute = 5

    def offer(
        self, item: Notification | SlackDigest, *, receives: int = 1, redriven_to: str | None = None, **rules: Any
    ) -> Any:
        now = NOW + timedelta(minutes=self.minute)
        attempt = Attempt.of(f"invocation-{self.minute}", now, receives, lambda: 900_000)
        return deliver_message(item, replace(self.notifier, **rules), attempt, redriven_to=redriven_to)


def posted_twice(slack: FakeSlack) -> dict[tuple[str, str | None, str | None], int]:
    """Any notification shown twice in the same place: the safeguard `once` is broken."""
    shown = Counter((s.channel_id, s.thread_ts, s.notification_id) for s in slack.shown)
    return {key: count for key, count in shown.items() if count > 1}


def out_of_order(slack: FakeSlack, channel: str, expected: list[Notification]) -> bool:
    """Whether `channel` shows the job's notifications in another order than the job's."""
    return slack.in_channel(channel) != [n.id for n in expected]


def test_a_later_notification_waits_for_its_predecessor_in_every_destination() -> None:
    world = World()

    assert isinstance(world.offer(RESUMED), RetryIn)
    assert world.offer(STALLED) == Delivered()
    assert world.offer(RESUMED) == Delivered()

    assert not out_of_order(world.slack, "#labeling", [STALLED, RESUMED])
    assert not out_of_order(world.slack, "#ml-oncall", [STALLED])  # resumed does not go there
    [root] = [s for s in world.slack.shown if s.channel_id == "C-labeling" and s.thread_ts is None]
    assert [s.thread_ts for s in world.slack.shown if s.channel_id == "C-labeling"] == [None, root.ts]


def test_a_delivery_that_ignores_the_ledgers_order_is_caught() -> None:
    world = World()

    world.offer(RESUMED, in_turn=False)
    world.offer(STALLED, in_turn=False)

    assert out_of_order(world.slack, "#labeling", [STALLED, RESUMED])


@pytest.mark.parametrize("lost", ["root", "reply"])
def test_a_post_whose_answer_was_lost_is_looked_up_not_posted_twice(lost: str) -> None:
    world = World()
    if lost == "reply":
        world.offer(STALLED)
    item = STALLED if lost == "root" else RESUMED
    world.slack.fail_next("lost")

    assert isinstance(world.offer(item), RetryIn)
    assert world.offer(item, receives=2) == Delivered()

    assert posted_twice(world.slack) == {}
    assert world.slack.lookups >= 1


def test_without_the_lookup_a_lost_answer_shows_the_message_twice_and_is_caught() -> None:
    world = World()
    world.destination = NoLookup(world.slack)
    world.slack.fail_next("lost")

    world.offer(STALLED)
    world.offer(STALLED, receives=2)

    assert posted_twice(world.slack) == {("C-labeling", None, STALLED.id): 2}


def test_a_webhook_cannot_look_a_lost_post_up_and_shows_it_again() -> None:
    """The documented limit of webhook mode: after a lost answer the message may show twice."""
    world = World(threads=False, routes=(Route(WEBHOOK_DESTINATION, frozenset({"stalled"})),))
    world.slack.fail_next("lost")

    world.offer(STALLED)
    assert world.offer(STALLED, receives=2) == Delivered()

    assert world.slack.in_channel(WEBHOOK_DESTINATION) == [STALLED.id, STALLED.id]


@pytest.mark.parametrize("failure", ["down", "rate_limited"])
def test_slack_not_taking_a_message_backs_off_and_the_job_waits_just_behind_it(failure: Any) -> None:
    world = World()
    world.slack.fail_next(failure)

    first = world.offer(STALLED, receives=3)
    waiting = world.offer(RESUMED)

    assert first == RetryIn(240, first.reason)  # 1, 2, 4 minutes...
    # The later message comes back just after its predecessor's next try, not by its own back-off.
    assert waiting == RetryIn(240 + int(WAKE_MARGIN.total_seconds()), waiting.reason)
    assert world.slack.shown == []


def test_a_message_whose_predecessor_the_ledger_has_not_seen_backs_off_by_itself() -> None:
    world = World()

    assert [world.offer(FAILED, receives=r).seconds for r in (1, 2, 3, 4, 5, 9)] == [30, 60, 120, 240, 300, 300]


def test_a_backlog_drains_behind_its_first_message() -> None:
    world = World()
    world.offer(STALLED)
    world.minute += 1

    # The job's delivery moved on a minute ago: its next-but-one message looks again soon.
    assert world.offer(FAILED, receives=7) == RetryIn(
        int(DRAINING_WAIT.total_seconds()), "waiting for notification 2 of this job"
    )


def test_a_conflicting_write_means_another_invocation_is_at_it() -> None:
    world = World()
    world.ledgers.interfere = lambda ledgers: ledgers.save(ledgers.get(STALLED.stream), NOW)

    outcome = world.offer(STALLED)

    assert outcome == RetryIn(
        int(DRAINING_WAIT.total_seconds()), "another invocation changed this job's delivery first"
    )
    assert world.slack.shown == []


def test_news_held_for_quiet_hours_is_owed_per_destination_and_shown_in_order() -> None:
    world = World()
    window_end = NOW + timedelta(hours=2)
    held = replace(STALLED, held_until=window_end)

    assert world.offer(held) == Delivered()  # held everywhere: nothing shown, owed in both channels
    assert world.slack.shown == []
    assert isinstance(world.offer(RESUMED), RetryIn)  # #labeling owes the stalled one first

    # The watcher sends the held one again ahead of the resumed news, which reaches #labeling only.
    assert world.offer(replace(held, released_by=frozenset({"resumed"}))) == Delivered()
    assert world.offer(RESUMED) == Delivered()
    assert world.slack.in_channel("#ml-oncall") == []

    world.minute = 125  # the window ended: the watcher sends it again for the channels that still owe it
    assert world.offer(held) == Delivered()
    assert world.offer(held) == Delivered()

    assert world.slack.in_channel("#ml-oncall") == [STALLED.id]
    assert world.slack.in_channel("#labeling") == [STALLED.id, RESUMED.id]
    assert posted_twice(world.slack) == {}


def test_news_muted_before_it_is_shown_is_not_shown_and_the_job_moves_on() -> None:
    world = World()

    assert world.offer(STALLED, silenced=lambda n, at: n.event_type is EventType.STALLED) == Delivered()
    assert world.offer(RESUMED) == Delivered()

    assert world.slack.in_channel("#labeling") == [RESUMED.id]


def test_a_message_slack_rejects_for_good_is_dead_lettered_there_and_the_job_moves_on() -> None:
    world = World()
    world.slack.fail_next("rejected")

    outcome = world.offer(STALLED)

    assert isinstance(outcome, RejectedForGood) and "msg_too_long" in outcome.reason
    [(body, attributes)] = world.queue.dead_letters
    assert body["id"] == STALLED.id
    assert attributes[ROUTE_ATTRIBUTE] == "#labeling" and "msg_too_long" in attributes["error"]
    assert world.slack.in_channel("#ml-oncall") == [STALLED.id]
    assert world.offer(RESUMED) == Delivered()


def test_a_setup_error_is_misconfigured_and_retried() -> None:
    world = World()
    world.slack.fail_next("misconfigured")

    assert world.offer(STALLED, receives=2) == Misconfigured("Slack refused chat.postMessage: not_in_channel", 120)


def test_a_failure_that_is_not_slacks_is_failed_and_says_when_the_message_lags() -> None:
    world = World()
    world.ledgers.broken = OSError("DynamoDB unreachable")
    world.minute = 45

    outcome = world.offer(STALLED)

    assert outcome == Failed("OSError: DynamoDB unreachable", 60, f"{STALLED.id} waited 44 min")


def digest(parts: int) -> SlackDigest:
    base = SlackDigest("digest#2026-04-01", NOW, (), "#labeling")
    messages = tuple(
        {
            "text": f"part {n}",
            "metadata": {"event_type": "digest", "event_payload": {"notification_id": base.message_id(n)}},
        }
        for n in range(1, parts + 1)
    )
    return replace(base, messages=messages)


def test_the_digests_parts_are_shown_once_and_in_order_through_a_lost_answer() -> None:
    world = World()
    three = digest(3)
    world.slack.fail_next("down")  # part 1 not taken
    assert isinstance(world.offer(three), RetryIn)
    world.slack.fail_next("lost")  # part 1 shown, its answer lost
    assert isinstance(world.offer(three, receives=2), RetryIn)

    assert world.offer(three, receives=3) == Delivered()
    assert world.offer(three, receives=4) == Delivered()  # a duplicate of the message: nothing more

    assert world.slack.in_channel("#labeling") == [three.message_id(n) for n in (1, 2, 3)]


def test_a_redriven_message_goes_to_its_one_destination_in_the_jobs_thread() -> None:
    world = World()
    world.offer(STALLED)

    assert world.offer(RESUMED, redriven_to="#ml-oncall") == Delivered()
    assert world.offer(RESUMED, redriven_to="#gone") == Dropped("#gone is no longer configured")

    [root, reply] = [s for s in world.slack.shown if s.channel_id == "C-ml-oncall"]
    assert reply.notification_id == RESUMED.id and reply.thread_ts == root.ts


def test_a_test_notification_is_tried_once_per_destination() -> None:
    world = World()
    test = replace(STALLED, event_type=EventType.TEST, stream="", sequence=0)
    world.slack.fail_next("down")  # #labeling does not take it: not tried again

    assert world.offer(test) == Delivered()
    world.slack.fail_next("misconfigured")
    assert world.offer(test) == Misconfigured("#labeling: Slack refused chat.postMessage: not_in_channel", None)

    assert world.slack.in_channel("#ml-oncall") == [test.id, test.id]
    assert world.slack.in_channel("#labeling") == []
