"""The labeling-job extension answers bad requests as SageMaker does (HTTP 400, never 500) and only well-formed
responses, checked against botocore's SageMaker service model, in-process and over HTTP."""

from __future__ import annotations

import functools
import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import boto3
import botocore.session
import pytest
from botocore import xform_name
from botocore.config import Config
from botocore.exceptions import ClientError
from botocore.model import ListShape, MapShape, ServiceModel, Shape, StructureShape
from moto import mock_aws

from gtwatch.sim.emulator.labeling_jobs import install, java_pattern, put_labeling_job, serve, update_labeling_job
from tests.functional.test_emulator_labeling_jobs import FINAL_MODEL, REGION, START, create_request, reset_moto

OPERATIONS = ("CreateLabelingJob", "DescribeLabelingJob", "ListLabelingJobs", "StopLabelingJob")
# moto warns that SageMaker's model lists no SerializationException; the service answers it all the same.
pytestmark = pytest.mark.filterwarnings("ignore:Exception\\(SerializationException\\)")


@functools.cache
def sagemaker_model() -> ServiceModel:
    return botocore.session.get_session().get_service_model("sagemaker")


def operation_shape(operation: str, direction: str = "input") -> StructureShape:
    shape = getattr(sagemaker_model().operation_model(operation), f"{direction}_shape")
    assert isinstance(shape, StructureShape)
    return shape


def lower_camel(member: str) -> str:
    return member[0].lower() + member[1:]


class RawSageMaker:
    """A SageMaker client that sends the body it is given, whatever the SDK would have checked or serialized."""

    def __init__(self, endpoint_url: str | None) -> None:
        self.client = boto3.client(
            "sagemaker",
            region_name=REGION,
            endpoint_url=endpoint_url,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            config=Config(parameter_validation=False, retries={"max_attempts": 1, "mode": "standard"}),
        )
        self.body = b"{}"
        self.client.meta.events.register("before-sign.sagemaker.*", self._swap_body)

    def _swap_body(self, request: Any, **_: Any) -> None:
        request.data = self.body

    def call(self, operation: str, body: dict[str, Any] | bytes) -> tuple[int, str, str]:
        """HTTP status, error code and message of the answer ("" for the code and message of a success)."""
        self.body = body if isinstance(body, bytes) else json.dumps(body).encode()
        try:
            response = getattr(self.client, xform_name(operation))()
        except ClientError as error:
            return (
                error.response["ResponseMetadata"]["HTTPStatusCode"],
                error.response["Error"]["Code"],
                error.response["Error"]["Message"],
            )
        return response["ResponseMetadata"]["HTTPStatusCode"], "", ""


@pytest.fixture(autouse=True)
def hermetic_aws(aws_environment: None) -> None:
    """Every test here runs with the shared fake credentials, and no profile, endpoint or proxy of the machine."""


@pytest.fixture(scope="module")
def moto_server() -> Iterator[str]:
    server = serve(port=0)
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@functools.cache
def raw_client(endpoint_url: str | None) -> RawSageMaker:
    return RawSageMaker(endpoint_url)


@pytest.fixture(params=["in-process", "http"])
def sagemaker(request: pytest.FixtureRequest) -> Iterator[RawSageMaker]:
    install()
    if request.param == "in-process":
        with mock_aws():
            yield raw_client(None)
    else:
        endpoint_url: str = request.getfixturevalue("moto_server")
        reset_moto(endpoint_url)
        yield raw_client(endpoint_url)
        reset_moto(endpoint_url)


def refused(answer: tuple[int, str, str]) -> str:
    status, code, message = answer
    assert (status, code) == (400, "ValidationException"), answer
    return message


def no_jobs(sagemaker: RawSageMaker) -> bool:
    return sagemaker.client.list_labeling_jobs()["LabelingJobSummaryList"] == []


