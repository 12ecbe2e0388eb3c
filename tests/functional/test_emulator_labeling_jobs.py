"""The labeling-job extension of moto behaves like SageMaker's API, in-process and over HTTP."""

from __future__ import annotations

import functools
import importlib.metadata
import ipaddress
import socket
import threading
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import boto3
import botocore.session
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from botocore.model import StructureShape
from moto import mock_aws
from moto.sagemaker.models import SageMakerModelBackend
from moto.sagemaker.responses import SageMakerResponse

from gtwatch import cli
from gtwatch.sim.emulator import labeling_jobs
from gtwatch.sim.emulator.labeling_jobs import (
    DEFAULT_ACCOUNT_ID,
    LABEL_COUNTER_FIELDS,
    install,
    labeling_job_backend,
    put_labeling_job,
    serve,
    set_clock,
    update_labeling_job,
)

REGION = "us-east-1"
START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
OPERATIONS = ("create_labeling_job", "describe_labeling_job", "list_labeling_jobs", "stop_labeling_job")
WORKTEAM = f"arn:aws:sagemaker:{REGION}:{DEFAULT_ACCOUNT_ID}:workteam/private-crowd/labelers"
PRE_HUMAN_LAMBDA = f"arn:aws:lambda:{REGION}:432418664414:function:PRE-BoundingBox"
CONSOLIDATION_LAMBDA = f"arn:aws:lambda:{REGION}:432418664414:function:ACS-BoundingBox"
FINAL_MODEL = f"arn:aws:sagemaker:{REGION}:{DEFAULT_ACCOUNT_ID}:model/final-model"


@functools.cache
def service_members(shape: str) -> frozenset[str]:
    structure = botocore.session.get_session().get_service_model("sagemaker").shape_for(shape)
    assert isinstance(structure, StructureShape)
    return frozenset(structure.members)


def create_request(name: str, **overrides: Any) -> dict[str, Any]:
    request: dict[str, Any] = {
        "LabelingJobName": name,
        "LabelAttributeName": "bounding-box",
        "InputConfig": {"DataSource": {"S3DataSource": {"ManifestS3Uri": "s3://in/manifest.json"}}},
        "OutputConfig": {"S3OutputPath": "s3://out/"},
        "RoleArn": f"arn:aws:iam::{DEFAULT_ACCOUNT_ID}:role/labeling",
        "HumanTaskConfig": {
            "WorkteamArn": WORKTEAM,
            "UiConfig": {"UiTemplateS3Uri": "s3://ui/template.liquid"},
            "PreHumanTaskLambdaArn": PRE_HUMAN_LAMBDA,
            "TaskTitle": "Draw boxes",
            "TaskDescription": "Draw a box around every cat",
            "NumberOfHumanWorkersPerDataObject": 3,
            "TaskTimeLimitInSeconds": 300,
            "AnnotationConsolidationConfig": {"AnnotationConsolidationLambdaArn": CONSOLIDATION_LAMBDA},
        },
    }
    request.update(overrides)
    return request


def put(name: str, minute: int, status: str = "InProgress", **fields: Any) -> str:
    return put_labeling_job(region=REGION, name=name, status=status, at=START + timedelta(minutes=minute), **fields)


def update(name: str, minute: int, **fields: Any) -> None:
    update_labeling_job(region=REGION, name=name, at=START + timedelta(minutes=minute), **fields)


def names(response: dict[str, Any]) -> list[str]:
    return [job["LabelingJobName"] for job in response["LabelingJobSummaryList"]]


