"""Quiet hours: a daily window in a time zone (it may span midnight) during which notifications of the `hold` types
wait, for the listed channels, until the window ends. Pure: the window is computed for a given moment."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from watcher.domain.contract import EVENT_TYPES
from watcher.domain.text import value_text
from watcher.domain.vocabulary import NOTIFICATION_CHANNELS as CHANNELS

# Less than a day of wall-clock time, plus the hour (at most) a fall-back night repeats.
LONGEST_WINDOW_MINUTES = 26 * 60


@dataclass(frozen=True)
class QuietHours:
    start: time
    end: time
    zone: ZoneInfo
    hold: frozenset[str]
    channels: frozenset[str]

    def covers(self, local: time) -> bool:
        """Whether a wall-clock time of day falls inside the window (start included, end excluded): the one rule."""
        if self.start < self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end  # The window spans midnight.

    def inside(self, moment: datetime) -> bool:
        """Whether `moment` is inside the window: its local time in the zone is (whichever pass of a repeated hour
        it is on a fall-back night)."""
        return self.covers(moment.astimezone(self.zone).time())

    def window_end(self, now: datetime) -> datetime | None:
        """The first minute after `now` whose local time is outside the window (UTC), or None when `now` is outside
        it. Walking the minutes gets daylight saving right without special cases: an end time that does not exist
        that night (spring forward) ends the window at the jump, and the repeated hour of a fall-back night is
        inside the window again when its local time is."""
        if not self.inside(now):
            return None
        minute = now.astimezone(UTC).replace(second=0, microsecond=0)
        for _ in range(LONGEST_WINDOW_MINUTES):
            minute += timedelta(minutes=1)
            if not self.inside(minute):
                return minute
        raise AssertionError(f"a quiet-hours window {self.start}-{self.end} that does not end")  # pragma: no cover

    def holds(self, event_type: str, now: datetime) -> tuple[frozenset[str], datetime | None]:
        """The channels a notification of `event_type` decided at `now` waits for, and until when."""
        if event_type not in self.hold:
            return frozenset(), None
        end = self.window_end(now)
        return (self.channels, end) if end is not None else (frozenset(), None)


def parse_quiet_hours(raw: Any, *, where: str = "quiet_hours") -> QuietHours:
    """From the JSON form {start, end, timezone, hold, channels}; ValueError names the key."""
    if not isinstance(raw, dict):
        raise ValueError(f"{where}: expected an object with start, end, timezone, hold and channels")
    unknown = set(raw) - {"start", "end", "timezone", "hold", "channels"}
    if unknown:
        raise ValueError(f"{where}.{sorted(unknown)[0]}: not a quiet-hours setting")
    start, end = (_clock(raw.get(key), f"{where}.{key}") for key in ("start", "end"))
    if start == end:
        raise ValueError(f"{where}.end: the window is empty: end is the same time as start")
    zone_name = raw.get("timezone")
    if zone_name is None:
        raise ValueError(f"{where}.timezone: required: an IANA time zone name such as Europe/Berlin")
    try:
        zone = ZoneInfo(str(zone_name))
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"{where}.timezone: {zone_name!r} is not an IANA time zone name such as Europe/Berlin"
        ) from None
    hold = _subset(raw.get("hold"), EVENT_TYPES, f"{where}.hold")
    channels = _subset(raw.get("channels", list(CHANNELS)), CHANNELS, f"{where}.channels")
    return QuietHours(start=start, end=end, zone=zone, hold=hold, channels=channels)


def _clock(value: Any, where: str) -> time:
    if value is None:
        raise ValueError(f"{where}: required: a time of day HH:MM")
    try:
        if not isinstance(value, str) or len(value) != 5:
            raise ValueError
        return time.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{where}: {value!r} is not a time of day HH:MM") from None


def _subset(value: Any, allowed: tuple[str, ...], where: str) -> frozenset[str]:
    if not isinstance(value, list) or not value:
        raise ValueError(f"{where}: expected a non-empty list of {', '.join(allowed)}, got {value_text(value)}")
    for index, item in enumerate(value):
        if item not in allowed:
            raise ValueError(f"{where}[{index}]: {item!r} is not one of {', '.join(allowed)}")
    return frozenset(value)


def quiet_hours_to_json(quiet: QuietHours) -> str:
    return json.dumps(
        {
            "start": quiet.start.strftime("%H:%M"),
            "end": quiet.end.strftime("%H:%M"),
            "timezone": quiet.zone.key,
            "hold": sorted(quiet.hold, key=EVENT_TYPES.index),
            "channels": sorted(quiet.channels),
        },
        separators=(",", ":"),
    )
