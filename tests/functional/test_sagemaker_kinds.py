"""The job sources of the kinds after labeling (adapters/sagemaker_kinds.py) and their log reads (adapters/job_logs.py).

Training, processing, transform and tuning jobs and CloudWatch Logs run on moto in-process. Pipeline executions, bounded
pagination and CloudWatch Logs faults use botocore's Stubber on real botocore clients (every request and answer is
validated against the service model): moto has no ListPipelineExecutionSteps, and no endless NextToken or throttling.
"""

from __future__ import annotations

import dataclasses
import logging
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from watcher.adapters.job_logs import JobLogs
from watcher.adapters.sagemaker_kinds import (
    MAX_PAGES,
    KindJobSource,
    PipelineExecutionSource,
    job_source,
    search_time,
)
from watcher.domain.job import JobKind, Scope, StatusClass
from watcher.domain.kinds import KindJob, PipelineFacts

from gtwatch.sim.emulator import sagemaker_jobs as emulated

REGION = "us-east-1"
ACCOUNT = "123456789012"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/sagemaker"
NOW = datetime.now(UTC).replace(microsecond=0)
JOB_KINDS = [JobKind.TRAINING, JobKind.PROCESSING, JobKind.TRANSFORM, JobKind.TUNING]
GROUPS = {
    JobKind.TRAINING: "/aws/sagemaker/TrainingJobs",
    JobKind.PROCESSING: "/aws/sagemaker/ProcessingJobs",
    JobKind.TRANSFORM: "/aws/sagemaker/TransformJobs",
}
# moto's collections and status attributes, by kind.
BACKEND = {
    JobKind.TRAINING: ("training_jobs", "training_job_status"),
    JobKind.PROCESSING: ("processing_jobs", "processing_job_status"),
    JobKind.TRANSFORM: ("transform_jobs", "transform_job_status"),
    JobKind.TUNING: ("hyper_parameter_tuning_jobs", "hyper_parameter_tuning_job_status"),
}


