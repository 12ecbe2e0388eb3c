"""Teaches moto's SageMaker the training, processing, transform and tuning jobs and the pipeline executions the watcher
reads, as SageMaker answers for them, and lets the replay set their state and write their log lines.

moto 5.2.5 creates, describes and lists these jobs, but its lists page before they filter, its summaries lack
SecondaryStatus and the tuning counters, nothing moves a job's status, and it has no ListPipelineExecutionSteps. As
labeling_jobs.py does for labeling jobs, this module answers those operations itself, from its own table of jobs, by
methods installed on moto's SageMakerResponse; Search answers PipelineExecution here and every other resource through
moto. Requests are checked against botocore's SageMaker model (ValidationException, never a 500); so is every job the
replay makes, against the Describe response SageMaker would give.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final

from botocore.model import StructureShape
from botocore.utils import parse_timestamp
from moto.core.responses import ActionResult, EmptyResult
from moto.logs.models import logs_backends
from moto.sagemaker.exceptions import AWSValidationException, ResourceInUseException, ResourceNotFound
from moto.sagemaker.models import SageMakerModelBackend, sagemaker_backends
from moto.sagemaker.responses import SageMakerResponse
from moto.server import ThreadedMotoServer
from moto.utilities.utils import get_partition
from watcher.domain.contract import KIND_ARN_TYPES, KIND_LOG_GROUPS, KindName

from . import labeling_jobs
from .labeling_jobs import (
    DEFAULT_ACCOUNT_ID,
    DEFAULT_MAX_RESULTS,
    service_model,
    shape_errors,
    validation_message,
)

__all__ = [
    "JOB_KINDS_HERE",
    "JOB_STATUSES",
    "PIPELINE_EXECUTION_STATUSES",
    "PIPELINE_STEP_STATUSES",
    "TUNING_COUNTER_FIELDS",
    "PipelineStep",
    "describe_job",
    "describe_pipeline_execution",
    "install",
    "job_arn",
    "log_stream_name",
    "pipeline_execution_arn",
    "previous_pipeline_status",
    "put_job",
    "put_pipeline_execution",
    "serve",
    "update_job",
    "update_pipeline_execution",
    "write_log_line",
]

# The job kinds this module serves (labeling jobs are labeling_jobs.py's; pipeline executions have their own table).
JOB_KINDS_HERE: Final[tuple[KindName, ...]] = ("training", "processing", "transform", "tuning")
# The statuses the watcher reads for these kinds (the service's enums also hold Deleting/DeleteFailed for tuning).
JOB_STATUSES: Final = ("InProgress", "Completed", "Failed", "Stopping", "Stopped")
PIPELINE_EXECUTION_STATUSES: Final = ("Executing", "Stopping", "Stopped", "Failed", "Succeeded")
PIPELINE_STEP_STATUSES: Final = ("Starting", "Executing", "Stopping", "Stopped", "Failed", "Succeeded")
TUNING_COUNTER_FIELDS: Final = ("Completed", "InProgress", "RetryableError", "NonRetryableError", "Stopped")
_TERMINAL: Final = frozenset({"Completed", "Failed", "Stopped", "Succeeded"})
_STOPPABLE: Final = frozenset({"InProgress", "Executing"})
# SageMaker's StatusMessage for each secondary status of a training job (as DescribeTrainingJob shows them).
_SECONDARY_MESSAGES: Final = {
    "Starting": "Starting the training job",
    "LaunchingMLInstances": "Launching requested ML instances",
    "PreparingTrainingStack": "Preparing the instances for training",
    "Downloading": "Downloading input data",
    "DownloadingTrainingImage": "Downloading the training image",
    "Training": "Training image download completed. Training in progress.",
    "Uploading": "Uploading generated training model",
    "Stopping": "Stopping the training job",
    "Stopped": "Training job stopped",
    "MaxRuntimeExceeded": "Training job stopped because it exceeded the maximum allowed runtime",
    "MaxWaitTimeExceeded": "Training job stopped because it exceeded the maximum wait time",
    "Completed": "Training job completed",
    "Failed": "Training job failed",
    "Interrupted": "The spot instances were interrupted",
    "Restarting": "Restarting the training job on new spot instances",
    "Updating": "Updating the training job",
    "Pending": "Waiting for capacity",
}
# The secondary status a change of status brings, when the change names none.
_SECONDARY_FOR_STATUS: Final = {
    "InProgress": "Starting",
    "Stopping": "Stopping",
    "Stopped": "Stopped",
    "Completed": "Completed",
    "Failed": "Failed",
}
# A pipeline step's child job, by the key ListPipelineExecutionSteps' Metadata names it under.
STEP_METADATA_KEYS: Final[dict[KindName, str]] = {
    "training": "TrainingJob",
    "processing": "ProcessingJob",
    "transform": "TransformJob",
    "tuning": "TuningJob",
}
_IMAGE: Final = "683313688378.dkr.ecr.{region}.amazonaws.com/sagemaker-xgboost:1.7-1"
_INSTANCE_TYPE: Final = "ml.m5.xlarge"
_TOKEN_PREFIX: Final = b"gtwatch-sagemaker-jobs/1 "
_JOBS_ATTRIBUTE: Final = "gtwatch_kind_jobs"
_EXECUTIONS_ATTRIBUTE: Final = "gtwatch_pipeline_executions"
_EXTENSION_MARK: Final = "__gtwatch_sagemaker_jobs__"
_ORIGINAL_SEARCH: Final = "__gtwatch_moto_search__"


@dataclass(frozen=True)
class _KindApi:
    """How the API spells one kind: its members' prefix ("TrainingJob") and its operations."""

    kind: KindName
    prefix: str  # TrainingJob, ProcessingJob, TransformJob, HyperParameterTuningJob
    end_time_member: str
    noun: str

    @property
    def name_member(self) -> str:
        return f"{self.prefix}Name"

    @property
    def arn_member(self) -> str:
        return f"{self.prefix}Arn"

    @property
    def status_member(self) -> str:
        return f"{self.prefix}Status"

    @property
    def operations(self) -> dict[str, str]:
        return {
            verb: f"{verb}{self.prefix}" + ("s" if verb == "List" else "")
            for verb in ("Create", "Describe", "List", "Stop")
        }

    def output_members(self, verb: str) -> Mapping[str, Any]:
        shape = service_model().operation_model(self.operations[verb]).output_shape
        assert shape is not None
        return shape.members

    @property
    def summaries_member(self) -> str:
        return next(name for name, shape in self.output_members("List").items() if shape.type_name == "list")

    @property
    def summary_members(self) -> tuple[str, ...]:
        return tuple(self.output_members("List")[self.summaries_member].member.members)


