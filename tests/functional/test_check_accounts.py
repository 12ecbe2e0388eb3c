"""`gtwatch check` with `accounts` in cdk.json, on the emulator's accounts: every listed account is looked at in its
regions with credentials of that account (a profile given or named after it, your own, else the spoke's reader role),
each row names its account, and an account it cannot read is named in one line saying how to give access while the
others are read all the same."""

from __future__ import annotations

import argparse
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

import pytest

from gtwatch.ops import check as ops
from gtwatch.sim.emulator import deployment, labeling_jobs, sagemaker_jobs
from gtwatch.sim.emulator.accounts import account_client
from gtwatch.sim.emulator.deployment import Routing
from gtwatch.sim.faults import Faults

HOME = deployment.ACCOUNT_ID
VISION = "333333333333"
PROD = "222222222222"
NOW = datetime.now(UTC)
ACCOUNTS = [
    {"id": HOME, "alias": "research", "regions": ["us-east-1"]},
    {"id": VISION, "alias": "vision", "regions": ["eu-central-1"]},
    {"id": PROD, "alias": "prod", "regions": ["us-east-1", "eu-west-1"]},
]


@dataclass
class Checked:
    directory: Path
    out: io.StringIO = field(default_factory=io.StringIO)
    err: io.StringIO = field(default_factory=io.StringIO)

    def gtwatch(self, *argv: str) -> int:
        parser = argparse.ArgumentParser(prog="gtwatch")
        ops.add_commands(parser.add_subparsers(dest="command", required=True))
        args = parser.parse_args(["check", *argv])
        result: int = args.func(args, out=self.out, err=self.err)
        return result

    def profile(self, name: str, account_id: str) -> None:
        """An AWS profile `name` whose credentials are of `account_id` (its administrators' role, assumed)."""
        credentials = cast(Any, account_client("sts", account_id)).get_caller_identity()  # proves the role works
        assert credentials["Account"] == account_id
        issued = deployment.client("sts").assume_role(
            RoleArn=f"arn:aws:iam::{account_id}:role/OrganizationAccountAccessRole", RoleSessionName="person"
        )["Credentials"]
        with (self.directory / "credentials").open("a") as file:
            file.write(
                f"[{name}]\naws_access_key_id = {issued['AccessKeyId']}\n"
                f"aws_secret_access_key = {issued['SecretAccessKey']}\naws_session_token = {issued['SessionToken']}\n"
            )


@pytest.fixture(params=["inprocess", "server"])
def checked(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Checked]:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    (tmp_path / "credentials").write_text("")
    (tmp_path / "config").write_text("")
    routing = Routing(slack_events=("failed",), email_events=("failed",))
    with deployment.deployed(
        mode=request.param, routing=routing, slack_webhook_url="http://127.0.0.1:9/unused", handler_env={}
    ):
        yield Checked(tmp_path)


def write_cdk_json(gtwatch: dict[str, Any]) -> None:
    Path("cdk.json").write_text(json.dumps({"app": "python app.py", "context": {"gtwatch": gtwatch}}))


def jobs_in_every_account() -> None:
    at = NOW - timedelta(hours=2)
    labeling_jobs.put_labeling_job(region="us-east-1", name="cats", status="InProgress", at=at)
    sagemaker_jobs.put_job(account_id=VISION, region="eu-central-1", kind="training", name="detr-9", at=at)
    sagemaker_jobs.put_job(account_id=PROD, region="eu-west-1", kind="training", name="ranker-4", at=at)
    # Not watched: the home account is not watched in eu-central-1.
    sagemaker_jobs.put_job(region="eu-central-1", kind="training", name="elsewhere", at=at)


def lines(out: str) -> list[str]:
    return [" ".join(line.split()) for line in out.splitlines()]


def rows(out: str) -> list[str]:
    found = lines(out)
    start = found.index("ACCOUNT KIND REGION STATUS PROGRESS JOB") + 1
    return found[start : found.index("", start)]


def test_check_reads_every_listed_account_and_names_each_rows_account(checked: Checked) -> None:
    write_cdk_json({"accounts": ACCOUNTS, "kinds": ["labeling", "training"]})
    jobs_in_every_account()
    checked.profile("vision", VISION)  # a profile named after the alias
    checked.profile("prod-readonly", PROD)

    assert checked.gtwatch("--profile-for", "prod=prod-readonly") == 0

    out = checked.out.getvalue()
    assert out.startswith(
        "gtwatch check (research: us-east-1; vision: eu-central-1; prod: us-east-1, eu-west-1; finished since "
    )
    assert "3 job(s) gtwatch would watch (labeling 1, training 2):" in out
    assert rows(out) == [
        "research labeling us-east-1 InProgress no objects yet cats",
        "vision training eu-central-1 InProgress secondary status Starting detr-9",
        "prod training eu-west-1 InProgress secondary status Starting ranker-4",
    ]
    assert "cannot be read" not in out
    assert "(Accounts, kinds and name filter not given as flags come from" in out
    assert checked.err.getvalue() == ""


