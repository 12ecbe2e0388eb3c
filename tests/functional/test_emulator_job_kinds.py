"""The job-kinds extension of moto answers for training, processing, transform and tuning jobs and pipeline executions
as SageMaker does, in-process and over HTTP, and writes their CloudWatch log lines."""

from __future__ import annotations

import functools
import ipaddress
import socket
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from moto import mock_aws
from moto.sagemaker.responses import SageMakerResponse
from watcher.domain.contract import KIND_LOG_GROUPS

from gtwatch.sim.emulator import sagemaker_jobs
from gtwatch.sim.emulator.labeling_jobs import DEFAULT_ACCOUNT_ID, set_clock
from gtwatch.sim.emulator.sagemaker_jobs import (
    PipelineStep,
    install,
    put_job,
    put_pipeline_execution,
    serve,
    update_job,
    update_pipeline_execution,
    write_log_line,
)

REGION = "us-east-1"
START = datetime(2026, 4, 14, 8, 0, tzinfo=UTC)
# kind -> (list method, summaries member, name member, status member, describe method)
KINDS = {
    "training": ("list_training_jobs", "TrainingJobSummaries", "TrainingJobName", "TrainingJobStatus"),
    "processing": ("list_processing_jobs", "ProcessingJobSummaries", "ProcessingJobName", "ProcessingJobStatus"),
    "transform": ("list_transform_jobs", "TransformJobSummaries", "TransformJobName", "TransformJobStatus"),
    "tuning": (
        "list_hyper_parameter_tuning_jobs",
        "HyperParameterTuningJobSummaries",
        "HyperParameterTuningJobName",
        "HyperParameterTuningJobStatus",
    ),
}


def at(minute: int) -> datetime:
    return START + timedelta(minutes=minute)


def listed(sagemaker: Any, kind: str, **request: Any) -> list[str]:
    method, member, name, _ = KINDS[kind]
    return [summary[name] for summary in getattr(sagemaker, method)(**request)[member]]


def error_of(excinfo: pytest.ExceptionInfo[ClientError]) -> tuple[int, str, str]:
    error = excinfo.value.response
    return error["ResponseMetadata"]["HTTPStatusCode"], error["Error"]["Code"], error["Error"]["Message"]


# --- fixtures ---------------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def loopback_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any attempt to connect beyond this machine fails the test instead of leaving it."""
    real_connect = socket.socket.connect

    def connect(sock: socket.socket, address: Any) -> None:
        if sock.family in (socket.AF_INET, socket.AF_INET6):
            try:
                loopback = ipaddress.ip_address(address[0]).is_loopback
            except ValueError:
                loopback = address[0] == "localhost"
            if not loopback:
                raise AssertionError(f"test tried to reach {address} beyond loopback")
        real_connect(sock, address)

    monkeypatch.setattr(socket.socket, "connect", connect)


@pytest.fixture(autouse=True)
def hermetic_aws(aws_environment: None) -> None:
    """The shared fake credentials, and no profile, endpoint or proxy of the machine."""


@dataclass
class Clock:
    now: datetime


@pytest.fixture(autouse=True)
def api_clock() -> Iterator[Clock]:
    clock = Clock(START + timedelta(days=1))
    set_clock(lambda: clock.now)
    yield clock
    set_clock(None)


@pytest.fixture(scope="module")
def moto_server() -> Iterator[str]:
    server = serve(port=0)
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


def reset_moto(endpoint_url: str) -> None:
    request = urllib.request.Request(f"{endpoint_url}/moto-api/reset", method="POST")
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200


@functools.cache
def client(service: str, endpoint_url: str | None, validate: bool = True) -> Any:
    return boto3.client(  # type: ignore[call-overload]  # the service is a variable
        service,
        region_name=REGION,
        endpoint_url=endpoint_url,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(parameter_validation=validate, retries={"max_attempts": 1, "mode": "standard"}),
    )


@dataclass
class Emulator:
    endpoint_url: str | None

    def client(self, service: str = "sagemaker", *, validate: bool = True) -> Any:
        return client(service, self.endpoint_url, validate)


@pytest.fixture(params=["in-process", "http"])
def emulator(request: pytest.FixtureRequest) -> Iterator[Emulator]:
    install()
    if request.param == "in-process":
        with mock_aws():
            yield Emulator(endpoint_url=None)
    else:
        endpoint_url: str = request.getfixturevalue("moto_server")
        reset_moto(endpoint_url)
        yield Emulator(endpoint_url=endpoint_url)
        reset_moto(endpoint_url)