class Calls:
    """A client that counts the calls made through it (by operation name)."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self.counts: Counter[str] = Counter()

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._client, name)
        if name == "get_paginator":

            def paginator(operation: str) -> Any:
                inner = attribute(operation)
                calls = self

                class Counted:
                    def paginate(self, **params: Any) -> Iterator[Any]:
                        for page in inner.paginate(**params):
                            calls.counts[operation] += 1
                            yield page

                return Counted()

            return paginator
        if callable(attribute):

            def counted(*args: Any, **kwargs: Any) -> Any:
                self.counts[name] += 1
                return attribute(*args, **kwargs)

            return counted
        return attribute


class Account:
    """moto's SageMaker and CloudWatch Logs, with a hand on each job's status and times."""

    def __init__(self) -> None:
        self.sagemaker = Calls(boto3.client("sagemaker", region_name=REGION))
        self.logs = Calls(boto3.client("logs", region_name=REGION))

    def backend(self) -> Any:
        from moto.backends import get_backend

        return get_backend("sagemaker")[ACCOUNT][REGION]

    def create(
        self, kind: JobKind, name: str, status: str = "InProgress", created: datetime = NOW, modified: datetime = NOW
    ) -> None:
        """A job as the emulator holds it (moto alone cannot change a job's status): created at `created`, its status
        (if not InProgress) reached at `modified`."""
        emulated.put_job(kind=kind.value, name=name, at=created)
        if status != "InProgress" or modified != created:
            emulated.update_job(kind=kind.value, name=name, at=modified, status=status)
        if kind in GROUPS:  # The emulator opens the job's log stream as SageMaker does; each test lays out its own.
            found = self.logs.describe_log_streams(logGroupName=GROUPS[kind], logStreamNamePrefix=f"{name}/")
            for stream in found["logStreams"]:
                self.logs.delete_log_stream(logGroupName=GROUPS[kind], logStreamName=stream["logStreamName"])
        self.sagemaker.counts.clear()
        self.logs.counts.clear()

    def write_log(self, kind: JobKind, stream: str, *stamps: datetime) -> None:
        group = GROUPS[kind]
        if not any(g["logGroupName"] == group for g in self.logs.describe_log_groups()["logGroups"]):
            self.logs.create_log_group(logGroupName=group)
        streams = self.logs.describe_log_streams(logGroupName=group, logStreamNamePrefix=stream)["logStreams"]
        if stream not in {found["logStreamName"] for found in streams}:
            self.logs.create_log_stream(logGroupName=group, logStreamName=stream)
        self.logs.put_log_events(
            logGroupName=group,
            logStreamName=stream,
            logEvents=[{"timestamp": int(stamp.timestamp() * 1000), "message": "step"} for stamp in stamps],
        )
        self.logs.counts.clear()

    def source(self, kind: JobKind, **kwargs: Any) -> Any:
        return job_source(self.sagemaker, self.logs, Scope(REGION, kind), **kwargs)


def listed_with_logs(source: Any, *, every_status: bool = False) -> list[KindJob]:
    """The active jobs as the watch reads them: listed, then the newest log line of each running one, in the order
    of the listing (the watch orders them by need; usecases/poll.py)."""
    jobs = list(source.list_active(name_contains=None, every_status=every_status))
    lines = source.newest_log_lines([job.name for job in jobs if job.status == "InProgress"])
    return [dataclasses.replace(job, last_log_at=lines.get(job.name)) for job in jobs]


@pytest.fixture
def account(mocked_aws: None) -> Account:
    emulated.install()
    return Account()


def names(jobs: Iterator[KindJob]) -> list[str]:
    return [job.name for job in jobs]


# ---- Listing and describing the four job kinds (moto)


@pytest.mark.parametrize("kind", JOB_KINDS)
def test_a_steady_run_lists_only_the_jobs_in_progress(account: Account, kind: JobKind) -> None:
    account.create(kind, "running")
    account.create(kind, "stopping", status="Stopping")
    account.create(kind, "done", status="Completed")

    jobs = list(account.source(kind).list_active(name_contains=None, every_status=False))

    assert [(job.kind, job.name, job.status, job.detailed) for job in jobs] == [(kind, "running", "InProgress", False)]


@pytest.mark.parametrize("kind", JOB_KINDS)
def test_a_baseline_lists_every_active_status_in_lifecycle_order(account: Account, kind: JobKind) -> None:
    account.create(kind, "stopping", status="Stopping")
    account.create(kind, "running")
    account.create(kind, "failed", status="Failed")

    jobs = list(account.source(kind).list_active(name_contains=None, every_status=True))

    assert names(iter(jobs)) == ["running", "stopping"]
    assert [job.status_class for job in jobs] == [StatusClass.ACTIVE, StatusClass.STOPPING]


@pytest.mark.parametrize("kind", JOB_KINDS)
def test_recent_jobs_are_listed_by_creation_or_change_window_and_name(account: Account, kind: JobKind) -> None:
    long_ago = NOW - timedelta(days=3)
    account.create(kind, "old-quiet", status="Completed", created=long_ago, modified=long_ago)
    account.create(kind, "old-changed", status="Completed", created=long_ago, modified=NOW)
    account.create(kind, "new-one", created=NOW, modified=NOW)
    source = account.source(kind)
    an_hour_ago = NOW - timedelta(hours=1)

    assert sorted(names(source.list_recent(created_after=an_hour_ago))) == ["new-one"]
    assert sorted(names(source.list_recent(modified_after=an_hour_ago))) == ["new-one", "old-changed"]
    assert names(source.list_recent(modified_after=an_hour_ago, name_contains="changed")) == ["old-changed"]


@pytest.mark.parametrize("kind", JOB_KINDS)
def test_describe_gives_the_details_and_none_for_a_job_sagemaker_does_not_know(account: Account, kind: JobKind) -> None:
    account.create(kind, "known")
    source = account.source(kind)

    job = source.describe("known")

    assert job is not None and job.detailed and job.kind is kind and job.name == "known"
    assert job.arn.endswith("/known")
    # moto answers ValidationException "Could not find ..." for three kinds and ResourceNotFound for tuning, as
    # SageMaker answers ValidationException "Requested resource not found" or ResourceNotFound.
    assert source.describe("never-was") is None


def test_describe_does_not_read_logs(account: Account) -> None:
    account.create(JobKind.TRAINING, "bert")
    account.write_log(JobKind.TRAINING, "bert/algo-1-1", NOW)

    job = account.source(JobKind.TRAINING).describe("bert")

    assert job is not None and job.last_log_at is None
    assert account.logs.counts == Counter()


# ---- Log reads (moto's CloudWatch Logs)


@pytest.mark.parametrize("kind", sorted(GROUPS))
def test_an_active_job_carries_the_time_of_its_newest_log_line_across_its_streams(
    account: Account, kind: JobKind
) -> None:
    account.create(kind, "bert")
    account.write_log(kind, "bert/algo-1-1700000000", NOW - timedelta(minutes=9), NOW - timedelta(minutes=5))
    account.write_log(kind, "bert/algo-2-1700000000", NOW - timedelta(minutes=2))
    # Another job's stream whose name starts the same is not this job's.
    account.write_log(kind, "bert-2/algo-1-1700000000", NOW)

    [job] = listed_with_logs(account.source(kind), every_status=False)

    assert job.last_log_at == NOW - timedelta(minutes=2)


def test_a_job_without_a_log_stream_or_log_group_has_no_log_time(account: Account) -> None:
    account.create(JobKind.PROCESSING, "quiet")
    source = account.source(JobKind.PROCESSING)

    [before_any_group] = listed_with_logs(source, every_status=False)
    account.write_log(JobKind.PROCESSING, "other/algo-1", NOW)
    [without_stream] = listed_with_logs(source, every_status=False)

    assert before_any_group.last_log_at is None and without_stream.last_log_at is None


def test_logs_are_read_neither_for_a_stopping_job_nor_for_tuning_jobs(account: Account) -> None:
    account.create(JobKind.TRAINING, "stopping", status="Stopping")
    account.write_log(JobKind.TRAINING, "stopping/algo-1", NOW)
    account.create(JobKind.TUNING, "tune")

    [stopping] = listed_with_logs(account.source(JobKind.TRAINING), every_status=True)
    [tune] = listed_with_logs(account.source(JobKind.TUNING), every_status=True)

    assert stopping.last_log_at is None and tune.last_log_at is None
    assert account.logs.counts == Counter()


def test_a_steady_run_costs_one_listing_and_two_log_reads_per_single_instance_job(account: Account) -> None:
    for name in ("a", "b", "c"):
        account.create(JobKind.TRAINING, name)
        account.write_log(JobKind.TRAINING, f"{name}/algo-1-1", NOW)
    account.create(JobKind.TRAINING, "stopping", status="Stopping")

    jobs = listed_with_logs(account.source(JobKind.TRAINING), every_status=False)

    assert [job.last_log_at for job in jobs] == [NOW, NOW, NOW]
    assert account.sagemaker.counts == Counter({"list_training_jobs": 1})
    assert account.logs.counts == Counter({"describe_log_streams": 3, "get_log_events": 3})


def test_past_the_runs_budget_of_log_reads_a_job_has_no_log_time_and_the_run_says_so_once(
    account: Account, caplog: pytest.LogCaptureFixture
) -> None:
    for name in ("a", "b", "c"):
        account.create(JobKind.TRANSFORM, name)
        account.write_log(JobKind.TRANSFORM, f"{name}/i-0123", NOW)

    jobs = listed_with_logs(account.source(JobKind.TRANSFORM, log_budget=4))

    assert [(job.name, job.last_log_at) for job in jobs] == [("a", NOW), ("b", NOW), ("c", None)]
    assert account.logs.counts == Counter({"describe_log_streams": 2, "get_log_events": 2})
    assert warnings(caplog, "job_logs") == [
        {"scope": "us-east-1 transform", "jobs": 1, "reason": "log read budget spent"}
    ]


def test_a_job_whose_streams_outnumber_the_budget_left_is_not_judged_by_some_of_them(
    account: Account, caplog: pytest.LogCaptureFixture
) -> None:
    account.create(JobKind.TRANSFORM, "batch")
    account.write_log(JobKind.TRANSFORM, "batch/i-0123", NOW - timedelta(minutes=30))
    account.write_log(JobKind.TRANSFORM, "batch/i-0123/data-log", NOW)

    [job] = listed_with_logs(account.source(JobKind.TRANSFORM, log_budget=2))

    assert job.last_log_at is None  # Not the older line of one stream: that could start a stall the other ends.
    assert account.logs.counts == Counter({"describe_log_streams": 1})
    assert [warning["jobs"] for warning in warnings(caplog, "job_logs")] == [1]


def test_each_run_has_its_own_budget(account: Account) -> None:
    account.create(JobKind.TRAINING, "a")
    account.write_log(JobKind.TRAINING, "a/algo-1", NOW)
    source = account.source(JobKind.TRAINING, log_budget=2)

    first = listed_with_logs(source, every_status=False)
    second = listed_with_logs(source, every_status=False)

    assert first[0].last_log_at == second[0].last_log_at == NOW


# ---- CloudWatch Logs faults (Stubber on a real CloudWatch Logs client)


def warnings(caplog: pytest.LogCaptureFixture, module: str) -> list[dict[str, Any]]:
    """The warnings a module logged, by their extra fields."""
    fields = ("scope", "jobs", "reason", "action", "pages")
    return [
        {field: getattr(record, field) for field in fields if hasattr(record, field)}
        for record in caplog.records
        if record.levelno == logging.WARNING and record.name.endswith(f"watcher.adapters.{module}")
    ]


def test_while_cloudwatch_logs_throttles_jobs_have_no_log_time_and_the_run_goes_on(
    account: Account, caplog: pytest.LogCaptureFixture
) -> None:
    for name in ("a", "b", "c"):
        account.create(JobKind.TRAINING, name)
    logs = boto3.client("logs", region_name=REGION)
    with Stubber(logs) as stub:
        # The first read is throttled (botocore's retries are spent): the run reads no more logs.
        stub.add_client_error(
            "describe_log_streams", service_error_code="ThrottlingException", service_message="Rate exceeded"
        )
        source = job_source(account.sagemaker, logs, Scope(REGION, JobKind.TRAINING))

        jobs = listed_with_logs(source, every_status=False)

        stub.assert_no_pending_responses()
    assert [(job.name, job.last_log_at) for job in jobs] == [("a", None), ("b", None), ("c", None)]
    assert warnings(caplog, "job_logs") == [{"scope": "us-east-1 training", "jobs": 3, "reason": "ThrottlingException"}]


def test_a_log_read_that_fails_midway_leaves_the_jobs_read_before_it_alone() -> None:
    logs = boto3.client("logs", region_name=REGION)
    with Stubber(logs) as stub:
        stub.add_response(
            "describe_log_streams",
            {"logStreams": [{"logStreamName": "a/algo-1", "lastEventTimestamp": 1}]},
            {"logGroupName": GROUPS[JobKind.TRAINING], "logStreamNamePrefix": "a/", "limit": 50},
        )
        stub.add_response(
            "get_log_events",
            {"events": [{"timestamp": int(NOW.timestamp() * 1000), "message": "x"}]},
            {"logGroupName": GROUPS[JobKind.TRAINING], "logStreamName": "a/algo-1", "startFromHead": False, "limit": 1},
        )
        stub.add_response("describe_log_streams", {"logStreams": [{"logStreamName": "b/algo-1"}]})
        stub.add_client_error("get_log_events", service_error_code="ServiceUnavailableException", http_status_code=503)
        reader = JobLogs(logs, JobKind.TRAINING)

        read = [reader.last_log_at("a"), reader.last_log_at("b"), reader.last_log_at("c")]

        stub.assert_no_pending_responses()
    assert read == [NOW, None, None]
    assert (reader.unread, reader.fault) == (2, "ServiceUnavailableException")


def test_a_job_on_many_instances_is_judged_by_the_newest_line_of_its_few_newest_streams() -> None:
    logs = boto3.client("logs", region_name=REGION)
    # lastEventTimestamp lags (up to an hour): it picks the streams to read, never the time.
    streams = [{"logStreamName": f"big/algo-{n}", "lastEventTimestamp": n} for n in range(1, 9)]
    newest_lines = {8: 5, 7: 7, 6: 6, 5: 1}  # seconds since the epoch, by stream
    with Stubber(logs) as stub:
        stub.add_response("describe_log_streams", {"logStreams": streams})
        for n, second in newest_lines.items():
            stub.add_response(
                "get_log_events",
                {"events": [{"timestamp": second * 1000, "message": "x"}]},
                {
                    "logGroupName": GROUPS[JobKind.TRAINING],
                    "logStreamName": f"big/algo-{n}",
                    "startFromHead": False,
                    "limit": 1,
                },
            )

        newest = JobLogs(logs, JobKind.TRAINING).last_log_at("big")

        stub.assert_no_pending_responses()
    assert newest == datetime.fromtimestamp(7, UTC)


# ---- Bounded pagination (Stubber on a real SageMaker client)


def test_a_listing_whose_next_token_never_ends_stops_after_its_maximum_of_pages(
    caplog: pytest.LogCaptureFixture,
) -> None:
    sagemaker = boto3.client("sagemaker", region_name=REGION)
    with Stubber(sagemaker) as stub:
        for page in range(MAX_PAGES):
            # SageMaker filters by LastModifiedTimeAfter after it fetches a page: pages can be empty and go on.
            stub.add_response(
                "list_training_jobs",
                {"TrainingJobSummaries": [], "NextToken": f"token-{page + 1}"},
                {
                    "MaxResults": 100,
                    "LastModifiedTimeAfter": NOW,
                    **({"NextToken": f"token-{page}"} if page else {}),
                },
            )
        source = KindJobSource(sagemaker, None, Scope(REGION, JobKind.TRAINING))

        assert list(source.list_recent(modified_after=NOW)) == []
        stub.assert_no_pending_responses()
    assert warnings(caplog, "sagemaker_kinds") == [
        {"scope": "us-east-1 training", "action": "list_training_jobs", "pages": MAX_PAGES}
    ]


# ---- Pipeline executions (Stubber on a real SageMaker client: moto has no ListPipelineExecutionSteps)

PIPELINE_ARN = f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:pipeline/nightly"
EXECUTION_ARN = f"{PIPELINE_ARN}/execution/p4jn9xou8a8s"


def execution(status: str = "Executing", name: str = "nightly-7", arn: str = EXECUTION_ARN) -> dict[str, Any]:
    return {
        "PipelineArn": PIPELINE_ARN,
        "PipelineExecutionArn": arn,
        "PipelineExecutionDisplayName": name,
        "PipelineExecutionStatus": status,
        "CreationTime": NOW - timedelta(hours=1),
        "LastModifiedTime": NOW,
    }


def search_params(*filters: dict[str, str]) -> dict[str, Any]:
    params: dict[str, Any] = {
        "Resource": "PipelineExecution",
        "SortBy": "LastModifiedTime",
        "SortOrder": "Descending",
        "MaxResults": 100,
    }
    if filters:
        params["SearchExpression"] = {"Filters": list(filters), "Operator": "And"}
    return params


@pytest.fixture
def pipelines() -> Iterator[tuple[Stubber, PipelineExecutionSource]]:
    sagemaker = boto3.client("sagemaker", region_name=REGION)
    with Stubber(sagemaker) as stub:
        yield stub, PipelineExecutionSource(sagemaker, Scope(REGION, JobKind.PIPELINE))
        stub.assert_no_pending_responses()


def test_a_steady_run_searches_the_executing_pipeline_executions(
    pipelines: tuple[Stubber, PipelineExecutionSource],
) -> None:
    stub, source = pipelines
    stub.add_response(
        "search",
        {"Results": [{"PipelineExecution": execution()}]},
        search_params(
            {"Name": "PipelineExecutionStatus", "Operator": "Equals", "Value": "Executing"},
            {"Name": "PipelineExecutionDisplayName", "Operator": "Contains", "Value": "nightly"},
        ),
    )

    [job] = source.list_active(name_contains="nightly", every_status=False)

    assert (job.kind, job.name, job.arn, job.status_class, job.detailed) == (
        JobKind.PIPELINE,
        "nightly-7",
        EXECUTION_ARN,
        StatusClass.ACTIVE,
        False,
    )
    assert isinstance(job.facts, PipelineFacts) and job.facts.pipeline == "nightly"


def test_a_baseline_searches_executing_then_stopping_executions(
    pipelines: tuple[Stubber, PipelineExecutionSource],
) -> None:
    stub, source = pipelines
    for status in ("Executing", "Stopping"):
        stub.add_response(
            "search",
            {"Results": [{"PipelineExecution": execution(status, name=status.lower())}]},
            search_params({"Name": "PipelineExecutionStatus", "Operator": "Equals", "Value": status}),
        )

    assert names(source.list_active(name_contains=None, every_status=True)) == ["executing", "stopping"]


def test_recent_executions_are_searched_by_creation_and_change_time(
    pipelines: tuple[Stubber, PipelineExecutionSource],
) -> None:
    stub, source = pipelines
    since = datetime(2026, 12, 4, 23, 59, 30, 999000, tzinfo=UTC)
    stub.add_response(
        "search",
        {"Results": [{"PipelineExecution": execution("Succeeded")}]},
        search_params(
            {"Name": "CreationTime", "Operator": "GreaterThan", "Value": "2026-12-04T23:59:30"},
            {"Name": "LastModifiedTime", "Operator": "GreaterThan", "Value": "2026-12-04T23:59:30"},
        ),
    )

    [job] = source.list_recent(created_after=since, modified_after=since)

    assert job.status_class is StatusClass.COMPLETED


def test_describe_by_arn_gives_the_execution_with_its_steps(pipelines: tuple[Stubber, PipelineExecutionSource]) -> None:
    stub, source = pipelines
    stub.add_response("describe_pipeline_execution", execution("Failed"), {"PipelineExecutionArn": EXECUTION_ARN})
    training_arn = f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:training-job/pipelines-p4jn9xou8a8s-train-abc"
    stub.add_response(
        "list_pipeline_execution_steps",
        {
            "PipelineExecutionSteps": [
                {"StepName": "prepare", "StepStatus": "Succeeded"},
                {
                    "StepName": "train",
                    "StepStatus": "Failed",
                    "FailureReason": "ClientError: AlgorithmError",
                    "Metadata": {"TrainingJob": {"Arn": training_arn}},
                },
            ]
        },
        {"PipelineExecutionArn": EXECUTION_ARN, "SortOrder": "Ascending", "MaxResults": 100},
    )

    job = source.describe("nightly-7", EXECUTION_ARN)

    assert job is not None and job.detailed and job.status_class is StatusClass.FAILED
    assert isinstance(job.facts, PipelineFacts)
    failed = job.facts.failed_step
    assert failed is not None
    assert (failed.name, failed.failure_reason, failed.job_kind, failed.job_name) == (
        "train",
        "ClientError: AlgorithmError",
        JobKind.TRAINING,
        "pipelines-p4jn9xou8a8s-train-abc",
    )


def test_describe_by_name_finds_the_execution_by_its_display_name(
    pipelines: tuple[Stubber, PipelineExecutionSource],
) -> None:
    stub, source = pipelines
    stub.add_response(
        "search",
        {"Results": [{"PipelineExecution": execution("Succeeded")}], "NextToken": "more"},
        search_params({"Name": "PipelineExecutionDisplayName", "Operator": "Equals", "Value": "nightly-7"}),
    )
    stub.add_response("describe_pipeline_execution", execution("Succeeded"), {"PipelineExecutionArn": EXECUTION_ARN})
    stub.add_response("list_pipeline_execution_steps", {"PipelineExecutionSteps": []})

    job = source.describe("nightly-7")

    assert job is not None and job.arn == EXECUTION_ARN and job.status_class is StatusClass.COMPLETED


def test_describe_of_an_execution_sagemaker_does_not_know_is_none(
    pipelines: tuple[Stubber, PipelineExecutionSource],
) -> None:
    stub, source = pipelines
    stub.add_response(
        "search",
        {"Results": []},
        search_params({"Name": "PipelineExecutionDisplayName", "Operator": "Equals", "Value": "gone"}),
    )
    stub.add_client_error("describe_pipeline_execution", service_error_code="ResourceNotFound")

    assert source.describe("gone") is None
    assert source.describe("deleted", EXECUTION_ARN) is None


def test_a_search_whose_next_token_never_ends_stops_after_its_maximum_of_pages(
    pipelines: tuple[Stubber, PipelineExecutionSource], caplog: pytest.LogCaptureFixture
) -> None:
    stub, source = pipelines
    for page in range(MAX_PAGES):
        stub.add_response("search", {"Results": [], "NextToken": f"token-{page + 1}"})

    assert list(source.list_recent(modified_after=NOW)) == []
    assert warnings(caplog, "sagemaker_kinds") == [
        {"scope": "us-east-1 pipeline", "action": "search", "pages": MAX_PAGES}
    ]


def test_search_times_are_utc_to_the_second() -> None:
    assert search_time(datetime(2026, 12, 5, 3, 4, 5, 999999, tzinfo=UTC)) == "2026-12-05T03:04:05"