def error_of(excinfo: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    error = excinfo.value.response["Error"]
    return error["Code"], error["Message"]


# --- fixtures ---------------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def loopback_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any attempt to connect beyond this machine fails the test instead of leaving it."""
    real_connect = socket.socket.connect

    def is_loopback(host: str) -> bool:
        try:
            return ipaddress.ip_address(host).is_loopback
        except ValueError:
            return host == "localhost"

    def connect(sock: socket.socket, address: Any) -> None:
        if sock.family in (socket.AF_INET, socket.AF_INET6) and not is_loopback(address[0]):
            raise AssertionError(f"test tried to reach {address} beyond loopback")
        real_connect(sock, address)

    monkeypatch.setattr(socket.socket, "connect", connect)


@pytest.fixture(autouse=True)
def hermetic_aws(aws_environment: None) -> None:
    """Every test here runs with the shared fake credentials, and no profile, endpoint or proxy of the machine."""


@dataclass
class Clock:
    now: datetime


@pytest.fixture(autouse=True)
def api_clock() -> Iterator[Clock]:
    """The time the emulator stamps on jobs created or stopped through the API."""
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


@dataclass
class Emulator:
    endpoint_url: str | None  # None: in-process under mock_aws

    def client(self, *, region: str = REGION, validate: bool = True) -> Any:
        # Validation off lets requests that botocore would refuse (MaxResults=0) reach the emulator.
        return sagemaker_client(self.endpoint_url, region, validate)


@functools.cache
def sagemaker_client(endpoint_url: str | None, region: str, validate: bool) -> Any:
    """Clients are shared between tests because building one takes longer than most tests here.

    Sharing is safe in-process too: moto intercepts every client whenever a mock_aws context is active.
    """
    return boto3.client(
        "sagemaker",
        region_name=region,
        endpoint_url=endpoint_url,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(parameter_validation=validate, retries={"max_attempts": 1, "mode": "standard"}),
    )


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


# --- CreateLabelingJob and DescribeLabelingJob ------------------------------------------------------


def test_a_created_job_is_described_with_everything_it_was_created_with(sagemaker: Any, api_clock: Clock) -> None:
    request = create_request(
        "Cats-Boxes-v1",
        LabelCategoryConfigS3Uri="s3://in/categories.json",
        StoppingConditions={"MaxHumanLabeledObjectCount": 500, "MaxPercentageOfInputDatasetLabeled": 90},
        LabelingJobAlgorithmsConfig={
            "LabelingJobAlgorithmSpecificationArn": "arn:aws:sagemaker:us-east-1:027400017018:"
            "labeling-job-algorithm-specification/object-detection"
        },
        Tags=[{"Key": "team", "Value": "vision"}],
    )

    arn = sagemaker.create_labeling_job(**request)["LabelingJobArn"]
    job = sagemaker.describe_labeling_job(LabelingJobName="Cats-Boxes-v1")

    assert arn == f"arn:aws:sagemaker:{REGION}:{DEFAULT_ACCOUNT_ID}:labeling-job/cats-boxes-v1"
    assert job["LabelingJobArn"] == arn
    assert job["LabelingJobName"] == "Cats-Boxes-v1"
    assert job["LabelingJobStatus"] == "InProgress"
    assert job["LabelCounters"] == dict.fromkeys(LABEL_COUNTER_FIELDS, 0)
    assert job["CreationTime"] == job["LastModifiedTime"] == api_clock.now
    assert job["JobReferenceCode"]
    for member, value in request.items():
        assert job[member] == value, member
    assert "FailureReason" not in job
    assert "LabelingJobOutput" not in job


def test_describe_shows_every_member_of_the_response_once_the_job_has_them(sagemaker: Any) -> None:
    sagemaker.create_labeling_job(
        **create_request(
            "full",
            LabelCategoryConfigS3Uri="s3://in/categories.json",
            StoppingConditions={"MaxHumanLabeledObjectCount": 500},
            LabelingJobAlgorithmsConfig={"LabelingJobAlgorithmSpecificationArn": "arn:aws:sagemaker:x"},
            Tags=[{"Key": "team", "Value": "vision"}],
        )
    )
    update(
        "full",
        60,
        status="Failed",
        failure_reason="ClientError: manifest not found",
        output_uri="s3://out/full/manifests/output/output.manifest",
        final_active_learning_model_arn=FINAL_MODEL,
    )

    job = sagemaker.describe_labeling_job(LabelingJobName="full")
    job.pop("ResponseMetadata")

    assert set(job) == service_members("DescribeLabelingJobResponse")
    assert job["FailureReason"] == "ClientError: manifest not found"
    assert job["LabelingJobOutput"] == {
        "OutputDatasetS3Uri": "s3://out/full/manifests/output/output.manifest",
        "FinalActiveLearningModelArn": FINAL_MODEL,
    }


def test_a_job_is_found_whatever_the_case_of_its_name(sagemaker: Any) -> None:
    sagemaker.create_labeling_job(**create_request("Dogs-v2"))

    assert sagemaker.describe_labeling_job(LabelingJobName="dogs-V2")["LabelingJobName"] == "Dogs-v2"


def test_a_second_job_with_the_same_name_in_any_case_is_refused(sagemaker: Any) -> None:
    sagemaker.create_labeling_job(**create_request("Dogs-v2"))

    with pytest.raises(ClientError) as excinfo:
        sagemaker.create_labeling_job(**create_request("dogs-V2"))

    code, message = error_of(excinfo)
    assert code == "ResourceInUse"
    assert "labeling-job/dogs-v2" in message


@pytest.mark.parametrize(
    ("name", "constraint"),
    [
        ("cats_v1", "regular expression pattern"),
        ("-cats", "regular expression pattern"),
        ("cats-", "regular expression pattern"),
        ("a" * 64, "length less than or equal to 63"),
        ("", "length greater than or equal to 1"),
    ],
)
def test_a_name_sagemaker_would_refuse_is_refused(emulator: Emulator, name: str, constraint: str) -> None:
    sagemaker = emulator.client(validate=False)

    with pytest.raises(ClientError) as excinfo:
        sagemaker.create_labeling_job(**create_request(name))

    code, message = error_of(excinfo)
    assert code == "ValidationException"
    assert f"Value '{name}' at 'labelingJobName' failed to satisfy constraint: Member must" in message
    assert constraint in message
    assert sagemaker.list_labeling_jobs()["LabelingJobSummaryList"] == []


def test_the_longest_name_allowed_is_accepted(sagemaker: Any) -> None:
    name = "a" + "-b" * 31

    sagemaker.create_labeling_job(**create_request(name))

    assert sagemaker.describe_labeling_job(LabelingJobName=name)["LabelingJobName"] == name


def test_describing_an_unknown_job_says_it_cannot_be_found(sagemaker: Any) -> None:
    with pytest.raises(ClientError) as excinfo:
        sagemaker.describe_labeling_job(LabelingJobName="ghost")

    assert error_of(excinfo) == ("ResourceNotFound", "Could not find labeling job 'ghost'")


# --- StopLabelingJob --------------------------------------------------------------------------------


def test_stopping_an_unknown_job_says_it_cannot_be_found(sagemaker: Any) -> None:
    with pytest.raises(ClientError) as excinfo:
        sagemaker.stop_labeling_job(LabelingJobName="ghost")

    assert error_of(excinfo) == ("ResourceNotFound", "Could not find labeling job 'ghost'")


@pytest.mark.parametrize("status", ["Initializing", "InProgress"])
def test_stopping_a_running_job_moves_it_to_stopping_now(sagemaker: Any, api_clock: Clock, status: str) -> None:
    put("cats", 0, status=status)
    api_clock.now = START + timedelta(hours=3)

    sagemaker.stop_labeling_job(LabelingJobName="cats")

    job = sagemaker.describe_labeling_job(LabelingJobName="cats")
    assert job["LabelingJobStatus"] == "Stopping"
    assert job["LastModifiedTime"] == START + timedelta(hours=3)
    assert job["CreationTime"] == START


def test_stopping_a_job_that_is_already_stopping_changes_nothing(sagemaker: Any, api_clock: Clock) -> None:
    put("cats", 0)
    sagemaker.stop_labeling_job(LabelingJobName="cats")
    api_clock.now += timedelta(hours=1)

    sagemaker.stop_labeling_job(LabelingJobName="cats")

    job = sagemaker.describe_labeling_job(LabelingJobName="cats")
    assert job["LabelingJobStatus"] == "Stopping"
    assert job["LastModifiedTime"] == api_clock.now - timedelta(hours=1)


@pytest.mark.parametrize("status", ["Completed", "Failed", "Stopped"])
def test_a_finished_job_cannot_be_stopped(sagemaker: Any, status: str) -> None:
    put("cats", 0, status=status)

    with pytest.raises(ClientError) as excinfo:
        sagemaker.stop_labeling_job(LabelingJobName="cats")

    assert error_of(excinfo) == (
        "ValidationException",
        f"The request was rejected because the labeling job is in status {status}.",
    )
    job = sagemaker.describe_labeling_job(LabelingJobName="cats")
    assert (job["LabelingJobStatus"], job["LastModifiedTime"]) == (status, START)


# --- ListLabelingJobs: paging -----------------------------------------------------------------------

STATUSES = ("InProgress", "Completed", "Failed", "Initializing", "Stopping", "Stopped")


@pytest.mark.parametrize(
    ("page_size", "max_items", "ordering"),
    [
        (7, 100, {}),
        (25, 100, {"SortBy": "Name", "SortOrder": "Descending"}),
        (100, 130, {"SortBy": "Status"}),
    ],
    ids=["creation-time", "name-descending", "status"],
)
def test_the_paginator_resumes_a_limited_walk_without_duplicates_or_gaps(
    sagemaker: Any, page_size: int, max_items: int, ordering: dict[str, str]
) -> None:
    for number in range(250):
        put(f"job-{number:03}", number, status=STATUSES[number % len(STATUSES)])
    paginator = sagemaker.get_paginator("list_labeling_jobs")
    whole_walk = names(paginator.paginate(**ordering, PaginationConfig={"PageSize": 100}).build_full_result())

    limited = paginator.paginate(**ordering, PaginationConfig={"MaxItems": max_items, "PageSize": page_size})
    first_pages = list(limited)
    first = [name for page in first_pages for name in names(page)]
    rest_pages = list(
        paginator.paginate(**ordering, PaginationConfig={"PageSize": page_size, "StartingToken": limited.resume_token})
    )
    rest = [name for page in rest_pages for name in names(page)]

    assert len(whole_walk) == len(set(whole_walk)) == 250
    assert len(first) == max_items
    assert first + rest == whole_walk
    assert all(len(names(page)) <= page_size for page in first_pages + rest_pages)
    assert len(names(first_pages[0])) == page_size
    assert "NextToken" not in rest_pages[-1]


def test_the_paginator_starts_from_a_next_token_that_list_labeling_jobs_returned(sagemaker: Any) -> None:
    for number in range(12):
        put(f"job-{number:02}", number)
    token = sagemaker.list_labeling_jobs(MaxResults=5)["NextToken"]

    pages = sagemaker.get_paginator("list_labeling_jobs").paginate(
        PaginationConfig={"PageSize": 3, "StartingToken": token}
    )

    assert [name for page in pages for name in names(page)] == [f"job-{n:02}" for n in range(5, 12)]


def test_the_paginator_walks_in_creation_order_by_default(sagemaker: Any) -> None:
    # Created in an order that is neither alphabetical nor by status.
    for minute, name in enumerate(["m", "c", "x", "a", "q"]):
        put(name, minute, status=STATUSES[minute])

    pages = sagemaker.get_paginator("list_labeling_jobs").paginate(PaginationConfig={"PageSize": 2})

    assert [name for page in pages for name in names(page)] == ["m", "c", "x", "a", "q"]


def test_a_page_holds_ten_jobs_when_max_results_is_not_given(sagemaker: Any) -> None:
    for number in range(25):
        put(f"job-{number:02}", number)

    first = sagemaker.list_labeling_jobs()
    second = sagemaker.list_labeling_jobs(NextToken=first["NextToken"])
    third = sagemaker.list_labeling_jobs(NextToken=second["NextToken"])

    assert [len(names(page)) for page in (first, second, third)] == [10, 10, 5]
    assert "NextToken" not in third


def test_the_last_page_has_no_next_token(sagemaker: Any) -> None:
    for number in range(4):
        put(f"job-{number}", number)

    page = sagemaker.list_labeling_jobs(MaxResults=4)

    assert len(names(page)) == 4
    assert "NextToken" not in page


def test_jobs_created_between_pages_do_not_shift_the_walk(sagemaker: Any) -> None:
    for number in range(6):
        put(f"job-{number}", number)
    first = sagemaker.list_labeling_jobs(MaxResults=3)

    put("job-later", 100)
    rest = sagemaker.list_labeling_jobs(MaxResults=10, NextToken=first["NextToken"])

    assert names(first) + names(rest) == [f"job-{n}" for n in range(6)] + ["job-later"]


@pytest.mark.parametrize("token", ["not-a-token", "eyJmb28iOiAxfQ==", "%%%", "bnVsbA=="])
def test_a_next_token_the_service_did_not_issue_is_refused(sagemaker: Any, token: str) -> None:
    put("cats", 0)

    with pytest.raises(ClientError) as excinfo:
        sagemaker.list_labeling_jobs(NextToken=token)

    code, message = error_of(excinfo)
    assert code == "ValidationException"
    assert message.startswith("Invalid pagination token")


def test_a_next_token_from_another_ordering_is_refused(sagemaker: Any) -> None:
    for number in range(3):
        put(f"job-{number}", number)
    token = sagemaker.list_labeling_jobs(MaxResults=1, SortBy="Name")["NextToken"]

    with pytest.raises(ClientError) as excinfo:
        sagemaker.list_labeling_jobs(MaxResults=1, SortBy="CreationTime", NextToken=token)

    assert error_of(excinfo)[0] == "ValidationException"


# --- ListLabelingJobs: sorting and filtering --------------------------------------------------------


@pytest.mark.parametrize(
    ("sort_by", "expected_ascending"),
    [
        ("Name", ["Alpha", "bravo", "charlie", "delta"]),
        ("CreationTime", ["delta", "Alpha", "charlie", "bravo"]),
        # Within a status, the older job first.
        ("Status", ["delta", "charlie", "bravo", "Alpha"]),
    ],
)
@pytest.mark.parametrize("sort_order", ["Ascending", "Descending"])
def test_jobs_are_sorted_by_the_key_and_order_asked_for(
    sagemaker: Any, sort_by: str, sort_order: str, expected_ascending: list[str]
) -> None:
    put("delta", 0, status="Completed")
    put("Alpha", 1, status="InProgress")
    put("charlie", 2, status="Completed")
    put("bravo", 3, status="Failed")

    # One job a page, so that the order has to survive the NextToken too.
    pages = sagemaker.get_paginator("list_labeling_jobs").paginate(
        SortBy=sort_by, SortOrder=sort_order, PaginationConfig={"PageSize": 1}
    )

    expected = expected_ascending if sort_order == "Ascending" else expected_ascending[::-1]
    assert [name for page in pages for name in names(page)] == expected


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({}, {"cats-1", "cats-2", "dogs-1", "Dogs-Big"}),
        ({"CreationTimeAfter": START + timedelta(minutes=10)}, {"dogs-1", "Dogs-Big"}),
        ({"CreationTimeBefore": START + timedelta(minutes=20)}, {"cats-1", "cats-2"}),
        ({"LastModifiedTimeAfter": START + timedelta(minutes=40)}, {"cats-2"}),
        ({"LastModifiedTimeBefore": START + timedelta(minutes=20)}, {"cats-1"}),
        ({"NameContains": "DOGS"}, {"dogs-1", "Dogs-Big"}),
        ({"NameContains": "gs-b"}, {"Dogs-Big"}),
        ({"NameContains": "cats-1"}, {"cats-1"}),
        ({"StatusEquals": "Completed"}, {"Dogs-Big"}),
        ({"StatusEquals": "InProgress"}, {"cats-2"}),
        ({"StatusEquals": "Failed"}, set()),
        ({"CreationTimeAfter": START, "NameContains": "cats"}, {"cats-2"}),
        (
            {
                "CreationTimeAfter": START - timedelta(minutes=1),
                "CreationTimeBefore": START + timedelta(minutes=31),
                "LastModifiedTimeAfter": START + timedelta(minutes=19),
                "LastModifiedTimeBefore": START + timedelta(minutes=41),
            },
            {"dogs-1", "Dogs-Big"},
        ),
    ],
    ids=lambda value: "-".join(value) if isinstance(value, dict) else None,
)
def test_filters_keep_only_the_jobs_that_match(sagemaker: Any, filters: dict[str, Any], expected: set[str]) -> None:
    # Times are strict bounds: a job created or modified exactly at the bound is left out.
    put("cats-1", 0, status="Initializing")
    put("cats-2", 10, status="Initializing")
    update("cats-2", 50, status="InProgress")
    put("dogs-1", 20, status="Initializing")
    put("Dogs-Big", 30)
    update("Dogs-Big", 40, status="Completed")

    assert set(names(sagemaker.list_labeling_jobs(**filters, MaxResults=100))) == expected


