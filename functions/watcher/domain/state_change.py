"""SageMaker's state change events on EventBridge, one per job kind (contract.KIND_DETAIL_TYPES): which job an event
names, in which account and region, and what it carries. Pure.

Shapes as the Amazon SageMaker developer guide shows them ("Events that Amazon SageMaker AI sends to Amazon
EventBridge"): a job's event names its ARN in `resources` and carries its describe's fields in `detail` (times as
epoch milliseconds, as numbers or strings, or ISO 8601 strings); a pipeline execution's event names the pipeline and
the execution in `resources` and carries camelCase fields (currentPipelineExecutionStatus, ...).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, replace
from typing import Any

from watcher.domain import kinds
from watcher.domain.contract import DEFAULT_KINDS, KIND_ARN_TYPES, KIND_DETAIL_TYPES, STATE_CHANGE_SOURCE
from watcher.domain.job import JobKind
from watcher.domain.kinds import KindJob

_ARN_PREFIX = r"^arn:aws[a-z-]*:sagemaker:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):"
# SageMaker job names: letters, digits and hyphens, at most 63 (a tuning job's at most 32).
_JOB_ARNS = {
    JobKind(kind): re.compile(_ARN_PREFIX + re.escape(arn_type) + r"/(?P<name>[A-Za-z0-9-]{1,63})$")
    for kind, arn_type in KIND_ARN_TYPES.items()
    if kind != "pipeline"
}
_EXECUTION_ARN = re.compile(
    _ARN_PREFIX
    + re.escape(KIND_ARN_TYPES["pipeline"])
    + r"/(?P<pipeline>[A-Za-z0-9-]{1,256})/execution/(?P<name>[A-Za-z0-9-]{1,256})$"
)
_DISPLAY_NAME = re.compile(r"^[A-Za-z0-9](-*[A-Za-z0-9]){0,81}$")
_KINDS_BY_DETAIL_TYPE = {detail_type: JobKind(kind) for kind, detail_type in KIND_DETAIL_TYPES.items()}

# The detail's fields naming the job and its status, by kind.
_NAME_FIELDS = {
    JobKind.LABELING: "LabelingJobName",
    JobKind.TRAINING: "TrainingJobName",
    JobKind.PROCESSING: "ProcessingJobName",
    JobKind.TRANSFORM: "TransformJobName",
    JobKind.TUNING: "HyperParameterTuningJobName",
    JobKind.PIPELINE: "pipelineExecutionDisplayName",
}
_STATUS_FIELDS = {
    JobKind.LABELING: "LabelingJobStatus",
    JobKind.TRAINING: "TrainingJobStatus",
    JobKind.PROCESSING: "ProcessingJobStatus",
    JobKind.TRANSFORM: "TransformJobStatus",
    JobKind.TUNING: "HyperParameterTuningJobStatus",
    JobKind.PIPELINE: "currentPipelineExecutionStatus",
}
# The job values a detail makes (it carries the describe's fields), for the kinds after labeling.
_BUILDERS: dict[JobKind, Callable[..., KindJob]] = {
    JobKind.TRAINING: kinds.training_job,
    JobKind.PROCESSING: kinds.processing_job,
    JobKind.TRANSFORM: kinds.transform_job,
    JobKind.TUNING: kinds.tuning_job,
}
_TIME_FIELDS = (
    "CreationTime",
    "LastModifiedTime",
    "TrainingStartTime",
    "TrainingEndTime",
    "ProcessingStartTime",
    "ProcessingEndTime",
    "TransformStartTime",
    "TransformEndTime",
    "HyperParameterTuningEndTime",
    "executionStartTime",
    "executionEndTime",
)


class MalformedEvent(ValueError):
    """Not a SageMaker state change this watcher can act on; the message names the field."""


class UnwatchedKind(MalformedEvent):
    """A state change of a kind the watcher does not watch (GTWATCH_KINDS)."""


@dataclass(frozen=True)
class StateChange:
    region: str
    # As the event names the job: the detail's name when it is the ARN's (whose name SageMaker spells in lower case),
    # otherwise the ARN's. SageMaker job names are unique whatever their case, so Describe finds the job. A pipeline
    # execution's name is its display name (its execution id when it has none).
    name: str
    status: str | None
    kind: JobKind
    account: str
    arn: str
    # The job as the event carries it (the kinds after labeling), when the detail holds what a job value needs; the
    # watch still describes the job before it tells anyone about it.
    job: KindJob | None = None


def parse(event: Any, kinds_watched: Collection[str] = DEFAULT_KINDS) -> StateChange:
    """The state change an event names; refused (MalformedEvent, naming the field) when it is not one, or not of a
    kind in `kinds_watched` (UnwatchedKind)."""
    if not isinstance(event, dict):
        raise MalformedEvent(f"event: expected an object, got {type(event).__name__}")
    if event.get("source") != STATE_CHANGE_SOURCE:
        raise MalformedEvent(f"source: expected {STATE_CHANGE_SOURCE!r}, got {event.get('source')!r}")
    detail_type = event.get("detail-type")
    kind = _KINDS_BY_DETAIL_TYPE.get(detail_type) if isinstance(detail_type, str) else None
    if kind is None:
        expected = ", ".join(repr(detail_type) for detail_type in KIND_DETAIL_TYPES.values())
        raise MalformedEvent(f"detail-type: expected one of {expected}, got {detail_type!r}")
    if kind.value not in kinds_watched:
        raise UnwatchedKind(f"detail-type: {detail_type!r} is about {_noun(kind)}s, which are not watched")
    detail = event.get("detail")
    if detail is None and kind is JobKind.LABELING:
        detail = {}  # A labeling event's detail only adds its status.
    if not isinstance(detail, dict):
        raise MalformedEvent(f"detail: expected an object, got {type(detail).__name__}")
    resources = event.get("resources")
    if not isinstance(resources, list) or not resources or not all(isinstance(arn, str) for arn in resources):
        raise MalformedEvent(f"resources: expected the {_noun(kind)} ARN, got {resources!r}")
    if kind is JobKind.PIPELINE:
        index, match = _execution_arn(resources)
    else:
        if len(resources) != 1:
            raise MalformedEvent(f"resources: expected one {_noun(kind)} ARN, got {resources!r}")
        index, job_match = 0, _JOB_ARNS[kind].match(resources[0])
        if job_match is None:
            raise MalformedEvent(f"resources[0]: not a {_noun(kind)} ARN: {resources[0]!r}")
        match = job_match
    status = detail.get(_STATUS_FIELDS[kind])
    if status is not None and not isinstance(status, str):
        raise MalformedEvent(f"detail.{_STATUS_FIELDS[kind]}: expected a string, got {status!r}")
    for field in _TIME_FIELDS:
        if detail.get(field) is not None:
            try:
                kinds.parse_time(detail[field])
            except ValueError as error:
                raise MalformedEvent(f"detail.{field}: not a time: {detail[field]!r}") from error
    arn = resources[index]
    change = StateChange(
        region=match["region"],
        name=_name(kind, match["name"], detail),
        status=status,
        kind=kind,
        account=match["account"],
        arn=arn,
    )
    return replace(change, job=_job(change, detail))


def _execution_arn(resources: list[str]) -> tuple[int, re.Match[str]]:
    """The execution's ARN among the event's resources (SageMaker names the pipeline first, then the execution)."""
    found = [(index, match) for index, arn in enumerate(resources) if (match := _EXECUTION_ARN.match(arn))]
    if len(found) != 1:
        raise MalformedEvent(f"resources: expected one pipeline execution ARN, got {resources!r}")
    return found[0]


def _name(kind: JobKind, arn_name: str, detail: Mapping[str, Any]) -> str:
    named = detail.get(_NAME_FIELDS[kind])
    if kind is JobKind.PIPELINE:
        return named if isinstance(named, str) and _DISPLAY_NAME.match(named) else arn_name
    return named if isinstance(named, str) and named.lower() == arn_name.lower() else arn_name


def _job(change: StateChange, detail: Mapping[str, Any]) -> KindJob | None:
    """The job value the detail makes, or None when it lacks a field a job value needs (the name and ARN come from
    the event's resources, which were checked)."""
    if change.kind is JobKind.LABELING or change.status is None:
        return None
    if change.kind is JobKind.PIPELINE:
        created = detail.get("executionStartTime")
        if created is None:
            return None
        raw = {
            "PipelineExecutionArn": change.arn,
            "PipelineExecutionDisplayName": change.name,
            "PipelineExecutionStatus": change.status,
            "PipelineArn": detail.get("pipelineArn"),
            "CreationTime": created,
            "LastModifiedTime": detail.get("executionEndTime") or created,
        }
        return kinds.pipeline_execution(change.region, raw)
    api_kind = change.kind
    prefix = {  # The API's field names: TrainingJobName, TrainingJobArn, TrainingJobStatus...
        JobKind.TRAINING: "TrainingJob",
        JobKind.PROCESSING: "ProcessingJob",
        JobKind.TRANSFORM: "TransformJob",
        JobKind.TUNING: "HyperParameterTuningJob",
    }[api_kind]
    if detail.get("CreationTime") is None:
        return None
    raw = {**detail, f"{prefix}Name": change.name, f"{prefix}Arn": change.arn, f"{prefix}Status": change.status}
    try:
        return _BUILDERS[api_kind](change.region, raw, detailed=True)
    except (KeyError, TypeError, ValueError):
        return None  # A fact the watch reads again when it describes the job.


def _noun(kind: JobKind) -> str:
    return kind.value + (" execution" if kind is JobKind.PIPELINE else " job")
