"""The emulator's accounts: one backend per account, a spoke's role that the hub assumes to read it, and the replay's
`sts` fault (the role cannot be assumed; its sessions from before are revoked), in both emulator modes."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any, cast

import boto3
import pytest
from botocore.exceptions import ClientError
from watcher import container
from watcher.domain.contract import SPOKE_ROLE_NAME

from gtwatch.sim.emulator import deployment, labeling_jobs, sagemaker_jobs
from gtwatch.sim.emulator.accounts import create_spoke_role
from gtwatch.sim.emulator.deployment import Routing
from gtwatch.sim.faults import Faults

HOME = "123456789012"
VISION = "333333333333"
PROD = "222222222222"
AT = datetime(2026, 4, 14, 8, 0, tzinfo=UTC)


@pytest.fixture(params=["inprocess", "server"])
def emulator(request: pytest.FixtureRequest) -> Iterator[None]:
    routing = Routing(slack_events=("failed",), email_events=("failed",))
    with deployment.deployed(
        mode=request.param, routing=routing, slack_webhook_url="http://127.0.0.1:9/x", handler_env={}
    ):
        container.reset()
        yield
        container.reset()


def spoke_session(account_id: str) -> boto3.Session:
    """What the hub does: assume the spoke's reader role, with the home account's credentials."""
    credentials = deployment.client("sts").assume_role(
        RoleArn=f"arn:aws:iam::{account_id}:role/{SPOKE_ROLE_NAME}", RoleSessionName="gtwatch"
    )["Credentials"]
    return boto3.Session(
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
    )


def training_jobs(session: boto3.Session | None, region: str) -> list[str]:
    sagemaker: Any = (session or boto3.Session()).client("sagemaker", region_name=region)
    return [job["TrainingJobName"] for job in sagemaker.list_training_jobs()["TrainingJobSummaries"]]


def error_of(call: Any) -> tuple[int, str]:
    with pytest.raises(ClientError) as raised:
        call()
    response = raised.value.response
    return response["ResponseMetadata"]["HTTPStatusCode"], response["Error"]["Code"]


def test_a_spoke_job_is_listed_through_the_spokes_role_and_not_in_the_home_account(emulator: None) -> None:
    create_spoke_role(VISION)
    sagemaker_jobs.put_job(
        account_id=VISION, region="eu-central-1", kind="training", name="old-run", at=AT, status="InProgress"
    )
    labeling_jobs.put_labeling_job(
        account_id=VISION, region="eu-central-1", name="cars-bbox", status="InProgress", at=AT
    )

    vision = spoke_session(VISION)

    assert vision.client("sts", region_name="us-east-1").get_caller_identity()["Account"] == VISION
    assert training_jobs(vision, "eu-central-1") == ["old-run"]
    labeling = cast(Any, vision.client("sagemaker", region_name="eu-central-1")).list_labeling_jobs()
    assert [job["LabelingJobName"] for job in labeling["LabelingJobSummaryList"]] == ["cars-bbox"]
    assert labeling["LabelingJobSummaryList"][0]["LabelingJobArn"].split(":")[4] == VISION
    # Not in the spoke's other region, and not in the home account (the hub's own credentials).
    assert training_jobs(vision, "us-east-1") == []
    assert training_jobs(None, "eu-central-1") == []
    # The role is the spoke's: the home account has no role of that name.
    assert vision.client("iam").get_role(RoleName=SPOKE_ROLE_NAME)["Role"]["Arn"] == (
        f"arn:aws:iam::{VISION}:role/{SPOKE_ROLE_NAME}"
    )
    assert error_of(lambda: deployment.client("iam").get_role(RoleName=SPOKE_ROLE_NAME))[1] == "NoSuchEntity"


def test_an_sts_fault_refuses_the_spokes_role_until_its_minute_and_revokes_the_sessions_assumed_before(
    emulator: None,
) -> None:
    clock = {"minute": 0}
    for account in (VISION, PROD):
        create_spoke_role(account)
    sagemaker_jobs.put_job(account_id=VISION, region="us-east-1", kind="training", name="detector-v5", at=AT)
    faults = Faults(cast(Any, None), minute=lambda: clock["minute"])
    with faults.installed():
        before = spoke_session(VISION)
        assert training_jobs(before, "us-east-1") == ["detector-v5"]

        clock["minute"] = 130
        faults.arm("sts", "access_denied", until_minute=170, account=VISION)

        # The role cannot be assumed (STS's 403 AccessDenied), and the session from before the fault is revoked.
        assert error_of(lambda: spoke_session(VISION)) == (403, "AccessDenied")
        assert error_of(lambda: training_jobs(before, "us-east-1")) == (400, "AccessDeniedException")
        # The other spoke and the home account are read as ever.
        assert training_jobs(spoke_session(PROD), "us-east-1") == []
        assert training_jobs(None, "us-east-1") == []
        clock["minute"] = 169
        assert error_of(lambda: spoke_session(VISION)) == (403, "AccessDenied")

        clock["minute"] = 170
        after = spoke_session(VISION)
        assert training_jobs(after, "us-east-1") == ["detector-v5"]
        # A session revoked stays revoked: reading the account again takes a new one.
        assert error_of(lambda: training_jobs(before, "us-east-1")) == (400, "AccessDeniedException")
    assert faults.injected["sts"] == 4


def test_an_sts_fault_without_an_account_hits_every_spoke_but_never_the_home_account(emulator: None) -> None:
    for account in (VISION, PROD):
        create_spoke_role(account)
    faults = Faults(cast(Any, None))
    with faults.installed():
        faults.arm("sts", "access_denied", count=2)

        assert error_of(lambda: spoke_session(VISION)) == (403, "AccessDenied")
        home_role = deployment.client("sts").assume_role(
            RoleArn=f"arn:aws:iam::{HOME}:role/gtwatch-operator", RoleSessionName="operator"
        )
        assert home_role["Credentials"]["AccessKeyId"]
        assert error_of(lambda: spoke_session(PROD)) == (403, "AccessDenied")
        # Two refusals were armed: the next AssumeRole of a spoke works.
        assert training_jobs(spoke_session(PROD), "us-east-1") == []


def test_a_sagemaker_fault_narrowed_to_an_account_and_region_fails_only_calls_there(emulator: None) -> None:
    create_spoke_role(VISION)
    faults = Faults(cast(Any, None))
    with faults.installed():
        faults.arm("sagemaker", "throttle", until_minute=10, account=VISION, region="eu-central-1")
        vision = spoke_session(VISION)

        assert error_of(lambda: training_jobs(vision, "eu-central-1"))[1] == "ThrottlingException"
        assert training_jobs(vision, "us-east-1") == []
        assert training_jobs(None, "eu-central-1") == []