_APIS: Final[dict[KindName, _KindApi]] = {
    "training": _KindApi("training", "TrainingJob", "TrainingEndTime", "training job"),
    "processing": _KindApi("processing", "ProcessingJob", "ProcessingEndTime", "processing job"),
    "transform": _KindApi("transform", "TransformJob", "TransformEndTime", "transform job"),
    "tuning": _KindApi("tuning", "HyperParameterTuningJob", "HyperParameterTuningEndTime", "hyperparameter tuning job"),
}


@dataclass
class KindJob:
    """One job of a kind as the emulated service holds it: `spec` is what its Create request set, `facts` what the
    service adds as the job runs (SecondaryStatus, FailureReason, counters...)."""

    kind: KindName
    name: str
    arn: str
    status: str
    creation_time: datetime
    last_modified_time: datetime
    spec: dict[str, Any]
    facts: dict[str, Any] = field(default_factory=dict)
    end_time: datetime | None = None
    log_stream: str | None = None

    @property
    def api(self) -> _KindApi:
        return _APIS[self.kind]

    def describe(self) -> dict[str, Any]:
        api = self.api
        response: dict[str, Any] = {
            **copy.deepcopy(self.spec),
            **copy.deepcopy(self.facts),
            api.name_member: self.name,
            api.arn_member: self.arn,
            api.status_member: self.status,
            "CreationTime": self.creation_time,
            "LastModifiedTime": self.last_modified_time,
            api.end_time_member: self.end_time,
        }
        return _without_none(response)

    def summary(self) -> dict[str, Any]:
        described = self.describe()
        if self.kind == "tuning":
            config = described["HyperParameterTuningJobConfig"]
            described["Strategy"] = config["Strategy"]
            described["ResourceLimits"] = config.get("ResourceLimits")
        return _without_none({member: described.get(member) for member in self.api.summary_members})


@dataclass
class PipelineStep:
    """One step of a pipeline execution, as the replay sets it: the child job is (kind, name) in the same account and
    region."""

    name: str
    status: str
    failure_reason: str | None = None
    job: tuple[KindName, str] | None = None


@dataclass
class PipelineExecution:
    pipeline: str
    display_name: str
    arn: str
    pipeline_arn: str
    status: str
    creation_time: datetime
    last_modified_time: datetime
    failure_reason: str | None = None
    previous_status: str | None = None
    steps: list[dict[str, Any]] = field(default_factory=list)  # PipelineExecutionStep members

    def describe(self) -> dict[str, Any]:
        return _without_none(
            {
                "PipelineArn": self.pipeline_arn,
                "PipelineExecutionArn": self.arn,
                "PipelineExecutionDisplayName": self.display_name,
                "PipelineExecutionStatus": self.status,
                "PipelineExperimentConfig": {"ExperimentName": self.pipeline, "TrialName": self.arn.rsplit("/", 1)[1]},
                "FailureReason": self.failure_reason,
                "CreationTime": self.creation_time,
                "LastModifiedTime": self.last_modified_time,
            }
        )

    def search_record(self) -> dict[str, Any]:
        members = _search_record_members()
        return {member: value for member, value in self.describe().items() if member in members}


def _search_record_members() -> Mapping[str, Any]:
    """The members of Search's PipelineExecution record."""
    shape = service_model().shape_for("PipelineExecution")
    assert isinstance(shape, StructureShape)
    return shape.members


def _without_none(members: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in members.items() if value is not None}


# --- time -------------------------------------------------------------------------------------------


def _service_time(at: datetime) -> datetime:
    return labeling_jobs._as_service_time(at, "at")


def _now() -> datetime:
    return labeling_jobs._now()