def test_a_filter_also_applies_across_pages(sagemaker: Any) -> None:
    for number in range(30):
        put(f"{'cats' if number % 3 else 'dogs'}-{number:02}", number)

    pages = sagemaker.get_paginator("list_labeling_jobs").paginate(
        NameContains="dogs", PaginationConfig={"PageSize": 4}
    )

    assert [name for page in pages for name in names(page)] == [f"dogs-{n:02}" for n in range(0, 30, 3)]


# --- ListLabelingJobs: validation -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("max_results", "constraint"),
    [(0, "greater than or equal to 1"), (101, "less than or equal to 100")],
)
def test_max_results_outside_1_to_100_is_refused(emulator: Emulator, max_results: int, constraint: str) -> None:
    sagemaker = emulator.client(validate=False)

    with pytest.raises(ClientError) as excinfo:
        sagemaker.list_labeling_jobs(MaxResults=max_results)

    assert error_of(excinfo) == (
        "ValidationException",
        f"1 validation error detected: Value '{max_results}' at 'maxResults' failed to satisfy constraint: "
        f"Member must have value {constraint}",
    )


@pytest.mark.parametrize(
    ("request_fields", "expected"),
    [
        (
            {"SortBy": "Size"},
            "Value 'Size' at 'sortBy' failed to satisfy constraint: "
            "Member must satisfy enum value set: [Name, CreationTime, Status]",
        ),
        (
            {"SortOrder": "Up"},
            "Value 'Up' at 'sortOrder' failed to satisfy constraint: "
            "Member must satisfy enum value set: [Ascending, Descending]",
        ),
        (
            {"StatusEquals": "Running"},
            "Value 'Running' at 'statusEquals' failed to satisfy constraint: Member must satisfy enum value "
            "set: [Initializing, InProgress, Completed, Failed, Stopping, Stopped]",
        ),
        (
            {"NameContains": "cats_"},
            r"Value 'cats_' at 'nameContains' failed to satisfy constraint: "
            r"Member must satisfy regular expression pattern: [a-zA-Z0-9\-]+",
        ),
    ],
    ids=["SortBy", "SortOrder", "StatusEquals", "NameContains"],
)
def test_a_value_outside_the_allowed_set_is_refused(
    sagemaker: Any, request_fields: dict[str, str], expected: str
) -> None:
    with pytest.raises(ClientError) as excinfo:
        sagemaker.list_labeling_jobs(**request_fields)

    assert error_of(excinfo) == ("ValidationException", f"1 validation error detected: {expected}")


