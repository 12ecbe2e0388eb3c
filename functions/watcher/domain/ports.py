"""The watcher's ports: what the watch needs from the outside world, as Protocols. Adapters implement them
(sagemaker_jobs, state_store, mute, publisher); tests put in-memory fakes behind them (tests/fakes)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from watcher.domain.job import Scope
from watcher.domain.model import AnyJob, JobState, Notification
from watcher.domain.mute_rules import Mute


class ItemConflict(Exception):
    """Another writer changed the item (or created it) since it was read: that writer owns the change (for a job's
    state, another run owns this transition). The one conflict type of every store."""


@dataclass(frozen=True)
class RunRecord:
    """A scope's watch (one kind in one region): since when (the first run that could record it), and its last
    complete listing."""

    scope: Scope
    started_at: datetime
    # None until a run has listed the region completely: the next run is then still the baseline.
    listed_at: datetime | None = None
    # Jobs the last run could not watch (an error of that job alone): the next run describes them by name.
    retry: tuple[str, ...] = ()
    # The last job whose log the last run read: the next run reads on from the one after it, round the jobs in name
    # order, so that a budget of log reads reaches every running job in turn.
    log_cursor: str | None = None
    # Why its account could not be read, since when (its spoke role could not be assumed); None when it could.
    unreadable: str | None = None
    unreadable_since: datetime | None = None

    @property
    def baseline_done(self) -> bool:
        return self.listed_at is not None


class JobSource(Protocol):
    """One kind of SageMaker job in one region (its scope): list the active and the recent, and describe one."""

    @property
    def scope(self) -> Scope: ...

    def list_active(self, *, name_contains: str | None, every_status: bool) -> Iterator[AnyJob]:
        """The active jobs: with `every_status`, in each active status, listed in the order of the kind's lifecycle
        (so that a job moving on between two listings is seen at least once); otherwise only in the status where
        nearly all of them are (InProgress, Executing), since the watch describes the others by name."""
        ...

    def newest_log_lines(self, names: Sequence[str]) -> Mapping[str, datetime | None]:
        """The time of each named job's newest log line (None: it has written none), read in the order given within
        the run's budget of log reads; a job left out could not be read (budget spent, CloudWatch Logs throttled or
        failed). Empty for the kinds without logs."""
        ...

    def list_recent(
        self,
        *,
        created_after: datetime | None = None,
        modified_after: datetime | None = None,
        name_contains: str | None = None,
    ) -> Iterator[AnyJob]: ...

    def describe(self, name: str, arn: str | None = None) -> AnyJob | None:
        """The job's current details (`detailed`), or None when the service does not know it. A pipeline execution
        is described by its ARN (its name is a display name)."""
        ...


class JobStateStore(Protocol):
    """Each job's remembered state, written only over the version read (ItemConflict otherwise), and each scope's
    run record."""

    def load_run(self, scope: Scope) -> RunRecord | None: ...

    def start_watching(self, scope: Scope, now: datetime) -> RunRecord: ...

    def save_run(self, run: RunRecord) -> None: ...

    def active_states(self, scope: Scope) -> dict[str, JobState]: ...

    def ended_states(self, scope: Scope, since: datetime, until: datetime) -> list[JobState]: ...

    def get_states(self, scope: Scope, names: Iterable[str]) -> dict[str, JobState]: ...

    def get_state(self, scope: Scope, name: str) -> JobState | None: ...

    def save(self, state: JobState, *, expected_version: int | None, now: datetime) -> JobState: ...

    def forget(self, state: JobState) -> None: ...


class MuteReader(Protocol):
    """The mutes people set (`gtwatch mute`), as the watch reads them."""

    def in_scope(self, scope: Scope) -> dict[str, Mute]:
        """The scope's mutes, by job name in lower case."""
        ...

    def for_job(self, scope: Scope, name: str) -> Mute | None: ...


class Publisher(Protocol):
    """Hands one notification to the channels named (SNS fans it out); returns the message id."""

    def __call__(self, notification: Notification, channels: frozenset[str], /) -> str: ...


class DigestPublisher(Protocol):
    """Hands the daily digest for one channel to the topic; returns the message id."""

    def __call__(self, *, channel: str, digest_id: str, message: str, subject: str | None = None) -> str: ...


class QueueDepth(Protocol):
    """How many messages wait in a queue (approximately, as SQS counts them)."""

    def __call__(self, queue_url: str, /) -> int: ...
