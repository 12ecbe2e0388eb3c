"""Quiet hours: a daily window in a time zone (it may span midnight) during which notifications of the `hold` types
wait, for the listed channels, until the window ends. Pure: the window is computed for a given moment."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .contract import EVENT_TYPES
from .text import value_text

CHANNELS = ("email", "slack")


@dataclass(frozen=True)
class QuietHours:
    start: time
    end: time
    zone: ZoneInfo
    hold: frozenset[str]
    channels: frozenset[str]

    def window_end(self, now: datetime) -> datetime | None:
        """When the window `now` falls in ends (UTC), or None when `now` is outside it. Daylight saving applies:
        the end is the wall-clock time `end` in the zone, on the right local day."""
        local = now.astimezone(self.zone)
        today, clock_time = local.date(), local.time().replace(tzinfo=None)
        if self.start < self.end:
            inside = self.start <= clock_time < self.end
            end_day = today
        else:  # The window spans midnight.
            inside = clock_time >= self.start or clock_time < self.end
            end_day = today + timedelta(days=1) if clock_time >= self.start else today
        if not inside:
            return None
        return datetime.combine(end_day, self.end, tzinfo=self.zone).astimezone(UTC)

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