# --- requests ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("operation", ["DescribeLabelingJob", "StopLabelingJob"])
@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({}, "Value null at 'labelingJobName' failed to satisfy constraint: Member must not be null"),
        ({"LabelingJobName": 7}, "Value '7' at 'labelingJobName' failed to satisfy constraint: Member must be of type"),
        ({"LabelingJobName": "cats_v1"}, "at 'labelingJobName' failed to satisfy constraint: Member must satisfy "),
        ({"LabelingJobName": "a" * 64}, "Member must have length less than or equal to 63"),
        ({"LabelingJobName": ""}, "Member must have length greater than or equal to 1"),
    ],
    ids=["missing", "number", "underscore", "too-long", "empty"],
)
def test_a_job_name_sagemaker_would_refuse_is_refused_before_any_lookup(
    sagemaker: RawSageMaker, operation: str, body: dict[str, Any], expected: str
) -> None:
    message = refused(sagemaker.call(operation, body))

    assert expected in message
    assert "Could not find" not in message


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"MaxResults": "ten"}, "Value 'ten' at 'maxResults' failed to satisfy constraint: Member must be of type"),
        ({"MaxResults": True}, "Value 'true' at 'maxResults'"),
        ({"MaxResults": 2.5}, "Value '2.5' at 'maxResults'"),
        ({"CreationTimeAfter": "last tuesday"}, "Value 'last tuesday' at 'creationTimeAfter'"),
        ({"LastModifiedTimeBefore": {"at": 1}}, "at 'lastModifiedTimeBefore'"),
        ({"NameContains": "c" * 64}, "at 'nameContains' failed to satisfy constraint: Member must have length less"),
        ({"NextToken": "x" * 8193}, "at 'nextToken' failed to satisfy constraint: Member must have length less"),
        ({"StatusEquals": ["Failed"]}, "Value '[\"Failed\"]' at 'statusEquals'"),
        ({"SortOrder": "descending"}, "Member must satisfy enum value set: [Ascending, Descending]"),
    ],
    ids=lambda value: None if isinstance(value, str) else next(iter(value)),
)
def test_a_list_request_sagemaker_would_refuse_is_refused(
    sagemaker: RawSageMaker, body: dict[str, Any], expected: str
) -> None:
    assert expected in refused(sagemaker.call("ListLabelingJobs", body))


def with_human_task(**members: Any) -> dict[str, Any]:
    request = create_request("cats")
    request["HumanTaskConfig"] = {**request["HumanTaskConfig"], **members}
    return request


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (create_request("cats", HumanTaskConfig="draw boxes"), "at 'humanTaskConfig' failed to satisfy constraint"),
        (
            with_human_task(NumberOfHumanWorkersPerDataObject=10),
            "at 'humanTaskConfig.numberOfHumanWorkersPerDataObject' failed to satisfy constraint: "
            "Member must have value less than or equal to 9",
        ),
        (with_human_task(TaskKeywords=[]), "at 'humanTaskConfig.taskKeywords' failed to satisfy constraint"),
        (with_human_task(TaskTitle=None), "Value null at 'humanTaskConfig.taskTitle'"),
        (create_request("cats", Tags=[{"Key": "team"}]), "Value null at 'tags.1.member.value'"),
        (create_request("cats", Tags=[None]), "Value null at 'tags.1.member'"),
        (create_request("cats", RoleArn="admin"), "Value 'admin' at 'roleArn'"),
        (create_request("cats", OutputConfig={}), "Value null at 'outputConfig.s3OutputPath'"),
        (
            create_request(
                "cats",
                InputConfig={
                    "DataSource": {"S3DataSource": {"ManifestS3Uri": "s3://in/manifest.json"}},
                    "DataAttributes": {"ContentClassifiers": ["FreeOfAdult"]},
                },
            ),
            "at 'inputConfig.dataAttributes.contentClassifiers.1.member' failed to satisfy constraint: "
            "Member must satisfy enum value set: [FreeOfPersonallyIdentifiableInformation, FreeOfAdultContent]",
        ),
    ],
    ids=[
        "structure-as-string",
        "above-max",
        "empty-list",
        "missing-nested",
        "tag-without-value",
        "null-tag",
        "role-arn",
        "output-path",
        "enum-in-list",
    ],
)
def test_a_create_request_sagemaker_would_refuse_creates_nothing(
    sagemaker: RawSageMaker, body: dict[str, Any], expected: str
) -> None:
    assert expected in refused(sagemaker.call("CreateLabelingJob", body))
    assert no_jobs(sagemaker)


def test_every_missing_member_of_a_create_request_is_reported_at_once(sagemaker: RawSageMaker) -> None:
    message = refused(sagemaker.call("CreateLabelingJob", {}))

    assert message.startswith("6 validation errors detected: ")
    for member in sagemaker_model().shape_for("CreateLabelingJobRequest").required_members:
        assert f"Value null at '{lower_camel(member)}' failed to satisfy constraint: Member must not be null" in message


def wrong_type(shape: Shape) -> object:
    """A JSON value that no member of this shape's type accepts."""
    return {"structure": "not an object", "list": "not a list", "map": ["not", "a", "map"], "string": 12345}.get(
        shape.type_name, "not a number or time"
    )


