"""Every synthesis passes cdk-nag's AwsSolutions pack (each exception acknowledged, with its reason) and the
template passes cfn-lint; a bad configuration stops the app before anything is built."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import aws_sqs as sqs
from aws_cdk.assertions import Template
from cfnlint.api import ManualArgs, lint  # type: ignore[import-untyped]

import app as gtwatch_app
from infra.context import cdk_json_context
from tests.infra.stacks import NO_BUNDLING, Synthesized, build

# cdk-nag findings the default stack accepts, and where: each acknowledged on the narrowest construct it concerns.
ACKNOWLEDGED = {
    ("AwsSolutions-SMG4", "Gtwatch/Notifications/SlackWebhookSecret"),
    ("AwsSolutions-IAM5[Resource::*]", "Gtwatch/Polling/ListJobsPolicy"),
    (
        "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:sagemaker:<AWS::Region>:<AWS::AccountId>:labeling-job/*]",
        "Gtwatch/Polling/Poller/Role/DefaultPolicy",
    ),
    (
        "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:sagemaker:<AWS::Region>:<AWS::AccountId>:labeling-job/*]",
        "Gtwatch/Polling/EventHandler/Role/DefaultPolicy",
    ),
}
# With `tracing: true`, X-Ray's two actions on "*" in each function role (X-Ray has no resource types).
TRACING_ACKNOWLEDGED = {
    ("AwsSolutions-IAM5[Resource::*]", "Gtwatch/Notifications/SlackNotifier/Role/DefaultPolicy"),
    ("AwsSolutions-IAM5[Resource::*]", "Gtwatch/Polling/Poller/Role/DefaultPolicy"),
    ("AwsSolutions-IAM5[Resource::*]", "Gtwatch/Polling/EventHandler/Role/DefaultPolicy"),
}
# CDK makes each function depend on its role explicitly although the Role attribute already does; harmless.
TOLERATED_CFN_LINT_RULES = {"W3005"}


def nag_report(synthesized: Synthesized) -> dict[str, Any]:
    reports = [r for r in synthesized.validation_report["pluginReports"] if r["pluginName"] == "AwsSolutions"]
    assert len(reports) == 1
    report: dict[str, Any] = reports[0]
    return report


@pytest.mark.parametrize("synthesized_name", ["default_synth", "custom_synth", "app_synth", "all_kinds_synth"])
def test_cdk_nag_leaves_no_finding_unacknowledged(request: pytest.FixtureRequest, synthesized_name: str) -> None:
    report = nag_report(request.getfixturevalue(synthesized_name))
    assert report["conclusion"] == "success"
    assert report["violations"] == []


def test_each_acknowledged_finding_is_specific_and_says_why(default_synth: Synthesized) -> None:
    suppressed = nag_report(default_synth)["suppressedViolations"]
    assert {(s["ruleName"], s["acknowledgedAt"]) for s in suppressed} == ACKNOWLEDGED
    for finding in suppressed:
        # One construct each, never the whole stack.
        assert [c["constructPath"] for c in finding["violatingConstructs"]] == [f"{finding['acknowledgedAt']}/Resource"]
        assert len(finding["reason"]) > 60, finding


def test_app_mode_acknowledges_the_unrotatable_bot_token_secret_instead_of_the_webhook(app_synth: Synthesized) -> None:
    suppressed = {(s["ruleName"], s["acknowledgedAt"]) for s in nag_report(app_synth)["suppressedViolations"]}
    assert suppressed == {
        *(finding for finding in ACKNOWLEDGED if finding[0] != "AwsSolutions-SMG4"),
        ("AwsSolutions-SMG4", "Gtwatch/Notifications/SlackBotTokenSecret"),
    }


def test_tracing_acknowledges_x_ray_in_each_function_role(custom_synth: Synthesized) -> None:
    suppressed = {(s["ruleName"], s["acknowledgedAt"]) for s in nag_report(custom_synth)["suppressedViolations"]}
    assert suppressed >= TRACING_ACKNOWLEDGED


def test_a_configured_region_gets_its_own_acknowledged_describe_finding(custom_synth: Synthesized) -> None:
    rules = {s["ruleName"] for s in nag_report(custom_synth)["suppressedViolations"]}
    for region in ("us-east-1", "eu-west-1"):
        assert (
            f"AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:sagemaker:{region}:<AWS::AccountId>:labeling-job/*]"
            in rules
        )


def test_each_watched_kind_gets_its_own_acknowledged_findings(all_kinds_synth: Synthesized) -> None:
    suppressed = nag_report(all_kinds_synth)["suppressedViolations"]
    found = {(s["ruleName"], s["acknowledgedAt"]) for s in suppressed}
    poller, handler = "Gtwatch/Polling/Poller/Role/DefaultPolicy", "Gtwatch/Polling/EventHandler/Role/DefaultPolicy"
    resources = (
        "labeling-job/*",
        "training-job/*",
        "processing-job/*",
        "transform-job/*",
        "hyper-parameter-tuning-job/*",
        "pipeline/*/execution/*",
    )
    for resource in resources:
        for region in ("us-east-1", "eu-west-1"):
            arn = f"arn:<AWS::Partition>:sagemaker:{region}:<AWS::AccountId>:{resource}"
            assert (f"AwsSolutions-IAM5[Resource::{arn}]", poller) in found
        arn = f"arn:<AWS::Partition>:sagemaker:<AWS::Region>:<AWS::AccountId>:{resource}"
        assert (f"AwsSolutions-IAM5[Resource::{arn}]", handler) in found
    for group in ("TrainingJobs", "ProcessingJobs", "TransformJobs"):
        for region in ("us-east-1", "eu-west-1"):
            prefix = f"arn:<AWS::Partition>:logs:{region}:<AWS::AccountId>:log-group:/aws/sagemaker/{group}"
            assert (f"AwsSolutions-IAM5[Resource::{prefix}:*]", poller) in found
            assert (f"AwsSolutions-IAM5[Resource::{prefix}:log-stream:*]", poller) in found
    assert ("AwsSolutions-IAM5[Resource::*]", "Gtwatch/Polling/ListJobsPolicy") in found
    for finding in suppressed:
        assert [c["constructPath"] for c in finding["violatingConstructs"]] == [f"{finding['acknowledgedAt']}/Resource"]
        assert len(finding["reason"]) > 60, finding


@pytest.mark.parametrize(
    ("gtwatch", "message"),
    [
        (
            {"kinds": ["labeling", "trainng"]},
            "gtwatch: invalid gtwatch configuration: gtwatch.kinds[1]: 'trainng' is not a job kind; the kinds are "
            "labeling, training, processing, transform, tuning, pipeline; did you mean training?",
        ),
        (
            {"kinds": ["training", "pipeline"], "stall_after_minutes": {"training": 30, "pipeline": 60}},
            "gtwatch: invalid gtwatch configuration: gtwatch.stall_after_minutes.pipeline: a pipeline execution never "
            "stalls (its steps' jobs can, as jobs of their own kind, with their own kind's stall_after_minutes); "
            "leave pipeline out",
        ),
        (
            {"slack": {"mode": "app", "routes": [{"channel": "#ml", "events": ["failed"], "kinds": ["training"]}]}},
            "gtwatch: invalid gtwatch configuration: gtwatch.slack.routes[0].kinds: 'training' is not watched "
            "(gtwatch.kinds is labeling); add it to gtwatch.kinds or leave it out here",
        ),
    ],
    ids=["kind", "pipeline-stall", "route-kind"],
)
def test_a_kinds_mistake_stops_the_app_at_synthesis_with_one_line(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, gtwatch: dict[str, Any], message: str
) -> None:
    monkeypatch.delenv("CDK_CONTEXT_JSON", raising=False)
    monkeypatch.setenv("CDK_OUTDIR", str(tmp_path))
    monkeypatch.setattr(gtwatch_app, "cdk_json_context", lambda: {"gtwatch": gtwatch, **NO_BUNDLING})
    with pytest.raises(SystemExit) as stopped:
        gtwatch_app.main()
    assert str(stopped.value) == message


def test_an_unacknowledged_finding_fails_synthesis(tmp_path: Path) -> None:
    _, stack = build(outdir=tmp_path)
    sqs.Queue(stack, "UnencryptedQueueWithoutDeadLetters")
    with pytest.raises(RuntimeError, match=r"(?s)ValidationFailed: .*AwsSolutions-SQS3"):
        Template.from_stack(stack)
    report = json.loads((tmp_path / "validation-report.json").read_text(encoding="utf-8"))
    (nag,) = report["pluginReports"]
    assert {v["ruleName"] for v in nag["violations"]} >= {"AwsSolutions-SQS3", "AwsSolutions-SQS4"}


@pytest.mark.parametrize("template_name", ["default", "custom", "app"])
def test_cfn_lint_finds_no_error(request: pytest.FixtureRequest, template_name: str) -> None:
    template: Template = request.getfixturevalue(template_name)
    matches = lint(json.dumps(template.to_json()), config=ManualArgs(regions=["us-east-1", "eu-west-1"]))
    assert [str(m) for m in matches if m.rule.id not in TOLERATED_CFN_LINT_RULES] == []


def test_a_bad_setting_stops_the_app_with_the_keys_message(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # cdk.json as the app reads it when run alone. (CDK_CONTEXT_JSON cannot be used here: the jsii runtime
    # that App reads it from was started, with its environment, before this test.)
    monkeypatch.delenv("CDK_CONTEXT_JSON", raising=False)
    monkeypatch.setenv("CDK_OUTDIR", str(tmp_path))
    monkeypatch.setattr(gtwatch_app, "cdk_json_context", lambda: {"gtwatch": {"schedule_minutes": 0}, **NO_BUNDLING})
    with pytest.raises(SystemExit) as stopped:
        gtwatch_app.main()
    assert str(stopped.value) == (
        "gtwatch: invalid gtwatch configuration: gtwatch.schedule_minutes: 0 is not a whole number of minutes "
        "from 1 to 1440"
    )


def test_a_setting_passed_as_its_own_context_key_stops_the_app_naming_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # What `cdk synth -c gtwatch.schedule_minutes=10` adds to cdk.json's context.
    monkeypatch.delenv("CDK_CONTEXT_JSON", raising=False)
    monkeypatch.setenv("CDK_OUTDIR", str(tmp_path))
    context = {"gtwatch": {"schedule_minutes": 5}, "gtwatch.schedule_minutes": "10", **NO_BUNDLING}
    monkeypatch.setattr(gtwatch_app, "cdk_json_context", lambda: context)
    with pytest.raises(SystemExit) as stopped:
        gtwatch_app.main()
    assert str(stopped.value).startswith("gtwatch: gtwatch.schedule_minutes: not read: the settings are the one")


def test_settings_that_are_not_an_object_stop_the_app_naming_gtwatch_once(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("CDK_CONTEXT_JSON", raising=False)
    monkeypatch.setenv("CDK_OUTDIR", str(tmp_path))
    monkeypatch.setattr(gtwatch_app, "cdk_json_context", lambda: {"gtwatch": 5, **NO_BUNDLING})
    with pytest.raises(SystemExit) as stopped:
        gtwatch_app.main()
    assert str(stopped.value) == (
        "gtwatch: the gtwatch settings must be a mapping (an object of settings in cdk.json's context), got 5"
    )


def test_a_cdk_json_that_is_not_json_stops_the_app_with_one_line(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    broken = tmp_path / "cdk.json"
    broken.write_text('{"context": {"gtwatch": {"schedule_minutes": 5}}\n')
    monkeypatch.delenv("CDK_CONTEXT_JSON", raising=False)
    monkeypatch.setattr(gtwatch_app, "cdk_json_context", lambda: cdk_json_context(broken))
    with pytest.raises(SystemExit) as stopped:
        gtwatch_app.main()
    assert str(stopped.value) == f"gtwatch: {broken}:2:1: not valid JSON: Expecting ',' delimiter"


def test_the_cdk_cli_runs_the_app_with_the_projects_virtualenv() -> None:
    cdk_json = json.loads((Path(gtwatch_app.__file__).parent / "cdk.json").read_text(encoding="utf-8"))
    assert cdk_json["app"] == ".venv/bin/python app.py"
