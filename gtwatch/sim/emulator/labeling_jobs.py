"""Teaches moto's SageMaker emulator the Ground Truth labeling-job API and lets the replay set jobs' state."""

from __future__ import annotations

import base64
import copy
import errno
import functools
import hashlib
import json
import re
import socket
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from typing import Any, Final

import botocore.session
from botocore.model import ListShape, MapShape, ServiceModel, Shape, StructureShape
from botocore.utils import parse_timestamp
from moto.core.models import DEFAULT_ACCOUNT_ID
from moto.core.responses import ActionResult, EmptyResult
from moto.sagemaker.exceptions import (
    AWSValidationException,
    ResourceInUseException,
    ResourceNotFound,
    SagemakerClientError,
)
from moto.sagemaker.models import SageMakerModelBackend, sagemaker_backends
from moto.sagemaker.responses import SageMakerResponse
from moto.server import ThreadedMotoServer
from moto.utilities.utils import get_partition

__all__ = [
    "DEFAULT_ACCOUNT_ID",
    "DEFAULT_MAX_RESULTS",
    "EXPECTED_MOTO_VERSION",
    "LABELING_JOB_STATUSES",
    "LABEL_COUNTER_FIELDS",
    "add_checked_operations",
    "install",
    "java_pattern",
    "labeling_job_backend",
    "put_labeling_job",
    "request_errors",
    "serve",
    "service_model",
    "set_clock",
    "shape_errors",
    "update_labeling_job",
    "validation_message",
]

# The extension reaches into moto internals (response dispatch, backend reset, the JSON serializer),
# so it is tied to the moto release it was checked against; install() refuses any other.
EXPECTED_MOTO_VERSION: Final = "5.2.5"

LABELING_JOB_STATUSES: Final = ("Initializing", "InProgress", "Completed", "Failed", "Stopping", "Stopped")
LABEL_COUNTER_FIELDS: Final = (
    "TotalLabeled",
    "HumanLabeled",
    "MachineLabeled",
    "FailedNonRetryableError",
    "Unlabeled",
)
# The service model gives no default for ListLabelingJobs' MaxResults; the SageMaker list operations
# that document one (ListTransformJobs, ListHyperParameterTuningJobs and most others) say 10.
DEFAULT_MAX_RESULTS: Final = 10

_SORT_KEY_LENGTH: Final = {"Name": 1, "CreationTime": 2, "Status": 3}  # see _sort_key
_STOPPABLE: Final = frozenset({"Initializing", "InProgress"})

# CreateLabelingJob members kept as given and echoed by DescribeLabelingJob.
_CREATE_MEMBERS: Final = (
    "LabelAttributeName",
    "InputConfig",
    "OutputConfig",
    "RoleArn",
    "LabelCategoryConfigS3Uri",
    "StoppingConditions",
    "LabelingJobAlgorithmsConfig",
    "HumanTaskConfig",
    "Tags",
)

_TOKEN_PREFIX: Final = b"gtwatch-labeling-jobs/1 "
_JOBS_ATTRIBUTE: Final = "gtwatch_labeling_jobs"
_EXTENSION_MARK: Final = "__gtwatch_labeling_jobs__"

# One lock for every job table: ThreadedMotoServer serves each request on its own thread while the
# replay engine edits jobs from another.
_lock = threading.RLock()


def _real_now() -> datetime:
    return datetime.now(UTC)


_clock: Callable[[], datetime] = _real_now


