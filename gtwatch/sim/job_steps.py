"""The replay's steps for every job kind: what a create, update or log step does in the emulator, the EventBridge
event SageMaker sends for a job's change, and where (kind, account, region) a published notification's job lives."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Final

from watcher.domain.contract import KIND_DETAIL_TYPES, STATE_CHANGE_SOURCE, KindName

from .emulator import deployment, labeling_jobs, sagemaker_jobs
from .scenario import (
    CreateJob,
    LogLine,
    PipelineChange,
    ProcessingChange,
    StateChangeEvent,
    TrainingChange,
    TransformChange,
    TuningChange,
    UpdateJob,
)

KindChange = TrainingChange | ProcessingChange | TransformChange | TuningChange
# The member prefix of each kind's Describe response (TrainingJobName, TrainingJobArn, TrainingJobStatus...).
_PREFIXES: Final[dict[str, str]] = {
    "labeling": "LabelingJob",
    "training": "TrainingJob",
    "processing": "ProcessingJob",
    "transform": "TransformJob",
    "tuning": "HyperParameterTuningJob",
}


def _where(step: Any) -> dict[str, str]:
    return {"account_id": step.account or deployment.ACCOUNT_ID, "region": step.region or deployment.REGION}


def apply_create(job: CreateJob | KindChange | PipelineChange, at: datetime) -> None:
    """Make the job appear in the emulator at `at`, as SageMaker would hold it."""
    if isinstance(job, CreateJob):
        labeling_jobs.put_labeling_job(
            **_where(job),
            name=job.name,
            status=job.status.value,
            counters=job.counters.to_api(),
            failure_reason=job.failure_reason,
            output_uri=job.output,
            workteam_arn=job.workteam_arn,
            at=at,
        )
    elif isinstance(job, PipelineChange):
        assert job.pipeline is not None  # scenario.Scenario.problems refuses a create without it
        sagemaker_jobs.put_pipeline_execution(
            **_where(job),
            pipeline=job.pipeline,
            name=job.name,
            at=at,
            status=job.status or "Executing",
            failure_reason=job.failure_reason,
            steps=_pipeline_steps(job),
        )
    else:
        changes = {**_changes(job), "status": job.status or "InProgress"}
        sagemaker_jobs.put_job(**_where(job), kind=job.kind, name=job.name, at=at, **changes)


def apply_update(change: UpdateJob | KindChange | PipelineChange, at: datetime) -> None:
    """Change the job in the emulator at `at`; what the step leaves out keeps its value."""
    if isinstance(change, UpdateJob):
        labeling_jobs.update_labeling_job(
            **_where(change),
            name=change.name,
            at=at,
            status=None if change.status is None else change.status.value,
            counters=None if change.counters is None else change.counters.to_api(),
            failure_reason=change.failure_reason,
            output_uri=change.output,
        )
    elif isinstance(change, PipelineChange):
        sagemaker_jobs.update_pipeline_execution(
            **_where(change),
            name=change.name,
            at=at,
            status=change.status,
            failure_reason=change.failure_reason,
            steps=_pipeline_steps(change),
        )
    else:
        sagemaker_jobs.update_job(**_where(change), kind=change.kind, name=change.name, at=at, **_changes(change))


def apply_log(line: LogLine, at: datetime) -> None:
    """The job writes one line to its CloudWatch log stream at `at`."""
    sagemaker_jobs.write_log_line(**_where(line), kind=line.kind, name=line.name, at=at)


def _changes(job: KindChange) -> dict[str, Any]:
    changes: dict[str, Any] = {"status": job.status, "failure_reason": job.failure_reason}
    if isinstance(job, TrainingChange):
        changes |= {
            "secondary_status": job.secondary_status,
            "max_runtime_minutes": job.max_runtime_minutes,
            "spot": job.spot,
            "billable_minutes": job.billable_minutes,
            "final_metrics": job.final_metrics,
        }
    elif isinstance(job, ProcessingChange):
        changes["exit_message"] = job.exit_message
    elif isinstance(job, TuningChange):
        changes |= {
            "counters": None if job.counters is None else job.counters.to_api(),
            "max_jobs": job.max_jobs,
            "best": None if job.best is None else job.best.model_dump(),
        }
    return changes


def _pipeline_steps(job: PipelineChange) -> list[sagemaker_jobs.PipelineStep] | None:
    if job.steps is None:
        return None
    return [
        sagemaker_jobs.PipelineStep(
            name=step.name,
            status=step.status,
            failure_reason=step.failure_reason,
            job=None if step.job is None else (step.job.kind, step.job.name),
        )
        for step in job.steps
    ]


# --- events -----------------------------------------------------------------------------------------


def state_change_event(step: StateChangeEvent, at: datetime) -> dict[str, Any]:
    """The EventBridge event SageMaker sends for the job's current state (the job named, or only its ARN).

    Times in `detail` are as SageMaker's examples show them: epoch milliseconds (numbers) in the job kinds' events,
    whose detail is close to the Describe response; ISO 8601 strings in the pipeline execution's, whose members are
    camelCase (Amazon SageMaker developer guide, "Events that Amazon SageMaker AI sends to Amazon EventBridge").
    """
    where = _where(step)
    kind: KindName = step.kind
    if step.name is None:
        assert step.arn is not None
        arn, detail = step.arn, _detail_from_arn(kind, step.arn)
    elif kind == "labeling":
        described = labeling_jobs.describe_labeling_job(
            labeling_jobs.labeling_job_backend(where["account_id"], where["region"]), step.name
        )
        arn, detail = described["LabelingJobArn"], {"LabelingJobStatus": described["LabelingJobStatus"]}
    elif kind == "pipeline":
        described = sagemaker_jobs.describe_pipeline_execution(step.name, **where)
        arn = described["PipelineExecutionArn"]
        detail = _pipeline_detail(described, sagemaker_jobs.previous_pipeline_status(step.name, **where))
    else:
        described = sagemaker_jobs.describe_job(kind, step.name, **where)
        arn = described[f"{_PREFIXES[kind]}Arn"]
        detail = {**_epoch_millis(described), "Tags": {}}
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": KIND_DETAIL_TYPES[kind],
        "source": STATE_CHANGE_SOURCE,
        "account": where["account_id"],
        "time": at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": where["region"],
        "resources": [arn],
        "detail": detail,
    }


def _detail_from_arn(kind: KindName, arn: str) -> dict[str, Any]:
    """What an event for a job the emulator does not hold says: its ARN and a running status."""
    if kind == "pipeline":
        return {"pipelineExecutionArn": arn, "currentPipelineExecutionStatus": "Executing"}
    prefix = _PREFIXES[kind]
    if kind == "labeling":
        return {f"{prefix}Status": "InProgress"}
    return {f"{prefix}Arn": arn, f"{prefix}Status": "InProgress"}


def _pipeline_detail(described: dict[str, Any], previous: str | None) -> dict[str, Any]:
    status = described["PipelineExecutionStatus"]
    detail = {
        "pipelineExecutionArn": described["PipelineExecutionArn"],
        "executionStartTime": _iso(described["CreationTime"]),
        "currentPipelineExecutionStatus": status,
        "previousPipelineExecutionStatus": previous,
        "pipelineExecutionDisplayName": described["PipelineExecutionDisplayName"],
        "pipelineArn": described["PipelineArn"],
    }
    if status in ("Succeeded", "Failed", "Stopped"):
        detail["executionEndTime"] = _iso(described["LastModifiedTime"])
    return {key: value for key, value in detail.items() if value is not None}


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _epoch_millis(value: Any) -> Any:
    if isinstance(value, datetime):
        return int(value.timestamp() * 1000)
    if isinstance(value, dict):
        return {key: _epoch_millis(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_epoch_millis(item) for item in value]
    return value


# --- where a notification's job lives ----------------------------------------------------------------


def job_whereabouts(document: dict[str, Any] | None) -> dict[str, str | None]:
    """`kind`, `account` (the 12-digit id) and `region` of a published notification's job, read from the document
    the watcher published: the job's "kind" (absent: labeling), its "region" and the account field of its "arn".
    Without a job (a digest, a test notification) all three are None."""
    job = (document or {}).get("job")
    if not isinstance(job, dict):
        return {"kind": None, "account": None, "region": None}
    arn = str(job.get("arn") or "")
    parts = arn.split(":")
    return {
        "kind": str(job.get("kind") or "labeling"),
        "account": parts[4] if len(parts) > 5 and parts[4] else None,
        "region": job.get("region") or (parts[3] if len(parts) > 5 else None),
    }
