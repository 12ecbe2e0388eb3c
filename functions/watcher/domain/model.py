"""The watcher's vocabulary: labeling jobs as observed, their remembered state, and notifications."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any
from urllib.parse import quote

from watcher.domain.job import CONSOLE_HOSTS as CONSOLE_HOSTS
from watcher.domain.job import KIND_STATUS_CLASSES, JobId, JobKind, ProgressSignal, Scope, StatusClass, console_host
from watcher.domain.job import from_iso as from_iso
from watcher.domain.job import partition_of as partition_of
from watcher.domain.job import to_iso as to_iso
from watcher.domain.kinds import KindJob
from watcher.domain.text import clean
from watcher.domain.vocabulary import NOTIFICATION_CHANNELS


class JobStatus(StrEnum):
    INITIALIZING = "Initializing"
    IN_PROGRESS = "InProgress"
    COMPLETED = "Completed"
    FAILED = "Failed"
    STOPPING = "Stopping"
    STOPPED = "Stopped"

    @property
    def status_class(self) -> StatusClass:
        return STATUS_CLASSES[self]

    @property
    def is_terminal(self) -> bool:
        return self.status_class.is_terminal


# What each labeling-job status means to the watcher (the job seam's status class).
STATUS_CLASSES = {
    JobStatus.INITIALIZING: StatusClass.ACTIVE,
    JobStatus.IN_PROGRESS: StatusClass.ACTIVE,
    JobStatus.STOPPING: StatusClass.STOPPING,
    JobStatus.COMPLETED: StatusClass.COMPLETED,
    JobStatus.FAILED: StatusClass.FAILED,
    JobStatus.STOPPED: StatusClass.STOPPED,
}
TERMINAL_STATUSES = frozenset(status for status in JobStatus if status.is_terminal)
# Listing order follows the lifecycle so that a job moving forward between two list calls is seen at least once.
ACTIVE_STATUSES = (JobStatus.INITIALIZING, JobStatus.IN_PROGRESS, JobStatus.STOPPING)
# Where nearly all active labeling jobs are: a steady run lists only these (Initializing and Stopping are brief).
STEADY_STATUSES = (JobStatus.IN_PROGRESS,)


class EventType(StrEnum):
    COMPLETED = "completed"
    FAILED = "failed"
    STOPPED = "stopped"
    STALLED = "stalled"
    RESUMED = "resumed"
    # Sent on request (`gtwatch test-notify`) to prove the channels work; always passes the filter policies.
    TEST = "test"


# The notification each way of ending owes, for every kind of job.
TERMINAL_EVENTS = {
    StatusClass.COMPLETED: EventType.COMPLETED,
    StatusClass.FAILED: EventType.FAILED,
    StatusClass.STOPPED: EventType.STOPPED,
}


@dataclass(frozen=True)
class LabelCounters:
    total_labeled: int = 0
    human_labeled: int = 0
    machine_labeled: int = 0
    failed_non_retryable_error: int = 0
    unlabeled: int = 0

    @classmethod
    def from_api(cls, raw: dict[str, Any] | None) -> LabelCounters:
        raw = raw or {}
        return cls(
            total_labeled=int(raw.get("TotalLabeled", 0)),
            human_labeled=int(raw.get("HumanLabeled", 0)),
            machine_labeled=int(raw.get("MachineLabeled", 0)),
            failed_non_retryable_error=int(raw.get("FailedNonRetryableError", 0)),
            unlabeled=int(raw.get("Unlabeled", 0)),
        )

    def to_api(self) -> dict[str, int]:
        return {
            "TotalLabeled": self.total_labeled,
            "HumanLabeled": self.human_labeled,
            "MachineLabeled": self.machine_labeled,
            "FailedNonRetryableError": self.failed_non_retryable_error,
            "Unlabeled": self.unlabeled,
        }

    def signal(self, status: JobStatus) -> ProgressSignal:
        """The labeling job's progress signal: its counters while it labels. Initializing and Stopping jobs move
        only by a change of status (counters may still change while a job is stopped: that is not progress)."""
        return self if status is JobStatus.IN_PROGRESS else None

    @property
    def done(self) -> int:
        """Objects that will not be worked on again: labeled, or failed for good."""
        return self.total_labeled + self.failed_non_retryable_error

    @property
    def total(self) -> int:
        return self.done + self.unlabeled


def console_url(region: str, name: str) -> str:
    host = console_host(region)
    return f"{host}/sagemaker/groundtruth?region={region}#/labeling-jobs/details/{quote(name, safe='-')}"


class _LabelingSeam:
    """The job seam's identity and status class, as a labeling job and a remembered state of any kind answer them."""

    kind: JobKind
    region: str
    name: str
    status: str
    # The watched account the job runs in: None for the home account (where gtwatch is deployed).
    account: str | None

    @property
    def id(self) -> JobId:
        return JobId(self.kind, self.region, self.name, self.account)

    @property
    def scope(self) -> Scope:
        return Scope(self.region, self.kind, self.account)

    @property
    def status_class(self) -> StatusClass:
        return KIND_STATUS_CLASSES[self.kind][self.status]