def _as_wire(value: Any) -> Any:
    """A response value as JSON carries it (times as epoch seconds), for checking against the model."""
    if isinstance(value, datetime):
        return value.timestamp()
    if isinstance(value, dict):
        return {key: _as_wire(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_as_wire(item) for item in value]
    return value


def _check_response(operation: str, response: dict[str, Any]) -> None:
    """The replay cannot make a job SageMaker could not describe: its Describe response must fit the model."""
    shape = service_model().operation_model(operation).output_shape
    assert shape is not None
    if errors := shape_errors(shape, _as_wire(response), ""):
        raise ValueError(validation_message(errors))


# --- the tables -------------------------------------------------------------------------------------


def _jobs(backend: SageMakerModelBackend, kind: KindName) -> dict[str, KindJob]:
    # In the backend's __dict__, so that moto's reset forgets them with everything else (see labeling_jobs._jobs).
    tables: dict[str, dict[str, KindJob]] = backend.__dict__.setdefault(_JOBS_ATTRIBUTE, {})
    return tables.setdefault(kind, {})


def _executions(backend: SageMakerModelBackend) -> dict[str, PipelineExecution]:
    executions: dict[str, PipelineExecution] = backend.__dict__.setdefault(_EXECUTIONS_ATTRIBUTE, {})
    return executions


def _backend(account_id: str, region: str) -> SageMakerModelBackend:
    backend: SageMakerModelBackend = sagemaker_backends[account_id][region]
    return backend


def job_arn(kind: KindName, name: str, *, account_id: str = DEFAULT_ACCOUNT_ID, region: str = "us-east-1") -> str:
    """A job's ARN as SageMaker writes it (the name lowercased)."""
    return f"arn:{get_partition(region)}:sagemaker:{region}:{account_id}:{KIND_ARN_TYPES[kind]}/{name.lower()}"


def pipeline_execution_arn(
    pipeline: str, display_name: str, *, account_id: str = DEFAULT_ACCOUNT_ID, region: str = "us-east-1"
) -> str:
    """arn:...:pipeline/<pipeline>/execution/<id>: the id is 12 lowercase letters and digits, as SageMaker's are, and
    derived from the names so that a replay prints the same ARN every run."""
    digest = int.from_bytes(hashlib.sha256(f"{pipeline}/{display_name}".lower().encode()).digest()[:10], "big")
    alphabet = "0123456789abcdefghijklmnopqrstuvwxyz"
    execution_id = ""
    for _ in range(12):
        digest, index = divmod(digest, len(alphabet))
        execution_id += alphabet[index]
    return f"{_pipeline_arn(pipeline, account_id, region)}/execution/{execution_id}"


def _pipeline_arn(pipeline: str, account_id: str, region: str) -> str:
    return f"arn:{get_partition(region)}:sagemaker:{region}:{account_id}:pipeline/{pipeline.lower()}"


def _find(backend: SageMakerModelBackend, kind: KindName, name: str) -> KindJob:
    job = _jobs(backend, kind).get(name.lower())
    if job is None:
        # SageMaker's own wording for a job that does not exist.
        raise ResourceNotFound(f"Could not find {_APIS[kind].noun} '{name}'")
    return job


def _find_execution(backend: SageMakerModelBackend, arn: str) -> PipelineExecution:
    execution = next((item for item in _executions(backend).values() if item.arn == arn), None)
    if execution is None:
        raise ResourceNotFound(f"Pipeline execution '{arn}' does not exist.")
    return execution


# --- CloudWatch Logs --------------------------------------------------------------------------------


def log_stream_name(kind: KindName, name: str, arn: str, started: datetime) -> str:
    """The stream a job's first instance writes to, as SageMaker names it: `<job>/algo-1-<epoch>` for training and
    processing (the host is algo-1), `<job>/<instance id>-<epoch>` for transform."""
    epoch = int(started.timestamp())
    if kind == "transform":
        return f"{name}/i-{hashlib.sha256(arn.encode()).hexdigest()[:17]}-{epoch}"
    return f"{name}/algo-1-{epoch}"


def _start_log_stream(job: KindJob, account_id: str, region: str) -> None:
    group_name = KIND_LOG_GROUPS.get(job.kind)
    if group_name is None:
        return
    logs = logs_backends[account_id][region]
    if group_name not in logs.groups:
        logs.create_log_group(group_name, tags={})
    stream = log_stream_name(job.kind, job.name, job.arn, job.creation_time)
    group = logs.groups[group_name]
    if stream not in group.streams:
        logs.create_log_stream(group_name, stream)
        group.streams[stream].creation_time = job.creation_time.replace(tzinfo=None)
    job.log_stream = stream


def write_log_line(
    *,
    kind: KindName,
    name: str,
    at: datetime,
    message: str | None = None,
    account_id: str = DEFAULT_ACCOUNT_ID,
    region: str = "us-east-1",
) -> str:
    """The job writes one line to its log stream at `at` (PutLogEvents' timestamp; ingested then too). Returns the
    stream's name. Written straight into the emulator: the job writes, whatever faults the watcher's reads meet."""
    if kind not in KIND_LOG_GROUPS:
        raise ValueError(f"{kind} jobs write no CloudWatch log lines (only {', '.join(KIND_LOG_GROUPS)} do)")
    written = _service_time(at)
    with labeling_jobs._lock:
        job = _find_for_replay(kind, name, account_id, region)
        if job.log_stream is None:
            _start_log_stream(job, account_id, region)
        assert job.log_stream is not None
        group = logs_backends[account_id][region].groups[KIND_LOG_GROUPS[kind]]
        millis = int(written.timestamp() * 1000)
        group.put_log_events(job.log_stream, [{"timestamp": millis, "message": message or f"[{written:%H:%M}] {name}"}])
        stream = group.streams[job.log_stream]
        # Ingested at the simulated minute rather than now: a reader comparing ingestion times sees the replay's clock.
        stream.last_ingestion_time = written.replace(tzinfo=None)
        for event in stream.events:
            if event.timestamp == millis:
                event.ingestion_time = millis
        return job.log_stream


# --- the replay's side: make and change jobs at simulated times -------------------------------------


def _find_for_replay(kind: KindName, name: str, account_id: str, region: str) -> KindJob:
    job = _jobs(_backend(account_id, region), kind).get(name.lower())
    if job is None:
        raise LookupError(f"no {_APIS[kind].noun} named {name!r} in account {account_id}, {region}")
    return job


def _default_spec(kind: KindName, name: str, account_id: str, region: str) -> dict[str, Any]:
    """A Create request for a plausible job of the kind: what the watcher does not read, filled in."""
    partition = get_partition(region)
    bucket = f"s3://gtwatch-emulator-{account_id}-{region}/{name}"
    role = f"arn:{partition}:iam::{account_id}:role/gtwatch-emulator-{kind}"
    image = _IMAGE.format(region=region)
    if kind == "training":
        return {
            "AlgorithmSpecification": {"TrainingImage": image, "TrainingInputMode": "File"},
            "RoleArn": role,
            "OutputDataConfig": {"S3OutputPath": f"{bucket}/output"},
            "ResourceConfig": {"InstanceType": _INSTANCE_TYPE, "InstanceCount": 1, "VolumeSizeInGB": 30},
            "StoppingCondition": {"MaxRuntimeInSeconds": 86400},
            "EnableManagedSpotTraining": False,
        }
    if kind == "processing":
        return {
            "ProcessingResources": {
                "ClusterConfig": {"InstanceCount": 1, "InstanceType": _INSTANCE_TYPE, "VolumeSizeInGB": 30}
            },
            "AppSpecification": {"ImageUri": image},
            "RoleArn": role,
            "ProcessingOutputConfig": {
                "Outputs": [
                    {
                        "OutputName": "output",
                        "S3Output": {
                            "S3Uri": f"{bucket}/output",
                            "LocalPath": "/opt/ml/processing/output",
                            "S3UploadMode": "EndOfJob",
                        },
                    }
                ]
            },
        }
    if kind == "transform":
        return {
            "ModelName": f"{name}-model"[:63],
            "TransformInput": {"DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": f"{bucket}/input"}}},
            "TransformOutput": {"S3OutputPath": f"{bucket}/output"},
            "TransformResources": {"InstanceType": _INSTANCE_TYPE, "InstanceCount": 1},
        }
    return {
        "HyperParameterTuningJobConfig": {
            "Strategy": "Bayesian",
            "ResourceLimits": {"MaxNumberOfTrainingJobs": 10, "MaxParallelTrainingJobs": 2},
            "HyperParameterTuningJobObjective": {"Type": "Maximize", "MetricName": "validation:accuracy"},
        },
        "TrainingJobDefinition": {
            "AlgorithmSpecification": {"TrainingImage": image, "TrainingInputMode": "File"},
            "RoleArn": role,
            "OutputDataConfig": {"S3OutputPath": f"{bucket}/output"},
            "ResourceConfig": {"InstanceType": _INSTANCE_TYPE, "InstanceCount": 1, "VolumeSizeInGB": 30},
            "StoppingCondition": {"MaxRuntimeInSeconds": 86400},
        },
    }


