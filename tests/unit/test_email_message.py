"""The email a person reads for each notification: an SNS-valid subject and a plain-text body that says what to do."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import timedelta

import pytest
from watcher.domain.email_message import SUBJECT_LIMIT, body, subject
from watcher.domain.model import EventType

from tests.unit.test_slack_message import NOW, make_notification


def rows(text: str) -> dict[str, str]:
    """The body's "Label: value" rows."""
    found = {}
    for line in text.splitlines():
        match = re.fullmatch(r"([A-Z][A-Za-z ]+):\s+(.+)", line)
        if match:
            found[match[1]] = match[2]
    return found


@pytest.mark.parametrize("event_type", list(EventType))
def test_the_subject_is_valid_for_sns(event_type: EventType) -> None:
    text = subject(make_notification(event_type))

    assert text.isascii() and text.isprintable()
    assert len(text) <= SUBJECT_LIMIT < 100
    assert text.startswith(f"[gtwatch] {event_type.value.capitalize()}: cats-vs-dogs-7")


def test_a_long_subject_is_cut_below_100_characters() -> None:
    text = subject(make_notification(EventType.STOPPED, name="a" + "-b" * 31, region="ap-southeast-1" * 4))

    assert len(text) == SUBJECT_LIMIT
    assert text.endswith("...")


def test_the_body_opens_with_the_headline_and_ends_with_the_reference() -> None:
    notification = replace(make_notification(EventType.COMPLETED), id="us-east-1:cats-vs-dogs-7:completed:final")

    lines = body(notification).splitlines()

    assert lines[0] == "Labeling job cats-vs-dogs-7 completed."
    assert lines[-2] == "Sent by gtwatch at 2024-05-01 12:00 UTC."
    assert lines[-1] == "ref: us-east-1:cats-vs-dogs-7:completed:final"
    assert sum("us-east-1:cats-vs-dogs-7:completed:final" in line for line in lines) == 1


def test_a_stalled_job_says_since_when_it_has_not_moved_and_shows_no_rate_or_eta() -> None:
    text = body(make_notification(EventType.STALLED))

    shown = rows(text)
    assert shown["Stalled"] == "No progress since 10:25 UTC (1 h 35 min)"
    assert shown["Rate"] == "none"
    assert shown["Remaining"] == "240"
    assert "ETA" not in text and "objects/hour" not in text


def test_a_stall_that_began_the_day_before_gives_the_date() -> None:
    notification = make_notification(EventType.STALLED)
    notification = replace(notification, progress=replace(notification.progress, minutes_since_progress=13 * 60))

    assert rows(body(notification))["Stalled"] == "No progress since 2024-04-30 23:00 UTC (13 h)"


def test_a_running_job_shows_what_remains_and_its_rate() -> None:
    shown = rows(body(make_notification(EventType.RESUMED)))

    assert shown["Remaining"] == "240"
    assert shown["Rate"] == "120 objects/hour recently; ETA 2024-05-01 14:00 UTC (in about 2 h)"
    assert "Stalled" not in shown and "Ended" not in shown


@pytest.mark.parametrize("event_type", [EventType.COMPLETED, EventType.FAILED, EventType.STOPPED])
def test_a_job_that_ended_says_when_and_how_long_it_ran(event_type: EventType) -> None:
    notification = make_notification(event_type, last_modified_time=NOW - timedelta(minutes=20))

    text = body(notification)

    shown = rows(text)
    assert shown["Ended"] == "2024-05-01 11:40 UTC"
    assert shown["Ran for"] == "4 h 40 min"
    assert "Remaining" not in shown and "Rate" not in shown
    assert "ETA" not in text
    assert ("Throughput" in shown) is (event_type is EventType.COMPLETED)


def test_a_completed_job_gives_its_throughput_over_its_life() -> None:
    notification = make_notification(EventType.COMPLETED, last_modified_time=NOW - timedelta(hours=1))

    assert rows(body(notification))["Throughput"] == "190 objects/hour over its life"


def test_a_slow_job_gives_its_throughput_with_a_decimal() -> None:
    notification = make_notification(EventType.COMPLETED)
    notification = replace(notification, progress=replace(notification.progress, done=3, total=3))

    assert rows(body(notification))["Throughput"] == "0.6 objects/hour over its life"


def test_a_job_that_ended_within_a_minute_of_its_creation() -> None:
    notification = make_notification(EventType.FAILED, creation_time=NOW - timedelta(seconds=20))

    assert rows(body(notification))["Ran for"] == "under a minute"


def test_percent_is_floored_so_a_job_with_objects_left_never_reads_100() -> None:
    notification = make_notification(EventType.STOPPED)
    notification = replace(notification, progress=replace(notification.progress, done=19_999, total=20_000))

    assert rows(body(notification))["Progress"] == "99.9% done (19,999 of 20,000 objects)"


def test_the_work_team_shows_as_its_name() -> None:
    text = body(make_notification(EventType.COMPLETED))

    assert rows(text)["Work team"] == "cats"
    assert "workteam/" not in text


def test_the_failure_reason_is_shown_as_sagemaker_wrote_it_on_one_line() -> None:
    text = body(make_notification(EventType.FAILED, failure_reason="ClientError: <b>no</b>\nmanifest & more"))

    assert rows(text)["Failure reason"] == "ClientError: <b>no</b> manifest & more"  # Plain text: nothing to escape.
