"""Overlapping poller runs for the replay: at chosen ticks, a second run starts and finishes inside the first.

`replay.run(..., around_tick=overlapping_runs({35: "before_save"}))` makes the tick at minute 35 meet a second
run while the first is about to store a job's state ("before_save") or to publish a notification
("before_publish"), the two points where a lost race would notify twice.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import Any, Literal

from watcher import container, poller_handler
from watcher.state_store import StateStore

from gtwatch.sim.replay import AroundTick

Overlap = Literal["before_save", "before_publish"]


def overlapping_runs(overlaps: dict[int, Overlap]) -> AroundTick:
    """The replay's `around_tick` that makes the tick at each minute in `overlaps` meet a second run there."""

    def around_tick(minute: int, another_run: Callable[[], None]) -> AbstractContextManager[None]:
        overlap = overlaps.get(minute)
        return nullcontext() if overlap is None else _second_run_at(overlap, another_run)

    return around_tick


@contextmanager
def _second_run_at(overlap: Overlap, second_run: Callable[[], None]) -> Iterator[None]:
    """Run `second_run`, start to finish, the first time the run in the block reaches the `overlap` point."""
    owner, name = (StateStore, "save") if overlap == "before_save" else (poller_handler, "publish")
    original = getattr(owner, name)
    fired = False

    def hooked(*args: Any, **kwargs: Any) -> Any:
        nonlocal fired
        if not fired:
            fired = True
            with another_container():
                second_run()
        return original(*args, **kwargs)

    setattr(owner, name, hooked)
    try:
        yield
    finally:
        setattr(owner, name, original)


@contextmanager
def another_container() -> Iterator[None]:
    """The block runs in another Lambda container: it starts without this container's memory of what it published.

    The one place that names the watcher's per-container state; update it when that state moves.
    """
    memory = container.published_unrecorded
    remembered = set(memory)
    memory.clear()
    try:
        yield
    finally:
        memory.update(remembered)