@pytest.fixture
def sagemaker(emulator: Emulator) -> Any:
    return emulator.client()


# --- what each kind's Describe and summary carry -----------------------------------------------------


def test_a_training_job_is_described_with_what_the_watcher_reads(sagemaker: Any) -> None:
    put_job(kind="training", name="bert-3", at=at(0), max_runtime_minutes=600, spot=True)
    update_job(kind="training", name="bert-3", at=at(12), secondary_status="Downloading")
    update_job(kind="training", name="bert-3", at=at(25), secondary_status="Training")
    update_job(
        kind="training",
        name="bert-3",
        at=at(240),
        status="Failed",
        failure_reason="AlgorithmError: loss is NaN",
        billable_minutes=150,
        final_metrics={"eval_loss": 0.412},
    )

    job = sagemaker.describe_training_job(TrainingJobName="bert-3")

    assert (job["TrainingJobStatus"], job["SecondaryStatus"]) == ("Failed", "Failed")
    assert job["TrainingJobArn"] == f"arn:aws:sagemaker:{REGION}:{DEFAULT_ACCOUNT_ID}:training-job/bert-3"
    assert [(t["Status"], t["StartTime"], t.get("EndTime")) for t in job["SecondaryStatusTransitions"]] == [
        ("Starting", at(0), at(12)),
        ("Downloading", at(12), at(25)),
        ("Training", at(25), at(240)),
        ("Failed", at(240), at(240)),
    ]
    assert all(t["StatusMessage"] for t in job["SecondaryStatusTransitions"])
    assert job["StoppingCondition"]["MaxRuntimeInSeconds"] == 36000
    assert job["EnableManagedSpotTraining"] is True
    assert (job["BillableTimeInSeconds"], job["TrainingTimeInSeconds"]) == (9000, 14400)
    assert [(m["MetricName"], m["Value"]) for m in job["FinalMetricDataList"]] == [("eval_loss", 0.412)]
    assert job["FailureReason"] == "AlgorithmError: loss is NaN"
    assert job["ModelArtifacts"]["S3ModelArtifacts"].startswith("s3://")
    assert (job["CreationTime"], job["LastModifiedTime"], job["TrainingEndTime"]) == (at(0), at(240), at(240))
    summary = sagemaker.list_training_jobs()["TrainingJobSummaries"][0]
    assert (summary["SecondaryStatus"], summary["TrainingEndTime"]) == ("Failed", at(240))


def test_a_secondary_status_change_moves_last_modified_time_and_metrics_do_not(sagemaker: Any) -> None:
    put_job(kind="training", name="bert-3", at=at(0))
    update_job(kind="training", name="bert-3", at=at(5), secondary_status="Training")
    update_job(kind="training", name="bert-3", at=at(9), billable_minutes=3, final_metrics={"loss": 1})

    assert sagemaker.describe_training_job(TrainingJobName="bert-3")["LastModifiedTime"] == at(5)
    assert listed(sagemaker, "training", LastModifiedTimeAfter=at(4)) == ["bert-3"]
    assert listed(sagemaker, "training", LastModifiedTimeAfter=at(5)) == []


def test_a_processing_job_carries_its_exit_message_failure_reason_and_outputs(sagemaker: Any) -> None:
    put_job(kind="processing", name="features", at=at(10))
    update_job(
        kind="processing",
        name="features",
        at=at(70),
        status="Failed",
        failure_reason="AlgorithmError: See job logs for more information",
        exit_message="MemoryError in step 3",
    )

    job = sagemaker.describe_processing_job(ProcessingJobName="features")
    summary = sagemaker.list_processing_jobs()["ProcessingJobSummaries"][0]

    assert (job["ProcessingJobStatus"], job["ExitMessage"]) == ("Failed", "MemoryError in step 3")
    assert job["FailureReason"] == summary["FailureReason"] == "AlgorithmError: See job logs for more information"
    assert summary["ExitMessage"] == "MemoryError in step 3"
    assert job["ProcessingOutputConfig"]["Outputs"][0]["S3Output"]["S3Uri"].startswith("s3://")
    assert (job["ProcessingEndTime"], job["LastModifiedTime"]) == (at(70), at(70))


def test_a_transform_job_carries_its_failure_reason_and_output_path(sagemaker: Any) -> None:
    put_job(kind="transform", name="score-all", at=at(0))
    update_job(kind="transform", name="score-all", at=at(40), status="Failed", failure_reason="ClientError: no model")

    job = sagemaker.describe_transform_job(TransformJobName="score-all")

    assert (job["TransformJobStatus"], job["FailureReason"]) == ("Failed", "ClientError: no model")
    assert job["TransformOutput"]["S3OutputPath"].startswith("s3://")
    assert sagemaker.list_transform_jobs()["TransformJobSummaries"][0]["FailureReason"] == "ClientError: no model"