def valid_request(operation: str) -> dict[str, Any]:
    return {
        "CreateLabelingJob": create_request("cats"),
        "DescribeLabelingJob": {"LabelingJobName": "cats"},
        "StopLabelingJob": {"LabelingJobName": "cats"},
    }.get(operation, {})


MISTYPED = [(operation, member) for operation in OPERATIONS for member in operation_shape(operation).members]


@pytest.mark.parametrize(("operation", "member"), MISTYPED, ids=[f"{op}.{member}" for op, member in MISTYPED])
def test_a_member_of_the_wrong_type_is_refused_for_every_member_of_every_operation(
    sagemaker: RawSageMaker, operation: str, member: str
) -> None:
    shape = operation_shape(operation).members[member]
    value = wrong_type(shape)

    message = refused(sagemaker.call(operation, {**valid_request(operation), member: value}))

    assert message.startswith(f"1 validation error detected: Value '{value}' at '{lower_camel(member)}'"), message


@pytest.mark.parametrize("operation", OPERATIONS)
@pytest.mark.parametrize("body", [b"not json", b"[]", b'"cats"'], ids=["text", "array", "string"])
def test_a_body_that_is_not_a_json_object_is_a_serialization_error(
    sagemaker: RawSageMaker, operation: str, body: bytes
) -> None:
    status, code, _ = sagemaker.call(operation, body)

    assert (status, code) == (400, "SerializationException")


def test_members_the_model_does_not_know_are_ignored(sagemaker: RawSageMaker) -> None:
    assert sagemaker.call("CreateLabelingJob", {**create_request("cats"), "Priority": "high"}) == (200, "", "")


