"""SageMaker's state change events, one per kind, as the developer guide shows them ("Events that Amazon SageMaker AI
sends to Amazon EventBridge"): which job an event names, where, and what a malformed one is refused for."""

from __future__ import annotations

import copy
import re
from datetime import UTC, datetime
from typing import Any

import pytest
from watcher.domain import state_change
from watcher.domain.contract import JOB_KINDS, KIND_DETAIL_TYPES
from watcher.domain.job import JobKind, StatusClass
from watcher.domain.kinds import PipelineFacts, TrainingFacts, TuningFacts
from watcher.domain.state_change import MalformedEvent, StateChange, UnwatchedKind

ACCOUNT = "111122223333"
ARN = f"arn:aws:sagemaker:us-east-1:{ACCOUNT}"
PIPELINE_ARN = f"{ARN}:pipeline/myPipeline-123"
EXECUTION_ARN = f"{PIPELINE_ARN}/execution/p4jn9xou8a8s"


def parse(event: Any) -> StateChange:
    """The events of a watcher that watches every kind."""
    return state_change.parse(event, JOB_KINDS)


def event(kind: str, resources: list[str], detail: dict[str, Any]) -> dict[str, Any]:
    return {
        "version": "0",
        "id": "844e2571-85d4-695f-b930-0153b71dcb42",
        "detail-type": KIND_DETAIL_TYPES[kind],  # type: ignore[index]
        "source": "aws.sagemaker",
        "account": ACCOUNT,
        "time": "2018-10-06T12:26:13Z",
        "region": "us-east-1",
        "resources": resources,
        "detail": detail,
    }


# One event of each kind, shaped as the developer guide's examples (names and times made consistent).
EVENTS: dict[str, dict[str, Any]] = {
    "labeling": event("labeling", [f"{ARN}:labeling-job/cats-v1"], {"LabelingJobStatus": "Completed"}),
    "training": event(
        "training",
        [f"{ARN}:training-job/kmeans-1"],
        {
            "TrainingJobName": "kmeans-1",
            "TrainingJobArn": f"{ARN}:training-job/kmeans-1",
            "TrainingJobStatus": "Failed",
            "SecondaryStatus": "Failed",
            "FailureReason": "AlgorithmError: out of memory",
            "StoppingCondition": {"MaxRuntimeInSeconds": 60},
            "CreationTime": "1583831889050",
            "TrainingStartTime": "1583831889050",
            "TrainingEndTime": "1583831949050",
            "LastModifiedTime": "1583831949050",
            "SecondaryStatusTransitions": [],
            "Tags": {},
        },
    ),
    "processing": event(
        "processing",
        [f"{ARN}:processing-job/integ-test-analytics-algo-54ee3282"],
        {
            "ProcessingJobName": "integ-test-analytics-algo-54ee3282",
            "ProcessingJobArn": f"{ARN}:processing-job/integ-test-analytics-algo-54ee3282",
            "ProcessingJobStatus": "Failed",
            "FailureReason": "InternalServerError: We encountered an internal error.  Please try again.",
            "ProcessingEndTime": 1704320746000,
            "ProcessingStartTime": 1704320734000,
            "LastModifiedTime": 1704320746000,
            "CreationTime": 1704320199000,
        },
    ),
    "transform": event(
        "transform",
        [f"{ARN}:transform-job/myjob"],
        {
            "TransformJobName": "myjob",
            "TransformJobArn": f"{ARN}:transform-job/myjob",
            "TransformJobStatus": "Completed",
            "ModelName": "i am a beautiful model",
            "TransformOutput": {"S3OutputPath": "s3://bucket/out"},
            "CreationTime": "2018-10-06T12:26:13Z",
            "TransformStartTime": "2018-10-06T12:26:13Z",
            "TransformEndTime": "2018-10-06T12:36:13Z",
            "Tags": {},
        },
    ),
    "tuning": event(
        "tuning",
        [f"{ARN}:hyper-parameter-tuning-job/xgb-tune"],
        {
            "HyperParameterTuningJobName": "xgb-tune",
            "HyperParameterTuningJobArn": f"{ARN}:hyper-parameter-tuning-job/xgb-tune",
            "HyperParameterTuningJobStatus": "Completed",
            "CreationTime": "1583831889050",
            "LastModifiedTime": "1583831889050",
            "TrainingJobStatusCounters": {
                "Completed": 1,
                "InProgress": 0,
                "RetryableError": 0,
                "NonRetryableError": 0,
                "Stopped": 0,
            },
            "Tags": {},
        },
    ),
    "pipeline": event(
        "pipeline",
        [PIPELINE_ARN, EXECUTION_ARN],
        {
            "pipelineExecutionDisplayName": "SomeDisplayName",
            "currentPipelineExecutionStatus": "Succeeded",
            "previousPipelineExecutionStatus": "Executing",
            "executionStartTime": "2021-03-15T16:03:13Z",
            "executionEndTime": "2021-03-15T16:10:10Z",
            "pipelineExecutionDescription": "SomeDescription",
            "pipelineArn": PIPELINE_ARN,
            "pipelineExecutionArn": EXECUTION_ARN,
        },
    ),
}