def test_every_refused_value_is_reported_at_once(emulator: Emulator) -> None:
    sagemaker = emulator.client(validate=False)

    with pytest.raises(ClientError) as excinfo:
        sagemaker.list_labeling_jobs(MaxResults=0, SortBy="Size", StatusEquals="Running")

    assert error_of(excinfo)[1].startswith("3 validation errors detected: Value '0' at 'maxResults'")


# --- summaries and the replay's helpers -------------------------------------------------------------


def test_a_summary_carries_every_field_of_labeling_job_summary(sagemaker: Any) -> None:
    sagemaker.create_labeling_job(**create_request("cats"))
    counters = {
        "TotalLabeled": 70,
        "HumanLabeled": 50,
        "MachineLabeled": 20,
        "FailedNonRetryableError": 3,
        "Unlabeled": 27,
    }
    update(
        "cats",
        90,
        status="Failed",
        counters=counters,
        failure_reason="ClientError: worker timeout",
        output_uri="s3://out/cats/manifests/output/output.manifest",
        final_active_learning_model_arn=FINAL_MODEL,
    )

    [summary] = sagemaker.list_labeling_jobs()["LabelingJobSummaryList"]

    assert set(summary) == service_members("LabelingJobSummary")
    assert summary["LabelingJobName"] == "cats"
    assert summary["LabelingJobArn"].endswith(":labeling-job/cats")
    assert summary["LastModifiedTime"] == START + timedelta(minutes=90)
    assert summary["LabelingJobStatus"] == "Failed"
    assert summary["LabelCounters"] == counters
    assert set(summary["LabelCounters"]) == service_members("LabelCounters")
    assert summary["WorkteamArn"] == WORKTEAM
    assert summary["PreHumanTaskLambdaArn"] == PRE_HUMAN_LAMBDA
    assert summary["AnnotationConsolidationLambdaArn"] == CONSOLIDATION_LAMBDA
    assert summary["FailureReason"] == "ClientError: worker timeout"
    assert summary["LabelingJobOutput"] == {
        "OutputDatasetS3Uri": "s3://out/cats/manifests/output/output.manifest",
        "FinalActiveLearningModelArn": FINAL_MODEL,
    }
    assert summary["InputConfig"] == {"DataSource": {"S3DataSource": {"ManifestS3Uri": "s3://in/manifest.json"}}}