def _initial_facts(kind: KindName, spec: dict[str, Any], created: datetime) -> dict[str, Any]:
    if kind == "training":
        return {
            "ModelArtifacts": {"S3ModelArtifacts": f"{spec['OutputDataConfig']['S3OutputPath']}/model.tar.gz"},
            "SecondaryStatus": "Starting",
            "SecondaryStatusTransitions": [
                {"Status": "Starting", "StartTime": created, "StatusMessage": _SECONDARY_MESSAGES["Starting"]}
            ],
            "TrainingStartTime": created,
        }
    if kind == "processing":
        return {"ProcessingStartTime": created}
    if kind == "transform":
        return {"TransformStartTime": created}
    zero = dict.fromkeys(TUNING_COUNTER_FIELDS, 0)
    return {"TrainingJobStatusCounters": zero, "ObjectiveStatusCounters": {"Succeeded": 0, "Pending": 0, "Failed": 0}}


def put_job(
    *,
    kind: KindName,
    name: str,
    at: datetime,
    account_id: str = DEFAULT_ACCOUNT_ID,
    region: str = "us-east-1",
    status: str = "InProgress",
    **changes: Any,
) -> str:
    """Make a job of `kind` appear as SageMaker would hold it, created (and last modified) at `at`; returns its ARN.

    `changes` are update_job's (secondary_status, max_runtime_minutes, spot, counters, max_jobs...). A job of a kind
    with logs gets its log stream now: SageMaker creates it when the job starts.
    """
    _check_kind(kind)
    _check_status(kind, status)
    created = _service_time(at)
    backend = _backend(account_id, region)
    spec = _default_spec(kind, name, account_id, region)
    request_shape = service_model().operation_model(_APIS[kind].operations["Create"]).input_shape
    assert request_shape is not None
    if errors := shape_errors(request_shape, {_APIS[kind].name_member: name, **spec}, ""):
        raise ValueError(validation_message(errors))
    job = KindJob(
        kind=kind,
        name=name,
        arn=job_arn(kind, name, account_id=account_id, region=region),
        status="InProgress",
        creation_time=created,
        last_modified_time=created,
        spec=spec,
        facts=_initial_facts(kind, spec, created),
    )
    _change(job, created, status=status, **changes)
    _check_response(_APIS[kind].operations["Describe"], job.describe())
    with labeling_jobs._lock:
        jobs = _jobs(backend, kind)
        if name.lower() in jobs:
            raise ValueError(f"a {_APIS[kind].noun} named {jobs[name.lower()].name!r} already exists in {region}")
        jobs[name.lower()] = job
        _start_log_stream(job, account_id, region)
    return job.arn


def update_job(
    *,
    kind: KindName,
    name: str,
    at: datetime,
    account_id: str = DEFAULT_ACCOUNT_ID,
    region: str = "us-east-1",
    **changes: Any,
) -> None:
    """Change a job as SageMaker would at `at`; what is not given keeps its value.

    A change of status (and, for training, of SecondaryStatus, which DescribeTrainingJob dates in its transitions)
    moves LastModifiedTime to `at`; counters, metrics and billable time do not. Changes: status, failure_reason;
    training: secondary_status, max_runtime_minutes, spot, billable_minutes, final_metrics ({name: value});
    processing: exit_message; tuning: counters (TrainingJobStatusCounters), max_jobs, best ({job, metric, value}).
    """
    _check_kind(kind)
    changed = _service_time(at)
    with labeling_jobs._lock:
        job = _find_for_replay(kind, name, account_id, region)
        trial = copy.deepcopy(job)
        _change(trial, changed, **changes)
        _check_response(_APIS[kind].operations["Describe"], trial.describe())
        job.__dict__.update(trial.__dict__)


_KIND_CHANGES: Final[dict[KindName, frozenset[str]]] = {
    "training": frozenset({"secondary_status", "max_runtime_minutes", "spot", "billable_minutes", "final_metrics"}),
    "processing": frozenset({"exit_message"}),
    "transform": frozenset(),
    "tuning": frozenset({"counters", "max_jobs", "best"}),
}


def _change(
    job: KindJob, at: datetime, *, status: str | None = None, failure_reason: str | None = None, **rest: Any
) -> None:
    unknown = sorted(set(rest) - _KIND_CHANGES[job.kind])
    if unknown:
        raise ValueError(f"a {job.api.noun} has no {', '.join(unknown)}")
    values = {key: value for key, value in rest.items() if value is not None}
    moved = False
    if status is not None:
        _check_status(job.kind, status)
        if status != job.status:
            job.status = status
            moved = True
            job.end_time = at if status in _TERMINAL else None
    if failure_reason is not None:
        job.facts["FailureReason"] = failure_reason
    if job.kind == "training":
        moved = _change_training(job, at, status if moved else None, values) or moved
    elif job.kind == "processing" and "exit_message" in values:
        job.facts["ExitMessage"] = values["exit_message"]
    elif job.kind == "tuning":
        _change_tuning(job, values)
    if moved:
        job.last_modified_time = at