@pytest.mark.parametrize(
    ("kind", "name", "status", "arn"),
    [
        ("labeling", "cats-v1", "Completed", f"{ARN}:labeling-job/cats-v1"),
        ("training", "kmeans-1", "Failed", f"{ARN}:training-job/kmeans-1"),
        (
            "processing",
            "integ-test-analytics-algo-54ee3282",
            "Failed",
            f"{ARN}:processing-job/integ-test-analytics-algo-54ee3282",
        ),
        ("transform", "myjob", "Completed", f"{ARN}:transform-job/myjob"),
        ("tuning", "xgb-tune", "Completed", f"{ARN}:hyper-parameter-tuning-job/xgb-tune"),
        ("pipeline", "SomeDisplayName", "Succeeded", EXECUTION_ARN),
    ],
)
def test_each_kinds_event_names_its_job_account_region_and_status(kind: str, name: str, status: str, arn: str) -> None:
    change = parse(copy.deepcopy(EVENTS[kind]))

    assert (change.kind, change.account, change.region, change.name, change.status, change.arn) == (
        JobKind(kind),
        ACCOUNT,
        "us-east-1",
        name,
        status,
        arn,
    )


def test_a_training_event_carries_the_job_as_its_describe_would() -> None:
    job = parse(copy.deepcopy(EVENTS["training"])).job

    assert job is not None and job.detailed
    assert job.status_class is StatusClass.FAILED
    assert job.failure_reason == "AlgorithmError: out of memory"
    assert job.creation_time == datetime(2020, 3, 10, 9, 18, 9, 50000, tzinfo=UTC)  # epoch milliseconds as a string
    assert isinstance(job.facts, TrainingFacts) and job.facts.max_runtime_seconds == 60


def test_times_as_numbers_strings_of_milliseconds_or_iso_strings_all_read_as_utc() -> None:
    processing = parse(copy.deepcopy(EVENTS["processing"])).job
    transform = parse(copy.deepcopy(EVENTS["transform"])).job

    assert processing is not None and processing.last_modified_time == datetime(2024, 1, 3, 22, 25, 46, tzinfo=UTC)
    assert transform is not None and transform.last_modified_time == datetime(2018, 10, 6, 12, 36, 13, tzinfo=UTC)


def test_a_tuning_event_carries_its_counters() -> None:
    job = parse(copy.deepcopy(EVENTS["tuning"])).job

    assert job is not None and isinstance(job.facts, TuningFacts) and job.facts.count("Completed") == 1


def test_a_pipeline_event_names_the_execution_not_the_pipeline_and_is_known_by_its_display_name() -> None:
    change = parse(copy.deepcopy(EVENTS["pipeline"]))

    assert change.job is not None
    assert change.job.status_class is StatusClass.COMPLETED
    assert isinstance(change.job.facts, PipelineFacts) and change.job.facts.pipeline == "myPipeline-123"
    assert not change.job.detailed  # An event has no steps: the watch describes the execution for them.


def test_a_pipeline_execution_without_a_display_name_is_known_by_its_execution_id() -> None:
    raw = copy.deepcopy(EVENTS["pipeline"])
    del raw["detail"]["pipelineExecutionDisplayName"]

    assert parse(raw).name == "p4jn9xou8a8s"


@pytest.mark.parametrize("kind", ["training", "processing", "transform", "tuning"])
def test_a_job_name_spelled_in_lower_case_by_the_arn_keeps_the_case_of_the_detail(kind: str) -> None:
    raw = copy.deepcopy(EVENTS[kind])
    arn_type = raw["resources"][0].split(":")[-1].split("/")[0]
    name_field = next(key for key in raw["detail"] if key.endswith("JobName"))
    raw["detail"][name_field] = "Nightly-BERT-7"
    raw["resources"] = [f"{ARN}:{arn_type}/nightly-bert-7"]

    change = parse(raw)

    assert change.name == "Nightly-BERT-7"
    assert change.arn == f"{ARN}:{arn_type}/nightly-bert-7"


def test_a_lower_case_arn_whose_detail_names_another_job_is_known_by_the_arn() -> None:
    raw = copy.deepcopy(EVENTS["training"])
    raw["detail"]["TrainingJobName"] = "89c96cc8-dded-4739-afcc-6f1dc936701d"  # As the guide's example has it.

    assert parse(raw).name == "kmeans-1"


def test_a_labeling_event_reads_as_before() -> None:
    raw = copy.deepcopy(EVENTS["labeling"])
    del raw["detail"]

    assert parse(raw) == StateChange(
        region="us-east-1",
        name="cats-v1",
        status=None,
        kind=JobKind.LABELING,
        account=ACCOUNT,
        arn=f"{ARN}:labeling-job/cats-v1",
    )


def malformed(kind: str, change: Any) -> dict[str, Any]:
    raw = copy.deepcopy(EVENTS[kind])
    change(raw)
    return raw