def test_a_summary_leaves_out_what_the_job_does_not_have(sagemaker: Any) -> None:
    put("cats", 0, status="Initializing")

    [summary] = sagemaker.list_labeling_jobs()["LabelingJobSummaryList"]

    assert set(summary) == service_members("LabelingJobSummary") - {
        "PreHumanTaskLambdaArn",
        "AnnotationConsolidationLambdaArn",
        "FailureReason",
        "LabelingJobOutput",
    }
    assert summary["LabelingJobStatus"] == "Initializing"
    assert summary["CreationTime"] == summary["LastModifiedTime"] == START
    assert summary["LabelCounters"] == dict.fromkeys(LABEL_COUNTER_FIELDS, 0)


def test_a_put_job_carries_what_the_replay_gave_it(sagemaker: Any) -> None:
    arn = put(
        "stream-1",
        5,
        status="InProgress",
        counters={"TotalLabeled": 4, "Unlabeled": 6},
        workteam_arn=WORKTEAM,
        sns_topic_arn=f"arn:aws:sns:{REGION}:{DEFAULT_ACCOUNT_ID}:input-topic",
        output_uri="s3://out/stream-1/output.manifest",
    )

    job = sagemaker.describe_labeling_job(LabelingJobName="stream-1")

    assert job["LabelingJobArn"] == arn
    assert job["LabelCounters"] == {
        "TotalLabeled": 4,
        "HumanLabeled": 0,
        "MachineLabeled": 0,
        "FailedNonRetryableError": 0,
        "Unlabeled": 6,
    }
    assert job["HumanTaskConfig"]["WorkteamArn"] == WORKTEAM
    assert job["InputConfig"]["DataSource"] == {
        "SnsDataSource": {"SnsTopicArn": f"arn:aws:sns:{REGION}:{DEFAULT_ACCOUNT_ID}:input-topic"}
    }
    assert job["LabelingJobOutput"] == {"OutputDatasetS3Uri": "s3://out/stream-1/output.manifest"}
    assert job["CreationTime"] == job["LastModifiedTime"] == START + timedelta(minutes=5)