@dataclass
class LabelingJob:
    """One labeling job as the emulated service holds it; `spec` is the CreateLabelingJob request."""

    name: str
    arn: str
    status: str
    counters: dict[str, int]
    creation_time: datetime
    last_modified_time: datetime
    spec: dict[str, Any]
    failure_reason: str | None = None
    output: dict[str, str] = field(default_factory=dict)

    @property
    def job_reference_code(self) -> str:
        # Derived from the ARN rather than random, so that replays print the same thing every run.
        return hashlib.sha256(self.arn.encode()).hexdigest()[:24]

    def labeling_job_output(self) -> dict[str, str] | None:
        # OutputDatasetS3Uri is required in LabelingJobOutput, so without it there is no output to show.
        return dict(self.output) if "OutputDatasetS3Uri" in self.output else None

    def describe(self) -> dict[str, Any]:
        response: dict[str, Any] = {
            **copy.deepcopy(self.spec),
            "LabelingJobStatus": self.status,
            "LabelCounters": dict(self.counters),
            "FailureReason": self.failure_reason,
            "CreationTime": self.creation_time,
            "LastModifiedTime": self.last_modified_time,
            "JobReferenceCode": self.job_reference_code,
            "LabelingJobName": self.name,
            "LabelingJobArn": self.arn,
            "LabelingJobOutput": self.labeling_job_output(),
        }
        return _without_none(response)

    def summary(self) -> dict[str, Any]:
        human_task = self.spec["HumanTaskConfig"]
        consolidation = human_task.get("AnnotationConsolidationConfig") or {}
        summary: dict[str, Any] = {
            "LabelingJobName": self.name,
            "LabelingJobArn": self.arn,
            "CreationTime": self.creation_time,
            "LastModifiedTime": self.last_modified_time,
            "LabelingJobStatus": self.status,
            "LabelCounters": dict(self.counters),
            "WorkteamArn": human_task["WorkteamArn"],
            "PreHumanTaskLambdaArn": human_task.get("PreHumanTaskLambdaArn"),
            "AnnotationConsolidationLambdaArn": consolidation.get("AnnotationConsolidationLambdaArn"),
            "FailureReason": self.failure_reason,
            "LabelingJobOutput": self.labeling_job_output(),
            "InputConfig": copy.deepcopy(self.spec["InputConfig"]),
        }
        return _without_none(summary)


def _without_none(members: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in members.items() if value is not None}


# --- time -------------------------------------------------------------------------------------------


def set_clock(fn: Callable[[], datetime] | None) -> None:
    """Set the clock that stamps jobs created or stopped through the API; None restores real UTC time."""
    global _clock
    _clock = fn if fn is not None else _real_now


