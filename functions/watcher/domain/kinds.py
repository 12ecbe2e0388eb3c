"""The job kinds after labeling: training, processing, transform and tuning jobs and pipeline executions, as SageMaker
reports them (a list summary, a describe, or an event's detail), each with the facts its messages show. Pure.

A `KindJob` answers the job seam (job.Job) as a labeling job does: identity, status class, progress signal. Its
facts differ by kind (TrainingFacts, ProcessingFacts, ...). A list summary carries fewer facts than a describe
(`detailed` says which): the watch describes a job before it says anything about it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from watcher.domain.contract import KIND_LOG_GROUPS
from watcher.domain.job import (
    KIND_STATUS_CLASSES,
    JobId,
    JobKind,
    ProgressSignal,
    Scope,
    StatusClass,
    console_host,
    from_iso,
    to_iso,
)
from watcher.domain.text import clean

# The counters of a tuning job's training jobs, in the order people read them (TrainingJobStatusCounters).
TUNING_COUNTERS = ("Completed", "InProgress", "RetryableError", "NonRetryableError", "Stopped")
# The child job a pipeline step's Metadata names, by the key SageMaker files it under.
STEP_CHILD_KINDS = {
    "TrainingJob": JobKind.TRAINING,
    "ProcessingJob": JobKind.PROCESSING,
    "TransformJob": JobKind.TRANSFORM,
    "TuningJob": JobKind.TUNING,
}


@dataclass(frozen=True)
class TrainingFacts:
    secondary_status: str | None = None
    # The newest SecondaryStatusTransitions entry's message ("Downloading the training image...").
    status_message: str | None = None
    max_runtime_seconds: int | None = None
    training_seconds: int | None = None
    billable_seconds: int | None = None
    spot: bool = False
    final_metrics: tuple[tuple[str, float], ...] = ()
    model_uri: str | None = None
    started_at: datetime | None = None

    @property
    def spot_savings_percent(self) -> float | None:
        """What managed spot training saved: 1 - billable / training time (the console's "Managed spot training
        savings")."""
        if not self.spot or not self.training_seconds or self.billable_seconds is None:
            return None
        return max(0.0, 100 * (1 - self.billable_seconds / self.training_seconds))


@dataclass(frozen=True)
class ProcessingFacts:
    exit_message: str | None = None
    output_uris: tuple[str, ...] = ()


@dataclass(frozen=True)
class TransformFacts:
    output_uri: str | None = None
    model_name: str | None = None


@dataclass(frozen=True)
class TuningFacts:
    counters: tuple[tuple[str, int], ...] = ()
    max_jobs: int | None = None
    best_job: str | None = None
    best_metric: str | None = None
    best_value: float | None = None

    def count(self, name: str) -> int:
        return dict(self.counters).get(name, 0)

    @property
    def finished(self) -> int:
        """Training jobs that will not run again: completed, failed for good, or stopped."""
        return self.count("Completed") + self.count("NonRetryableError") + self.count("Stopped")


@dataclass(frozen=True)
class PipelineStep:
    name: str
    status: str
    failure_reason: str | None = None
    # The step's child job, when it ran one (a training step's training job...).
    job_kind: JobKind | None = None
    job_name: str | None = None
    job_arn: str | None = None


@dataclass(frozen=True)
class PipelineFacts:
    pipeline: str | None = None
    steps: tuple[PipelineStep, ...] = ()

    @property
    def failed_step(self) -> PipelineStep | None:
        return next((step for step in self.steps if step.status == "Failed"), None)


KindFacts = TrainingFacts | ProcessingFacts | TransformFacts | TuningFacts | PipelineFacts
FACT_TYPES: dict[JobKind, type[KindFacts]] = {
    JobKind.TRAINING: TrainingFacts,
    JobKind.PROCESSING: ProcessingFacts,
    JobKind.TRANSFORM: TransformFacts,
    JobKind.TUNING: TuningFacts,
    JobKind.PIPELINE: PipelineFacts,
}


@dataclass(frozen=True)
class KindJob:
    """One job of a kind other than labeling, as SageMaker reported it."""

    kind: JobKind
    region: str
    name: str
    arn: str
    status: str
    creation_time: datetime
    last_modified_time: datetime
    facts: KindFacts
    failure_reason: str | None = None
    # A describe (or an event carrying as much), not a list summary: enough to tell people about the job.
    detailed: bool = False
    # The newest log line the watcher read this run; None when none was read (the job writes no logs yet, its kind
    # has none, or CloudWatch Logs could not be read: then log lines neither start nor end a stall).
    last_log_at: datetime | None = None
    # The spoke account it runs in (None: the home account): part of its identity, as its scope names it.
    account: str | None = None
    # Its account's 12-digit id and alias, as people read them and routes choose (the home account's too, when the
    # deployment lists its accounts); None when unknown.
    account_id: str | None = None
    account_alias: str | None = None

    @property
    def id(self) -> JobId:
        return JobId(self.kind, self.region, self.name, self.account)

    @property
    def status_class(self) -> StatusClass:
        return KIND_STATUS_CLASSES[self.kind][self.status]

    @property
    def scope(self) -> Scope:
        return Scope(self.region, self.kind, self.account)

    @property
    def progress_signal(self) -> ProgressSignal:
        return self.signal

    @property
    def signal(self) -> tuple[str, ...] | None:
        """What must change, besides the status and the log, for the job to count as moving: a training job's
        secondary status, a tuning job's counters. Nothing while it is being stopped (only a status change counts)."""
        if self.status_class is not StatusClass.ACTIVE:
            return None
        if isinstance(self.facts, TrainingFacts):
            return (self.facts.secondary_status or "",)
        if isinstance(self.facts, TuningFacts):
            return tuple(f"{name}={self.facts.count(name)}" for name in TUNING_COUNTERS)
        return None

    @property
    def waiting(self) -> bool:
        return False

    @property
    def console_url(self) -> str:
        return console_url(self.kind, self.region, self.name, self.arn)

    def to_document(self) -> dict[str, Any]:
        return {
            "kind": self.kind.value,
            "region": self.region,
            "name": self.name,
            "arn": self.arn,
            "status": self.status,
            "creation_time": to_iso(self.creation_time),
            "last_modified_time": to_iso(self.last_modified_time),
            "failure_reason": self.failure_reason,
            "facts": facts_to_document(self.facts),
            "console_url": self.console_url,
            **({"last_log_at": to_iso(self.last_log_at)} if self.last_log_at else {}),
            **({"account": self.account} if self.account else {}),
            **({"account_id": self.account_id, "account_alias": self.account_alias} if self.account_id else {}),
        }

    @classmethod
    def from_document(cls, doc: Mapping[str, Any]) -> KindJob:
        kind = JobKind(doc["kind"])
        return cls(
            kind=kind,
            region=doc["region"],
            name=doc["name"],
            arn=doc["arn"],
            status=doc["status"],
            creation_time=from_iso(doc["creation_time"]),
            last_modified_time=from_iso(doc["last_modified_time"]),
            failure_reason=doc.get("failure_reason"),
            facts=facts_from_document(kind, doc.get("facts") or {}),
            detailed=True,
            last_log_at=from_iso(doc["last_log_at"]) if doc.get("last_log_at") else None,
            account=doc.get("account"),
            account_id=doc.get("account_id"),
            account_alias=doc.get("account_alias"),
        )


def facts_to_document(facts: KindFacts) -> dict[str, Any]:
    if isinstance(facts, TrainingFacts):
        return {
            "secondary_status": facts.secondary_status,
            "status_message": facts.status_message,
            "max_runtime_seconds": facts.max_runtime_seconds,
            "training_seconds": facts.training_seconds,
            "billable_seconds": facts.billable_seconds,
            "spot": facts.spot,
            "final_metrics": [[name, value] for name, value in facts.final_metrics],
            "model_uri": facts.model_uri,
            "started_at": to_iso(facts.started_at) if facts.started_at else None,
        }
    if isinstance(facts, ProcessingFacts):
        return {"exit_message": facts.exit_message, "output_uris": list(facts.output_uris)}
    if isinstance(facts, TransformFacts):
        return {"output_uri": facts.output_uri, "model_name": facts.model_name}
    if isinstance(facts, TuningFacts):
        return {
            "counters": dict(facts.counters),
            "max_jobs": facts.max_jobs,
            "best_job": facts.best_job,
            "best_metric": facts.best_metric,
            "best_value": facts.best_value,
        }
    return {
        "pipeline": facts.pipeline,
        "steps": [
            {
                "name": step.name,
                "status": step.status,
                "failure_reason": step.failure_reason,
                "job_kind": step.job_kind.value if step.job_kind else None,
                "job_name": step.job_name,
                "job_arn": step.job_arn,
            }
            for step in facts.steps
        ],
    }


def facts_from_document(kind: JobKind, doc: Mapping[str, Any]) -> KindFacts:
    if kind is JobKind.TRAINING:
        return TrainingFacts(
            secondary_status=doc.get("secondary_status"),
            status_message=doc.get("status_message"),
            max_runtime_seconds=doc.get("max_runtime_seconds"),
            training_seconds=doc.get("training_seconds"),
            billable_seconds=doc.get("billable_seconds"),
            spot=bool(doc.get("spot")),
            final_metrics=tuple((str(name), float(value)) for name, value in doc.get("final_metrics") or ()),
            model_uri=doc.get("model_uri"),
            started_at=from_iso(doc["started_at"]) if doc.get("started_at") else None,
        )
    if kind is JobKind.PROCESSING:
        return ProcessingFacts(exit_message=doc.get("exit_message"), output_uris=tuple(doc.get("output_uris") or ()))
    if kind is JobKind.TRANSFORM:
        return TransformFacts(output_uri=doc.get("output_uri"), model_name=doc.get("model_name"))
    if kind is JobKind.TUNING:
        return TuningFacts(
            counters=_counters(doc.get("counters")),
            max_jobs=doc.get("max_jobs"),
            best_job=doc.get("best_job"),
            best_metric=doc.get("best_metric"),
            best_value=doc.get("best_value"),
        )
    if kind is JobKind.PIPELINE:
        return PipelineFacts(
            pipeline=doc.get("pipeline"),
            steps=tuple(
                PipelineStep(
                    name=step["name"],
                    status=step["status"],
                    failure_reason=step.get("failure_reason"),
                    job_kind=JobKind(step["job_kind"]) if step.get("job_kind") else None,
                    job_name=step.get("job_name"),
                    job_arn=step.get("job_arn"),
                )
                for step in doc.get("steps") or ()
            ),
        )
    raise ValueError(f"kind: {kind.value!r} has no facts of its own")


# ---- From SageMaker's answers: list summaries and describes share their field names within a kind, and a state
# change event's detail carries the describe's fields (times as epoch milliseconds there).


def training_job(region: str, raw: Mapping[str, Any], *, detailed: bool) -> KindJob:
    transitions = raw.get("SecondaryStatusTransitions") or []
    stopping = raw.get("StoppingCondition") or {}
    return _job(
        JobKind.TRAINING,
        "TrainingJob",
        "TrainingEndTime",
        region,
        raw,
        detailed=detailed,
        facts=TrainingFacts(
            secondary_status=raw.get("SecondaryStatus"),
            status_message=_cleaned(transitions[-1].get("StatusMessage")) if transitions else None,
            max_runtime_seconds=_int(stopping.get("MaxRuntimeInSeconds")),
            training_seconds=_int(raw.get("TrainingTimeInSeconds")),
            billable_seconds=_int(raw.get("BillableTimeInSeconds")),
            spot=bool(raw.get("EnableManagedSpotTraining")),
            final_metrics=tuple(
                (_cleaned(metric["MetricName"]) or "", float(metric["Value"]))
                for metric in raw.get("FinalMetricDataList") or ()
                if "MetricName" in metric and "Value" in metric
            ),
            model_uri=_cleaned((raw.get("ModelArtifacts") or {}).get("S3ModelArtifacts")),
            started_at=parse_time(raw["TrainingStartTime"]) if raw.get("TrainingStartTime") else None,
        ),
    )


def processing_job(region: str, raw: Mapping[str, Any], *, detailed: bool) -> KindJob:
    outputs = (raw.get("ProcessingOutputConfig") or {}).get("Outputs") or []
    return _job(
        JobKind.PROCESSING,
        "ProcessingJob",
        "ProcessingEndTime",
        region,
        raw,
        detailed=detailed,
        facts=ProcessingFacts(
            exit_message=_cleaned(raw.get("ExitMessage")),
            output_uris=tuple(
                uri for output in outputs if (uri := _cleaned((output.get("S3Output") or {}).get("S3Uri")))
            ),
        ),
    )


def transform_job(region: str, raw: Mapping[str, Any], *, detailed: bool) -> KindJob:
    return _job(
        JobKind.TRANSFORM,
        "TransformJob",
        "TransformEndTime",
        region,
        raw,
        detailed=detailed,
        facts=TransformFacts(
            output_uri=_cleaned((raw.get("TransformOutput") or {}).get("S3OutputPath")),
            model_name=_cleaned(raw.get("ModelName")),
        ),
    )


def tuning_job(region: str, raw: Mapping[str, Any], *, detailed: bool) -> KindJob:
    limits = raw.get("ResourceLimits") or (raw.get("HyperParameterTuningJobConfig") or {}).get("ResourceLimits") or {}
    best = raw.get("BestTrainingJob") or {}
    objective = best.get("FinalHyperParameterTuningJobObjectiveMetric") or {}
    return _job(
        JobKind.TUNING,
        "HyperParameterTuningJob",
        "HyperParameterTuningEndTime",
        region,
        raw,
        detailed=detailed,
        facts=TuningFacts(
            counters=_counters(raw.get("TrainingJobStatusCounters")),
            max_jobs=_int(limits.get("MaxNumberOfTrainingJobs")),
            best_job=_cleaned(best.get("TrainingJobName")),
            best_metric=_cleaned(objective.get("MetricName")),
            best_value=float(objective["Value"]) if objective.get("Value") is not None else None,
        ),
    )


def _job(
    kind: JobKind, prefix: str, end_field: str, region: str, raw: Mapping[str, Any], *, detailed: bool, facts: KindFacts
) -> KindJob:
    """A job of the kinds SageMaker lists as ListXxxJobs: its identity, status and times are the `<prefix>Name`,
    `<prefix>Arn` and `<prefix>Status` fields of its summary, describe or event detail."""
    return KindJob(
        kind=kind,
        region=region,
        name=raw[f"{prefix}Name"],
        arn=raw[f"{prefix}Arn"],
        status=raw[f"{prefix}Status"],
        creation_time=parse_time(raw["CreationTime"]),
        last_modified_time=_last_modified(raw, end_field),
        failure_reason=_cleaned(raw.get("FailureReason")),
        facts=facts,
        detailed=detailed,
    )


def pipeline_execution(region: str, raw: Mapping[str, Any], *, steps: list[Mapping[str, Any]] | None = None) -> KindJob:
    """A pipeline execution from DescribePipelineExecution or a Search result; `steps` from
    ListPipelineExecutionSteps make it detailed. Its name is its display name (or the execution id)."""
    arn = raw["PipelineExecutionArn"]
    return KindJob(
        kind=JobKind.PIPELINE,
        region=region,
        name=raw.get("PipelineExecutionDisplayName") or arn.rsplit("/", 1)[-1],
        arn=arn,
        status=raw["PipelineExecutionStatus"],
        creation_time=parse_time(raw["CreationTime"]),
        last_modified_time=_last_modified(raw, None),
        failure_reason=_cleaned(raw.get("FailureReason")),
        facts=PipelineFacts(
            pipeline=pipeline_name(raw.get("PipelineArn") or arn),
            steps=tuple(pipeline_step(step) for step in steps or ()),
        ),
        detailed=steps is not None,
    )


def pipeline_step(raw: Mapping[str, Any]) -> PipelineStep:
    metadata = raw.get("Metadata") or {}
    child_key = next((key for key in STEP_CHILD_KINDS if (metadata.get(key) or {}).get("Arn")), None)
    child_arn = metadata[child_key]["Arn"] if child_key else None
    return PipelineStep(
        name=_cleaned(raw.get("StepDisplayName") or raw.get("StepName")) or "",
        status=raw.get("StepStatus") or "",
        failure_reason=_cleaned(raw.get("FailureReason")),
        job_kind=STEP_CHILD_KINDS[child_key] if child_key else None,
        job_name=child_arn.rsplit("/", 1)[-1] if child_arn else None,
        job_arn=child_arn,
    )


def pipeline_name(arn: str) -> str | None:
    """The pipeline's name from its ARN or one of its executions' (…:pipeline/<name>[/execution/<id>])."""
    _, _, resource = arn.partition(":pipeline/")
    return resource.split("/", 1)[0] or None


# Each kind's console page (the SageMaker AI console's job pages; a pipeline execution lives in SageMaker Studio).
CONSOLE_PATHS = {
    JobKind.TRAINING: "/sagemaker/home?region={region}#/jobs/{name}",
    JobKind.PROCESSING: "/sagemaker/home?region={region}#/processing-jobs/{name}",
    JobKind.TRANSFORM: "/sagemaker/home?region={region}#/transform-jobs/{name}",
    JobKind.TUNING: "/sagemaker/home?region={region}#/hyper-tuning-jobs/{name}",
    JobKind.PIPELINE: "/sagemaker/home?region={region}#/pipelines",
}


def console_url(kind: JobKind, region: str, name: str, arn: str = "") -> str:
    path = CONSOLE_PATHS[kind].format(region=region, name=quote(name, safe="-"))
    return console_host(region) + path


def log_url(kind: JobKind, region: str, name: str) -> str:
    """The job's log streams in the CloudWatch console (the log group filtered to streams named after the job)."""
    group = KIND_LOG_GROUPS[kind.value].replace("/", "$252F")
    return (
        f"{console_host(region)}/cloudwatch/home?region={region}#logsV2:log-groups/log-group/{group}"
        f"$3FlogStreamNameFilter$3D{name}$252F"
    )


def parse_time(value: object) -> datetime:
    """A time as boto3 (a datetime), an event (epoch milliseconds, as a number or a string) or a document (ISO 8601)
    gives it; always in UTC."""
    if isinstance(value, datetime):
        return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return datetime.fromtimestamp(value / 1000, UTC)
    if isinstance(value, str):
        if value.isdigit():
            return datetime.fromtimestamp(int(value) / 1000, UTC)
        return from_iso(value)
    raise ValueError(f"not a time: {value!r}")


def _last_modified(raw: Mapping[str, Any], end_field: str | None) -> datetime:
    for name in ("LastModifiedTime", end_field, "CreationTime"):
        if name and raw.get(name):
            return parse_time(raw[name])
    raise ValueError("CreationTime: required")


def _counters(raw: object) -> tuple[tuple[str, int], ...]:
    values = raw if isinstance(raw, Mapping) else {}
    return tuple((name, int(values.get(name) or 0)) for name in TUNING_COUNTERS)


def _int(value: object) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int | float | str) or not str(value).strip():
        return None
    return int(float(value))


def _cleaned(value: object) -> str | None:
    return clean(value) if isinstance(value, str) and value else None