@dataclass(frozen=True)
class LabelingJob(_LabelingSeam):
    """One labeling job as SageMaker reported it (a ListLabelingJobs summary or a DescribeLabelingJob)."""

    region: str
    name: str
    arn: str
    status: JobStatus
    counters: LabelCounters
    creation_time: datetime
    last_modified_time: datetime
    failure_reason: str | None = None
    output_uri: str | None = None
    active_learning_model_arn: str | None = None
    workteam_arn: str | None = None
    input_manifest_uri: str | None = None
    input_sns_topic_arn: str | None = None
    # The spoke account it runs in (None: the home account): part of its identity, as its scope names it.
    account: str | None = None
    # Its account's 12-digit id and alias, as people read them and routes choose (the home account's too, when the
    # deployment lists its accounts); None when unknown.
    account_id: str | None = None
    account_alias: str | None = None

    @classmethod
    def from_api(cls, region: str, raw: dict[str, Any]) -> LabelingJob:
        """Build from a LabelingJobSummary or a DescribeLabelingJob response (the shapes share these fields)."""
        output = raw.get("LabelingJobOutput") or {}
        data_source = (raw.get("InputConfig") or {}).get("DataSource") or {}
        workteam = raw.get("WorkteamArn") or (raw.get("HumanTaskConfig") or {}).get("WorkteamArn")
        return cls(
            region=region,
            name=raw["LabelingJobName"],
            arn=raw["LabelingJobArn"],
            status=JobStatus(raw["LabelingJobStatus"]),
            counters=LabelCounters.from_api(raw.get("LabelCounters")),
            creation_time=_aware(raw["CreationTime"]),
            last_modified_time=_aware(raw.get("LastModifiedTime") or raw["CreationTime"]),
            failure_reason=_cleaned(raw.get("FailureReason")),
            output_uri=_cleaned(output.get("OutputDatasetS3Uri")),
            active_learning_model_arn=_cleaned(output.get("FinalActiveLearningModelArn")),
            workteam_arn=_cleaned(workteam),
            input_manifest_uri=_cleaned((data_source.get("S3DataSource") or {}).get("ManifestS3Uri")),
            input_sns_topic_arn=_cleaned((data_source.get("SnsDataSource") or {}).get("SnsTopicArn")),
        )

    # The job seam (job.Job): kind, identity and status class (_LabelingSeam), progress signal. A labeling job's
    # summary carries everything its messages show, and it writes no logs gtwatch reads.
    kind = JobKind.LABELING
    detailed = True
    last_log_at: datetime | None = None

    @property
    def progress_signal(self) -> ProgressSignal:
        return self.counters.signal(self.status)

    @property
    def waiting(self) -> bool:
        return self.status is JobStatus.IN_PROGRESS and self.counters.unlabeled == 0

    @property
    def console_url(self) -> str:
        return console_url(self.region, self.name)

    def to_document(self) -> dict[str, Any]:
        return {
            "region": self.region,
            "name": self.name,
            "arn": self.arn,
            "status": self.status.value,
            "counters": self.counters.to_api(),
            "creation_time": to_iso(self.creation_time),
            "last_modified_time": to_iso(self.last_modified_time),
            "failure_reason": self.failure_reason,
            "output_uri": self.output_uri,
            "active_learning_model_arn": self.active_learning_model_arn,
            "workteam_arn": self.workteam_arn,
            "input_manifest_uri": self.input_manifest_uri,
            "input_sns_topic_arn": self.input_sns_topic_arn,
            "console_url": self.console_url,
            **({"account": self.account} if self.account else {}),
            **({"account_id": self.account_id, "account_alias": self.account_alias} if self.account_id else {}),
        }

    @classmethod
    def from_document(cls, doc: dict[str, Any]) -> LabelingJob:
        return cls(
            region=doc["region"],
            name=doc["name"],
            arn=doc["arn"],
            status=JobStatus(doc["status"]),
            counters=LabelCounters.from_api(doc["counters"]),
            creation_time=from_iso(doc["creation_time"]),
            last_modified_time=from_iso(doc["last_modified_time"]),
            failure_reason=doc.get("failure_reason"),
            output_uri=doc.get("output_uri"),
            active_learning_model_arn=doc.get("active_learning_model_arn"),
            workteam_arn=doc.get("workteam_arn"),
            input_manifest_uri=doc.get("input_manifest_uri"),
            input_sns_topic_arn=doc.get("input_sns_topic_arn"),
            account=doc.get("account"),
            account_id=doc.get("account_id"),
            account_alias=doc.get("account_alias"),
        )