def _as_service_time(at: datetime, what: str) -> datetime:
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"{what} must be timezone-aware, got the naive datetime {at.isoformat()}")
    at = at.astimezone(UTC)
    # The wire carries milliseconds; keeping the same precision means a client that passes back a
    # time it was shown (e.g. LastModifiedTimeAfter) compares against exactly what it saw.
    return at.replace(microsecond=at.microsecond // 1000 * 1000)


def _now() -> datetime:
    return _as_service_time(_clock(), "the emulator clock's time")


def _filter_time(value: datetime | None) -> datetime | None:
    # moto's request parser hands timestamps over as naive UTC.
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# --- validation -------------------------------------------------------------------------------------
# Requests are checked against botocore's SageMaker service model, as the service checks them against its
# own: every member's type, required members, min/max, patterns and enums, all errors reported at once in
# the service's wording. moto's own request parser would otherwise meet a mistyped member first and answer
# HTTP 500 (or raise, in-process).

_OPERATIONS: Final = frozenset({"CreateLabelingJob", "DescribeLabelingJob", "ListLabelingJobs", "StopLabelingJob"})
# Every operation checked before moto parses it: these, and those other extensions add (sagemaker_jobs.py).
_checked_operations: set[str] = set(_OPERATIONS)
# The JSON types a member of each model type arrives as. JSON true/false are Python bools, which are
# also ints: shape_errors tells them apart.
_WIRE_TYPES: Final[Mapping[str, tuple[type, ...]]] = {
    "string": (str,),
    "blob": (str,),
    "integer": (int,),
    "long": (int,),
    "float": (int, float),
    "double": (int, float),
    "boolean": (bool,),
    "structure": (dict,),
    "map": (dict,),
    "list": (list,),
}
# Classes of the model's Java regular expressions that Python's `re` lacks, as they appear there: inside a
# character class. \p{L} and \p{N} become \w, which also admits digits and the underscore: exact in the tag
# patterns, the only ones these operations use, which allow both. A pattern still holding a \p{...} after
# this is not checked (a test keeps that from happening to these operations).
_JAVA_CLASSES: Final = {
    r"\p{L}": r"\w",
    r"\p{N}": r"\w",
    r"\p{Z}": r" \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000",
    r"\p{Alnum}": "a-zA-Z0-9",
}


class SerializationException(SagemakerClientError):
    """The request body is not a JSON object: the service cannot read any member of it."""

    code = "SerializationException"


@functools.cache
def service_model() -> ServiceModel:
    """botocore's model of the SageMaker API, the one the emulator answers by."""
    return botocore.session.get_session().get_service_model("sagemaker")


@functools.cache
def java_pattern(pattern: str) -> re.Pattern[str] | None:
    """A model pattern (a Java regular expression) in Python's terms; None if it uses what `re` cannot say."""
    for java, python in _JAVA_CLASSES.items():
        pattern = pattern.replace(java, python)
    try:
        return re.compile(pattern)
    except re.error:
        return None


def _shown(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"'{str(value).lower()}'"
    if isinstance(value, dict | list):
        return f"'{json.dumps(value, separators=(',', ':'))}'"
    return f"'{value}'"


def _constraint(value: object, member: str, constraint: str) -> str:
    return f"Value {_shown(value)} at '{member}' failed to satisfy constraint: Member must {constraint}"


def _lower_camel(member: str) -> str:
    return member[0].lower() + member[1:]


def _is_timestamp(value: object) -> bool:
    # What the service reads as a timestamp: epoch seconds (what the SDKs send) or an ISO 8601 string.
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return False
    try:
        parse_timestamp(value)  # type: ignore[arg-type]  # it takes epoch numbers too
    except (ValueError, OverflowError, OSError):
        return False
    return True


def shape_errors(shape: Shape, value: object, member: str) -> list[str]:
    """What the service would refuse in `value` (JSON as decoded) for `shape`, at `member` (its wire path)."""
    type_name = shape.type_name
    if type_name == "timestamp":
        return [] if _is_timestamp(value) else [_constraint(value, member, "be a timestamp")]
    expected = _WIRE_TYPES.get(type_name, (object,))
    if not isinstance(value, expected) or (isinstance(value, bool) and type_name != "boolean"):
        return [_constraint(value, member, f"be of type {type_name}")]
    errors = _bound_errors(shape, value, member)
    if isinstance(value, str) and type_name == "string":
        enum = shape.metadata.get("enum")
        if enum and value not in enum:
            errors.append(_constraint(value, member, f"satisfy enum value set: [{', '.join(enum)}]"))
        pattern = shape.metadata.get("pattern")
        compiled = java_pattern(pattern) if pattern else None
        if compiled is not None and not compiled.fullmatch(value):
            errors.append(_constraint(value, member, f"satisfy regular expression pattern: {pattern}"))
    if isinstance(value, dict) and isinstance(shape, StructureShape):
        errors += _structure_errors(shape, value, member)
    elif isinstance(value, list) and isinstance(shape, ListShape):
        for index, item in enumerate(value, start=1):
            where = f"{member}.{index}.member"
            errors += (
                [_constraint(None, where, "not be null")] if item is None else shape_errors(shape.member, item, where)
            )
    elif isinstance(value, dict) and isinstance(shape, MapShape):
        for key, item in value.items():
            errors += shape_errors(shape.key, key, f"{member}.key")
            errors += [] if item is None else shape_errors(shape.value, item, f"{member}.{key}")
    return errors


def _bound_errors(shape: Shape, value: object, member: str) -> list[str]:
    low, high = shape.metadata.get("min"), shape.metadata.get("max")
    if isinstance(value, int | float) and not isinstance(value, bool):
        size, what = value, "have value"
    elif isinstance(value, str | list | dict):
        size, what = len(value), "have length"
    else:
        return []
    if low is not None and size < low:
        return [_constraint(value, member, f"{what} greater than or equal to {low}")]
    if high is not None and size > high:
        return [_constraint(value, member, f"{what} less than or equal to {high}")]
    return []


def _structure_errors(shape: StructureShape, value: dict[str, Any], member: str) -> list[str]:
    # Members the model does not know are ignored, as a JSON service ignores them (forward compatibility).
    errors = []
    for name, member_shape in shape.members.items():
        where = f"{member}.{_lower_camel(name)}" if member else _lower_camel(name)
        if value.get(name) is None:
            if name in shape.required_members:
                errors.append(_constraint(None, where, "not be null"))
        else:
            errors += shape_errors(member_shape, value[name], where)
    return errors


def request_errors(operation: str, body: bytes) -> list[str]:
    """What the service would refuse in a request body for `operation`; SerializationException if not JSON."""
    try:
        request = json.loads(body or b"{}")
    except ValueError:
        request = None
    if not isinstance(request, dict):
        raise SerializationException("The request body is not a JSON object.")
    input_shape = service_model().operation_model(operation).input_shape
    return shape_errors(input_shape, request, "") if input_shape is not None else []


def validation_message(errors: list[str]) -> str:
    """A ValidationException's message, in the service's words."""
    noun = "error" if len(errors) == 1 else "errors"
    return f"{len(errors)} validation {noun} detected: {'; '.join(errors)}"


def _raise_validation(errors: list[str]) -> None:
    if errors:
        raise AWSValidationException(validation_message(errors))


def _job_value_errors(failure_reason: str | None, output_uri: str | None) -> list[str]:
    """What DescribeLabelingJob could not answer with: the replay must not make a job the service could not hold."""
    model = service_model()
    errors = []
    if failure_reason is not None:
        errors += shape_errors(model.shape_for("FailureReason"), failure_reason, "failureReason")
    if output_uri is not None:
        errors += shape_errors(model.shape_for("S3Uri"), output_uri, "labelingJobOutput.outputDatasetS3Uri")
    return errors


# --- the job table ----------------------------------------------------------------------------------


def _jobs(backend: SageMakerModelBackend) -> dict[str, LabelingJob]:
    # Kept in the backend instance's __dict__ so that moto's reset (which empties __dict__ and
    # re-runs __init__) forgets the jobs with everything else. Keyed by the lowercased name because
    # SageMaker treats labeling job names case-insensitively ("Example-job" and "example-job" clash).
    jobs: dict[str, LabelingJob] = backend.__dict__.setdefault(_JOBS_ATTRIBUTE, {})
    return jobs


def _arn(backend: SageMakerModelBackend, name: str) -> str:
    region = backend.region_name
    # The service lowercases the name in the ARN.
    return f"arn:{get_partition(region)}:sagemaker:{region}:{backend.account_id}:labeling-job/{name.lower()}"


def _find(backend: SageMakerModelBackend, name: str) -> LabelingJob:
    job = _jobs(backend).get(name.lower())
    if job is None:
        raise ResourceNotFound(f"Could not find labeling job '{name}'")
    return job


# --- the backend methods (installed on SageMakerModelBackend) --------------------------------------


def create_labeling_job(backend: SageMakerModelBackend, name: str, request: dict[str, Any]) -> str:
    """CreateLabelingJob (a request already validated): store the request and return the new job's ARN."""
    with _lock:
        jobs = _jobs(backend)
        if name.lower() in jobs:
            # Worded like the service's answer to a duplicate CreateTrainingJob.
            raise ResourceInUseException(
                "Labeling job names must be unique within an AWS account and region, and a labeling job "
                f"with this name already exists ({jobs[name.lower()].arn})"
            )
        now = _now()
        job = LabelingJob(
            name=name,
            arn=_arn(backend, name),
            # Real jobs leave Initializing within moments of creation; the replay sets any other status.
            status="InProgress",
            counters=dict.fromkeys(LABEL_COUNTER_FIELDS, 0),
            creation_time=now,
            last_modified_time=now,
            spec={member: copy.deepcopy(request[member]) for member in _CREATE_MEMBERS if member in request},
        )
        jobs[name.lower()] = job
        return job.arn


def describe_labeling_job(backend: SageMakerModelBackend, name: str) -> dict[str, Any]:
    """DescribeLabelingJob: the DescribeLabelingJobResponse members the job has."""
    with _lock:
        return _find(backend, name).describe()


def stop_labeling_job(backend: SageMakerModelBackend, name: str) -> None:
    """StopLabelingJob: a running job moves to Stopping; a finished one cannot be stopped."""
    with _lock:
        job = _find(backend, name)
        if job.status in _STOPPABLE:
            job.status = "Stopping"
            job.last_modified_time = _now()
        elif job.status != "Stopping":
            # Worded like the service's answer to StopTrainingJob on a finished training job.
            raise AWSValidationException(
                f"The request was rejected because the labeling job is in status {job.status}."
            )
        # A second stop while Stopping is accepted and changes nothing: the stop is already under way.


def list_labeling_jobs(
    backend: SageMakerModelBackend,
    *,
    max_results: int | None = None,
    next_token: str | None = None,
    sort_by: str | None = None,
    sort_order: str | None = None,
    status_equals: str | None = None,
    name_contains: str | None = None,
    creation_time_after: datetime | None = None,
    creation_time_before: datetime | None = None,
    last_modified_time_after: datetime | None = None,
    last_modified_time_before: datetime | None = None,
) -> dict[str, Any]:
    """ListLabelingJobs (a request already validated): one page of LabelingJobSummaryList and, when more jobs
    follow, a NextToken."""
    sort_by = sort_by or "CreationTime"
    sort_order = sort_order or "Ascending"
    descending = sort_order == "Descending"
    cursor = _decode_token(next_token, sort_by, sort_order) if next_token else None
    bounds = {
        "creation_after": _filter_time(creation_time_after),
        "creation_before": _filter_time(creation_time_before),
        "modified_after": _filter_time(last_modified_time_after),
        "modified_before": _filter_time(last_modified_time_before),
    }
    with _lock:
        matching = [
            job
            for job in _jobs(backend).values()
            if _matches(job, status_equals=status_equals, name_contains=name_contains, **bounds)
        ]
        matching.sort(key=lambda job: _sort_key(job, sort_by), reverse=descending)
        if cursor is not None:
            # Keyset paging: resume strictly after the last job returned, by its sort key. Jobs
            # created or changed between pages then shift nothing, unlike an offset into the list.
            matching = [job for job in matching if _is_after(_sort_key(job, sort_by), cursor, descending)]
        page_size = max_results or DEFAULT_MAX_RESULTS
        page = matching[:page_size]
        response: dict[str, Any] = {"LabelingJobSummaryList": [job.summary() for job in page]}
        if len(matching) > page_size:
            response["NextToken"] = _encode_token(sort_by, sort_order, _sort_key(page[-1], sort_by))
        return response


def _matches(
    job: LabelingJob,
    *,
    status_equals: str | None,
    name_contains: str | None,
    creation_after: datetime | None,
    creation_before: datetime | None,
    modified_after: datetime | None,
    modified_before: datetime | None,
) -> bool:
    # NameContains matches case-insensitively: that is how SageMaker's list filters behave in practice
    # (and job names are case-insensitive anyway), though the API reference does not say so.
    return (
        (status_equals is None or job.status == status_equals)
        and (not name_contains or name_contains.lower() in job.name.lower())
        and (creation_after is None or job.creation_time > creation_after)
        and (creation_before is None or job.creation_time < creation_before)
        and (modified_after is None or job.last_modified_time > modified_after)
        and (modified_before is None or job.last_modified_time < modified_before)
    )


def _sort_key(job: LabelingJob, sort_by: str) -> tuple[str, ...]:
    # Strings all the way down so that the key fits in a JSON token; fixed-width UTC timestamps order
    # the same as strings as they do as times. The trailing name makes the order total (names are unique).
    created = job.creation_time.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    if sort_by == "Name":
        return (job.name,)
    if sort_by == "Status":
        return (job.status, created, job.name)
    return (created, job.name)


def _is_after(key: tuple[str, ...], cursor: tuple[str, ...], descending: bool) -> bool:
    return key < cursor if descending else key > cursor


def _encode_token(sort_by: str, sort_order: str, after: tuple[str, ...]) -> str:
    payload = json.dumps({"SortBy": sort_by, "SortOrder": sort_order, "After": list(after)})
    # The prefix keeps the token from decoding as JSON: botocore's paginator reads a StartingToken that
    # is base64 JSON as one of its own resume tokens and would send its keys as request parameters.
    return base64.urlsafe_b64encode(_TOKEN_PREFIX + payload.encode()).decode("ascii")


def _decode_token(token: str, sort_by: str, sort_order: str) -> tuple[str, ...]:
    """The position a NextToken resumes after; the token only makes sense for the ordering it came from."""
    try:
        decoded = base64.b64decode(token.encode("ascii"), altchars=b"-_", validate=True)
        payload = json.loads(decoded.removeprefix(_TOKEN_PREFIX)) if decoded.startswith(_TOKEN_PREFIX) else None
    except ValueError:  # covers bad base64, non-ASCII, bad UTF-8 and bad JSON alike
        payload = None
    after = payload.get("After") if isinstance(payload, dict) else None
    if (
        not isinstance(payload, dict)
        or not isinstance(after, list)
        or len(after) != _SORT_KEY_LENGTH[sort_by]
        or not all(isinstance(part, str) for part in after)
    ):
        raise AWSValidationException(f'Invalid pagination token because "{token}" is not a NextToken.')
    if payload.get("SortBy") != sort_by or payload.get("SortOrder") != sort_order:
        raise AWSValidationException(
            "Invalid pagination token because it was issued for a different SortBy or SortOrder."
        )
    return tuple(after)


# --- the response methods (installed on SageMakerResponse) -----------------------------------------

_REQUEST_ERROR: Final = "_gtwatch_request_error"


def _parse_checked_parameters(parse_parameters: Callable[..., None]) -> Callable[..., None]:
    """Wrap moto's request parser so that it only ever meets a labeling-job request the service would accept."""

    def parse_checked_parameters(response: SageMakerResponse, request: Any) -> None:
        operation = response._get_action()
        if operation in _checked_operations:
            try:
                _raise_validation(request_errors(operation, request.data))
            except SagemakerClientError as error:
                # moto turns an exception raised while parsing into HTTP 500; raised by the response method, it
                # is the service's 400.
                setattr(response, _REQUEST_ERROR, error)
                response.params = {}
                return
        parse_parameters(response, request)

    setattr(parse_checked_parameters, _EXTENSION_MARK, True)
    return parse_checked_parameters


def _refuse_invalid_request(response: SageMakerResponse) -> None:
    error = getattr(response, _REQUEST_ERROR, None)
    if error is not None:
        raise error


def _respond_create_labeling_job(response: SageMakerResponse) -> ActionResult:
    _refuse_invalid_request(response)
    request = {member: response._get_param(member) for member in _CREATE_MEMBERS}
    name = response._get_param("LabelingJobName")
    arn = create_labeling_job(response.sagemaker_backend, name, _without_none(request))
    return ActionResult({"LabelingJobArn": arn})


def _respond_describe_labeling_job(response: SageMakerResponse) -> ActionResult:
    _refuse_invalid_request(response)
    name = response._get_param("LabelingJobName")
    return ActionResult(describe_labeling_job(response.sagemaker_backend, name))


def _respond_list_labeling_jobs(response: SageMakerResponse) -> ActionResult:
    _refuse_invalid_request(response)
    return ActionResult(
        list_labeling_jobs(
            response.sagemaker_backend,
            max_results=response._get_param("MaxResults"),
            next_token=response._get_param("NextToken"),
            sort_by=response._get_param("SortBy"),
            sort_order=response._get_param("SortOrder"),
            status_equals=response._get_param("StatusEquals"),
            name_contains=response._get_param("NameContains"),
            creation_time_after=response._get_param("CreationTimeAfter"),
            creation_time_before=response._get_param("CreationTimeBefore"),
            last_modified_time_after=response._get_param("LastModifiedTimeAfter"),
            last_modified_time_before=response._get_param("LastModifiedTimeBefore"),
        )
    )


def _respond_stop_labeling_job(response: SageMakerResponse) -> ActionResult:
    _refuse_invalid_request(response)
    stop_labeling_job(response.sagemaker_backend, response._get_param("LabelingJobName"))
    return EmptyResult()


_BACKEND_METHODS: Final[Mapping[str, Callable[..., Any]]] = {
    "create_labeling_job": create_labeling_job,
    "describe_labeling_job": describe_labeling_job,
    "list_labeling_jobs": list_labeling_jobs,
    "stop_labeling_job": stop_labeling_job,
}
_RESPONSE_METHODS: Final[Mapping[str, Callable[..., Any]]] = {
    "create_labeling_job": _respond_create_labeling_job,
    "describe_labeling_job": _respond_describe_labeling_job,
    "list_labeling_jobs": _respond_list_labeling_jobs,
    "stop_labeling_job": _respond_stop_labeling_job,
}
# Marked rather than compared by identity, so that a re-imported copy of this module still recognises
# what an earlier copy installed.
for _method in (*_BACKEND_METHODS.values(), *_RESPONSE_METHODS.values()):
    setattr(_method, _EXTENSION_MARK, True)


def install() -> None:
    """Add the labeling-job operations to moto's SageMaker; call before moto serves a request. Idempotent."""
    installed = metadata.version("moto")
    if installed != EXPECTED_MOTO_VERSION:
        raise RuntimeError(
            f"gtwatch's labeling-job extension was written against moto {EXPECTED_MOTO_VERSION} but moto "
            f"{installed} is installed. Check whether this moto implements labeling jobs itself and whether "
            "the internals the extension relies on still hold, then update EXPECTED_MOTO_VERSION in "
            f"{__name__}."
        )
    targets: tuple[tuple[type, Mapping[str, Callable[..., Any]]], ...] = (
        (SageMakerResponse, _RESPONSE_METHODS),
        (SageMakerModelBackend, _BACKEND_METHODS),
    )
    with _lock:
        for cls, methods in targets:
            for name in methods:
                existing = getattr(cls, name, None)
                if existing is not None and not getattr(existing, _EXTENSION_MARK, False):
                    raise RuntimeError(
                        f"moto {installed} already has {cls.__name__}.{name}: moto now implements labeling "
                        f"jobs itself and gtwatch's extension would shadow it. Drop {__name__} or reconcile "
                        "the two."
                    )
        for cls, methods in targets:
            for name, method in methods.items():
                setattr(cls, name, method)
        if not getattr(SageMakerResponse.parse_parameters, _EXTENSION_MARK, False):
            parse_parameters = _parse_checked_parameters(SageMakerResponse.parse_parameters)
            SageMakerResponse.parse_parameters = parse_parameters  # type: ignore[method-assign]


def add_checked_operations(operations: frozenset[str]) -> None:
    """Check these operations' requests against the model too (ValidationException, never moto's 500)."""
    with _lock:
        _checked_operations.update(operations)


def serve(host: str = "127.0.0.1", port: int = 5000) -> ThreadedMotoServer:
    """Install the extension and start a moto server in this process; the caller stops it.

    Raises OSError when the server cannot listen there (the port is taken, say).
    """
    install()
    _check_can_listen(host, port)
    server = ThreadedMotoServer(ip_address=host, port=port, verbose=False)
    failures: list[BaseException] = []
    run_server = server._server_entry

    def run_server_reporting_failure() -> None:
        # ThreadedMotoServer.start() waits for the server thread to say it listens, and a thread that fails to
        # bind (werkzeug answers that with SystemExit) never says so. Only reached if the port was taken
        # between the check above and now.
        try:
            run_server()
        except (OSError, SystemExit) as error:
            failures.append(error)
            server._server_ready_event.set()

    server._server_entry = run_server_reporting_failure  # type: ignore[method-assign]
    server.start()
    if failures:
        raise OSError(errno.EADDRINUSE, f"cannot serve on {host}:{port}: the port is in use or not available")
    return server


def _check_can_listen(host: str, port: int) -> None:
    # Bound as werkzeug binds (SO_REUSEADDR), so that the check and the server agree. A failed bind inside
    # werkzeug prints several lines and exits its thread; this way the caller gets one error to report.
    if not 0 <= port <= 65535:  # socket's own answer would be an OverflowError
        raise OSError(errno.EINVAL, f"cannot serve on {host}:{port}: {port} is not a port number (1 to 65535)")
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as error:
            raise OSError(error.errno, f"cannot serve on {host}:{port}: {error.strerror}") from None


# --- direct access for the replay engine (no HTTP, simulated time) --------------------------------


def labeling_job_backend(account_id: str = DEFAULT_ACCOUNT_ID, region: str = "us-east-1") -> SageMakerModelBackend:
    """The SageMaker backend that holds this account's and region's labeling jobs."""
    backend: SageMakerModelBackend = sagemaker_backends[account_id][region]
    return backend


def put_labeling_job(
    *,
    region: str,
    account_id: str = DEFAULT_ACCOUNT_ID,
    name: str,
    status: str = "Initializing",
    counters: Mapping[str, int] | None = None,
    failure_reason: str | None = None,
    output_uri: str | None = None,
    workteam_arn: str | None = None,
    input_manifest_uri: str | None = None,
    sns_topic_arn: str | None = None,
    at: datetime,
) -> str:
    """Make a labeling job appear as it would in SageMaker, created (and last modified) at `at`.

    Counters not given are 0. The job gets plausible values for the request members the watcher
    does not read (role, output path, task configuration), so that DescribeLabelingJob is complete.
    """
    _check_status(status)
    created = _as_service_time(at, "at")
    backend = labeling_job_backend(account_id, region)
    bucket = f"s3://gtwatch-emulator-{account_id}-{region}/{name}"
    data_source: dict[str, Any] = {}
    if input_manifest_uri is not None or sns_topic_arn is None:
        data_source["S3DataSource"] = {"ManifestS3Uri": input_manifest_uri or f"{bucket}/input.manifest"}
    if sns_topic_arn is not None:
        data_source["SnsDataSource"] = {"SnsTopicArn": sns_topic_arn}
    spec: dict[str, Any] = {
        "LabelAttributeName": name,
        "InputConfig": {"DataSource": data_source},
        "OutputConfig": {"S3OutputPath": f"{bucket}/output/"},
        "RoleArn": f"arn:{get_partition(region)}:iam::{account_id}:role/gtwatch-emulator-labeling",
        "HumanTaskConfig": {
            "WorkteamArn": workteam_arn
            or f"arn:{get_partition(region)}:sagemaker:{region}:{account_id}:workteam/private-crowd/gtwatch",
            "UiConfig": {"UiTemplateS3Uri": f"{bucket}/template.liquid"},
            "TaskTitle": name,
            "TaskDescription": f"Emulated labeling job {name}",
            "NumberOfHumanWorkersPerDataObject": 1,
            "TaskTimeLimitInSeconds": 300,
        },
    }
    # The job as a CreateLabelingJob request would have made it: what SageMaker refuses there (a work team that is
    # not a work team ARN, a manifest that is not an S3 URI ...) cannot become a job here either.
    request_shape = service_model().operation_model("CreateLabelingJob").input_shape
    assert request_shape is not None
    errors = shape_errors(request_shape, {"LabelingJobName": name, **spec}, "")
    if errors := errors + _job_value_errors(failure_reason, output_uri):
        raise ValueError(validation_message(errors))
    arn = _arn(backend, name)
    job = LabelingJob(
        name=name,
        arn=arn,
        status=status,
        counters=_counters(counters, dict.fromkeys(LABEL_COUNTER_FIELDS, 0)),
        creation_time=created,
        last_modified_time=created,
        spec=spec,
        failure_reason=failure_reason,
        output={"OutputDatasetS3Uri": output_uri} if output_uri is not None else {},
    )
    with _lock:
        jobs = _jobs(backend)
        if name.lower() in jobs:
            raise ValueError(f"a labeling job named {jobs[name.lower()].name!r} already exists in {region}")
        jobs[name.lower()] = job
    return arn


def update_labeling_job(
    *,
    region: str,
    account_id: str = DEFAULT_ACCOUNT_ID,
    name: str,
    at: datetime,
    status: str | None = None,
    counters: Mapping[str, int] | None = None,
    failure_reason: str | None = None,
    output_uri: str | None = None,
    final_active_learning_model_arn: str | None = None,
) -> None:
    """Change a labeling job as SageMaker would at `at`; members left as None keep their value.

    Only a change of status moves LastModifiedTime (to `at`). A counters-only change deliberately
    leaves it alone, so that the watcher cannot come to rely on it to see progress. Counters not
    given keep their value.
    """
    if status is not None:
        _check_status(status)
    if errors := _job_value_errors(failure_reason, output_uri):
        raise ValueError("; ".join(errors))
    changed_at = _as_service_time(at, "at")
    with _lock:
        job = _jobs(labeling_job_backend(account_id, region)).get(name.lower())
        if job is None:
            raise LookupError(f"no labeling job named {name!r} in account {account_id}, {region}")
        if status is not None and status != job.status:
            job.status = status
            job.last_modified_time = changed_at
        if counters is not None:
            job.counters = _counters(counters, job.counters)
        if failure_reason is not None:
            job.failure_reason = failure_reason
        if output_uri is not None:
            job.output["OutputDatasetS3Uri"] = output_uri
        if final_active_learning_model_arn is not None:
            job.output["FinalActiveLearningModelArn"] = final_active_learning_model_arn


def _check_status(status: str) -> None:
    if status not in LABELING_JOB_STATUSES:
        raise ValueError(f"status {status!r} is not one of {', '.join(LABELING_JOB_STATUSES)}")


def _counters(given: Mapping[str, int] | None, previous: Mapping[str, int]) -> dict[str, int]:
    given = given or {}
    unknown = sorted(set(given) - set(LABEL_COUNTER_FIELDS))
    if unknown:
        raise ValueError(
            f"unknown label counters {', '.join(unknown)}; the counters are {', '.join(LABEL_COUNTER_FIELDS)}"
        )
    negative = sorted(key for key, value in given.items() if value < 0)
    if negative:
        raise ValueError(f"label counters cannot be negative: {', '.join(negative)}")
    return {key: int(given.get(key, previous[key])) for key in LABEL_COUNTER_FIELDS}
