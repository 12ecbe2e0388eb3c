"""A mute as a value: a person's "not now" for one job, and what it silences at a moment. Pure."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from watcher.domain.contract import EVENT_TYPES
from watcher.domain.job import JobKind, Scope


@dataclass(frozen=True)
class Mute:
    """A person's "not now" for one job (`gtwatch mute`): its notifications of the types in `events` are dropped on
    every channel until `until`. `by` and `at`: who muted it, and when."""

    region: str
    name: str
    until: datetime
    events: frozenset[str] = frozenset(EVENT_TYPES)
    by: str = ""
    at: datetime | None = None
    kind: JobKind = JobKind.LABELING
    # A spoke account's id; None for the home account.
    account: str | None = None

    @property
    def scope(self) -> Scope:
        return Scope(self.region, self.kind, self.account)

    def silences(self, event_type: str, now: datetime) -> bool:
        return now < self.until and event_type in self.events

    def silenced_at(self, now: datetime) -> frozenset[str]:
        """The event types this mute drops at `now`: none once it has expired."""
        return self.events if now < self.until else frozenset()

    @property
    def job_key(self) -> str:
        return mute_job_key(self.name)


def mute_job_key(name: str) -> str:
    """How a mute names its job: job names are case-insensitive in SageMaker, so a mute matches the job however its
    name was typed."""
    return name.lower()


def silenced(mute: Mute | None, now: datetime) -> frozenset[str]:
    """The event types `mute` (if any) drops at `now`."""
    return frozenset() if mute is None else mute.silenced_at(now)