def _change_training(job: KindJob, at: datetime, new_status: str | None, values: dict[str, Any]) -> bool:
    facts, spec = job.facts, job.spec
    secondary = values.get("secondary_status")
    if secondary is None and new_status is not None:
        secondary = _SECONDARY_FOR_STATUS[new_status]
    moved = False
    if secondary is not None and secondary != facts["SecondaryStatus"]:
        if secondary not in _SECONDARY_MESSAGES:
            raise ValueError(f"secondary status {secondary!r} is not one of {', '.join(_SECONDARY_MESSAGES)}")
        transitions = facts["SecondaryStatusTransitions"]
        transitions[-1]["EndTime"] = at
        transitions.append({"Status": secondary, "StartTime": at, "StatusMessage": _SECONDARY_MESSAGES[secondary]})
        facts["SecondaryStatus"] = secondary
        moved = True
    if job.status in _TERMINAL:
        facts["SecondaryStatusTransitions"][-1].setdefault("EndTime", at)
        facts["TrainingEndTime"] = job.end_time
        # At least a second: the service's model counts whole seconds from 1.
        seconds = max(1, int(((job.end_time or at) - facts["TrainingStartTime"]).total_seconds()))
        facts["TrainingTimeInSeconds"] = seconds
        facts.setdefault("BillableTimeInSeconds", seconds)
    if "max_runtime_minutes" in values:
        spec["StoppingCondition"]["MaxRuntimeInSeconds"] = values["max_runtime_minutes"] * 60
    if "spot" in values:
        spec["EnableManagedSpotTraining"] = values["spot"]
        stopping = spec["StoppingCondition"]
        if values["spot"]:
            # Managed spot training requires a wait time of at least the runtime.
            stopping["MaxWaitTimeInSeconds"] = max(
                stopping["MaxRuntimeInSeconds"], stopping.get("MaxWaitTimeInSeconds", 0)
            )
        else:
            stopping.pop("MaxWaitTimeInSeconds", None)
    elif spec["EnableManagedSpotTraining"] and "max_runtime_minutes" in values:
        stopping = spec["StoppingCondition"]
        stopping["MaxWaitTimeInSeconds"] = max(stopping["MaxRuntimeInSeconds"], stopping.get("MaxWaitTimeInSeconds", 0))
    if "billable_minutes" in values:
        facts["BillableTimeInSeconds"] = values["billable_minutes"] * 60
    if "final_metrics" in values:
        facts["FinalMetricDataList"] = [
            {"MetricName": metric, "Value": float(value), "Timestamp": at}
            for metric, value in values["final_metrics"].items()
        ]
    return moved


def _change_tuning(job: KindJob, values: dict[str, Any]) -> None:
    facts, config = job.facts, job.spec["HyperParameterTuningJobConfig"]
    if "counters" in values:
        given = values["counters"]
        unknown = sorted(set(given) - set(TUNING_COUNTER_FIELDS))
        if unknown:
            raise ValueError(
                f"unknown training job counters {', '.join(unknown)}; "
                f"the counters are {', '.join(TUNING_COUNTER_FIELDS)}"
            )
        counters = {key: int(given.get(key, facts["TrainingJobStatusCounters"][key])) for key in TUNING_COUNTER_FIELDS}
        facts["TrainingJobStatusCounters"] = counters
        facts["ObjectiveStatusCounters"] = {
            "Succeeded": counters["Completed"],
            "Pending": counters["InProgress"],
            "Failed": counters["RetryableError"] + counters["NonRetryableError"],
        }
    if "max_jobs" in values:
        limits = config["ResourceLimits"]
        limits["MaxNumberOfTrainingJobs"] = values["max_jobs"]
        limits["MaxParallelTrainingJobs"] = min(limits["MaxParallelTrainingJobs"], values["max_jobs"])
    if "best" in values:
        best = values["best"]
        arn = job.arn.rsplit(":", 1)[0] + f":training-job/{str(best['job']).lower()}"
        facts["BestTrainingJob"] = {
            "TrainingJobName": best["job"],
            "TrainingJobArn": arn,
            "TuningJobName": job.name,
            "CreationTime": job.creation_time,
            "TrainingJobStatus": "Completed",
            "TunedHyperParameters": {},
            "FinalHyperParameterTuningJobObjectiveMetric": {
                "Type": config["HyperParameterTuningJobObjective"]["Type"],
                "MetricName": best["metric"],
                "Value": float(best["value"]),
            },
        }


def _check_kind(kind: str) -> None:
    if kind not in _APIS:
        raise ValueError(f"kind {kind!r} is not one of {', '.join(_APIS)}")


def _check_status(kind: KindName, status: str) -> None:
    if status not in JOB_STATUSES:
        raise ValueError(f"{_APIS[kind].noun} status {status!r} is not one of {', '.join(JOB_STATUSES)}")


def describe_job(
    kind: KindName, name: str, *, account_id: str = DEFAULT_ACCOUNT_ID, region: str = "us-east-1"
) -> dict[str, Any]:
    """The job's Describe response (times as datetimes), for the replay's events."""
    with labeling_jobs._lock:
        return _find_for_replay(kind, name, account_id, region).describe()


# --- pipeline executions ----------------------------------------------------------------------------


def put_pipeline_execution(
    *,
    pipeline: str,
    name: str,
    at: datetime,
    account_id: str = DEFAULT_ACCOUNT_ID,
    region: str = "us-east-1",
    status: str = "Executing",
    failure_reason: str | None = None,
    steps: list[PipelineStep] | None = None,
) -> str:
    """Start an execution of `pipeline` named `name` (its PipelineExecutionDisplayName) at `at`; returns its ARN."""
    created = _service_time(at)
    execution = PipelineExecution(
        pipeline=pipeline,
        display_name=name,
        arn=pipeline_execution_arn(pipeline, name, account_id=account_id, region=region),
        pipeline_arn=_pipeline_arn(pipeline, account_id, region),
        status="Executing",
        creation_time=created,
        last_modified_time=created,
    )
    with labeling_jobs._lock:
        backend = _backend(account_id, region)
        _change_execution(execution, backend, created, status=status, failure_reason=failure_reason, steps=steps)
        executions = _executions(backend)
        if name.lower() in executions:
            raise ValueError(f"a pipeline execution named {name!r} already exists in {region}")
        executions[name.lower()] = execution
    return execution.arn


def update_pipeline_execution(
    *,
    name: str,
    at: datetime,
    account_id: str = DEFAULT_ACCOUNT_ID,
    region: str = "us-east-1",
    status: str | None = None,
    failure_reason: str | None = None,
    steps: list[PipelineStep] | None = None,
) -> None:
    """Change an execution at `at`: a change of status moves LastModifiedTime; `steps` is the whole list of steps
    started so far (a step keeps its StartTime from when it first appeared)."""
    changed = _service_time(at)
    with labeling_jobs._lock:
        backend = _backend(account_id, region)
        execution = _executions(backend).get(name.lower())
        if execution is None:
            raise LookupError(f"no pipeline execution named {name!r} in account {account_id}, {region}")
        trial = copy.deepcopy(execution)
        _change_execution(trial, backend, changed, status=status, failure_reason=failure_reason, steps=steps)
        execution.__dict__.update(trial.__dict__)