def test_a_counters_only_change_leaves_last_modified_time_alone(sagemaker: Any) -> None:
    put("cats", 0)

    update("cats", 30, counters={"TotalLabeled": 400, "HumanLabeled": 400, "Unlabeled": 600})

    job = sagemaker.describe_labeling_job(LabelingJobName="cats")
    assert job["LabelCounters"]["TotalLabeled"] == 400
    assert job["LabelCounters"]["Unlabeled"] == 600
    assert job["LastModifiedTime"] == START


def test_a_status_change_moves_last_modified_time_to_when_it_happened(sagemaker: Any) -> None:
    put("cats", 0)
    update("cats", 30, status="InProgress")  # not a change

    update("cats", 45, status="Completed", counters={"TotalLabeled": 1000, "Unlabeled": 0})

    job = sagemaker.describe_labeling_job(LabelingJobName="cats")
    assert job["LabelingJobStatus"] == "Completed"
    assert job["LastModifiedTime"] == START + timedelta(minutes=45)
    assert job["CreationTime"] == START


def test_jobs_belong_to_their_region_and_account(emulator: Emulator) -> None:
    put("cats", 0)
    put_labeling_job(region="eu-west-1", name="cats", at=START)
    put_labeling_job(region=REGION, account_id="210987654321", name="dogs", at=START)

    ireland = emulator.client(region="eu-west-1")
    virginia = emulator.client()

    assert names(virginia.list_labeling_jobs()) == ["cats"]
    assert ireland.describe_labeling_job(LabelingJobName="cats")["LabelingJobArn"] == (
        f"arn:aws:sagemaker:eu-west-1:{DEFAULT_ACCOUNT_ID}:labeling-job/cats"
    )
    assert len(labeling_job_backend("210987654321", REGION).__dict__["gtwatch_labeling_jobs"]) == 1


