"""Quiet hours: the window, across midnight and daylight saving."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from watcher.quiet import parse_quiet_hours

NIGHT = parse_quiet_hours(
    {"start": "20:00", "end": "08:00", "timezone": "Europe/Paris", "hold": ["completed"], "channels": ["slack"]}
)
LUNCH = parse_quiet_hours(
    {"start": "12:00", "end": "13:30", "timezone": "America/New_York", "hold": ["stalled"], "channels": ["email"]}
)


@pytest.mark.parametrize(
    ("now", "end"),
    [
        (datetime(2026, 1, 10, 18, 59, tzinfo=UTC), None),  # 19:59 in Paris
        (datetime(2026, 1, 10, 19, 0, tzinfo=UTC), datetime(2026, 1, 11, 7, 0, tzinfo=UTC)),  # 20:00: next morning
        (datetime(2026, 1, 11, 3, 0, tzinfo=UTC), datetime(2026, 1, 11, 7, 0, tzinfo=UTC)),  # after midnight
        (datetime(2026, 1, 11, 7, 0, tzinfo=UTC), None),  # 08:00: over
        # The night the clocks go forward (29 March 2026): 08:00 is then 06:00 UTC.
        (datetime(2026, 3, 28, 22, 0, tzinfo=UTC), datetime(2026, 3, 29, 6, 0, tzinfo=UTC)),
        # The night they go back (25 October 2026): 08:00 is then 07:00 UTC again.
        (datetime(2026, 10, 24, 23, 0, tzinfo=UTC), datetime(2026, 10, 25, 7, 0, tzinfo=UTC)),
    ],
)
def test_a_window_across_midnight_ends_at_the_local_end_time(now: datetime, end: datetime | None) -> None:
    assert NIGHT.window_end(now) == end


def test_a_window_within_a_day() -> None:
    assert LUNCH.window_end(datetime(2026, 7, 1, 16, 30, tzinfo=UTC)) == datetime(2026, 7, 1, 17, 30, tzinfo=UTC)
    assert LUNCH.window_end(datetime(2026, 7, 1, 17, 30, tzinfo=UTC)) is None


def test_only_the_held_types_wait_and_only_for_the_quiet_channels() -> None:
    night = datetime(2026, 1, 10, 22, 0, tzinfo=UTC)
    assert NIGHT.holds("completed", night) == (frozenset({"slack"}), datetime(2026, 1, 11, 7, 0, tzinfo=UTC))
    assert NIGHT.holds("failed", night) == (frozenset(), None)
    assert NIGHT.holds("completed", datetime(2026, 1, 10, 12, 0, tzinfo=UTC)) == (frozenset(), None)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"start": "8pm", "end": "08:00", "timezone": "UTC", "hold": ["completed"]}, "quiet_hours.start"),
        ({"start": "20:00", "end": "20:00", "timezone": "UTC", "hold": ["completed"]}, "quiet_hours.end"),
        ({"start": "20:00", "end": "08:00", "timezone": "Mars/Olympus", "hold": ["completed"]}, "quiet_hours.timezone"),
        ({"start": "20:00", "end": "08:00", "timezone": "UTC", "hold": ["exploded"]}, "quiet_hours.hold"),
        ({"start": "20:00", "end": "08:00", "timezone": "UTC", "hold": ["failed"], "channels": ["sms"]}, "channels"),
    ],
)
def test_a_bad_window_names_its_key(raw: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_quiet_hours(raw)


def test_two_routes_to_one_channel_are_refused_naming_the_key() -> None:
    from watcher.slack_routes import parse_routes

    routes = [
        {"channel": "#ml-alerts", "events": ["failed"], "name_contains": "prod", "mention": "<!here>"},
        {"channel": "#ml-alerts", "events": ["completed", "failed"]},
    ]
    with pytest.raises(ValueError, match=r"routes\[1\]\.channel: '#ml-alerts' is already routes\[0\]'s"):
        parse_routes(routes)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (
            {"start": "20:00", "end": "08:00", "hold": ["completed"]},
            "quiet_hours.timezone: required: an IANA time zone name such as Europe/Berlin",
        ),
        (
            {"end": "08:00", "timezone": "UTC", "hold": ["completed"]},
            "quiet_hours.start: required: a time of day HH:MM",
        ),
        (
            {"start": "20:00", "end": "08:00", "timezone": "UTC", "hold": ["completed", "exploded"]},
            "quiet_hours.hold[1]: 'exploded' is not one of completed, failed, stopped, stalled, resumed",
        ),
        (
            {"start": "20:00", "end": "08:00", "timezone": "UTC", "hold": "completed"},
            "quiet_hours.hold: expected a non-empty list of completed, failed, stopped, stalled, resumed, "
            "got 'completed'",
        ),
    ],
)
def test_a_missing_or_bad_setting_is_said_in_words_not_python(raw: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError) as raised:
        parse_quiet_hours(raw)
    assert str(raised.value) == message