KINDS = list(EVENTS)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda raw: raw.update(source="aws.sagemaker.fake"), "source"),
        (lambda raw: raw.update({"detail-type": "SageMaker Endpoint State Change"}), "detail-type"),
        (lambda raw: raw.update(resources=[]), "resources"),
        (lambda raw: raw.update(resources="arn"), "resources"),
        (lambda raw: raw.update(resources=[7]), "resources"),
        (lambda raw: raw.update(detail=["not", "an", "object"]), "detail"),
    ],
    ids=["source", "detail-type", "no-resources", "resources-string", "resources-number", "detail"],
)
def test_a_malformed_event_of_any_kind_is_refused_naming_the_field(kind: str, change: Any, field: str) -> None:
    with pytest.raises(MalformedEvent, match=rf"^{field}: "):
        parse(malformed(kind, change))


@pytest.mark.parametrize(
    ("kind", "arn", "field"),
    [
        ("labeling", f"{ARN}:training-job/cats-v1", "resources[0]"),
        ("training", f"{ARN}:processing-job/kmeans-1", "resources[0]"),
        ("training", "arn:aws:sagemaker:us-east-1:1111:training-job/kmeans-1", "resources[0]"),
        ("processing", f"{ARN}:processing-job/bad_name", "resources[0]"),
        ("transform", f"{ARN}:transform-job/", "resources[0]"),
        # The guide's tuning example names "tuningJob/x"; SageMaker's ARNs say hyper-parameter-tuning-job.
        ("tuning", f"{ARN}:tuningJob/x", "resources[0]"),
        ("pipeline", PIPELINE_ARN, "resources"),
    ],
)
def test_an_arn_not_of_the_events_kind_is_refused_naming_the_field(kind: str, arn: str, field: str) -> None:
    raw = copy.deepcopy(EVENTS[kind])
    raw["resources"] = [arn]

    with pytest.raises(MalformedEvent, match=rf"^{re.escape(field)}: "):
        parse(raw)


@pytest.mark.parametrize(
    ("kind", "field"),
    [
        ("labeling", "LabelingJobStatus"),
        ("training", "TrainingJobStatus"),
        ("processing", "ProcessingJobStatus"),
        ("transform", "TransformJobStatus"),
        ("tuning", "HyperParameterTuningJobStatus"),
        ("pipeline", "currentPipelineExecutionStatus"),
    ],
)
def test_a_status_that_is_not_a_string_is_refused_naming_the_field(kind: str, field: str) -> None:
    raw = copy.deepcopy(EVENTS[kind])
    raw["detail"][field] = {"Status": "Completed"}

    with pytest.raises(MalformedEvent, match=rf"^detail\.{field}: "):
        parse(raw)


@pytest.mark.parametrize(
    ("kind", "field"),
    [
        ("training", "CreationTime"),
        ("processing", "ProcessingEndTime"),
        ("transform", "TransformEndTime"),
        ("tuning", "LastModifiedTime"),
        ("pipeline", "executionStartTime"),
    ],
)
def test_a_time_that_is_not_a_time_is_refused_naming_the_field(kind: str, field: str) -> None:
    raw = copy.deepcopy(EVENTS[kind])
    raw["detail"][field] = "yesterday"

    with pytest.raises(MalformedEvent, match=rf"^detail\.{field}: "):
        parse(raw)


def test_a_pipeline_event_naming_two_executions_is_refused() -> None:
    raw = copy.deepcopy(EVENTS["pipeline"])
    raw["resources"] = [EXECUTION_ARN, EXECUTION_ARN.replace("p4jn9xou8a8s", "zzzz")]

    with pytest.raises(MalformedEvent, match=r"^resources: expected one pipeline execution ARN"):
        parse(raw)


def test_a_job_event_naming_two_jobs_is_refused() -> None:
    raw = copy.deepcopy(EVENTS["training"])
    raw["resources"] = [raw["resources"][0], raw["resources"][0]]

    with pytest.raises(MalformedEvent, match=r"^resources: expected one training job ARN"):
        parse(raw)


def test_a_hostile_display_name_is_not_taken_as_the_name() -> None:
    raw = copy.deepcopy(EVENTS["pipeline"])
    raw["detail"]["pipelineExecutionDisplayName"] = "<!channel> *boo*"

    assert parse(raw).name == "p4jn9xou8a8s"


@pytest.mark.parametrize("kind", ["training", "processing", "transform", "tuning", "pipeline"])
def test_an_event_of_a_kind_not_watched_is_refused_naming_its_detail_type(kind: str) -> None:
    with pytest.raises(UnwatchedKind, match=r"^detail-type: .* not watched"):
        state_change.parse(copy.deepcopy(EVENTS[kind]), ["labeling"])
    # Labeling alone is watched unless told otherwise (GTWATCH_KINDS defaults to labeling).
    with pytest.raises(UnwatchedKind):
        state_change.parse(copy.deepcopy(EVENTS[kind]))


def test_a_labeling_event_is_refused_when_labeling_is_not_watched() -> None:
    assert state_change.parse(copy.deepcopy(EVENTS["labeling"])).kind is JobKind.LABELING
    with pytest.raises(UnwatchedKind):
        state_change.parse(copy.deepcopy(EVENTS["labeling"]), [JobKind.TRAINING])
