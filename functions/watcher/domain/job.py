"""The job seam: what the watcher's decisions need to know of any SageMaker job, whatever its kind.

A job has a KIND, an IDENTITY (kind, region, name), a STATUS CLASS (active, or which way it ended), a PROGRESS
SIGNAL the diff compares between ticks, and the facts its messages show (kept by each kind: the labeling job's are
its counters, output and work team). The diff decides stalls, resumes and endings from this seam alone; labeling
jobs (model.LabelingJob) are its first kind. Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol


class JobKind(StrEnum):
    """The kinds of job the watcher follows (contract.JOB_KINDS), each behind its own JobSource. Progress, the
    stall signal: labeling its counters; training its SecondaryStatus and log lines; processing and transform their
    log lines; tuning its training jobs' counters; a pipeline execution never stalls."""

    LABELING = "labeling"
    TRAINING = "training"
    PROCESSING = "processing"
    TRANSFORM = "transform"
    TUNING = "tuning"
    PIPELINE = "pipeline"


# How a message names a job of each kind ("Training job bert-3 completed").
KIND_NOUNS = {
    JobKind.LABELING: "Labeling job",
    JobKind.TRAINING: "Training job",
    JobKind.PROCESSING: "Processing job",
    JobKind.TRANSFORM: "Transform job",
    JobKind.TUNING: "Tuning job",
    JobKind.PIPELINE: "Pipeline execution",
}
# Kinds whose jobs write CloudWatch log lines that count as progress.
LOG_KINDS = frozenset({JobKind.TRAINING, JobKind.PROCESSING, JobKind.TRANSFORM})


@dataclass(frozen=True)
class JobId:
    """One job: unique by kind, region and name (SageMaker names are unique per kind within an account and
    region). `account` is None while the watcher watches its own account only."""

    kind: JobKind
    region: str
    name: str
    account: str | None = None


class StatusClass(StrEnum):
    """What a kind's own status (InProgress, Executing, Succeeded...) means to the watcher: still running, being
    stopped (active, but its stall ends without a "resumed"), or ended, and how."""

    ACTIVE = "active"
    STOPPING = "stopping"
    COMPLETED = "completed"
    FAILED = "failed"
    STOPPED = "stopped"

    @property
    def is_terminal(self) -> bool:
        return self in TERMINAL_CLASSES


TERMINAL_CLASSES = frozenset({StatusClass.COMPLETED, StatusClass.FAILED, StatusClass.STOPPED})

# What must change, besides the status, for a job to count as moving: an opaque value compared with `==` between
# ticks (the labeling job's counters while it labels); None when the kind (or the status) has no such signal.
ProgressSignal = Hashable | None


class Job(Protocol):
    """A job as the diff sees it. Each kind's job value (model.LabelingJob) implements it."""

    @property
    def id(self) -> JobId: ...

    @property
    def status(self) -> str:
        """The kind's own status word, as the service spells it ("InProgress")."""
        ...

    @property
    def status_class(self) -> StatusClass: ...

    @property
    def progress_signal(self) -> ProgressSignal: ...

    @property
    def waiting(self) -> bool:
        """Active with nothing to work on (a streaming labeling job with no objects): waiting, not stalled."""
        ...

    @property
    def creation_time(self) -> datetime: ...

    @property
    def last_modified_time(self) -> datetime: ...
