"""Quiet hours in Slack app mode, on the notifier: a held notification that the watcher sends ahead (a later one of
its job is not held) is shown only in the channels that later one reaches; the others get it when the window ends."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import timedelta

import pytest
from watcher import clock
from watcher.adapters.mute import MuteStore
from watcher.domain.model import EventType, JobStatus, Notification
from watcher.domain.mute_rules import Mute
from watcher.domain.slack_routes import Route

from gtwatch.sim.emulator import deployment
from gtwatch.sim.emulator.deployment import Resources
from gtwatch.sim.slack_endpoint import SlackEndpoint
from tests.functional.test_slack_app_delivery import NOW, Notifier, actions, notification

ROUTES = (
    Route("#all", frozenset({"stalled", "resumed", "completed"})),
    Route("#oncall", frozenset({"failed", "stalled"}), name_contains="prod"),
)
IN_THE_WINDOW = NOW + timedelta(minutes=5)
WINDOW_END = NOW + timedelta(hours=1)

STALLED = notification(1, EventType.STALLED, JobStatus.IN_PROGRESS)
FAILED = notification(2, EventType.FAILED, JobStatus.FAILED)
RESUMED = notification(2, EventType.RESUMED, JobStatus.IN_PROGRESS)


def ahead(item: Notification, *released_by: str) -> Notification:
    """`item` as the watcher sends it while quiet hours still hold it, with later news of `released_by` types."""
    return replace(item, held_until=WINDOW_END, released_by=frozenset(released_by))


@pytest.fixture
def notifier(deploy: Callable[..., Resources]) -> Iterator[Notifier]:
    with SlackEndpoint(clock=lambda: clock.now().timestamp()) as slack:
        clock.set_clock(lambda: IN_THE_WINDOW)
        resources = deploy(slack_events=(), email_events=(), app_slack=slack, routes=ROUTES)
        yield Notifier(slack, resources)


def posted(notifier: Notifier) -> list[tuple[str, str | None]]:
    return [(channel, event) for action, channel, event in actions(notifier.slack) if action != "update"]


def test_a_held_stall_sent_ahead_of_a_failure_is_shown_only_where_the_failure_goes(notifier: Notifier) -> None:
    assert notifier.deliver(ahead(STALLED, "failed"), FAILED) == []
    assert posted(notifier) == [("#oncall", "stalled"), ("#oncall", "failed")]

    clock.set_clock(lambda: WINDOW_END)  # The watcher sends it again when the window ends: now #all gets it.
    assert notifier.deliver(STALLED) == []
    assert notifier.deliver(STALLED, receives=2) == []  # and only once
    assert posted(notifier) == [("#oncall", "stalled"), ("#oncall", "failed"), ("#all", "stalled")]


def test_a_later_notification_for_a_channel_waits_for_the_held_one_there(notifier: Notifier) -> None:
    assert notifier.deliver(ahead(STALLED)) == []  # released by a muted notification: shown nowhere yet
    assert posted(notifier) == []

    # The job resumes, not held: #all takes it, so the watcher sends the stall ahead again, now released there.
    [waiting] = notifier.deliver(RESUMED)
    assert waiting == "m-2" and posted(notifier) == []
    assert notifier.deliver(ahead(STALLED, "resumed"), RESUMED) == []
    assert posted(notifier) == [("#all", "stalled"), ("#all", "resumed")]


def test_a_held_notification_muted_before_the_window_ends_is_never_shown_and_holds_nothing_up(
    notifier: Notifier,
) -> None:
    assert notifier.deliver(ahead(STALLED)) == []
    clock.set_clock(lambda: WINDOW_END)
    assert notifier.deliver(replace(STALLED, muted=True)) == []
    assert notifier.deliver(RESUMED) == []
    assert posted(notifier) == [("#all", "resumed")]


def test_a_failure_muted_before_slack_shows_it_releases_nothing(notifier: Notifier) -> None:
    # The watcher sent the held stall ahead of the failure; the job is muted for failures before the notifier runs.
    MuteStore(deployment.client("dynamodb"), notifier.resources.table_name).put(
        Mute(region="us-east-1", name="prod-cats", until=WINDOW_END, events=frozenset({"failed"}))
    )

    assert notifier.deliver(ahead(STALLED, "failed"), FAILED) == []

    # The failure is not said, so the stall is not let out in the night either: it waits for the window's end.
    assert posted(notifier) == []
    clock.set_clock(lambda: WINDOW_END)
    assert notifier.deliver(STALLED) == []
    assert posted(notifier) == [("#all", "stalled"), ("#oncall", "stalled")]
