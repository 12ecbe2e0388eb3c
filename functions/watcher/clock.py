"""The one place the watcher reads the time; the replay engine replaces it with a simulated clock."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime


def _wall_clock() -> datetime:
    return datetime.now(UTC)


_source: Callable[[], datetime] = _wall_clock


def now() -> datetime:
    return _source()


def set_clock(source: Callable[[], datetime] | None) -> None:
    """Use `source` for the time from now on; None restores the wall clock."""
    global _source
    _source = source or _wall_clock
