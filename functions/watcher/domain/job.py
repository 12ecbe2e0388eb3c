"""The job seam: what the watcher's decisions need to know of any SageMaker job, whatever its kind.

A job has a KIND, an IDENTITY (kind, region, name), a STATUS CLASS (active, or which way it ended), a PROGRESS
SIGNAL the diff compares between ticks, and the facts its messages show (kept by each kind: the labeling job's are
its counters, output and work team). The diff decides stalls, resumes and endings from this seam alone; labeling
jobs (model.LabelingJob) are its first kind. Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass
from datetime import UTC, datetime
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


@dataclass(frozen=True)
class Scope:
    """Where one watch runs: one kind of job in one region (of one account: None is the watcher's own). The state
    table is partitioned by its `key`; a labeling scope is keyed by its region alone, as items were before other
    kinds existed, so that a stack upgraded in place keeps its jobs' state."""

    region: str
    kind: JobKind = JobKind.LABELING
    account: str | None = None

    @property
    def key(self) -> str:
        parts = [self.region] if self.account is None else [self.account, self.region]
        return "#".join(parts if self.kind is JobKind.LABELING else [*parts, self.kind.value])

    def __str__(self) -> str:
        """As logs and errors name it: "us-east-1" for labeling, "us-east-1 training" otherwise."""
        where = self.region if self.account is None else f"{self.account} {self.region}"
        return where if self.kind is JobKind.LABELING else f"{where} {self.kind.value}"


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

# What each kind's own status words mean (the API's status enums: LabelingJobStatus, TrainingJobStatus,
# ProcessingJobStatus, TransformJobStatus, HyperParameterTuningJobStatus, PipelineExecutionStatus).
_JOB_STATUSES = {
    "InProgress": StatusClass.ACTIVE,
    "Stopping": StatusClass.STOPPING,
    "Completed": StatusClass.COMPLETED,
    "Failed": StatusClass.FAILED,
    "Stopped": StatusClass.STOPPED,
}
KIND_STATUS_CLASSES: dict[JobKind, dict[str, StatusClass]] = {
    JobKind.LABELING: {"Initializing": StatusClass.ACTIVE, **_JOB_STATUSES},
    JobKind.TRAINING: _JOB_STATUSES,
    JobKind.PROCESSING: _JOB_STATUSES,
    JobKind.TRANSFORM: _JOB_STATUSES,
    # A tuning job also has Deleting/DeleteFailed; a deleted job is gone (its Describe fails).
    JobKind.TUNING: {**_JOB_STATUSES, "Deleting": StatusClass.STOPPING, "DeleteFailed": StatusClass.FAILED},
    JobKind.PIPELINE: {
        "Executing": StatusClass.ACTIVE,
        "Stopping": StatusClass.STOPPING,
        "Succeeded": StatusClass.COMPLETED,
        "Failed": StatusClass.FAILED,
        "Stopped": StatusClass.STOPPED,
    },
}
# The statuses in which each kind is active, in lifecycle order (listing order: a job moving on between two
# listings is seen at least once), and the one where nearly all active jobs are (a steady run lists only it).
KIND_ACTIVE_STATUSES: dict[JobKind, tuple[str, ...]] = {
    kind: tuple(status for status, cls in classes.items() if not cls.is_terminal)
    for kind, classes in KIND_STATUS_CLASSES.items()
}
KIND_STEADY_STATUSES: dict[JobKind, tuple[str, ...]] = {
    kind: ("Executing",) if kind is JobKind.PIPELINE else ("InProgress",) for kind in JobKind
}

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
    def last_log_at(self) -> datetime | None:
        """The newest log line read this run (kinds with logs); None when none was read."""
        ...

    @property
    def detailed(self) -> bool:
        """Whether this is a describe's view (enough to tell people about the job), not a list summary's."""
        ...

    @property
    def last_modified_time(self) -> datetime: ...


def to_iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def from_iso(text: str) -> datetime:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise ValueError(f"timestamp without a time zone: {text!r}")
    return moment.astimezone(UTC)


# The AWS Management Console of each partition (AWS General Reference, "AWS Management Console endpoints"; the
# GovCloud (US) and China consoles have one host for their regions).
CONSOLE_HOSTS = {
    "aws": "https://{region}.console.aws.amazon.com",
    "aws-us-gov": "https://console.amazonaws-us-gov.com",
    "aws-cn": "https://console.amazonaws.cn",
}


def partition_of(region: str) -> str:
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


def console_host(region: str) -> str:
    """The console of the region's partition."""
    return CONSOLE_HOSTS[partition_of(region)].format(region=region)
