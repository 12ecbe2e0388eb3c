"""The spoke stacks spoke_app.py synthesizes: a read-only role the hub's watching roles alone may assume, allowed the
watched kinds' reads and nothing else, and a rule forwarding their events to the hub's bus; no function, no state;
one stack per account and region for `cdk deploy`, one environment-agnostic template for a StackSet."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from cfnlint.api import ManualArgs, lint  # type: ignore[import-untyped]

import spoke_app
from infra.context import cdk_json_context
from tests.infra.queries import render
from tests.infra.stacks import NO_BUNDLING
from tests.infra.test_accounts import ACCOUNTS, HOME, ORGANIZATION, PROD, RESEARCH

DETAIL_TYPES = ["SageMaker Ground Truth Labeling Job State Change", "SageMaker Training Job State Change"]
SPOKE: dict[str, Any] = {"kinds": ["labeling", "training"], "accounts": ACCOUNTS, "spoke_external_id": "gtwatch-7f3a"}
SPOKE_IN_ORGANIZATION: dict[str, Any] = {**SPOKE, "organization_id": ORGANIZATION, "spoke_external_id": None}
HUB_BUS = f"arn:${{AWS::Partition}}:events:us-east-1:{HOME}:event-bus/gtwatch-hub"
HUB_ROLES = f"arn:${{AWS::Partition}}:iam::{HOME}:role/gtwatch-hub/*"
# What a spoke may hold: two roles (reader, forwarder), their policies and the rule. No function, table, queue, bucket.
SPOKE_TYPES = {"AWS::IAM::Role", "AWS::IAM::Policy", "AWS::Events::Rule"}


@dataclass(frozen=True)
class Spokes:
    templates: dict[str, dict[str, Any]]
    environments: dict[str, tuple[str, str]]
    validation_report: dict[str, Any]


def synth_spokes(outdir: Path, gtwatch: dict[str, Any]) -> Spokes:
    context = {**cdk_json_context(), "gtwatch": gtwatch, **NO_BUNDLING}
    assembly = spoke_app.build(context, outdir=str(outdir)).synth()
    return Spokes(
        templates={stack.stack_name: stack.template for stack in assembly.stacks},
        environments={
            stack.stack_name: (stack.environment.account, stack.environment.region) for stack in assembly.stacks
        },
        validation_report=json.loads((outdir / "validation-report.json").read_text(encoding="utf-8")),
    )


@pytest.fixture(scope="module")
def spokes(tmp_path_factory: pytest.TempPathFactory) -> Spokes:
    return synth_spokes(tmp_path_factory.mktemp("spokes"), SPOKE)


@pytest.fixture(scope="module")
def spokes_in_organization(tmp_path_factory: pytest.TempPathFactory) -> Spokes:
    return synth_spokes(tmp_path_factory.mktemp("spokes-org"), SPOKE_IN_ORGANIZATION)


def resources(template: dict[str, Any], resource_type: str) -> list[dict[str, Any]]:
    return [resource for resource in template["Resources"].values() if resource["Type"] == resource_type]


def reader_role(template: dict[str, Any]) -> dict[str, Any]:
    (role,) = [role for role in resources(template, "AWS::IAM::Role") if "RoleName" in role["Properties"]]
    return role


def reader_grants(template: dict[str, Any]) -> set[tuple[tuple[str, ...], str]]:
    (policy,) = [
        policy
        for policy in resources(template, "AWS::IAM::Policy")
        if policy["Properties"]["Roles"] == [{"Ref": logical(template, reader_role(template))}]
    ]
    pairs = set()
    for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
        assert statement["Effect"] == "Allow" and "Condition" not in statement
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        listed = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        pairs |= {(tuple(sorted(actions)), render(resource)) for resource in listed}
    return pairs


def logical(template: dict[str, Any], resource: dict[str, Any]) -> str:
    return next(str(name) for name, value in template["Resources"].items() if value is resource)


def expected_reads(regions: list[str], account: str = "${AWS::AccountId}") -> set[tuple[tuple[str, ...], str]]:
    partition = "${AWS::Partition}" if account.startswith("$") else "aws"
    reads: set[tuple[tuple[str, ...], str]] = {(("sagemaker:ListLabelingJobs", "sagemaker:ListTrainingJobs"), "*")}
    for region in regions:
        reads |= {
            (("sagemaker:DescribeLabelingJob",), f"arn:{partition}:sagemaker:{region}:{account}:labeling-job/*"),
            (("sagemaker:DescribeTrainingJob",), f"arn:{partition}:sagemaker:{region}:{account}:training-job/*"),
            (
                ("logs:DescribeLogStreams",),
                f"arn:{partition}:logs:{region}:{account}:log-group:/aws/sagemaker/TrainingJobs:*",
            ),
            (
                ("logs:GetLogEvents",),
                f"arn:{partition}:logs:{region}:{account}:log-group:/aws/sagemaker/TrainingJobs:log-stream:*",
            ),
        }
    return reads


def test_each_spoke_account_gets_a_stack_per_region_and_the_stackset_one_template(spokes: Spokes) -> None:
    assert spokes.environments == {
        "GtwatchSpoke": ("unknown-account", "unknown-region"),
        f"GtwatchSpoke-{RESEARCH}-us-east-1": (RESEARCH, "us-east-1"),
        f"GtwatchSpoke-{RESEARCH}-eu-west-1": (RESEARCH, "eu-west-1"),
        f"GtwatchSpoke-{PROD}-us-west-2": (PROD, "us-west-2"),
        # The home account forwards from its regions but the hub's, and needs no reader.
        f"GtwatchSpoke-{HOME}-eu-west-1": (HOME, "eu-west-1"),
    }


def test_a_spoke_has_no_function_and_no_state(spokes: Spokes) -> None:
    for name, template in spokes.templates.items():
        assert {resource["Type"] for resource in template["Resources"].values()} <= SPOKE_TYPES, name


def test_the_reader_role_is_made_once_per_account_in_its_first_region(spokes: Spokes) -> None:
    with_reader = {
        name
        for name, template in spokes.templates.items()
        if any("RoleName" in role["Properties"] for role in resources(template, "AWS::IAM::Role"))
    }
    assert with_reader == {"GtwatchSpoke", f"GtwatchSpoke-{RESEARCH}-us-east-1", f"GtwatchSpoke-{PROD}-us-west-2"}
    assert reader_role(spokes.templates["GtwatchSpoke"])["Properties"]["RoleName"] == "gtwatch-spoke-reader"


def test_the_reader_role_trusts_the_hubs_watching_roles_only_with_the_external_id(spokes: Spokes) -> None:
    for name in ("GtwatchSpoke", f"GtwatchSpoke-{PROD}-us-west-2"):
        (statement,) = render(
            reader_role(spokes.templates[name])["Properties"]["AssumeRolePolicyDocument"]["Statement"]
        )
        assert statement["Action"] == "sts:AssumeRole"
        assert statement["Principal"]["AWS"] in {
            f"arn:${{AWS::Partition}}:iam::{HOME}:root",
            f"arn:aws:iam::{HOME}:root",
        }
        assert statement["Condition"] == {
            "ArnLike": {"aws:PrincipalArn": HUB_ROLES},
            "StringEquals": {"sts:ExternalId": "gtwatch-7f3a"},
        }


def test_in_an_organization_the_reader_role_requires_it(spokes_in_organization: Spokes) -> None:
    role = reader_role(spokes_in_organization.templates["GtwatchSpoke"])
    (statement,) = render(role["Properties"]["AssumeRolePolicyDocument"]["Statement"])
    assert statement["Condition"] == {
        "ArnLike": {"aws:PrincipalArn": HUB_ROLES},
        "StringEquals": {"aws:PrincipalOrgID": ORGANIZATION},
    }


def test_the_reader_may_list_describe_and_read_logs_of_the_watched_kinds_and_nothing_else(spokes: Spokes) -> None:
    stackset = spokes.templates["GtwatchSpoke"]
    assert reader_grants(stackset) == expected_reads(["us-east-1", "eu-west-1", "us-west-2"])
    assert reader_grants(spokes.templates[f"GtwatchSpoke-{PROD}-us-west-2"]) == expected_reads(["us-west-2"], PROD)
    assert reader_grants(spokes.templates[f"GtwatchSpoke-{RESEARCH}-us-east-1"]) == expected_reads(
        ["us-east-1", "eu-west-1"], RESEARCH
    )


def test_the_stackset_template_makes_the_reader_in_its_first_region_and_needs_no_bootstrap(spokes: Spokes) -> None:
    stackset = spokes.templates["GtwatchSpoke"]
    assert stackset["Conditions"] == {"ReaderRegion": {"Fn::Equals": [{"Ref": "AWS::Region"}, "us-east-1"]}}
    reader = reader_role(stackset)
    assert reader["Condition"] == "ReaderRegion"
    (policy,) = [
        p
        for p in resources(stackset, "AWS::IAM::Policy")
        if p["Properties"]["Roles"] == [{"Ref": logical(stackset, reader)}]
    ]
    assert policy["Condition"] == "ReaderRegion"
    assert "Parameters" not in stackset and "Rules" not in stackset


def test_every_spoke_stack_forwards_the_watched_events_to_the_hub_bus_with_a_role_for_that_alone(
    spokes: Spokes,
) -> None:
    for name, template in spokes.templates.items():
        (rule,) = resources(template, "AWS::Events::Rule")
        properties = render(rule["Properties"])
        assert properties["EventPattern"] == {"source": ["aws.sagemaker"], "detail-type": DETAIL_TYPES}, name
        assert "EventBusName" not in properties  # the default bus, where SageMaker's events land
        (target,) = properties["Targets"]
        assert target["Arn"] == HUB_BUS
        (forwarder,) = [role for role in resources(template, "AWS::IAM::Role") if "RoleName" not in role["Properties"]]
        assert target["RoleArn"] == f"${{{logical(template, forwarder)}.Arn}}"
        assert forwarder["Properties"]["AssumeRolePolicyDocument"]["Statement"] == [
            {"Action": "sts:AssumeRole", "Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"}}
        ]
        (policy,) = [
            p
            for p in resources(template, "AWS::IAM::Policy")
            if p["Properties"]["Roles"] == [{"Ref": logical(template, forwarder)}]
        ]
        assert render(policy["Properties"]["PolicyDocument"]["Statement"]) == [
            {"Action": "events:PutEvents", "Effect": "Allow", "Resource": HUB_BUS}
        ]


def test_cdk_nag_passes_on_every_spoke_with_each_finding_acknowledged_on_the_reader_policy(spokes: Spokes) -> None:
    (report,) = [r for r in spokes.validation_report["pluginReports"] if r["pluginName"] == "AwsSolutions"]
    assert report["conclusion"] == "success"
    assert report["violations"] == []
    suppressed = report["suppressedViolations"]
    assert {finding["acknowledgedAt"].split("/", 1)[1] for finding in suppressed} == {"Reader/ReadJobs"}
    for finding in suppressed:
        assert [c["constructPath"] for c in finding["violatingConstructs"]] == [f"{finding['acknowledgedAt']}/Resource"]
        assert len(finding["reason"]) > 60, finding
    stackset = {f["ruleName"] for f in suppressed if f["acknowledgedAt"].startswith("GtwatchSpoke/")}
    assert "AwsSolutions-IAM5[Resource::*]" in stackset
    assert (
        "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:sagemaker:us-west-2:<AWS::AccountId>:training-job/*]"
        in stackset
    )


def test_the_spoke_app_without_accounts_stops_with_one_line(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("CDK_CONTEXT_JSON", raising=False)
    monkeypatch.setenv("CDK_OUTDIR", str(tmp_path))
    monkeypatch.setattr(spoke_app, "cdk_json_context", lambda: {"gtwatch": {}})
    with pytest.raises(SystemExit) as stopped:
        spoke_app.main()
    assert str(stopped.value) == (
        "gtwatch: gtwatch.accounts: not set; a spoke forwards to the hub in the home account, the first of "
        "gtwatch.accounts"
    )


@pytest.mark.parametrize("name", ["GtwatchSpoke", f"GtwatchSpoke-{RESEARCH}-us-east-1"])
def test_cfn_lint_finds_no_error_in_a_spoke(spokes: Spokes, name: str) -> None:
    matches = lint(json.dumps(spokes.templates[name]), config=ManualArgs(regions=["us-east-1", "eu-west-1"]))
    assert [str(match) for match in matches] == []
