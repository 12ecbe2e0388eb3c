"""Overlapping poller runs for the replay: at chosen ticks, a second run starts and finishes inside the first.

`replay.run(..., around_tick=overlapping_runs({35: "before_save"}))` makes the tick at minute 35 meet a second
run while the first is about to store a job's state ("before_save") or to publish a notification
("before_publish"), the two points where a lost race would notify twice. The second run is started from the
adapters the composition root builds (a store or publisher that runs it first), not by patching a module.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import Literal

from watcher import composition, container
from watcher.domain.ports import JobStateStore, Publisher

from gtwatch.sim.replay import AroundTick
from tests.fakes.publisher import BeforePublish
from tests.fakes.store import BeforeSave

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
    fired = False

    def once() -> None:
        nonlocal fired
        if not fired:  # The second run builds its adapters through the same override: it must not start a third.
            fired = True
            with another_container():
                second_run()

    def before_save(store: JobStateStore) -> JobStateStore:
        return BeforeSave(store, once)

    def before_publish(publisher: Publisher) -> Publisher:
        return BeforePublish(publisher, once)

    overrides = (
        composition.Overrides(store=before_save)
        if overlap == "before_save"
        else composition.Overrides(publisher=before_publish)
    )
    with composition.overriding(overrides):
        yield


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
