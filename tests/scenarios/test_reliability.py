"""Scenario tests of the reliability promises: faults delay notifications, never lose or duplicate them."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from gtwatch.sim import replay, scenario
from tests.property.overlapping import overlapping_runs

DATA = Path(__file__).parent / "data"


def run(name: str, **options: object) -> replay.ReplayResult:
    return replay.run(scenario.load(DATA / name), **options)  # type: ignore[arg-type]


def heard(result: replay.ReplayResult) -> list[tuple[int, str, str, str]]:
    return sorted((n["minute"], n["channel"], n["type"], n["job"]) for n in result.notifications)


def both(minute: int, event: str, job: str) -> list[tuple[int, str, str, str]]:
    return [(minute, "email", event, job), (minute, "slack", event, job)]


def assert_each_once(result: replay.ReplayResult) -> None:
    per_channel = Counter((n["channel"], n["id"]) for n in result.notifications)
    assert all(count == 1 for count in per_channel.values()), per_channel


def test_faults_json_prints_each_promised_notification_once():
    result = run("faults.json")
    assert_each_once(result)
    slack_fish = [n["minute"] for n in result.notifications if n["channel"] == "slack" and n["job"] == "fish"]
    assert heard(result) == sorted(
        [
            (10, "email", "completed", "fish"),
            (slack_fish[0], "slack", "completed", "fish"),
            *both(25, "stopped", "frogs"),
        ]
    )
    assert slack_fish[0] > 10  # Two failed posts delay it by the queue's visibility timeout, twice.
    assert result.faults_injected == {"slack": 2, "sns": 1}


def test_a_throttled_listing_fails_runs_until_it_recovers_and_loses_nothing():
    result = run("throttled-listing.json")
    assert heard(result) == both(20, "completed", "cats")
    assert result.faults_injected["sagemaker"] == 12
    # Each failed run made 6 attempts at its first listing (botocore: 1 + 5 retries); the third run succeeds.
    assert [tick["sagemaker_calls"] for tick in result.ticks[2:5]] == [6, 6, 2]


def test_an_sns_outage_keeps_notifications_in_the_outbox_until_sns_is_back():
    result = run("sns-outage.json")
    assert heard(result) == sorted(both(15, "completed", "cats") + both(15, "failed", "dogs"))


def test_a_dynamodb_outage_delays_but_does_not_duplicate():
    result = run("dynamodb-outage.json")
    assert_each_once(result)
    assert {(n["channel"], n["type"], n["job"]) for n in result.notifications} == {
        ("email", "completed", "cats"),
        ("slack", "completed", "cats"),
        ("email", "stopped", "dogs"),
        ("slack", "stopped", "dogs"),
    }
    assert result.faults_injected["dynamodb"] == 30


def test_slack_rate_limit_is_retried_in_the_invocation_and_a_timeout_through_the_queue():
    result = run("slack-rate-limit-and-timeout.json")
    assert_each_once(result)
    slack = {n["job"]: n["minute"] for n in result.notifications if n["channel"] == "slack"}
    # The timed-out post is offered again after the notifier's first back-off: one minute.
    assert slack == {"dogs": 5, "cats": 6}


def test_a_message_slack_refused_five_times_is_kept_and_delivered_without_an_operator():
    """Slack errors are not the message's fault: it waits, backing off, and nothing is dead-lettered."""
    result = run("slack-refuses-five-times.json")
    assert sorted((n["channel"], n["minute"]) for n in result.notifications) == [("email", 5), ("slack", 30)]
    assert result.dead_letters == 0
    assert_each_once(result)


def test_state_change_events_notify_in_the_same_minute_once_and_ignore_what_is_not_watched():
    result = run("state-change-events.json")
    assert heard(result) == sorted(
        both(7, "completed", "cats-a") + both(12, "stopped", "cats-b") + both(14, "failed", "cats-c")
    )
    assert result.events_delivered == 3 + 1 + 2 + 2 + 1 + 1  # The failed one (DynamoDB) was retried once.


@pytest.mark.parametrize("overlap", ["before_save", "before_publish"])
def test_overlapping_runs_notify_each_transition_once(overlap):
    result = run("lifecycle.json", around_tick=overlapping_runs({35: overlap, 45: overlap}))
    assert heard(result) == sorted(both(35, "completed", "cats-v1") + both(45, "failed", "dogs-v1"))


@pytest.mark.parametrize("mode", ["inprocess", "server"])
def test_state_change_events_for_capitalised_names_notify_in_the_same_minute(mode):
    # SageMaker spells the name in lower case in the event's ARN; the job is remembered by its real name.
    result = run("event-capitalised-name.json", mode=mode)
    assert heard(result) == sorted(both(13, "completed", "Cats-Batch-7") + both(24, "failed", "CATS-night"))
