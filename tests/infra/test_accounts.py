"""Many accounts on the hub's side: the `accounts` settings and their mistakes, the hub's event bus taking events from
the listed accounts only, the watching roles that may assume exactly the spokes' roles, and what the functions are
told (GTWATCH_ACCOUNTS, the external ID, the routes' accounts)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from aws_cdk.assertions import Template
from cfnlint.api import ManualArgs, lint  # type: ignore[import-untyped]

import app as gtwatch_app
from infra.config import ConfigError, parse_config
from tests.infra.queries import (
    DIGEST_HANDLER,
    EVENT_HANDLER,
    HANDLERS,
    POLLER_HANDLER,
    SLACK_HANDLER,
    WATCH_START_HANDLER,
    arn_of,
    function_id,
    function_props,
    grants,
    render,
    role_id,
)
from tests.infra.stacks import Synthesized, synth
from tests.infra.test_checks import TOLERATED_CFN_LINT_RULES, nag_report

HOME, RESEARCH, PROD = "123456789012", "111111111111", "222222222222"
ACCOUNTS: list[dict[str, Any]] = [
    {"id": HOME, "alias": "ml-shared", "regions": ["us-east-1", "eu-west-1"]},
    {"id": RESEARCH, "alias": "research", "regions": ["us-east-1", "eu-west-1"]},
    {"id": PROD, "alias": "prod", "regions": ["us-west-2"]},
]
ROUTES: list[dict[str, Any]] = [
    {"channel": "#prod-ml", "events": ["failed", "stalled"], "accounts": ["prod", RESEARCH], "kinds": ["training"]},
    {"channel": "#labeling", "events": ["completed", "failed"]},
]
# The public Version 3 example, with an external ID, a digest and app mode.
HUB: dict[str, Any] = {
    "kinds": ["labeling", "training"],
    "accounts": ACCOUNTS,
    "spoke_external_id": "gtwatch-7f3a",
    "slack": {"mode": "app", "routes": ROUTES},
    "digest": {"at": "08:00", "timezone": "Europe/Berlin", "channels": ["email"]},
}
ORGANIZATION = "o-a1b2c3d4e5"
HUB_IN_ORGANIZATION: dict[str, Any] = {"accounts": ACCOUNTS, "organization_id": ORGANIZATION}
SPOKE_ROLE = "arn:${{AWS::Partition}}:iam::{account}:role/gtwatch-spoke-reader"
DETAIL_TYPES = ["SageMaker Ground Truth Labeling Job State Change", "SageMaker Training Job State Change"]


@pytest.fixture(scope="module")
def hub_synth(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    return synth(tmp_path_factory.mktemp("hub"), HUB)


@pytest.fixture(scope="module")
def hub(hub_synth: Synthesized) -> Template:
    return hub_synth.template


@pytest.fixture(scope="module")
def hub_in_organization_synth(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    return synth(tmp_path_factory.mktemp("hub-org"), HUB_IN_ORGANIZATION)


def bus_policy(template: Template) -> dict[str, Any]:
    (policy,) = template.find_resources("AWS::Events::EventBusPolicy").values()
    statement: dict[str, Any] = render(policy["Properties"]["Statement"])
    return statement


def rules_on_the_bus(template: Template) -> list[dict[str, Any]]:
    bus = next(iter(template.find_resources("AWS::Events::EventBus")))
    rules = template.find_resources("AWS::Events::Rule", {"Properties": {"EventBusName": {"Ref": bus}}})
    return [rule["Properties"] for rule in rules.values()]


# --- the settings --------------------------------------------------------------------------------------------------


ACCOUNT_MISTAKES: list[tuple[dict[str, Any], str]] = [
    ({"accounts": []}, "gtwatch.accounts: [] is not a non-empty list of accounts like"),
    ({"accounts": [{"id": 111111111111, "regions": ["us-east-1"]}]}, "gtwatch.accounts[0].id: 111111111111 is not a"),
    ({"accounts": [{"regions": ["us-east-1"]}]}, "gtwatch.accounts[0].id: required: a 12-digit AWS account id"),
    (
        {"accounts": [{"id": HOME, "alias": "222222222222", "regions": ["us-east-1"]}]},
        "gtwatch.accounts[0].alias: '222222222222' is not an alias of 1 to 63 letters, digits, dots, hyphens or "
        "underscores, starting with a letter or digit, that is not a 12-digit number",
    ),
    ({"accounts": [{"id": HOME}]}, "gtwatch.accounts[0].regions: required: a non-empty list of region names"),
    (
        {"accounts": [{"id": HOME, "regions": ["us-east-7"]}]},
        "gtwatch.accounts[0].regions[0]: 'us-east-7' is not a region where SageMaker runs",
    ),
    (
        {"accounts": [{"id": HOME, "regions": ["us-east-1", "us-east-1"]}]},
        "gtwatch.accounts[0].regions: 'us-east-1' is listed twice",
    ),
    (
        {"accounts": [{"id": HOME, "regions": ["us-east-1"], "role": "x"}]},
        "gtwatch.accounts[0].role: not an account setting (id, alias, regions)",
    ),
    (
        {"accounts": [ACCOUNTS[0], {**ACCOUNTS[1], "id": HOME}]},
        "gtwatch.accounts[1].id: '123456789012' is listed twice",
    ),
    (
        {"accounts": [ACCOUNTS[0], {**ACCOUNTS[1], "alias": "ml-shared"}]},
        "gtwatch.accounts[1].alias: 'ml-shared' is listed twice",
    ),
    (
        {"accounts": ACCOUNTS, "regions": ["us-east-1"]},
        "gtwatch.regions: not read when gtwatch.accounts is set; list the home account's regions in "
        "gtwatch.accounts[0].regions",
    ),
    (
        {"accounts": ACCOUNTS, "slack": {"mode": "app", "routes": [{**ROUTES[1], "accounts": ["staging"]}]}},
        "gtwatch.slack.routes[0].accounts[0]: 'staging' is not a listed account (gtwatch.accounts lists ml-shared, "
        "research, prod)",
    ),
    (
        {"accounts": ACCOUNTS, "slack": {"mode": "app", "routes": [{**ROUTES[1], "accounts": []}]}},
        "gtwatch.slack.routes[0].accounts: [] is not a non-empty list of listed accounts' ids or aliases",
    ),
    (
        {"accounts": ACCOUNTS, "slack": {"mode": "app", "routes": [{**ROUTES[1], "accounts": ["prod", PROD]}]}},
        "gtwatch.slack.routes[0].accounts: '222222222222' names an account listed earlier in the route",
    ),
    (
        {"accounts": ACCOUNTS[:1], "spoke_external_id": "gtwatch-7f3a"},
        "gtwatch.spoke_external_id: only for spokes, and gtwatch.accounts lists no account but the home one",
    ),
]


@pytest.mark.parametrize(("raw", "message"), ACCOUNT_MISTAKES)
def test_an_accounts_mistake_is_refused_in_one_line_naming_the_key(raw: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError) as raised:
        parse_config(raw)
    text = str(raised.value)
    assert message in text
    assert "\n" not in text


def test_a_hundred_account_regions_fit_the_functions_environment() -> None:
    regions = ["us-east-1", "us-west-2", "eu-west-1", "eu-central-1"]
    accounts = [{"id": f"{index + 100:012d}", "alias": f"team-{index}", "regions": regions} for index in range(25)]
    assert len((parse_config({"accounts": accounts}).accounts_env("aws") or "").encode()) <= 2800


def test_too_many_accounts_for_the_functions_environment_say_so() -> None:
    many = [{"id": f"{index:012d}", "alias": f"team-{index}", "regions": ["us-east-1"]} for index in range(60)]
    with pytest.raises(ConfigError, match=r"bytes as the watching functions' GTWATCH_ACCOUNTS, over 2800 \(Lambda"):
        parse_config({"accounts": many})


def test_a_routes_accounts_reach_the_notifier_as_ids_in_the_listed_order() -> None:
    config = parse_config(HUB)
    assert json.loads(config.slack_routes_json) == [
        {
            "channel": "#prod-ml",
            "events": ["failed", "stalled"],
            "kinds": ["training"],
            "accounts": [RESEARCH, PROD],
        },
        {"channel": "#labeling", "events": ["completed", "failed"]},
    ]


def test_the_effective_configuration_lists_the_accounts() -> None:
    effective = parse_config(HUB).effective("us-east-1")
    assert effective["regions"] == ["us-east-1", "eu-west-1"]
    assert effective["accounts"] == [{**account} for account in ACCOUNTS]
    assert "accounts" not in parse_config({}).effective("us-east-1")


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        (
            {"CDK_DEFAULT_ACCOUNT": PROD, "CDK_DEFAULT_REGION": "us-east-1"},
            "gtwatch: gtwatch.accounts[0].id: '123456789012' is the home account, where the hub is deployed, but the "
            "credentials are for 222222222222; deploy with the home account's credentials (or list this account first)",
        ),
        (
            {"CDK_DEFAULT_ACCOUNT": HOME, "CDK_DEFAULT_REGION": "eu-west-1"},
            "gtwatch: gtwatch.accounts[0].regions[0]: 'us-east-1' is where the hub is deployed (the spokes forward "
            "there), but the CDK would deploy to eu-west-1; pass --profile or set AWS_REGION to us-east-1",
        ),
    ],
    ids=["account", "region"],
)
def test_the_hub_deployed_outside_the_home_account_or_region_stops_the_app(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, environ: dict[str, str], message: str
) -> None:
    monkeypatch.delenv("CDK_CONTEXT_JSON", raising=False)
    monkeypatch.setenv("CDK_OUTDIR", str(tmp_path))
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(gtwatch_app, "cdk_json_context", lambda: {"gtwatch": {"accounts": ACCOUNTS}})
    with pytest.raises(SystemExit) as stopped:
        gtwatch_app.main()
    assert str(stopped.value) == message


# --- the hub's event bus --------------------------------------------------------------------------------------------


def test_the_hub_bus_takes_events_from_the_listed_accounts_only(hub: Template) -> None:
    (bus,) = hub.find_resources("AWS::Events::EventBus").values()
    assert bus["Properties"] == {"Name": "gtwatch-hub"}
    assert bus_policy(hub) == {
        "Sid": "cdk-ListedAccountsPutEvents",
        "Effect": "Allow",
        "Action": "events:PutEvents",
        "Principal": {"AWS": [f"arn:${{AWS::Partition}}:iam::{account}:root" for account in (HOME, RESEARCH, PROD)]},
        "Resource": f"${{{next(iter(hub.find_resources('AWS::Events::EventBus')))}.Arn}}",
    }


def test_in_an_organization_the_bus_also_requires_it_and_still_lists_the_accounts(
    hub_in_organization_synth: Synthesized,
) -> None:
    statement = bus_policy(hub_in_organization_synth.template)
    assert statement["Condition"] == {"StringEquals": {"aws:PrincipalOrgID": ORGANIZATION}}
    assert statement["Principal"] == {
        "AWS": [f"arn:${{AWS::Partition}}:iam::{account}:root" for account in (HOME, RESEARCH, PROD)]
    }


def test_the_bus_hands_the_spokes_events_and_the_home_accounts_other_regions_to_the_event_handler(
    hub: Template,
) -> None:
    handler = arn_of(hub, "AWS::Lambda::Function", {"Handler": EVENT_HANDLER})
    patterns = sorted((rule["EventPattern"] for rule in rules_on_the_bus(hub)), key=lambda p: p["account"])
    assert patterns == [
        {"source": ["aws.sagemaker"], "detail-type": DETAIL_TYPES, "account": [RESEARCH, PROD]},
        {"source": ["aws.sagemaker"], "detail-type": DETAIL_TYPES, "account": [HOME], "region": ["eu-west-1"]},
    ]
    for rule in rules_on_the_bus(hub):
        assert [target["Arn"] for target in rule["Targets"]] == [handler]
    # The home region's own events still come by the default bus.
    default_rules = [
        rule for rule in hub.find_resources("AWS::Events::Rule").values() if "EventBusName" not in rule["Properties"]
    ]
    assert {json.dumps(rule["Properties"].get("EventPattern")) for rule in default_rules} >= {
        json.dumps({"detail-type": DETAIL_TYPES, "source": ["aws.sagemaker"]})
    }


def test_a_single_account_deployment_has_no_hub_bus(default: Template) -> None:
    assert default.find_resources("AWS::Events::EventBus") == {}
    assert default.find_resources("AWS::Events::EventBusPolicy") == {}


# --- reading the spokes ---------------------------------------------------------------------------------------------


def test_the_watching_roles_may_assume_exactly_the_spokes_roles_with_the_external_id(hub: Template) -> None:
    when = json.dumps({"StringEquals": {"sts:ExternalId": "gtwatch-7f3a"}}, sort_keys=True)
    expected = {
        (("sts:AssumeRole",), f"{SPOKE_ROLE.format(account=account)} when {when}") for account in (RESEARCH, PROD)
    }
    for handler in (POLLER_HANDLER, EVENT_HANDLER):
        assert {grant for grant in grants(hub, handler) if "sts:AssumeRole" in grant[0]} == expected
    for handler in (SLACK_HANDLER, WATCH_START_HANDLER, DIGEST_HANDLER):
        assert not any(action.startswith("sts:") for actions, _ in grants(hub, handler) for action in actions)


def test_without_an_external_id_the_grant_has_no_condition(hub_in_organization_synth: Synthesized) -> None:
    template = hub_in_organization_synth.template
    assert {grant for grant in grants(template, POLLER_HANDLER) if "sts:AssumeRole" in grant[0]} == {
        (("sts:AssumeRole",), SPOKE_ROLE.format(account=account)) for account in (RESEARCH, PROD)
    }


def test_only_the_roles_that_read_spokes_are_under_the_path_the_spokes_trust(hub: Template) -> None:
    resources = hub.to_json()["Resources"]
    paths = {
        handler: resources[role_id(hub, handler)]["Properties"].get("Path") for handler in (*HANDLERS, DIGEST_HANDLER)
    }
    assert paths == {
        POLLER_HANDLER: "/gtwatch-hub/",
        EVENT_HANDLER: "/gtwatch-hub/",
        SLACK_HANDLER: None,
        WATCH_START_HANDLER: None,
        DIGEST_HANDLER: None,
    }


def test_the_event_handler_describes_jobs_in_every_home_region(hub: Template) -> None:
    describes = {
        resource for actions, resource in grants(hub, EVENT_HANDLER) if actions == ("sagemaker:DescribeLabelingJob",)
    }
    assert describes == {
        f"arn:${{AWS::Partition}}:sagemaker:{region}:${{AWS::AccountId}}:labeling-job/*"
        for region in ("us-east-1", "eu-west-1")
    }


# --- what the functions are told ------------------------------------------------------------------------------------


def test_the_watching_functions_are_told_the_accounts_and_the_external_id(hub: Template) -> None:
    expected = [
        {"id": HOME, "alias": "ml-shared", "regions": ["us-east-1", "eu-west-1"]},
        # A spoke's role ARN is derived from its id by the functions (shorter: more accounts fit Lambda's 4 KB).
        {"id": RESEARCH, "alias": "research", "regions": ["us-east-1", "eu-west-1"]},
        {"id": PROD, "alias": "prod", "regions": ["us-west-2"]},
    ]
    for handler in (POLLER_HANDLER, EVENT_HANDLER, WATCH_START_HANDLER):
        variables = function_props(hub, handler)["Environment"]["Variables"]
        assert json.loads(render(variables["GTWATCH_ACCOUNTS"])) == expected
        assert variables["GTWATCH_SPOKE_EXTERNAL_ID"] == "gtwatch-7f3a"
        assert variables["GTWATCH_REGIONS"] == "us-east-1,eu-west-1"
    digest = function_props(hub, DIGEST_HANDLER)["Environment"]["Variables"]
    assert json.loads(render(digest["GTWATCH_ACCOUNTS"])) == expected
    notifier = function_props(hub, SLACK_HANDLER)["Environment"]["Variables"]
    assert "GTWATCH_ACCOUNTS" not in notifier
    assert json.loads(notifier["GTWATCH_SLACK_ROUTES"])[0]["accounts"] == [RESEARCH, PROD]


def test_listing_an_account_runs_the_watch_start_again(hub: Template) -> None:
    (record,) = hub.find_resources("Custom::GtwatchWatchStart").values()
    properties = record["Properties"]
    assert properties["Regions"] == "us-east-1,eu-west-1"
    assert [account["id"] for account in json.loads(render(properties["Accounts"]))] == [HOME, RESEARCH, PROD]
    assert properties["ServiceToken"] == arn_of(hub, "AWS::Lambda::Function", {"Handler": WATCH_START_HANDLER})
    assert function_id(hub, WATCH_START_HANDLER)


# --- cdk-nag --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("synthesized_name", ["hub_synth", "hub_in_organization_synth"])
def test_cdk_nag_passes_on_the_hub_with_every_finding_acknowledged_where_it_is(
    request: pytest.FixtureRequest, synthesized_name: str
) -> None:
    report = nag_report(request.getfixturevalue(synthesized_name))
    assert report["conclusion"] == "success"
    assert report["violations"] == []
    for finding in report["suppressedViolations"]:
        assert [c["constructPath"] for c in finding["violatingConstructs"]] == [f"{finding['acknowledgedAt']}/Resource"]
        assert len(finding["reason"]) > 60, finding
        assert not finding["acknowledgedAt"].startswith("Gtwatch/Hub"), finding


def test_cfn_lint_finds_no_error_in_the_hub(hub: Template) -> None:
    matches = lint(json.dumps(hub.to_json()), config=ManualArgs(regions=["us-east-1", "eu-west-1"]))
    assert [str(m) for m in matches if m.rule.id not in TOLERATED_CFN_LINT_RULES] == []


def test_an_unreadable_spoke_has_an_alarm_of_its_own(hub: Template) -> None:
    alarms = hub.find_resources("AWS::CloudWatch::Alarm")
    [alarm] = [a["Properties"] for a in alarms.values() if a["Properties"]["MetricName"] == "AccountsUnreadable"]

    assert alarm["AlarmName"].endswith("-account-unreadable")
    assert (alarm["Threshold"], alarm["ComparisonOperator"], alarm["EvaluationPeriods"]) == (
        1,
        "GreaterThanOrEqualToThreshold",
        1,
    )
    assert "names the account" in alarm["AlarmDescription"]