def test_times_given_in_another_zone_are_kept_as_the_same_instant(sagemaker: Any) -> None:
    paris = START.astimezone(timezone(timedelta(hours=1)))

    put_labeling_job(region=REGION, name="cats", at=paris)

    assert sagemaker.describe_labeling_job(LabelingJobName="cats")["CreationTime"] == START


@pytest.fixture
def in_process() -> Iterator[None]:
    install()
    with mock_aws():
        yield


@pytest.mark.usefixtures("in_process")
@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"name": "bad_name"}, "regular expression pattern"),
        ({"status": "Running"}, "not one of"),
        ({"counters": {"Labeled": 1}}, "unknown label counters"),
        ({"counters": {"Unlabeled": -1}}, "cannot be negative"),
        ({"at": datetime(2026, 1, 5, 9, 0)}, "timezone-aware"),  # noqa: DTZ001 - the naive time is the point
        ({"failure_reason": "x" * 1025}, "'failureReason' .* length less than or equal to 1024"),
        ({"output_uri": "/tmp/out.manifest"}, "'labelingJobOutput.outputDatasetS3Uri' .* pattern"),
        # What CreateLabelingJob would refuse (HumanTaskConfig.WorkteamArn, the input's manifest or SNS topic).
        ({"workteam_arn": "team"}, "Value 'team' at 'humanTaskConfig.workteamArn' .* pattern"),
        (
            {"workteam_arn": "arn:aws:sagemaker:us-east-1:123456789012:workteam/" + "x" * 250},
            "'humanTaskConfig.workteamArn' .* length less than or equal to 256",
        ),
        ({"input_manifest_uri": "input.manifest"}, "'inputConfig.dataSource.s3DataSource.manifestS3Uri' .* pattern"),
        ({"sns_topic_arn": "labels"}, "'inputConfig.dataSource.snsDataSource.snsTopicArn' .* pattern"),
    ],
)
def test_put_refuses_what_sagemaker_could_not_hold(fields: dict[str, Any], error: str) -> None:
    arguments: dict[str, Any] = {"region": REGION, "name": "cats", "at": START, **fields}

    with pytest.raises(ValueError, match=error):
        put_labeling_job(**arguments)


