"""The watcher's ports: what the watch needs from the outside world, as Protocols. Adapters implement them
(sagemaker_jobs, state_store, mute, publisher); tests put in-memory fakes behind them (tests/fakes)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from watcher.domain.model import JobState, LabelingJob, Notification
from watcher.domain.mute_rules import Mute


class ItemConflict(Exception):
    """Another writer changed the item (or created it) since it was read: that writer owns the change (for a job's
    state, another run owns this transition). The one conflict type of every store."""


@dataclass(frozen=True)
class RunRecord:
    """A region's watch: since when (the first run that could record it), and its last complete listing."""

    region: str
    started_at: datetime
    # None until a run has listed the region completely: the next run is then still the baseline.
    listed_at: datetime | None = None
    # Jobs the last run could not watch (an error of that job alone): the next run describes them by name.
    retry: tuple[str, ...] = ()

    @property
    def baseline_done(self) -> bool:
        return self.listed_at is not None


class JobSource(Protocol):
    """One kind of SageMaker job in one region (labeling jobs are the first): list the active and the recent, and
    describe one by name."""

    @property
    def region(self) -> str: ...

    def list_active(self, *, name_contains: str | None, every_status: bool) -> Iterator[LabelingJob]:
        """The active jobs: with `every_status`, in each active status, listed in the order of the kind's lifecycle
        (so that a job moving on between two listings is seen at least once); otherwise only in the status where
        nearly all of them are (labeling: InProgress), one listing, since the watch describes the others by name."""
        ...

    def list_recent(
        self,
        *,
        created_after: datetime | None = None,
        modified_after: datetime | None = None,
        name_contains: str | None = None,
    ) -> Iterator[LabelingJob]: ...

    def describe(self, name: str) -> LabelingJob | None:
        """The job's current details, or None when the service does not know it."""
        ...


class JobStateStore(Protocol):
    """Each job's remembered state, written only over the version read (ItemConflict otherwise), and each region's
    run record."""

    def load_run(self, region: str) -> RunRecord | None: ...

    def start_watching(self, region: str, now: datetime) -> RunRecord: ...

    def save_run(self, run: RunRecord) -> None: ...

    def active_states(self, region: str) -> dict[str, JobState]: ...

    def ended_states(self, region: str, since: datetime, until: datetime) -> list[JobState]: ...

    def get_states(self, region: str, names: Iterable[str]) -> dict[str, JobState]: ...

    def get_state(self, region: str, name: str) -> JobState | None: ...

    def save(self, state: JobState, *, expected_version: int | None, now: datetime) -> JobState: ...

    def forget(self, state: JobState) -> None: ...


class MuteReader(Protocol):
    """The mutes people set (`gtwatch mute`), as the watch reads them."""

    def in_region(self, region: str) -> dict[str, Mute]:
        """The region's mutes, by job name in lower case."""
        ...

    def for_job(self, region: str, name: str) -> Mute | None: ...


class Publisher(Protocol):
    """Hands one notification to the channels named (SNS fans it out); returns the message id."""

    def __call__(self, notification: Notification, channels: frozenset[str], /) -> str: ...


class DigestPublisher(Protocol):
    """Hands the daily digest for one channel to the topic; returns the message id."""

    def __call__(self, *, channel: str, digest_id: str, message: str, subject: str | None = None) -> str: ...


class QueueDepth(Protocol):
    """How many messages wait in a queue (approximately, as SQS counts them)."""

    def __call__(self, queue_url: str, /) -> int: ...