def test_a_bad_request_over_plain_http_is_answered_400(moto_server: str) -> None:
    install()

    def post(operation: str, body: bytes) -> tuple[int, dict[str, Any]]:
        request = urllib.request.Request(
            moto_server,
            data=body,
            method="POST",
            headers={
                "X-Amz-Target": f"SageMaker.{operation}",
                "Content-Type": "application/x-amz-json-1.1",
                # The moto server picks the service from the credential scope, as AWS picks it from the host.
                "Authorization": "AWS4-HMAC-SHA256 Credential=testing/20260105/us-east-1/sagemaker/aws4_request, "
                "SignedHeaders=host, Signature=0",
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read())

    assert post("DescribeLabelingJob", b'{"LabelingJobName": ["cats"]}')[0] == 400
    assert post("StopLabelingJob", b"{}")[0] == 400
    assert post("ListLabelingJobs", b'{"MaxResults": "ten", "SortBy": "Size"}') == (
        400,
        {
            "__type": "ValidationException",
            "Message": "2 validation errors detected: Value 'ten' at 'maxResults' failed to satisfy constraint: "
            "Member must be of type integer; Value 'Size' at 'sortBy' failed to satisfy constraint: Member must "
            "satisfy enum value set: [Name, CreationTime, Status]",
        },
    )
    assert post("ListLabelingJobs", b"{")[0] == 400


def input_patterns(shape: Shape, seen: set[str]) -> Iterator[str]:
    if shape.name in seen:
        return
    seen.add(shape.name)
    if "pattern" in shape.metadata:
        yield shape.metadata["pattern"]
    if isinstance(shape, StructureShape):
        for member in shape.members.values():
            yield from input_patterns(member, seen)
    elif isinstance(shape, ListShape):
        yield from input_patterns(shape.member, seen)
    elif isinstance(shape, MapShape):
        yield from input_patterns(shape.key, seen)
        yield from input_patterns(shape.value, seen)


@pytest.mark.parametrize("operation", OPERATIONS)
def test_every_pattern_the_requests_are_checked_against_is_understood(operation: str) -> None:
    seen: set[str] = set()
    patterns = list(input_patterns(operation_shape(operation), seen))

    assert [pattern for pattern in patterns if java_pattern(pattern) is None] == []


# --- responses --------------------------------------------------------------------------------------


def wire_errors(shape: Shape, value: object, where: str) -> list[str]:
    """How a JSON response value departs from the output shape: missing required or unknown members, wrong types,
    values outside an enum or a range."""
    kind = shape.type_name
    if isinstance(shape, StructureShape):
        if not isinstance(value, dict):
            return [f"{where}: not an object"]
        errors = [f"{where}.{name}: unknown member" for name in value if name not in shape.members]
        errors += [f"{where}.{name}: required but missing" for name in shape.required_members if name not in value]
        for name, member in shape.members.items():
            if name in value:
                errors += wire_errors(member, value[name], f"{where}.{name}")
        return errors
    if isinstance(shape, ListShape):
        if not isinstance(value, list):
            return [f"{where}: not a list"]
        return [
            error for index, item in enumerate(value) for error in wire_errors(shape.member, item, f"{where}[{index}]")
        ]
    if isinstance(shape, MapShape):
        if not isinstance(value, dict):
            return [f"{where}: not an object"]
        return [error for key, item in value.items() for error in wire_errors(shape.value, item, f"{where}.{key}")]
    expected: dict[str, tuple[type, ...]] = {
        "string": (str,),
        "integer": (int,),
        "long": (int,),
        "boolean": (bool,),
        "timestamp": (int, float),  # epoch seconds in the JSON protocol
        "float": (int, float),
        "double": (int, float),
    }
    if not isinstance(value, expected[kind]) or (isinstance(value, bool) and kind != "boolean"):
        return [f"{where}: {value!r} is not a {kind}"]
    errors = []
    enum = shape.metadata.get("enum")
    if enum and value not in enum:
        errors.append(f"{where}: {value!r} is not one of {enum}")
    size = len(value) if isinstance(value, str) else value
    low, high = shape.metadata.get("min"), shape.metadata.get("max")
    if kind != "timestamp" and ((low is not None and size < low) or (high is not None and size > high)):
        errors.append(f"{where}: {value!r} is outside [{low}, {high}]")
    pattern = java_pattern(shape.metadata["pattern"]) if "pattern" in shape.metadata else None
    if pattern is not None and isinstance(value, str) and not pattern.fullmatch(value):
        errors.append(f"{where}: {value!r} does not match {pattern.pattern}")
    return errors


def test_every_response_the_extension_gives_fits_the_service_model(sagemaker: RawSageMaker) -> None:
    bodies: dict[str, list[bytes]] = {}

    def keep(response_dict: dict[str, Any], model: Any, **_: Any) -> None:
        bodies.setdefault(model.name, []).append(response_dict["body"])

    client = sagemaker.client
    client.meta.events.register(
        "before-parse.sagemaker.*", lambda **kw: keep(kw["response_dict"], kw["operation_model"])
    )
    sagemaker.call(
        "CreateLabelingJob",
        create_request(
            "cats",
            LabelCategoryConfigS3Uri="s3://in/categories.json",
            StoppingConditions={"MaxHumanLabeledObjectCount": 500, "MaxPercentageOfInputDatasetLabeled": 90},
            LabelingJobAlgorithmsConfig={
                "LabelingJobAlgorithmSpecificationArn": "arn:aws:sagemaker:us-east-1:027400017018:"
                "labeling-job-algorithm-specification/object-detection"
            },
            Tags=[{"Key": "team", "Value": "vision"}],
        ),
    )
    put_labeling_job(region=REGION, name="dogs", status="InProgress", at=START, sns_topic_arn=None)
    update_labeling_job(
        region=REGION,
        name="dogs",
        at=START + timedelta(minutes=30),
        status="Failed",
        counters={"TotalLabeled": 3, "HumanLabeled": 3, "Unlabeled": 7},
        failure_reason="ClientError: worker timeout",
        output_uri="s3://out/dogs/output.manifest",
        final_active_learning_model_arn=FINAL_MODEL,
    )
    for name in ("cats", "dogs"):
        sagemaker.call("DescribeLabelingJob", {"LabelingJobName": name})
    sagemaker.call("ListLabelingJobs", {"MaxResults": 1})
    sagemaker.call("ListLabelingJobs", {"SortBy": "Status", "SortOrder": "Descending"})
    sagemaker.call("StopLabelingJob", {"LabelingJobName": "cats"})
    client.meta.events.unregister("before-parse.sagemaker.*")

    assert sorted(bodies) == sorted(OPERATIONS)
    assert bodies["StopLabelingJob"] in ([b""], [b"{}"])
    errors = []
    for operation in ("CreateLabelingJob", "DescribeLabelingJob", "ListLabelingJobs"):
        output_shape = operation_shape(operation, "output")
        for body in bodies[operation]:
            errors += wire_errors(output_shape, json.loads(body), operation)
    assert errors == []
    summaries = [json.loads(body)["LabelingJobSummaryList"] for body in bodies["ListLabelingJobs"]]
    assert [len(page) for page in summaries] == [1, 2]
    assert "NextToken" in json.loads(bodies["ListLabelingJobs"][0])