def _change_execution(
    execution: PipelineExecution,
    backend: SageMakerModelBackend,
    at: datetime,
    *,
    status: str | None,
    failure_reason: str | None,
    steps: list[PipelineStep] | None,
) -> None:
    if status is not None and status not in PIPELINE_EXECUTION_STATUSES:
        raise ValueError(f"pipeline execution status {status!r} is not one of {', '.join(PIPELINE_EXECUTION_STATUSES)}")
    if status is not None and status != execution.status:
        execution.previous_status = execution.status
        execution.status = status
        execution.last_modified_time = at
    if failure_reason is not None:
        execution.failure_reason = failure_reason
    if steps is not None:
        before = {step["StepName"]: step for step in execution.steps}
        execution.steps = [_step_record(step, before.get(step.name), backend, at) for step in steps]
    _check_response("DescribePipelineExecution", execution.describe())
    _check_response("ListPipelineExecutionSteps", {"PipelineExecutionSteps": execution.steps})


def _step_record(
    step: PipelineStep, before: dict[str, Any] | None, backend: SageMakerModelBackend, at: datetime
) -> dict[str, Any]:
    if step.status not in PIPELINE_STEP_STATUSES:
        raise ValueError(f"pipeline step status {step.status!r} is not one of {', '.join(PIPELINE_STEP_STATUSES)}")
    record: dict[str, Any] = {"StepName": step.name, "StepDisplayName": step.name, "StepStatus": step.status}
    record["StartTime"] = before["StartTime"] if before else at
    if step.status in _TERMINAL:
        record["EndTime"] = before["EndTime"] if before and "EndTime" in before else at
    if step.failure_reason is not None:
        record["FailureReason"] = step.failure_reason
    if step.job is not None:
        kind, child = step.job
        if kind not in STEP_METADATA_KEYS:
            raise ValueError(f"a pipeline step's job is a training, processing, transform or tuning job, not {kind}")
        job = _jobs(backend, kind).get(child.lower())
        if job is None:
            raise LookupError(f"step {step.name!r} names no {_APIS[kind].noun} {child!r} in this account and region")
        record["Metadata"] = {STEP_METADATA_KEYS[kind]: {"Arn": job.arn}}
    record["AttemptCount"] = 1
    return record


def describe_pipeline_execution(
    name: str, *, account_id: str = DEFAULT_ACCOUNT_ID, region: str = "us-east-1"
) -> dict[str, Any]:
    """The execution's DescribePipelineExecution response, found by its display name, for the replay's events."""
    with labeling_jobs._lock:
        execution = _executions(_backend(account_id, region)).get(name.lower())
        if execution is None:
            raise LookupError(f"no pipeline execution named {name!r} in account {account_id}, {region}")
        return execution.describe()


def previous_pipeline_status(
    name: str, *, account_id: str = DEFAULT_ACCOUNT_ID, region: str = "us-east-1"
) -> str | None:
    """The status the execution had before its last change of status (None if it never changed)."""
    with labeling_jobs._lock:
        execution = _executions(_backend(account_id, region)).get(name.lower())
        return None if execution is None else execution.previous_status


# --- lists and paging -------------------------------------------------------------------------------


def _list_sort_key(job: KindJob, sort_by: str) -> tuple[str, ...]:
    created = job.creation_time.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    if sort_by == "Name":
        return (job.name,)
    if sort_by == "Status":
        return (job.status, created, job.name)
    return (created, job.name)


def _encode_token(scope: str, after: tuple[str, ...]) -> str:
    payload = json.dumps({"Scope": scope, "After": list(after)})
    # Prefixed, so that botocore's paginator does not read it as one of its own base64 JSON resume tokens.
    return base64.urlsafe_b64encode(_TOKEN_PREFIX + payload.encode()).decode("ascii")


def _decode_token(token: str, scope: str, length: int) -> tuple[str, ...]:
    try:
        decoded = base64.b64decode(token.encode("ascii"), altchars=b"-_", validate=True)
        payload = json.loads(decoded.removeprefix(_TOKEN_PREFIX)) if decoded.startswith(_TOKEN_PREFIX) else None
    except ValueError:
        payload = None
    after = payload.get("After") if isinstance(payload, dict) else None
    if not isinstance(after, list) or len(after) != length or not all(isinstance(part, str) for part in after):
        raise AWSValidationException(f'Invalid pagination token because "{token}" is not a NextToken.')
    if not isinstance(payload, dict) or payload.get("Scope") != scope:
        raise AWSValidationException("Invalid pagination token because it was issued for a different request.")
    return tuple(after)


def _page(
    items: list[Any],
    key: Callable[[Any], tuple[str, ...]],
    *,
    key_length: int,
    scope: str,
    descending: bool,
    next_token: str | None,
    max_results: int | None,
) -> tuple[list[Any], str | None]:
    """Keyset paging, as labeling_jobs does: a page resumes strictly after the last item's key, so that items created
    or changed between pages shift nothing."""
    items = sorted(items, key=key, reverse=descending)
    if next_token:
        cursor = _decode_token(next_token, scope, key_length)
        items = [item for item in items if (key(item) < cursor if descending else key(item) > cursor)]
    size = max_results or DEFAULT_MAX_RESULTS
    page = items[:size]
    return page, (_encode_token(scope, key(page[-1])) if len(items) > size else None)


def list_jobs(backend: SageMakerModelBackend, kind: KindName, request: Mapping[str, Any]) -> dict[str, Any]:
    """ListTrainingJobs, ListProcessingJobs, ListTransformJobs, ListHyperParameterTuningJobs (request validated)."""
    api = _APIS[kind]
    sort_by = request.get("SortBy") or "CreationTime"
    sort_order = request.get("SortOrder") or "Ascending"
    bounds = {
        member: labeling_jobs._filter_time(_timestamp(request.get(member)))
        for member in ("CreationTimeAfter", "CreationTimeBefore", "LastModifiedTimeAfter", "LastModifiedTimeBefore")
    }
    status_equals, name_contains = request.get("StatusEquals"), request.get("NameContains")

    def matches(job: KindJob) -> bool:
        # NameContains matches case-insensitively, as for labeling jobs (labeling_jobs._matches).
        return (
            (status_equals is None or job.status == status_equals)
            and (not name_contains or str(name_contains).lower() in job.name.lower())
            and (bounds["CreationTimeAfter"] is None or job.creation_time > bounds["CreationTimeAfter"])
            and (bounds["CreationTimeBefore"] is None or job.creation_time < bounds["CreationTimeBefore"])
            and (bounds["LastModifiedTimeAfter"] is None or job.last_modified_time > bounds["LastModifiedTimeAfter"])
            and (bounds["LastModifiedTimeBefore"] is None or job.last_modified_time < bounds["LastModifiedTimeBefore"])
        )

    with labeling_jobs._lock:
        matching = [job for job in _jobs(backend, kind).values() if matches(job)]
        page, token = _page(
            matching,
            lambda job: _list_sort_key(job, sort_by),
            key_length={"Name": 1, "CreationTime": 2, "Status": 3}[sort_by],
            scope=f"{api.operations['List']}/{sort_by}/{sort_order}",
            descending=sort_order == "Descending",
            next_token=request.get("NextToken"),
            max_results=request.get("MaxResults"),
        )
        return _without_none({api.summaries_member: [job.summary() for job in page], "NextToken": token})