def test_a_tuning_job_carries_its_counters_limit_and_best_job(sagemaker: Any) -> None:
    put_job(kind="tuning", name="sweep-1", at=at(0), max_jobs=20, counters={"InProgress": 2})
    update_job(
        kind="tuning",
        name="sweep-1",
        at=at(30),
        counters={"Completed": 3, "NonRetryableError": 1},
        best={"job": "sweep-1-003", "metric": "validation:auc", "value": 0.91},
    )

    job = sagemaker.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName="sweep-1")
    summary = sagemaker.list_hyper_parameter_tuning_jobs()["HyperParameterTuningJobSummaries"][0]

    counters = {"Completed": 3, "InProgress": 2, "RetryableError": 0, "NonRetryableError": 1, "Stopped": 0}
    assert job["TrainingJobStatusCounters"] == summary["TrainingJobStatusCounters"] == counters
    assert job["HyperParameterTuningJobConfig"]["ResourceLimits"]["MaxNumberOfTrainingJobs"] == 20
    assert summary["ResourceLimits"]["MaxNumberOfTrainingJobs"] == 20
    best = job["BestTrainingJob"]
    assert best["TrainingJobName"] == "sweep-1-003"
    assert best["FinalHyperParameterTuningJobObjectiveMetric"]["MetricName"] == "validation:auc"
    assert best["FinalHyperParameterTuningJobObjectiveMetric"]["Value"] == pytest.approx(0.91)
    # Counters and the best job are not a change of status.
    assert job["LastModifiedTime"] == at(0)


def test_the_replay_cannot_make_a_job_sagemaker_could_not_describe() -> None:
    with mock_aws(), pytest.raises(ValueError, match="failureReason"):
        put_job(kind="transform", name="score-all", at=at(0), status="Failed", failure_reason="x" * 1025)


# --- lists ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_each_kind_lists_by_creation_and_change_time_status_and_name(sagemaker: Any, kind: str) -> None:
    put_job(kind=kind, name="old-job", at=at(0), status="Completed")  # type: ignore[arg-type]
    put_job(kind=kind, name="new-JOB", at=at(10))  # type: ignore[arg-type]
    update_job(kind=kind, name="old-job", at=at(20), status="Stopped")  # type: ignore[arg-type]

    assert listed(sagemaker, kind) == ["old-job", "new-JOB"]
    assert listed(sagemaker, kind, CreationTimeAfter=at(5)) == ["new-JOB"]
    assert listed(sagemaker, kind, LastModifiedTimeAfter=at(15)) == ["old-job"]
    assert listed(sagemaker, kind, StatusEquals="InProgress") == ["new-JOB"]
    assert listed(sagemaker, kind, NameContains="new-job") == ["new-JOB"]
    assert listed(sagemaker, kind, SortBy="Name", SortOrder="Descending") == ["old-job", "new-JOB"]


@pytest.mark.parametrize("kind", KINDS)
def test_each_kind_pages_without_duplicates_or_gaps(sagemaker: Any, kind: str) -> None:
    for index in range(7):
        put_job(kind=kind, name=f"job-{index}", at=at(index))  # type: ignore[arg-type]
    method, member, name, _ = KINDS[kind]

    pages = sagemaker.get_paginator(method).paginate(PaginationConfig={"PageSize": 3})
    walked = [summary[name] for page in pages for summary in page[member]]

    assert walked == [f"job-{index}" for index in range(7)]
    first = getattr(sagemaker, method)(MaxResults=3, StatusEquals="InProgress")
    assert len(first[member]) == 3 and "NextToken" in first


@pytest.mark.parametrize("kind", KINDS)
def test_more_than_100_results_a_page_is_refused_with_a_validation_error(emulator: Emulator, kind: str) -> None:
    sagemaker = emulator.client(validate=False)
    with pytest.raises(ClientError) as excinfo:
        getattr(sagemaker, KINDS[kind][0])(MaxResults=101)
    status, code, message = error_of(excinfo)
    assert (status, code) == (400, "ValidationException")
    assert "Member must have value less than or equal to 100" in message