@pytest.mark.usefixtures("in_process")
def test_put_refuses_a_name_already_taken() -> None:
    put("Cats", 0)

    with pytest.raises(ValueError, match="already exists"):
        put("cats", 5)


@pytest.mark.usefixtures("in_process")
@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"failure_reason": "x" * 1025}, "'failureReason' .* length less than or equal to 1024"),
        ({"output_uri": "out.manifest"}, "'labelingJobOutput.outputDatasetS3Uri' .* pattern"),
    ],
)
def test_update_refuses_what_describe_could_not_answer_with(fields: dict[str, Any], error: str) -> None:
    put("cats", 0)

    with pytest.raises(ValueError, match=error):
        update("cats", 5, **fields)


@pytest.mark.usefixtures("in_process")
def test_update_of_an_unknown_job_is_refused() -> None:
    with pytest.raises(LookupError, match="ghost"):
        update("ghost", 5, status="Completed")


# --- lifecycle: reset and install -------------------------------------------------------------------


def test_jobs_do_not_outlive_their_mock_context() -> None:
    install()
    with mock_aws():
        put("left-behind", 0)
        assert names(sagemaker_client(None, REGION, True).list_labeling_jobs()) == ["left-behind"]

    with mock_aws():
        sagemaker = sagemaker_client(None, REGION, True)
        assert sagemaker.list_labeling_jobs()["LabelingJobSummaryList"] == []
        with pytest.raises(ClientError):
            sagemaker.describe_labeling_job(LabelingJobName="left-behind")


def test_moto_reset_over_http_forgets_jobs(moto_server: str) -> None:
    install()
    reset_moto(moto_server)
    put("left-behind", 0)

    reset_moto(moto_server)

    sagemaker = Emulator(endpoint_url=moto_server).client()
    assert sagemaker.list_labeling_jobs()["LabelingJobSummaryList"] == []


def test_install_twice_changes_nothing() -> None:
    install()
    installed = {
        (cls, name): cls.__dict__[name] for cls in (SageMakerResponse, SageMakerModelBackend) for name in OPERATIONS
    }

    install()

    assert {(cls, name): cls.__dict__[name] for cls, name in installed} == installed


def test_install_refuses_a_moto_it_was_not_written_for(monkeypatch: pytest.MonkeyPatch) -> None:
    real_version = importlib.metadata.version
    monkeypatch.setattr(
        importlib.metadata, "version", lambda package: "5.3.0" if package == "moto" else real_version(package)
    )

    with pytest.raises(RuntimeError, match=r"written against moto 5\.2\.5 but moto 5\.3\.0 is installed"):
        install()


@pytest.mark.parametrize("cls", [SageMakerResponse, SageMakerModelBackend], ids=lambda cls: cls.__name__)
@pytest.mark.parametrize("operation", OPERATIONS)
def test_install_refuses_to_shadow_motos_own_labeling_jobs(
    monkeypatch: pytest.MonkeyPatch, cls: type, operation: str
) -> None:
    install()

    def motos_own(self: object) -> None:
        raise NotImplementedError

    monkeypatch.setattr(cls, operation, motos_own)

    with pytest.raises(RuntimeError, match=rf"already has {cls.__name__}\.{operation}"):
        install()


# --- serving over HTTP ------------------------------------------------------------------------------


@pytest.fixture
def busy_port() -> Iterator[int]:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        yield taken.getsockname()[1]


def test_serving_on_a_port_in_use_fails_at_once(busy_port: int) -> None:
    with pytest.raises(OSError, match=f"cannot serve on 127.0.0.1:{busy_port}: Address already in use"):
        serve(port=busy_port)


def test_a_port_taken_after_the_check_still_fails_instead_of_hanging(
    busy_port: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(labeling_jobs, "_check_can_listen", lambda host, port: None)
    outcome: list[BaseException | None] = []

    def start() -> None:
        try:
            serve(port=busy_port).stop()
            outcome.append(None)
        except BaseException as error:
            outcome.append(error)

    starter = threading.Thread(target=start, daemon=True)
    starter.start()
    starter.join(timeout=20)

    assert len(outcome) == 1, "serve() is still waiting for a server that could not start"
    assert isinstance(outcome[0], OSError)


def test_the_emulator_command_on_a_port_in_use_exits_1_with_one_line(
    busy_port: int, capsys: pytest.CaptureFixture[str]
) -> None:
    status = cli.main(["emulator", "--port", str(busy_port)])

    captured = capsys.readouterr()
    assert status == 1
    assert captured.out == ""
    assert captured.err.splitlines() == [
        f"gtwatch emulator: cannot serve on 127.0.0.1:{busy_port}: Address already in use"
    ]