def _timestamp(value: Any) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    parsed: datetime = parse_timestamp(value)
    return parsed


_SEARCH_OPERATORS: Final = frozenset(
    {
        "Equals",
        "NotEquals",
        "GreaterThan",
        "GreaterThanOrEqualTo",
        "LessThan",
        "LessThanOrEqualTo",
        "Contains",
        "Exists",
        "NotExists",
    }
)


def search_pipeline_executions(backend: SageMakerModelBackend, request: Mapping[str, Any]) -> dict[str, Any]:
    """Search(Resource="PipelineExecution"): the SearchExpression's top-level Filters (all must hold), sorted by any
    member (default LastModifiedTime, Descending), paged."""
    expression = request.get("SearchExpression") or {}
    if expression.get("NestedFilters") or expression.get("SubExpressions"):
        raise AWSValidationException("The emulator's Search takes Filters only (no NestedFilters or SubExpressions).")
    filters = expression.get("Filters") or []
    if expression.get("Operator") == "Or" and len(filters) > 1:
        raise AWSValidationException("The emulator's Search combines Filters with And only.")
    record_members = _search_record_members()
    for item in filters:
        if item["Name"] not in record_members:
            raise AWSValidationException(f"Unknown property name: {item['Name']}")
        if item.get("Operator", "Equals") not in _SEARCH_OPERATORS:
            raise AWSValidationException(f"The emulator's Search does not take the operator {item['Operator']}.")
    sort_by = request.get("SortBy") or "LastModifiedTime"
    if sort_by not in record_members:
        raise AWSValidationException(f"Unknown property name: {sort_by}")
    sort_order = request.get("SortOrder") or "Descending"

    def key(record: dict[str, Any]) -> tuple[str, ...]:
        value = record.get(sort_by)
        shown = value.strftime("%Y-%m-%dT%H:%M:%S.%fZ") if isinstance(value, datetime) else str(value or "")
        return (shown, record["PipelineExecutionArn"])

    with labeling_jobs._lock:
        records = [execution.search_record() for execution in _executions(backend).values()]
        matching = [record for record in records if all(_holds(record, item) for item in filters)]
        page, token = _page(
            matching,
            key,
            key_length=2,
            scope=f"Search/PipelineExecution/{sort_by}/{sort_order}/{json.dumps(filters, sort_keys=True, default=str)}",
            descending=sort_order == "Descending",
            next_token=request.get("NextToken"),
            max_results=request.get("MaxResults"),
        )
        return _without_none({"Results": [{"PipelineExecution": record} for record in page], "NextToken": token})


def _holds(record: dict[str, Any], condition: Mapping[str, Any]) -> bool:
    operator = condition.get("Operator", "Equals")
    actual = record.get(condition["Name"])
    if operator == "Exists":
        return actual is not None
    if operator == "NotExists":
        return actual is None
    if actual is None:
        return False
    expected: Any = condition.get("Value", "")
    if isinstance(actual, datetime):
        try:
            expected = labeling_jobs._filter_time(_timestamp(expected))
        except (ValueError, OverflowError):
            raise AWSValidationException(f"Value '{expected}' of {condition['Name']} is not a timestamp.") from None
    elif operator == "Contains":
        return str(expected) in str(actual)
    comparisons: dict[str, Callable[[Any, Any], bool]] = {
        "Equals": lambda a, b: a == b,
        "NotEquals": lambda a, b: a != b,
        "GreaterThan": lambda a, b: a > b,
        "GreaterThanOrEqualTo": lambda a, b: a >= b,
        "LessThan": lambda a, b: a < b,
        "LessThanOrEqualTo": lambda a, b: a <= b,
        "Contains": lambda a, b: False,  # a time contains nothing
    }
    return comparisons[operator](actual, expected)


def list_pipeline_execution_steps(backend: SageMakerModelBackend, request: Mapping[str, Any]) -> dict[str, Any]:
    """ListPipelineExecutionSteps: the execution's steps by start time, newest first unless SortOrder says Ascending."""
    arn = request["PipelineExecutionArn"]
    sort_order = request.get("SortOrder") or "Descending"
    with labeling_jobs._lock:
        execution = _find_execution(backend, arn)
        positions = {step["StepName"]: index for index, step in enumerate(execution.steps)}
        page, token = _page(
            copy.deepcopy(execution.steps),
            lambda step: (step["StartTime"].strftime("%Y-%m-%dT%H:%M:%S.%fZ"), f"{positions[step['StepName']]:06d}"),
            key_length=2,
            scope=f"ListPipelineExecutionSteps/{arn}/{sort_order}",
            descending=sort_order == "Descending",
            next_token=request.get("NextToken"),
            max_results=request.get("MaxResults"),
        )
        return _without_none({"PipelineExecutionSteps": page, "NextToken": token})


# --- the API side: requests through moto --------------------------------------------------------------


