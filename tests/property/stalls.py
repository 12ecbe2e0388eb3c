"""The stalls a schedule promises, worked out from the scenario contract alone (docs/scenario-format.md, "Progress and
stalls by kind"), never from the watcher's own diff: each job's `stalled` and `resumed` notifications, in order.

The model reads each job as every tick would: its status, its kind's progress signal (a labeling job's counters, a
training job's secondary status, a tuning job's counters) and, for the kinds with logs, the newest log line when
CloudWatch Logs can be read at that tick. It holds when every run reads every job at its tick; a schedule whose
SageMaker or DynamoDB faults can fail a run moves the clocks by a tick, and the caller judges it more loosely, as it
does a job in an account whose role sts refuses for a while. Jobs are keyed by (account, region, kind, name).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from tests.property.job_lives import JobKey, job_key

ACTIVE = frozenset({"InProgress", "Executing"})
TERMINAL = frozenset({"Completed", "Succeeded", "Failed", "Stopped"})
LOG_KINDS = frozenset({"training", "processing", "transform"})


def stall_after(config: dict[str, Any], kind: str) -> int | None:
    """The kind's threshold in minutes; None when its jobs never stall (a pipeline, a kind left out of the object)."""
    if kind == "pipeline":
        return None
    value = config.get("stall_after_minutes", 60)
    if isinstance(value, dict):
        minutes: int | None = value.get(kind)
        return minutes
    return int(value)


@dataclass
class Promise:
    """One job's `stalled`/`resumed` notifications in order, and the tick that owes each. `judged` is False where
    the contract can be read two ways for this job (see `_Clock.read`): then only the order of what it gets is
    checked."""

    events: list[str] = field(default_factory=list)
    minutes: list[int] = field(default_factory=list)  # the tick of each
    judged: bool = True

    def add(self, event: str, minute: int) -> None:
        self.events.append(event)
        self.minutes.append(minute)


def promised_stalls(raw: dict[str, Any]) -> dict[JobKey, Promise]:
    """(account, region, kind, name) -> the job's promised stall notifications, for every job the schedule creates."""
    steps = sorted(enumerate(raw["steps"]), key=lambda indexed: (indexed[1]["at_minute"], indexed[0]))
    changes: dict[JobKey, list[tuple[int, str, dict[str, Any]]]] = defaultdict(list)
    unreadable: list[tuple[int, int]] = []  # CloudWatch Logs outages: [at_minute, until_minute)
    for _, step in steps:
        for action in ("create", "update", "log"):
            if action in step:
                body = step[action]
                changes[job_key(body)].append((step["at_minute"], action, body))
        fault = step.get("fault", {})
        if fault.get("target") == "logs":
            assert "until_minute" in fault, "the model knows when logs cannot be read from outages only"
            unreadable.append((step["at_minute"], fault["until_minute"]))
    tick = raw.get("tick_minutes", 5)
    ticks = range(0, raw["duration_minutes"] + 1, tick)
    promises = {}
    for key, job in changes.items():
        kind = key[2]
        clock = _Clock(kind, stall_after(raw["config"], kind))
        for minute in ticks:
            while job and job[0][0] <= minute:  # Steps at minute t apply before the tick at t.
                clock.apply(*job.pop(0))
            if clock.read(minute, logs_readable=not any(start <= minute < end for start, end in unreadable)):
                break
        promises[key] = clock.promise
    return promises


class _Clock:
    """One job as the ticks see it, and its stall clock."""

    def __init__(self, kind: str, threshold: int | None) -> None:
        self.kind = kind
        self.threshold = threshold
        self.status: str | None = None
        self.secondary: str | None = None
        self.counters: tuple[tuple[str, int], ...] = ()
        self.log_lines: list[int] = []
        self.seen: tuple[Any, ...] | None = None  # what the tick that started the clock read
        self.since = 0  # the tick that started the clock
        self.newest_read: int | None = None  # the newest log line a tick has read
        self.stalled = False
        self.promise = Promise()

    def apply(self, minute: int, action: str, body: dict[str, Any]) -> None:
        if action == "log":
            self.log_lines.append(minute)
            return
        if action == "create":
            self.status = body.get("status") or {"labeling": "Initializing", "pipeline": "Executing"}.get(
                self.kind, "InProgress"
            )
        elif "status" in body:
            self.status = body["status"]
        self.secondary = body.get("secondary_status", self.secondary)
        if "counters" in body:
            self.counters = tuple(sorted(body["counters"].items()))

    def read(self, minute: int, *, logs_readable: bool) -> bool:
        """What the tick at `minute` reads and what that promises; True once the job has ended (nothing more)."""
        if self.status is None:
            return False  # not created yet
        if self.status in TERMINAL:
            return True
        active = self.status in ACTIVE
        signal = (
            self.status,
            self.secondary if active and self.kind == "training" else None,
            self.counters if active and self.kind in ("labeling", "tuning") else None,
        )
        # Log lines count while the job runs, at the tick that reads them; not while it is being stopped, and not
        # while CloudWatch Logs cannot be read.
        reads_log = active and self.kind in LOG_KINDS and logs_readable
        newest = max((line for line in self.log_lines if line <= minute), default=None) if reads_log else None
        if self.seen is None:
            self.seen, self.since, self.newest_read = signal, minute, newest
            return False
        new_line = newest is not None and (self.newest_read is None or newest > self.newest_read)
        if new_line and newest is not None and newest <= self.since:
            # A line written before the clock started (by a change seen, or the job first seen, while its logs could
            # not be read) and read only now: new to the watcher, but no newer than the clock. The contract does not
            # say which it is: this job's list is not judged.
            self.promise.judged = False
        if signal != self.seen or new_line:
            if self.stalled and active:  # Being stopped is not progress: the episode just ends.
                self.promise.add("resumed", minute)
            self.stalled = False
            self.seen, self.since = signal, minute
            self.newest_read = newest if newest is not None else self.newest_read
            return False
        waiting = self.kind == "labeling" and self.status == "InProgress" and dict(self.counters).get("Unlabeled") == 0
        if self.threshold is not None and not self.stalled and not waiting and minute - self.since >= self.threshold:
            self.promise.add("stalled", minute)
            self.stalled = True
        return False
