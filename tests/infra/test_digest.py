"""The daily digest: run by EventBridge Scheduler at the configured local time, allowed to read the state and the
queue depths and to send, nothing more; absent unless configured."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_cdk.assertions import Match, Template
from cfnlint.api import ManualArgs, lint  # type: ignore[import-untyped]
from watcher.domain.contract import DIGEST_EVENT_TYPE
from watcher.domain.env import Env

from tests.infra.queries import (
    DEAD_LETTER_QUEUE,
    DIGEST_HANDLER,
    POLLER_HANDLER,
    SLACK_QUEUE,
    STATE_TABLE,
    arn_of,
    function_id,
    function_props,
    grants,
    key_arn,
    logical_id,
    only,
    ref,
)
from tests.infra.stacks import DIGEST, Synthesized, synth
from tests.infra.test_checks import ACKNOWLEDGED, TOLERATED_CFN_LINT_RULES, nag_report

SCHEDULER_PRINCIPAL = {"Service": "scheduler.amazonaws.com"}


def scheduler_role_id(template: Template) -> str:
    return logical_id(
        template,
        "AWS::IAM::Role",
        {"AssumeRolePolicyDocument": {"Statement": [Match.object_like({"Principal": SCHEDULER_PRINCIPAL})]}},
    )


def schedule(template: Template) -> Any:
    return only(template, "AWS::Scheduler::Schedule")["Properties"]


def email_filters(template: Template) -> list[Any]:
    topic = ref(template, "AWS::SNS::Topic", {"TopicName": "Gtwatch-notifications"})
    emails = template.find_resources("AWS::SNS::Subscription", {"Properties": {"Protocol": "email", "TopicArn": topic}})
    return [email["Properties"]["FilterPolicy"] for email in emails.values()]


# --- nothing by default ----------------------------------------------------------------------------------


@pytest.mark.parametrize("template_name", ["default", "custom", "app"])
def test_without_a_digest_setting_there_is_no_digest(request: pytest.FixtureRequest, template_name: str) -> None:
    template: Template = request.getfixturevalue(template_name)
    template.resource_count_is("AWS::Scheduler::Schedule", 0)
    assert template.find_resources("AWS::Lambda::Function", {"Properties": {"Handler": DIGEST_HANDLER}}) == {}
    assert all(
        role["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] != SCHEDULER_PRINCIPAL
        for role in template.find_resources("AWS::IAM::Role").values()
    )
    assert all(DIGEST_EVENT_TYPE not in policy["event_type"] for policy in email_filters(template))
    assert not template.find_resources("AWS::CloudWatch::Alarm", {"Properties": {"AlarmName": "Gtwatch-digest-errors"}})


def test_a_digest_adds_eight_resources(default: Template, digest: Template) -> None:
    # The function, its role, policy, log group and invoke config; the schedule and its role; the alarm. Beside
    # them, DIGEST's two email subscriptions (the default stack has no address).
    assert len(digest.to_json()["Resources"]) == len(default.to_json()["Resources"]) + 8 + 2


# --- the schedule ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("template_name", "expression", "timezone"),
    [("digest", "cron(5 7 * * ? *)", "America/New_York"), ("digest_app", "cron(30 18 * * ? *)", "Asia/Kolkata")],
)
def test_the_digest_runs_every_day_at_the_configured_time_in_the_configured_zone(
    request: pytest.FixtureRequest, template_name: str, expression: str, timezone: str
) -> None:
    template: Template = request.getfixturevalue(template_name)
    props = schedule(template)
    # minutes hours day-of-month month day-of-week year: every day; Scheduler follows the zone's daylight saving.
    assert props["ScheduleExpression"] == expression
    assert props["ScheduleExpressionTimezone"] == timezone
    # At the minute asked for, not anywhere in a window after it.
    assert props["FlexibleTimeWindow"] == {"Mode": "OFF"}
    assert props["State"] == "ENABLED"
    assert props["Target"]["Arn"] == arn_of(template, "AWS::Lambda::Function", {"Handler": DIGEST_HANDLER})
    assert props["Target"]["RoleArn"] == {"Fn::GetAtt": [scheduler_role_id(template), "Arn"]}


def test_the_digest_is_told_when_it_was_due_and_a_late_invocation_is_dropped_after_an_hour(digest: Template) -> None:
    target = schedule(digest)["Target"]
    assert json.loads(target["Input"]) == {
        "scheduled_time": "<aws.scheduler.scheduled-time>",
        "execution_id": "<aws.scheduler.execution-id>",
    }
    assert target["RetryPolicy"] == {"MaximumEventAgeInSeconds": 3600}


def test_only_this_accounts_schedules_may_use_the_scheduler_role_and_only_to_invoke_the_digest(
    digest: Template,
) -> None:
    role_id = scheduler_role_id(digest)
    role = digest.to_json()["Resources"][role_id]["Properties"]
    assert role["AssumeRolePolicyDocument"]["Statement"] == [
        {
            "Action": "sts:AssumeRole",
            "Effect": "Allow",
            "Principal": SCHEDULER_PRINCIPAL,
            "Condition": {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}},
        }
    ]
    assert "ManagedPolicyArns" not in role
    statements = [statement for policy in role["Policies"] for statement in policy["PolicyDocument"]["Statement"]]
    assert statements == [
        {
            "Action": "lambda:InvokeFunction",
            "Effect": "Allow",
            # The function itself: no version or alias wildcard.
            "Resource": arn_of(digest, "AWS::Lambda::Function", {"Handler": DIGEST_HANDLER}),
        }
    ]
    assert digest.find_resources("AWS::IAM::Policy", {"Properties": {"Roles": [{"Ref": role_id}]}}) == {}


def test_scheduler_needs_no_resource_policy_on_the_function(digest: Template) -> None:
    # Scheduler invokes with its execution role; a Lambda permission would only widen who may invoke.
    digest_arn = arn_of(digest, "AWS::Lambda::Function", {"Handler": DIGEST_HANDLER})
    digest_ref = ref(digest, "AWS::Lambda::Function", {"Handler": DIGEST_HANDLER})
    for permission in digest.find_resources("AWS::Lambda::Permission").values():
        assert permission["Properties"]["FunctionName"] not in (digest_arn, digest_ref)


# --- the function ----------------------------------------------------------------------------------------


def test_the_digest_function_has_a_minute_its_own_log_group_and_no_retry(digest: Template) -> None:
    props = function_props(digest, DIGEST_HANDLER)
    assert props["Timeout"] == 60
    assert props["Runtime"] == function_props(digest, POLLER_HANDLER)["Runtime"]
    group = only(digest, "AWS::Logs::LogGroup", {"LogGroupName": "/gtwatch/Gtwatch/digest"})["Properties"]
    assert group["KmsKeyId"] == key_arn(digest)
    assert group["RetentionInDays"] == 30
    assert props["LoggingConfig"]["LogGroup"] == ref(
        digest, "AWS::Logs::LogGroup", {"LogGroupName": "/gtwatch/Gtwatch/digest"}
    )
    invoke_config = only(
        digest, "AWS::Lambda::EventInvokeConfig", {"FunctionName": {"Ref": function_id(digest, DIGEST_HANDLER)}}
    )
    assert invoke_config["Properties"]["MaximumRetryAttempts"] == 0


def test_the_digest_reads_the_watchers_settings_and_nothing_of_slack_but_its_queues(digest: Template) -> None:
    env = function_props(digest, DIGEST_HANDLER)["Environment"]["Variables"]
    poller = function_props(digest, POLLER_HANDLER)["Environment"]["Variables"]
    assert env == {
        Env.TABLE_NAME: ref(digest, "AWS::DynamoDB::Table", STATE_TABLE),
        Env.TOPIC_ARN: ref(digest, "AWS::SNS::Topic", {"TopicName": "Gtwatch-notifications"}),
        Env.REGIONS: {"Ref": "AWS::Region"},
        Env.KINDS: "labeling",
        Env.STALL_AFTER_MINUTES: "60",
        Env.SCHEDULE_MINUTES: "5",
        Env.DIGEST_CHANNELS: "slack,email",
        Env.DIGEST_TIMEZONE: "America/New_York",
        # The queue depths for the health section; Slack itself is the notifier's business (the digest goes
        # through the topic and the Slack queue), so no mode, secret or timeout.
        Env.SLACK_QUEUE_URL: ref(digest, "AWS::SQS::Queue", SLACK_QUEUE),
        Env.SLACK_DEAD_LETTER_QUEUE_URL: ref(digest, "AWS::SQS::Queue", DEAD_LETTER_QUEUE),
        "POWERTOOLS_SERVICE_NAME": "gtwatch",
        "POWERTOOLS_METRICS_NAMESPACE": "Gtwatch",
        "POWERTOOLS_LOG_LEVEL": "INFO",
    }
    for shared in (Env.TABLE_NAME, Env.TOPIC_ARN, Env.REGIONS, Env.KINDS, Env.STALL_AFTER_MINUTES):
        assert env[shared] == poller[shared]


def test_in_app_mode_the_digest_names_its_channel_for_the_notifier(digest_app: Template) -> None:
    env = function_props(digest_app, DIGEST_HANDLER)["Environment"]["Variables"]
    assert env[Env.DIGEST_CHANNELS] == "slack"
    assert env[Env.DIGEST_SLACK_CHANNEL] == "#labeling-digest"
    # The routes, the mode and the bot token are the notifier's business; the digest has one channel.
    for slack in (Env.SLACK_ROUTES, Env.SLACK_MODE, Env.SLACK_TOKEN_SECRET):
        assert slack not in env


def test_the_notifier_takes_the_slack_digest_from_the_topic(digest: Template) -> None:
    # The Slack queue's subscription takes every event type published for Slack: the digest's included.
    topic = ref(digest, "AWS::SNS::Topic", {"TopicName": "Gtwatch-notifications"})
    (subscription,) = digest.find_resources(
        "AWS::SNS::Subscription", {"Properties": {"Protocol": "sqs", "TopicArn": topic}}
    ).values()
    assert subscription["Properties"]["FilterPolicy"] == {"channel": ["slack", "all"]}
    assert subscription["Properties"]["RawMessageDelivery"] is True


# --- what it may do --------------------------------------------------------------------------------------


def digest_grants(template: Template) -> set[tuple[tuple[str, ...], str]]:
    """What the digest may do whatever its channels: read run records and the index, publish, queue depths, logs;
    nothing more (no Slack secret: the notifier posts the Slack digest)."""
    table = logical_id(template, "AWS::DynamoDB::Table", STATE_TABLE)
    topic = logical_id(template, "AWS::SNS::Topic", {"TopicName": "Gtwatch-notifications"})
    key = logical_id(template, "AWS::KMS::Key")
    log_group = function_props(template, DIGEST_HANDLER)["LoggingConfig"]["LogGroup"]["Ref"]
    run_records = '{"ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["run#*"]}}'
    queues = [logical_id(template, "AWS::SQS::Queue", queue) for queue in (SLACK_QUEUE, DEAD_LETTER_QUEUE)]
    return {
        (("logs:CreateLogStream", "logs:PutLogEvents"), f"${{{log_group}.Arn}}"),
        # Reads only: the run records by key, and jobs, mutes and ended jobs through the index.
        (("dynamodb:GetItem",), f"${{{table}.Arn}} when {run_records}"),
        (("dynamodb:Query",), f"${{{table}.Arn}}/index/active"),
        # Both digests go through the encrypted topic (the Slack one on to the Slack queue).
        (("sns:Publish",), f"${{{topic}}}"),
        (("kms:Decrypt", "kms:GenerateDataKey"), f"${{{key}.Arn}}"),
        *((("sqs:GetQueueAttributes",), f"${{{queue}.Arn}}") for queue in queues),
    }


@pytest.mark.parametrize("template_name", ["digest", "digest_app"])
def test_the_digest_may_read_state_and_queue_depths_and_publish_and_never_read_a_slack_secret(
    request: pytest.FixtureRequest, template_name: str
) -> None:
    template: Template = request.getfixturevalue(template_name)
    assert grants(template, DIGEST_HANDLER) == digest_grants(template)


def test_a_digest_by_email_only_may_do_the_same(tmp_path_factory: pytest.TempPathFactory) -> None:
    email_only = {**DIGEST, "digest": {**DIGEST["digest"], "channels": ["email"]}}
    template = synth(tmp_path_factory.mktemp("digest-email-only"), email_only).template
    assert grants(template, DIGEST_HANDLER) == digest_grants(template)
    assert function_props(template, DIGEST_HANDLER)["Environment"]["Variables"][Env.DIGEST_CHANNELS] == "email"


def test_the_digest_writes_nothing_in_the_state_table(digest: Template) -> None:
    for granted, _ in grants(digest, DIGEST_HANDLER):
        assert not any(action.startswith(("dynamodb:Put", "dynamodb:Update", "dynamodb:Delete")) for action in granted)


# --- email -----------------------------------------------------------------------------------------------


def test_each_email_subscription_takes_the_digest_when_it_goes_to_email(digest: Template) -> None:
    filters = email_filters(digest)
    assert len(filters) == 2
    for policy in filters:
        assert policy == {"event_type": ["failed", "stalled", "test", "digest"], "channel": ["email", "all"]}


def test_no_email_subscription_takes_the_digest_when_it_goes_to_slack_only(digest_app: Template) -> None:
    (policy,) = email_filters(digest_app)
    assert policy == {"event_type": ["failed", "test"], "channel": ["email", "all"]}


# --- checks, alarm, output -------------------------------------------------------------------------------


@pytest.mark.parametrize("synthesized_name", ["digest_synth", "digest_app_synth"])
def test_cdk_nag_finds_nothing_new_in_the_digest(request: pytest.FixtureRequest, synthesized_name: str) -> None:
    synthesized: Synthesized = request.getfixturevalue(synthesized_name)
    report = nag_report(synthesized)
    assert report["conclusion"] == "success"
    assert report["violations"] == []
    suppressed = {(s["ruleName"], s["acknowledgedAt"]) for s in report["suppressedViolations"]}
    # The stack's own acknowledgements (app mode: the bot token secret instead of the webhook's), none for the digest.
    assert not any("Digest" in path for _, path in suppressed)
    if synthesized_name == "digest_synth":
        assert suppressed == ACKNOWLEDGED


@pytest.mark.parametrize("template_name", ["digest", "digest_app"])
def test_cfn_lint_finds_no_error_in_the_digest(request: pytest.FixtureRequest, template_name: str) -> None:
    template: Template = request.getfixturevalue(template_name)
    matches = lint(json.dumps(template.to_json()), config=ManualArgs(regions=["us-east-1", "eu-west-1"]))
    assert [str(m) for m in matches if m.rule.id not in TOLERATED_CFN_LINT_RULES] == []


def test_a_failed_digest_raises_the_digest_errors_alarm(digest: Template) -> None:
    alarm = only(digest, "AWS::CloudWatch::Alarm", {"AlarmName": "Gtwatch-digest-errors"})["Properties"]
    assert alarm["MetricName"] == "Errors"
    assert alarm["Namespace"] == "AWS/Lambda"
    assert alarm["Dimensions"] == [
        {"Name": "FunctionName", "Value": ref(digest, "AWS::Lambda::Function", {"Handler": DIGEST_HANDLER})}
    ]
    assert alarm["Threshold"] == 1
    assert alarm["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
    alarm_topic = ref(digest, "AWS::SNS::Topic", {"TopicName": "Gtwatch-alarms"})
    assert alarm["AlarmActions"] == [alarm_topic]
    assert alarm["OKActions"] == [alarm_topic]


def test_the_watcher_config_output_holds_the_digest(digest: Template, digest_app: Template) -> None:
    from tests.infra.test_stack import watcher_config

    assert watcher_config(digest, "us-east-1")["digest"] == {
        "at": "07:05",
        "timezone": "America/New_York",
        "channels": ["slack", "email"],
        "slack_channel": None,
    }
    assert watcher_config(digest_app, "us-east-1")["digest"] == {
        "at": "18:30",
        "timezone": "Asia/Kolkata",
        "channels": ["slack"],
        "slack_channel": "#labeling-digest",
    }