def create_job(backend: SageMakerModelBackend, kind: KindName, request: Mapping[str, Any]) -> str:
    """A Create request (validated): the job starts InProgress now, keeping the request members Describe echoes."""
    api = _APIS[kind]
    name = request[api.name_member]
    described = api.output_members("Describe")
    spec = {
        member: copy.deepcopy(value)
        for member, value in request.items()
        if member in described and member != api.name_member
    }
    if kind == "training":
        spec.setdefault("StoppingCondition", {"MaxRuntimeInSeconds": 86400})
        spec.setdefault("EnableManagedSpotTraining", False)
    now = _now()
    with labeling_jobs._lock:
        jobs = _jobs(backend, kind)
        if name.lower() in jobs:
            raise ResourceInUseException(
                "Job name must be unique within an AWS account and region, and a job with this name already "
                f"exists ({jobs[name.lower()].arn})"
            )
        job = KindJob(
            kind=kind,
            name=name,
            arn=job_arn(kind, name, account_id=backend.account_id, region=backend.region_name),
            status="InProgress",
            creation_time=now,
            last_modified_time=now,
            spec=spec,
            facts=_initial_facts(kind, spec, now),
        )
        jobs[name.lower()] = job
        _start_log_stream(job, backend.account_id, backend.region_name)
        return job.arn


def stop_job(backend: SageMakerModelBackend, kind: KindName, name: str) -> None:
    with labeling_jobs._lock:
        job = _find(backend, kind, name)
        if job.status in _STOPPABLE:
            _change(job, _now(), status="Stopping")
        elif job.status != "Stopping":
            raise AWSValidationException(
                f"The request was rejected because the {job.api.noun} is in status {job.status}."
            )


def _request(response: SageMakerResponse) -> dict[str, Any]:
    labeling_jobs._refuse_invalid_request(response)
    body = json.loads(response.body or "{}") if isinstance(response.body, str | bytes) and response.body else {}
    return body if isinstance(body, dict) else {}


def _responders(kind: KindName) -> dict[str, Callable[[SageMakerResponse], ActionResult]]:
    api = _APIS[kind]

    def create(response: SageMakerResponse) -> ActionResult:
        return ActionResult({api.arn_member: create_job(response.sagemaker_backend, kind, _request(response))})

    def describe(response: SageMakerResponse) -> ActionResult:
        request = _request(response)
        with labeling_jobs._lock:
            return ActionResult(_find(response.sagemaker_backend, kind, request[api.name_member]).describe())

    def list_(response: SageMakerResponse) -> ActionResult:
        return ActionResult(list_jobs(response.sagemaker_backend, kind, _request(response)))

    def stop(response: SageMakerResponse) -> ActionResult:
        stop_job(response.sagemaker_backend, kind, _request(response)[api.name_member])
        return EmptyResult()

    operations = api.operations
    return {
        _snake(operations["Create"]): create,
        _snake(operations["Describe"]): describe,
        _snake(operations["List"]): list_,
        _snake(operations["Stop"]): stop,
    }


def _snake(operation: str) -> str:
    return "".join(f"_{char.lower()}" if char.isupper() else char for char in operation).lstrip("_")


def _respond_describe_pipeline_execution(response: SageMakerResponse) -> ActionResult:
    request = _request(response)
    with labeling_jobs._lock:
        return ActionResult(_find_execution(response.sagemaker_backend, request["PipelineExecutionArn"]).describe())


def _respond_list_pipeline_execution_steps(response: SageMakerResponse) -> ActionResult:
    return ActionResult(list_pipeline_execution_steps(response.sagemaker_backend, _request(response)))


def _respond_search(response: SageMakerResponse) -> ActionResult:
    request = _request(response)
    if request.get("Resource") == "PipelineExecution":
        return ActionResult(search_pipeline_executions(response.sagemaker_backend, request))
    original: Callable[[SageMakerResponse], ActionResult] = getattr(_respond_search, _ORIGINAL_SEARCH)
    return original(response)


def _response_methods() -> dict[str, Callable[..., Any]]:
    methods: dict[str, Callable[..., Any]] = {}
    for kind in _APIS:
        methods.update(_responders(kind))
    methods["describe_pipeline_execution"] = _respond_describe_pipeline_execution
    methods["list_pipeline_execution_steps"] = _respond_list_pipeline_execution_steps
    methods["search"] = _respond_search
    return methods


# moto answers these itself, short of what the watcher reads (see the module's docstring): replaced on purpose. Any
# other method of ours that moto turns out to have is a surprise install() refuses.
_REPLACED: Final = frozenset(
    {
        "create_training_job",
        "describe_training_job",
        "list_training_jobs",
        "create_processing_job",
        "describe_processing_job",
        "list_processing_jobs",
        "stop_processing_job",
        "create_transform_job",
        "describe_transform_job",
        "list_transform_jobs",
        "create_hyper_parameter_tuning_job",
        "describe_hyper_parameter_tuning_job",
        "list_hyper_parameter_tuning_jobs",
        "describe_pipeline_execution",
        "search",
        # moto 5.2.5 has no StopTrainingJob, StopTransformJob or StopHyperParameterTuningJob response methods, nor
        # ListPipelineExecutionSteps.
    }
)


def checked_operations() -> frozenset[str]:
    """The operations whose requests are checked against the model before moto parses them."""
    operations = {op for api in _APIS.values() for op in api.operations.values()}
    return frozenset(operations | {"DescribePipelineExecution", "ListPipelineExecutionSteps", "Search"})


def install() -> None:
    """Install the labeling-job extension and this one on moto's SageMaker; call before moto serves a request.
    Idempotent."""
    labeling_jobs.install()
    methods = _response_methods()
    with labeling_jobs._lock:
        for name, method in methods.items():
            setattr(method, _EXTENSION_MARK, True)
            existing = getattr(SageMakerResponse, name, None)
            if existing is None or getattr(existing, _EXTENSION_MARK, False):
                continue
            if name not in _REPLACED:
                raise RuntimeError(
                    f"moto now has SageMakerResponse.{name}, which gtwatch's job-kinds extension would shadow: check "
                    f"whether moto implements it as SageMaker does, then drop or reconcile {__name__}."
                )
            if name == "search":
                setattr(_respond_search, _ORIGINAL_SEARCH, existing)
        if not hasattr(_respond_search, _ORIGINAL_SEARCH):
            setattr(_respond_search, _ORIGINAL_SEARCH, getattr(SageMakerResponse, "search", None))
        for name, method in methods.items():
            setattr(SageMakerResponse, name, method)
        labeling_jobs.add_checked_operations(checked_operations())


def serve(host: str = "127.0.0.1", port: int = 5000) -> ThreadedMotoServer:
    """Install both extensions and start a moto server in this process (see labeling_jobs.serve)."""
    install()
    return labeling_jobs.serve(host, port)