def test_a_next_token_the_list_never_gave_is_refused(sagemaker: Any) -> None:
    with pytest.raises(ClientError) as excinfo:
        sagemaker.list_training_jobs(NextToken="not-a-token")
    assert error_of(excinfo)[:2] == (400, "ValidationException")


def test_a_malformed_request_is_a_validation_error_never_a_server_error(emulator: Emulator) -> None:
    sagemaker = emulator.client(validate=False)
    with pytest.raises(ClientError) as excinfo:
        sagemaker.describe_processing_job(ProcessingJobName="bad name!")
    assert error_of(excinfo)[:2] == (400, "ValidationException")
    with pytest.raises(ClientError) as excinfo:
        sagemaker.list_transform_jobs(SortBy="Size")
    assert error_of(excinfo)[:2] == (400, "ValidationException")


def test_an_unknown_job_cannot_be_found(sagemaker: Any) -> None:
    with pytest.raises(ClientError) as excinfo:
        sagemaker.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName="nowhere")
    assert error_of(excinfo)[:2] == (400, "ResourceNotFound")


def test_a_job_created_through_the_api_runs_and_stops_now(sagemaker: Any, api_clock: Clock) -> None:
    sagemaker.create_training_job(
        TrainingJobName="api-job",
        AlgorithmSpecification={"TrainingImage": "img:1", "TrainingInputMode": "File"},
        RoleArn=f"arn:aws:iam::{DEFAULT_ACCOUNT_ID}:role/training",
        OutputDataConfig={"S3OutputPath": "s3://out/models"},
        ResourceConfig={"InstanceType": "ml.m5.xlarge", "InstanceCount": 1, "VolumeSizeInGB": 10},
        StoppingCondition={"MaxRuntimeInSeconds": 3600},
    )
    created = api_clock.now
    api_clock.now += timedelta(minutes=3)
    sagemaker.stop_training_job(TrainingJobName="api-job")

    job = sagemaker.describe_training_job(TrainingJobName="api-job")
    assert (job["TrainingJobStatus"], job["SecondaryStatus"]) == ("Stopping", "Stopping")
    assert (job["CreationTime"], job["LastModifiedTime"]) == (created, api_clock.now)
    assert job["StoppingCondition"] == {"MaxRuntimeInSeconds": 3600}


# --- pipeline executions ------------------------------------------------------------------------------


def test_pipeline_executions_are_searched_by_last_modified_time(sagemaker: Any) -> None:
    put_pipeline_execution(pipeline="nightly", name="exec-6", at=at(0), status="Succeeded")
    arn = put_pipeline_execution(pipeline="nightly", name="exec-7", at=at(30))
    update_pipeline_execution(name="exec-7", at=at(90), status="Failed", failure_reason="Step Evaluate failed")

    found = sagemaker.search(
        Resource="PipelineExecution",
        SearchExpression={
            "Filters": [{"Name": "LastModifiedTime", "Operator": "GreaterThan", "Value": at(10).isoformat()}]
        },
        SortBy="LastModifiedTime",
        SortOrder="Descending",
    )["Results"]
    every = sagemaker.search(Resource="PipelineExecution")["Results"]

    assert [record["PipelineExecution"]["PipelineExecutionDisplayName"] for record in found] == ["exec-7"]
    record = found[0]["PipelineExecution"]
    assert record["PipelineExecutionArn"] == arn
    assert (record["PipelineExecutionStatus"], record["FailureReason"]) == ("Failed", "Step Evaluate failed")
    assert record["LastModifiedTime"] == at(90)
    assert [record["PipelineExecution"]["PipelineExecutionDisplayName"] for record in every] == ["exec-7", "exec-6"]


def test_a_pipeline_execution_arn_is_the_same_every_run() -> None:
    first = sagemaker_jobs.pipeline_execution_arn("nightly-retrain", "exec-7")
    assert first == sagemaker_jobs.pipeline_execution_arn("nightly-retrain", "exec-7")
    prefix = f"arn:aws:sagemaker:{REGION}:{DEFAULT_ACCOUNT_ID}:pipeline/nightly-retrain/execution/"
    assert first.startswith(prefix)
    execution_id = first.removeprefix(prefix)
    assert len(execution_id) == 12 and execution_id.isalnum() and execution_id == execution_id.lower()
    assert first != sagemaker_jobs.pipeline_execution_arn("nightly-retrain", "exec-8")