def _cleaned(value: str | None) -> str | None:
    """Free text from the API (S3 keys can hold anything too), safe to store, publish and show; None when empty."""
    return clean(value) if value else None


def _aware(value: datetime | str) -> datetime:
    """A time from boto3 in UTC. botocore parses timestamps into the machine's local zone (tzlocal)."""
    if isinstance(value, str):
        return from_iso(value)
    return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)


@dataclass(frozen=True)
class Progress:
    """How far a job is, and how fast it moves, as of one tick."""

    done: int
    total: int
    human_labeled: int
    machine_labeled: int
    failed: int
    rate_per_hour: float | None = None
    eta: datetime | None = None
    minutes_since_progress: int | None = None

    @property
    def percent(self) -> float | None:
        """Share done, floored to one decimal: a job with objects left never reads 100%."""
        if self.total == 0:
            return None
        return (1000 * self.done // self.total) / 10

    def to_document(self) -> dict[str, Any]:
        return {
            "done": self.done,
            "total": self.total,
            "percent": self.percent,
            "human_labeled": self.human_labeled,
            "machine_labeled": self.machine_labeled,
            "failed": self.failed,
            "rate_per_hour": None if self.rate_per_hour is None else round(self.rate_per_hour, 1),
            "eta": None if self.eta is None else to_iso(self.eta),
            "minutes_since_progress": self.minutes_since_progress,
        }

    @classmethod
    def from_document(cls, doc: dict[str, Any]) -> Progress:
        return cls(
            done=doc["done"],
            total=doc["total"],
            human_labeled=doc["human_labeled"],
            machine_labeled=doc["machine_labeled"],
            failed=doc["failed"],
            rate_per_hour=doc.get("rate_per_hour"),
            eta=from_iso(doc["eta"]) if doc.get("eta") else None,
            minutes_since_progress=doc.get("minutes_since_progress"),
        )


@dataclass(frozen=True)
class Notification:
    """One thing a person should hear about a job. `id` is the same for every attempt at the same transition."""

    id: str
    event_type: EventType
    job: AnyJob
    occurred_at: datetime
    progress: Progress
    # The job's notifications in the order of its transitions: `sequence` counts from 1 within `stream` (one per
    # job the watcher remembers). Slack delivers each stream in order. Empty and 0 outside any job's stream (test).
    stream: str = ""
    sequence: int = 0
    # Muted after it was decided (`gtwatch mute` while it was held): Slack moves past it without saying it.
    muted: bool = False
    # Sent to Slack while quiet hours still hold it (until `held_until`), because later notifications of its job
    # that are not held go out now (`released_by`, their types): Slack shows it now only in the channels those
    # reach, so that the job's order moves on; the watcher sends it again when the window ends, for the others.
    held_until: datetime | None = None
    released_by: frozenset[str] = frozenset()

    SCHEMA_VERSION = 1

    def to_document(self) -> dict[str, Any]:
        return {
            "schema": self.SCHEMA_VERSION,
            "id": self.id,
            "event_type": self.event_type.value,
            "occurred_at": to_iso(self.occurred_at),
            "job": self.job.to_document(),
            "progress": self.progress.to_document(),
            "stream": self.stream,
            "sequence": self.sequence,
            **({"muted": True} if self.muted else {}),
            **({"held_until": to_iso(self.held_until)} if self.held_until else {}),
            **({"released_by": sorted(self.released_by)} if self.held_until else {}),
        }

    @classmethod
    def from_document(cls, doc: dict[str, Any]) -> Notification:
        if doc.get("schema") != cls.SCHEMA_VERSION:
            raise ValueError(f"schema: expected {cls.SCHEMA_VERSION}, got {doc.get('schema')!r}")
        return cls(
            id=doc["id"],
            event_type=EventType(doc["event_type"]),
            occurred_at=from_iso(doc["occurred_at"]),
            job=job_from_document(doc["job"]),
            progress=Progress.from_document(doc["progress"]),
            stream=str(doc.get("stream") or ""),
            sequence=int(doc.get("sequence") or 0),
            muted=bool(doc.get("muted", False)),
            held_until=from_iso(doc["held_until"]) if doc.get("held_until") else None,
            released_by=frozenset(str(event_type) for event_type in doc.get("released_by") or ()),
        )


# The channels a notification goes to: SNS delivers it to the email subscriptions and to the Slack queue.
CHANNELS = frozenset(NOTIFICATION_CHANNELS)


@dataclass(frozen=True)
class OutboxEntry:
    """A notification not yet published to every channel. `channels` are still to do; of those, `held` wait for
    quiet hours to end at `held_until`, or for a later notification of the job that is not held and goes there.
    Slack gets it ahead with such a later one (to show it in the channels that one reaches) and keeps it here, to
    be sent again, for the other channels, at `held_until`."""

    notification: Notification
    channels: frozenset[str] = CHANNELS
    held: frozenset[str] = frozenset()
    held_until: datetime | None = None

    def holds(self, channel: str, now: datetime) -> bool:
        return channel in self.held and self.held_until is not None and now < self.held_until

    def to_document(self) -> dict[str, Any]:
        return {
            "notification": self.notification.to_document(),
            "channels": sorted(self.channels),
            "held": sorted(self.held),
            "held_until": to_iso(self.held_until) if self.held_until else None,
        }

    @classmethod
    def from_document(cls, doc: dict[str, Any]) -> OutboxEntry:
        if "notification" not in doc:  # Stored before quiet hours: a bare notification for every channel.
            return cls(Notification.from_document(doc))
        return cls(
            notification=Notification.from_document(doc["notification"]),
            channels=frozenset(doc["channels"]),
            held=frozenset(doc.get("held") or ()),
            held_until=from_iso(doc["held_until"]) if doc.get("held_until") else None,
        )


@dataclass(frozen=True)
class Sample:
    """Work done at one tick; a short series of them gives the labeling rate."""

    at: datetime
    done: int


# JobState.observed_signal when the state was read back: derive the signal from what the state remembers.
DERIVED = object()


@dataclass(frozen=True)
class JobState(_LabelingSeam):
    """What the watcher remembers about one job between runs (one DynamoDB item), of any kind."""

    region: str
    name: str
    # The kind's own status word (a labeling job's is a JobStatus).
    status: str
    # A labeling job's counters; zero for the other kinds.
    counters: LabelCounters
    # First tick that saw the current status and counters: stalls are measured from here.
    unchanged_since: datetime
    # When the current stall episode was last announced; None while the job is not known to be stalled.
    stall_notified_at: datetime | None = None
    stall_notices: int = 0
    history: tuple[Sample, ...] = ()
    # Notifications decided but not yet published to every channel: the outbox.
    outbox: tuple[OutboxEntry, ...] = ()
    # The run delivering the outbox, until when: overlapping runs leave it alone meanwhile.
    lease_owner: str | None = None
    lease_until: datetime | None = None
    version: int = 0
    # The job's notification stream (see Notification) and the last sequence number given out in it.
    stream: str = ""
    sequence: int = 0
    # When the job reached its final status (its LastModifiedTime then): the digest's "ended in the last 24 hours".
    ended_at: datetime | None = None
    # The job's kind (the store keeps labeling jobs' items as they were: absent there means labeling).
    kind: JobKind = JobKind.LABELING
    # The job's ARN, for the kinds described by it (a pipeline execution's name is only a display name).
    arn: str | None = None
    # The spoke account it runs in (None: the home account).
    account: str | None = None
    # The progress signal last observed (job.ProgressSignal: None or a tuple of strings), set by the diff. A labeling
    # job's is not stored (a state read back derives it from the remembered status and counters); the other kinds'
    # is stored with the state (`signal`).
    observed_signal: ProgressSignal = field(default=DERIVED, compare=False, repr=False)
    signal: tuple[str, ...] | None = None

    @property
    def progress_signal(self) -> ProgressSignal:
        """The progress signal of the job as last observed: what the next observation is compared with."""
        if self.kind is not JobKind.LABELING:
            return self.signal
        if self.observed_signal is DERIVED:
            return self.counters.signal(JobStatus(self.status))
        return self.observed_signal

    @property
    def waiting(self) -> bool:
        """As the job was last seen: active with nothing to work on (a streaming labeling job with no objects)."""
        return self.kind is JobKind.LABELING and self.status == JobStatus.IN_PROGRESS and self.counters.unlabeled == 0

    def leased_to_another(self, run_id: str, now: datetime) -> bool:
        return self.lease_owner not in (None, run_id) and self.lease_until is not None and self.lease_until > now


# A job of any kind, as SageMaker reported it.
AnyJob = LabelingJob | KindJob


def job_from_document(doc: dict[str, Any]) -> AnyJob:
    """A job stored in a notification; documents without a kind were written for labeling jobs."""
    if doc.get("kind", JobKind.LABELING.value) == JobKind.LABELING.value:
        return LabelingJob.from_document(doc)
    return KindJob.from_document(doc)