def test_check_names_an_account_it_cannot_read_and_how_to_give_access_and_reads_the_others(checked: Checked) -> None:
    write_cdk_json({"accounts": ACCOUNTS, "kinds": ["labeling", "training"]})
    jobs_in_every_account()
    checked.profile("vision", VISION)
    faults = Faults(cast(Any, None))
    with faults.installed():
        # The person's credentials may not assume prod's reader role: its trust allows the hub's roles only.
        faults.arm("sts", "access_denied", until_minute=1, account=PROD)
        code = checked.gtwatch()

    assert code == 0
    out = checked.out.getvalue()
    assert (
        "Account prod (222222222222) cannot be read: your credentials are of account 123456789012, and assuming its "
        "reader role arn:aws:iam::222222222222:role/gtwatch-spoke-reader was refused (AccessDenied; the role trusts "
        "the hub's roles only). To check it, pass --profile-for prod=PROFILE or add an AWS profile named 'prod' "
        "(~/.aws/config) whose credentials are of 222222222222 and allowed SageMaker's List, Describe and Search "
        "actions (docs/deploy.md, Checking every account)"
    ) in lines(out)
    assert [row.split()[0] for row in rows(out)] == ["research", "vision"]
    assert "ranker-4" not in out
    assert checked.err.getvalue() == ""


def test_check_reads_a_spoke_through_its_reader_role_when_your_credentials_may_assume_it(checked: Checked) -> None:
    write_cdk_json({"accounts": ACCOUNTS[:2], "kinds": ["training"]})
    jobs_in_every_account()

    assert checked.gtwatch() == 0

    assert rows(checked.out.getvalue()) == ["vision training eu-central-1 InProgress secondary status Starting detr-9"]


def test_check_says_a_profile_of_another_account_cannot_read_the_account(checked: Checked) -> None:
    write_cdk_json({"accounts": ACCOUNTS[:2], "kinds": ["training"]})
    jobs_in_every_account()
    checked.profile("vision", PROD)  # named after vision, but of prod

    assert checked.gtwatch() == 0

    assert (
        "Account vision (333333333333) cannot be read: AWS profile 'vision' is of account 222222222222, not "
        "333333333333. To check it, pass --profile-for vision=PROFILE"
    ) in checked.out.getvalue()


def test_check_exits_1_when_no_listed_account_can_be_read(checked: Checked) -> None:
    # The person's credentials are of none of the listed accounts, and the spoke's role is refused.
    write_cdk_json({"accounts": [{"id": "444444444444", "regions": ["us-east-1"]}, ACCOUNTS[1]]})
    faults = Faults(cast(Any, None))
    with faults.installed():
        faults.arm("sts", "access_denied", until_minute=1)
        code = checked.gtwatch()

    assert code == 1
    out = checked.out.getvalue()
    assert (
        "Account 444444444444 cannot be read: your credentials are of account 123456789012, and no AWS profile is "
        "named after it. To check it, pass --profile-for 444444444444=PROFILE"
    ) in out
    assert "Account vision (333333333333) cannot be read: " in out
    assert checked.err.getvalue() == (
        "gtwatch: no listed account could be read (each is named above with how to give access)\n"
    )


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["--profile-for", "vision"],
            "--profile-for: 'vision' is not ACCOUNT=PROFILE, like research=research-readonly",
        ),
        (
            ["--profile-for", "vison=vision"],
            "--profile-for: 'vison' is not a listed account (cdk.json's accounts list research, vision)",
        ),
        (
            ["--profile-for", "vision=nope"],
            "--profile-for: 'nope' is not an AWS profile (~/.aws/config, ~/.aws/credentials)",
        ),
        (
            ["--profile-for", "vision=vision", "--profile-for", VISION + "=vision"],
            "--profile-for: account '333333333333' is given a profile twice",
        ),
    ],
)
def test_check_refuses_a_profile_for_flag_it_cannot_use_naming_it(
    checked: Checked, argv: list[str], message: str
) -> None:
    write_cdk_json({"accounts": ACCOUNTS[:2]})
    checked.profile("vision", VISION)

    assert checked.gtwatch(*argv) == 2

    assert checked.err.getvalue() == f"gtwatch: {message}\n"
    assert checked.out.getvalue() == ""


def test_check_refuses_a_profile_for_flag_without_accounts(checked: Checked) -> None:
    checked.profile("vision", VISION)

    assert checked.gtwatch("--profile-for", "vision=vision") == 2

    assert checked.err.getvalue() == (
        "gtwatch: --profile-for: 'vision': cdk.json lists no accounts (context.gtwatch.accounts)\n"
    )


def test_check_region_flags_narrow_every_listed_account_to_those_regions(checked: Checked) -> None:
    write_cdk_json({"accounts": ACCOUNTS, "kinds": ["training"]})
    jobs_in_every_account()
    checked.profile("vision", VISION)
    checked.profile("prod", PROD)

    assert checked.gtwatch("--region", "eu-west-1") == 0

    out = checked.out.getvalue()
    assert out.startswith("gtwatch check (research: eu-west-1; vision: eu-west-1; prod: eu-west-1; finished since ")
    assert rows(out) == ["prod training eu-west-1 InProgress secondary status Starting ranker-4"]


def test_check_names_a_listed_accounts_region_that_does_not_exist(checked: Checked) -> None:
    write_cdk_json({"accounts": [ACCOUNTS[0], {"id": VISION, "regions": ["eu-central-1", "us-east-7"]}]})

    assert checked.gtwatch() == 2

    assert checked.err.getvalue().startswith(
        f"gtwatch: {checked.directory / 'cdk.json'}: accounts[1].regions[1]: 'us-east-7' is not an AWS region"
    )
    assert checked.out.getvalue() == ""