def test_a_pipeline_execution_is_described_and_lists_its_steps_with_their_child_jobs(sagemaker: Any) -> None:
    training_arn = put_job(kind="training", name="bert-3", at=at(0))
    arn = put_pipeline_execution(
        pipeline="nightly", name="exec-7", at=at(30), steps=[PipelineStep("Preprocess", "Executing")]
    )
    update_pipeline_execution(
        name="exec-7",
        at=at(90),
        status="Failed",
        steps=[
            PipelineStep("Preprocess", "Succeeded"),
            PipelineStep("Train", "Failed", "ClientError: eval below threshold", ("training", "bert-3")),
        ],
    )

    described = sagemaker.describe_pipeline_execution(PipelineExecutionArn=arn)
    steps = sagemaker.list_pipeline_execution_steps(PipelineExecutionArn=arn)["PipelineExecutionSteps"]

    assert (described["PipelineExecutionDisplayName"], described["PipelineExecutionStatus"]) == ("exec-7", "Failed")
    assert described["PipelineArn"] == f"arn:aws:sagemaker:{REGION}:{DEFAULT_ACCOUNT_ID}:pipeline/nightly"
    assert [(step["StepName"], step["StepStatus"], step["StartTime"]) for step in steps] == [
        ("Train", "Failed", at(90)),
        ("Preprocess", "Succeeded", at(30)),
    ]
    assert steps[0]["FailureReason"] == "ClientError: eval below threshold"
    assert steps[0]["Metadata"] == {"TrainingJob": {"Arn": training_arn}}
    assert "Metadata" not in steps[1]
    ascending = sagemaker.list_pipeline_execution_steps(PipelineExecutionArn=arn, SortOrder="Ascending")
    assert [step["StepName"] for step in ascending["PipelineExecutionSteps"]] == ["Preprocess", "Train"]


def test_an_unknown_pipeline_execution_cannot_be_found(sagemaker: Any) -> None:
    arn = sagemaker_jobs.pipeline_execution_arn("nightly", "never-ran")
    with pytest.raises(ClientError) as excinfo:
        sagemaker.list_pipeline_execution_steps(PipelineExecutionArn=arn)
    assert error_of(excinfo)[:2] == (400, "ResourceNotFound")


def test_a_search_of_other_resources_is_still_answered_by_moto(sagemaker: Any) -> None:
    assert sagemaker.search(Resource="Experiment")["Results"] == []


# --- CloudWatch Logs ------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["training", "processing", "transform"])
def test_a_job_with_logs_gets_its_stream_when_it_starts_and_a_line_per_log_step(emulator: Emulator, kind: str) -> None:
    put_job(kind=kind, name="resnet-7", at=at(20))  # type: ignore[arg-type]
    logs = emulator.client("logs")
    group = KIND_LOG_GROUPS[kind]  # type: ignore[index]

    (started,) = logs.describe_log_streams(logGroupName=group, logStreamNamePrefix="resnet-7/")["logStreams"]
    write_log_line(kind=kind, name="resnet-7", at=at(22))  # type: ignore[arg-type]
    write_log_line(kind=kind, name="resnet-7", at=at(32))  # type: ignore[arg-type]
    (stream,) = logs.describe_log_streams(logGroupName=group, logStreamNamePrefix="resnet-7/")["logStreams"]

    epoch = int(at(20).timestamp())
    if kind == "transform":
        assert stream["logStreamName"].startswith("resnet-7/i-") and stream["logStreamName"].endswith(f"-{epoch}")
    else:
        assert stream["logStreamName"] == f"resnet-7/algo-1-{epoch}"
    assert started["creationTime"] == epoch * 1000 and "lastEventTimestamp" not in started
    assert stream["lastEventTimestamp"] == int(at(32).timestamp() * 1000)
    events = logs.get_log_events(logGroupName=group, logStreamName=stream["logStreamName"])["events"]
    assert [event["timestamp"] for event in events] == [int(at(m).timestamp() * 1000) for m in (22, 32)]


def test_a_tuning_job_writes_no_log_lines() -> None:
    with mock_aws():
        put_job(kind="tuning", name="sweep-1", at=at(0))
        with pytest.raises(ValueError, match="tuning jobs write no CloudWatch log lines"):
            write_log_line(kind="tuning", name="sweep-1", at=at(1))


# --- installation -------------------------------------------------------------------------------------


def test_install_refuses_to_shadow_an_operation_moto_starts_to_implement(monkeypatch: pytest.MonkeyPatch) -> None:
    install()

    def moto_own(self: Any) -> None: ...

    monkeypatch.setattr(SageMakerResponse, "list_pipeline_execution_steps", moto_own, raising=False)
    with pytest.raises(RuntimeError, match="list_pipeline_execution_steps"):
        install()
