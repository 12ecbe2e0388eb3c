"""Quiet hours: the window, across midnight and daylight saving, and what releases a held notification early."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from watcher.domain.model import (
    EventType,
    JobStatus,
    LabelCounters,
    LabelingJob,
    Notification,
    OutboxEntry,
    Progress,
)
from watcher.domain.outbox import due_channels, released_by
from watcher.domain.quiet import QuietHours, parse_quiet_hours

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


LONDON_SMALL_HOURS = parse_quiet_hours(
    {"start": "22:00", "end": "01:30", "timezone": "Europe/London", "hold": ["stalled"], "channels": ["slack"]}
)
NEW_YORK_NIGHT = parse_quiet_hours(
    {"start": "22:00", "end": "02:30", "timezone": "America/New_York", "hold": ["stalled"], "channels": ["slack"]}
)
NEW_YORK_FALL_BACK = parse_quiet_hours(
    {"start": "22:00", "end": "01:30", "timezone": "America/New_York", "hold": ["stalled"], "channels": ["slack"]}
)
LONDON_SPRING_FORWARD = parse_quiet_hours(
    {"start": "23:00", "end": "01:30", "timezone": "Europe/London", "hold": ["stalled"], "channels": ["slack"]}
)


@pytest.mark.parametrize(
    ("quiet", "now", "end"),
    [
        # New York springs forward on 8 March 2026: 02:00 EST becomes 03:00 EDT (07:00 UTC), so 02:30 never
        # happens; the first minute outside the window is 03:00 EDT, 07:00 UTC (not 03:30 EDT, 07:30 UTC).
        (NEW_YORK_NIGHT, datetime(2026, 3, 8, 4, 0, tzinfo=UTC), datetime(2026, 3, 8, 7, 0, tzinfo=UTC)),
        (NEW_YORK_NIGHT, datetime(2026, 3, 8, 6, 59, tzinfo=UTC), datetime(2026, 3, 8, 7, 0, tzinfo=UTC)),
        (NEW_YORK_NIGHT, datetime(2026, 3, 8, 7, 0, tzinfo=UTC), None),  # 03:00 EDT
        # London springs forward on 29 March 2026: 01:00 GMT becomes 02:00 BST (01:00 UTC); 01:30 never happens.
        (LONDON_SPRING_FORWARD, datetime(2026, 3, 28, 23, 30, tzinfo=UTC), datetime(2026, 3, 29, 1, 0, tzinfo=UTC)),
        (LONDON_SPRING_FORWARD, datetime(2026, 3, 29, 0, 59, tzinfo=UTC), datetime(2026, 3, 29, 1, 0, tzinfo=UTC)),
        (LONDON_SPRING_FORWARD, datetime(2026, 3, 29, 1, 0, tzinfo=UTC), None),  # 02:00 BST
        # New York falls back on 1 November 2026: 02:00 EDT becomes 01:00 EST (06:00 UTC); 01:00-01:59 happens
        # twice. The first 01:30 (EDT, 05:30 UTC) ends the window; the repeated hour's 01:00-01:29 (EST) is inside
        # it again, until its own 01:30 (EST, 06:30 UTC).
        (NEW_YORK_FALL_BACK, datetime(2026, 11, 1, 3, 0, tzinfo=UTC), datetime(2026, 11, 1, 5, 30, tzinfo=UTC)),
        (NEW_YORK_FALL_BACK, datetime(2026, 11, 1, 5, 30, tzinfo=UTC), None),  # 01:30 EDT
        (NEW_YORK_FALL_BACK, datetime(2026, 11, 1, 5, 59, tzinfo=UTC), None),  # 01:59 EDT
        (NEW_YORK_FALL_BACK, datetime(2026, 11, 1, 6, 0, tzinfo=UTC), datetime(2026, 11, 1, 6, 30, tzinfo=UTC)),
        (NEW_YORK_FALL_BACK, datetime(2026, 11, 1, 6, 5, tzinfo=UTC), datetime(2026, 11, 1, 6, 30, tzinfo=UTC)),
        (NEW_YORK_FALL_BACK, datetime(2026, 11, 1, 6, 30, tzinfo=UTC), None),  # 01:30 EST
        # London falls back on 25 October 2026: 02:00 BST becomes 01:00 GMT (01:00 UTC); 01:05 GMT is the
        # second 01:05 and inside the window until 01:30 GMT, 01:30 UTC.
        (LONDON_SMALL_HOURS, datetime(2026, 10, 24, 22, 0, tzinfo=UTC), datetime(2026, 10, 25, 0, 30, tzinfo=UTC)),
        (LONDON_SMALL_HOURS, datetime(2026, 10, 25, 0, 45, tzinfo=UTC), None),  # 01:45 BST
        (LONDON_SMALL_HOURS, datetime(2026, 10, 25, 1, 5, tzinfo=UTC), datetime(2026, 10, 25, 1, 30, tzinfo=UTC)),
        (LONDON_SMALL_HOURS, datetime(2026, 10, 25, 1, 30, tzinfo=UTC), None),
    ],
)
def test_a_window_across_a_daylight_saving_change_ends_at_the_first_minute_outside_it(
    quiet: QuietHours, now: datetime, end: datetime | None
) -> None:
    assert quiet.window_end(now) == end


def test_a_moment_is_inside_when_its_local_time_is_even_in_the_repeated_hour() -> None:
    # 01:05 on New York's fall-back night happens at 05:05 UTC (EDT) and at 06:05 UTC (EST): both inside.
    assert NEW_YORK_FALL_BACK.inside(datetime(2026, 11, 1, 5, 5, tzinfo=UTC))
    assert NEW_YORK_FALL_BACK.inside(datetime(2026, 11, 1, 6, 5, tzinfo=UTC))
    assert not NEW_YORK_FALL_BACK.inside(datetime(2026, 11, 1, 5, 45, tzinfo=UTC))


def test_a_window_ending_mid_minute_counts_from_the_minute() -> None:
    # 17:29:30 UTC is 13:29:30 in New York (EDT): still inside; the window ends at 13:30, 17:30 UTC.
    assert LUNCH.window_end(datetime(2026, 7, 1, 17, 29, 30, tzinfo=UTC)) == datetime(2026, 7, 1, 17, 30, tzinfo=UTC)


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
    from watcher.domain.slack_routes import parse_routes

    routes = [
        {"channel": "#ml-alerts", "events": ["failed"], "name_contains": "prod", "mention": "<!here>"},
        {"channel": "#ml-alerts", "events": ["completed", "failed"]},
    ]
    with pytest.raises(ValueError, match=r"routes\[1\]\.channel: '#ml-alerts' is already routes\[0\]'s"):
        parse_routes(routes)


def _entry(sequence: int, event_type: EventType, *, held_until: datetime | None = None) -> OutboxEntry:
    at = datetime(2026, 1, 10, 22, sequence, tzinfo=UTC)
    job = LabelingJob(
        region="us-east-1",
        name="prod-cats",
        arn="arn:aws:sagemaker:us-east-1:123456789012:labeling-job/prod-cats",
        status=JobStatus.IN_PROGRESS,
        counters=LabelCounters(),
        creation_time=at,
        last_modified_time=at,
    )
    notification = Notification(
        id=f"us-east-1:prod-cats:{event_type.value}:{sequence}",
        event_type=event_type,
        job=job,
        occurred_at=at,
        progress=Progress(done=0, total=100, human_labeled=0, machine_labeled=0, failed=0),
        stream="us-east-1#prod-cats",
        sequence=sequence,
    )
    held = frozenset({"email", "slack"}) if held_until else frozenset()
    return OutboxEntry(notification, held=held, held_until=held_until)


NIGHT_END = datetime(2026, 1, 11, 7, 0, tzinfo=UTC)
IN_THE_NIGHT = datetime(2026, 1, 10, 23, 0, tzinfo=UTC)


def test_a_notification_that_is_not_held_releases_the_held_ones_before_it_naming_itself() -> None:
    outbox = (_entry(1, EventType.STALLED, held_until=NIGHT_END), _entry(2, EventType.FAILED))

    assert due_channels(outbox, IN_THE_NIGHT) == [frozenset({"email", "slack"})] * 2
    # Slack shows the stall now only in the channels that take a failure; the others wait for the window's end.
    assert released_by(outbox, 0, IN_THE_NIGHT, frozenset()) == {"failed"}


def test_a_notification_the_email_subscriptions_do_not_take_releases_nothing_by_email() -> None:
    outbox = (_entry(1, EventType.STALLED, held_until=NIGHT_END), _entry(2, EventType.FAILED))

    due = due_channels(outbox, IN_THE_NIGHT, email_events=frozenset({"stalled", "completed"}))
    assert due == [frozenset({"slack"}), frozenset({"email", "slack"})]


def test_a_muted_notification_releases_nothing_by_email_and_nowhere_in_slack() -> None:
    outbox = (_entry(1, EventType.STALLED, held_until=NIGHT_END), _entry(2, EventType.FAILED))
    muted = frozenset({"failed"})

    # Slack hears of the muted failure (so the job's order moves on) and of the stall before it, shown nowhere yet.
    assert due_channels(outbox, IN_THE_NIGHT, muted) == [frozenset({"slack"}), frozenset({"email", "slack"})]
    assert released_by(outbox, 0, IN_THE_NIGHT, muted) == frozenset()


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
