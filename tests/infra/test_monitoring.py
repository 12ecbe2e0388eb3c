"""The watcher tells its operators when it is sick: one alarm per way it can fail silently, to an encrypted alarm
topic; a dashboard only when configured."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from aws_cdk.assertions import Template
from watcher.domain import contract

from tests.infra.queries import (
    DEAD_LETTER_QUEUE,
    HANDLERS,
    POLLER_HANDLER,
    SLACK_HANDLER,
    SLACK_QUEUE,
    function_id,
    function_props,
    key_arn,
    logical_id,
    only,
    ref,
    render,
    rendered_arn,
)

ALARM_TOPIC = {"TopicName": "Gtwatch-alarms"}


def alarm(template: Template, name: str) -> Any:
    props = only(template, "AWS::CloudWatch::Alarm", {"AlarmName": f"Gtwatch-{name}"})["Properties"]
    topic = ref(template, "AWS::SNS::Topic", ALARM_TOPIC)
    # Every alarm tells the alarm topic when it fires and when it clears.
    assert props["AlarmActions"] == [topic]
    assert props["OKActions"] == [topic]
    return props


def lambda_metric(template: Template, handler: str, metric: str) -> dict[str, Any]:
    return {
        "Namespace": "AWS/Lambda",
        "MetricName": metric,
        "Dimensions": [{"Name": "FunctionName", "Value": {"Ref": function_id(template, handler)}}],
    }


def test_alarm_topic_is_encrypted_with_the_key(default: Template) -> None:
    props = only(default, "AWS::SNS::Topic", ALARM_TOPIC)["Properties"]
    assert props["KmsMasterKeyId"] == key_arn(default)


def test_only_this_stacks_alarms_may_publish_to_the_alarm_topic(default: Template) -> None:
    topic = ref(default, "AWS::SNS::Topic", ALARM_TOPIC)
    policy = only(default, "AWS::SNS::TopicPolicy", {"Topics": [topic]})["Properties"]["PolicyDocument"]
    allows = [render(statement) for statement in policy["Statement"] if statement["Effect"] == "Allow"]
    assert allows == [
        {
            "Sid": "AllowThisStacksAlarmsToPublish",
            "Action": "sns:Publish",
            "Effect": "Allow",
            "Principal": {"Service": "cloudwatch.amazonaws.com"},
            "Resource": f"${{{topic['Ref']}}}",
            "Condition": {
                "StringEquals": {"aws:SourceAccount": "${AWS::AccountId}"},
                "ArnLike": {"aws:SourceArn": rendered_arn("cloudwatch", "alarm:Gtwatch-*")},
            },
        }
    ]


def test_alarm_email_goes_to_each_configured_address(custom: Template) -> None:
    topic = ref(custom, "AWS::SNS::Topic", ALARM_TOPIC)
    emails = custom.find_resources("AWS::SNS::Subscription", {"Properties": {"TopicArn": topic}})
    assert [e["Properties"] for e in emails.values()] == [
        {"Protocol": "email", "TopicArn": topic, "Endpoint": "oncall@example.com"}
    ]


def test_no_alarm_email_without_addresses(default: Template) -> None:
    topic = ref(default, "AWS::SNS::Topic", ALARM_TOPIC)
    assert default.find_resources("AWS::SNS::Subscription", {"Properties": {"TopicArn": topic}}) == {}


ALARMS = [
    "Gtwatch-job-errors",
    "Gtwatch-outbox-backlog",
    "Gtwatch-poller-errors",
    "Gtwatch-poller-not-running",
    "Gtwatch-publish-failures",
    "Gtwatch-slack-dead-letters",
    "Gtwatch-slack-lag",
    "Gtwatch-slack-notifier-errors",
]


def alarm_names(template: Template) -> list[str]:
    return sorted(a["Properties"]["AlarmName"] for a in template.find_resources("AWS::CloudWatch::Alarm").values())


def watched(props: dict[str, Any]) -> tuple[Any, ...]:
    return (props["Namespace"], props["MetricName"], props["Dimensions"], props["Statistic"], props["Period"])


def poller_metric(name: str, statistic: str, period: int, namespace: str = "Gtwatch") -> tuple[Any, ...]:
    return (namespace, name, [{"Name": "service", "Value": "gtwatch"}], statistic, period)


def test_eight_alarms_each_saying_what_it_means_and_where_the_runbook_is(default: Template) -> None:
    assert alarm_names(default) == ALARMS
    for name in ALARMS:
        assert "docs/deploy.md#alarms" in alarm(default, name.removeprefix("Gtwatch-"))["AlarmDescription"]


@pytest.mark.parametrize(("template_name", "period"), [("default", 300), ("custom", 600)])
def test_no_successful_run_for_three_schedule_periods_alarms(
    request: pytest.FixtureRequest, template_name: str, period: int
) -> None:
    props = alarm(request.getfixturevalue(template_name), "poller-not-running")
    assert watched(props) == poller_metric("PollSucceeded", "Sum", period)
    assert (props["ComparisonOperator"], props["Threshold"]) == ("LessThanThreshold", 1)
    assert (props["EvaluationPeriods"], props["DatapointsToAlarm"]) == (3, 3)
    # A run that never happened leaves no data point: missing data is the very thing to alarm on.
    assert props["TreatMissingData"] == "breaching"


@pytest.mark.parametrize(("template_name", "period"), [("default", 300), ("custom", 600)])
def test_any_failed_poller_invocation_in_a_schedule_period_alarms(
    request: pytest.FixtureRequest, template_name: str, period: int
) -> None:
    template: Template = request.getfixturevalue(template_name)
    props = alarm(template, "poller-errors")
    assert {key: props[key] for key in ("Namespace", "MetricName", "Dimensions")} == lambda_metric(
        template, POLLER_HANDLER, "Errors"
    )
    assert (props["Statistic"], props["Period"], props["EvaluationPeriods"]) == ("Sum", period, 1)
    assert (props["ComparisonOperator"], props["Threshold"]) == ("GreaterThanOrEqualToThreshold", 1)
    assert props["TreatMissingData"] == "notBreaching"


def test_a_publish_sns_refused_alarms_in_its_schedule_period(default: Template) -> None:
    props = alarm(default, "publish-failures")
    assert watched(props) == poller_metric("PublishFailures", "Sum", 300)
    assert (props["ComparisonOperator"], props["Threshold"], props["EvaluationPeriods"]) == (
        "GreaterThanOrEqualToThreshold",
        1,
        1,
    )
    # The poller reports failures only when there are some; no data is no failure.
    assert props["TreatMissingData"] == "notBreaching"


@pytest.mark.parametrize(("template_name", "period"), [("default", 300), ("custom", 600)])
def test_a_notification_waiting_past_two_schedule_periods_and_a_run_alarms(
    request: pytest.FixtureRequest, template_name: str, period: int
) -> None:
    props = alarm(request.getfixturevalue(template_name), "outbox-backlog")
    assert watched(props) == poller_metric("OutboxOldestAgeSeconds", "Maximum", period)
    # Two missed retries (two schedule periods) plus the longest a run can take (the poller's timeout).
    assert (props["ComparisonOperator"], props["Threshold"]) == ("GreaterThanThreshold", 2 * period + 120)
    assert props["TreatMissingData"] == "notBreaching"


def test_job_errors_in_three_runs_in_a_row_alarm(default: Template) -> None:
    props = alarm(default, "job-errors")
    assert watched(props) == poller_metric("JobErrors", "Sum", 300)
    assert (props["ComparisonOperator"], props["Threshold"]) == ("GreaterThanOrEqualToThreshold", 1)
    # One unlucky run is retried by the next; the same failure three times is a stuck job.
    assert (props["EvaluationPeriods"], props["DatapointsToAlarm"]) == (3, 3)
    assert props["TreatMissingData"] == "notBreaching"


@pytest.mark.parametrize(("template_name", "minutes"), [("default", 30), ("custom", 45)])
def test_a_slack_message_waiting_longer_than_the_configured_lag_alarms(
    request: pytest.FixtureRequest, template_name: str, minutes: int
) -> None:
    template: Template = request.getfixturevalue(template_name)
    props = alarm(template, "slack-lag")
    assert props["Namespace"] == "AWS/SQS"
    assert props["MetricName"] == "ApproximateAgeOfOldestMessage"
    assert props["Dimensions"] == [
        {
            "Name": "QueueName",
            "Value": {"Fn::GetAtt": [logical_id(template, "AWS::SQS::Queue", SLACK_QUEUE), "QueueName"]},
        }
    ]
    assert (props["Statistic"], props["Period"]) == ("Maximum", 300)
    assert (props["ComparisonOperator"], props["Threshold"]) == ("GreaterThanThreshold", minutes * 60)


def test_a_failed_slack_notifier_invocation_alarms(default: Template) -> None:
    props = alarm(default, "slack-notifier-errors")
    assert {key: props[key] for key in ("Namespace", "MetricName", "Dimensions")} == lambda_metric(
        default, SLACK_HANDLER, "Errors"
    )
    assert (props["Statistic"], props["Period"], props["ComparisonOperator"], props["Threshold"]) == (
        "Sum",
        300,
        "GreaterThanOrEqualToThreshold",
        1,
    )


def test_a_message_in_the_dead_letter_queue_alarms_until_it_is_gone(default: Template) -> None:
    props = alarm(default, "slack-dead-letters")
    assert props["Namespace"] == "AWS/SQS"
    assert props["MetricName"] == "ApproximateNumberOfMessagesVisible"
    assert props["Dimensions"] == [
        {
            "Name": "QueueName",
            "Value": {"Fn::GetAtt": [logical_id(default, "AWS::SQS::Queue", DEAD_LETTER_QUEUE), "QueueName"]},
        }
    ]
    assert (props["Statistic"], props["ComparisonOperator"], props["Threshold"]) == (
        "Maximum",
        "GreaterThanOrEqualToThreshold",
        1,
    )
    # SQS stops reporting an idle queue; messages still waiting must keep the alarm on.
    assert props["TreatMissingData"] == "ignore"


def test_the_alarms_watch_only_the_metrics_the_poller_emits(default: Template) -> None:
    custom_metrics = {
        props["MetricName"]
        for props in (a["Properties"] for a in default.find_resources("AWS::CloudWatch::Alarm").values())
        if not props["Namespace"].startswith("AWS/")
    }
    assert custom_metrics == {
        contract.METRIC_POLL_SUCCEEDED,
        contract.METRIC_PUBLISH_FAILURES,
        contract.METRIC_JOB_ERRORS,
        contract.METRIC_OUTBOX_AGE,
    }


def test_two_stacks_in_one_region_have_disjoint_names_namespaces_and_alarms(default: Template, other: Template) -> None:
    def seen(template: Template) -> tuple[set[str], set[str], set[str]]:
        alarms = [a["Properties"] for a in template.find_resources("AWS::CloudWatch::Alarm").values()]
        namespaces = {props["Namespace"] for props in alarms if not props["Namespace"].startswith("AWS/")}
        env = [
            function_props(template, handler)["Environment"]["Variables"]["POWERTOOLS_METRICS_NAMESPACE"]
            for handler in HANDLERS
        ]
        names = {props["AlarmName"] for props in alarms}
        names |= {g["Properties"]["LogGroupName"] for g in template.find_resources("AWS::Logs::LogGroup").values()}
        names |= {t["Properties"]["TopicName"] for t in template.find_resources("AWS::SNS::Topic").values()}
        return namespaces, set(env), names

    default_namespaces, default_env, default_names = seen(default)
    other_namespaces, other_env, other_names = seen(other)
    assert default_namespaces == default_env == {"Gtwatch"}
    assert other_namespaces == other_env == {"GtwatchStaging"}
    assert default_names.isdisjoint(other_names)
    assert all(name.startswith(("GtwatchStaging-", "/gtwatch/GtwatchStaging/")) for name in other_names)


def dashboard(template: Template) -> dict[str, Any]:
    props = only(template, "AWS::CloudWatch::Dashboard")["Properties"]
    assert props["DashboardName"] == "Gtwatch-watcher"
    body: dict[str, Any] = json.loads(str(render(props["DashboardBody"])))
    return body


def widget(body: dict[str, Any], title: str) -> dict[str, Any]:
    found: list[dict[str, Any]] = [w["properties"] for w in body["widgets"] if w["properties"].get("title") == title]
    assert len(found) == 1, f"no widget titled {title!r}"
    return found[0]


def test_no_dashboard_unless_configured(default: Template) -> None:
    # $3 a month beyond an account's first three dashboards; the alarms do the watching.
    default.resource_count_is("AWS::CloudWatch::Dashboard", 0)
    assert "DashboardName" not in default.to_json()["Outputs"]


def test_a_configured_dashboard_shows_runs_failures_and_every_alarm(custom: Template) -> None:
    body = dashboard(custom)
    runs = widget(body, "Poller runs")["metrics"]
    assert runs[0] == [
        "Gtwatch",
        "PollSucceeded",
        "service",
        "gtwatch",
        {"label": "Successful runs", "period": 600, "stat": "Sum"},
    ]
    failures = {metric[1] for metric in widget(body, "Run failures")["metrics"]}
    assert failures == {"PublishFailures", "JobErrors", "OutboxOldestAgeSeconds"}
    assert len(widget(body, "Alarms")["alarms"]) == len(ALARMS)
    assert custom.to_json()["Outputs"]["DashboardName"]["Value"] == ref(custom, "AWS::CloudWatch::Dashboard")


def test_a_configured_dashboard_adds_no_metric_of_its_own(custom: Template) -> None:
    # Everything it shows is an alarm's metric or one AWS reports anyway: no per-event-type custom metric.
    body = dashboard(custom)
    shown = {m[1] for w in body["widgets"] for m in w["properties"].get("metrics", []) if not m[0].startswith("AWS/")}
    assert shown == {"PollSucceeded", "PublishFailures", "JobErrors", "OutboxOldestAgeSeconds"}


def test_the_readmes_status_sample_shows_the_stacks_alarms_by_their_names(default: Template) -> None:
    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    sample = re.search(r"^Alarms: (\d+), \d+ in ALARM\n((?:  .*\n)+)", readme, re.MULTILINE)
    assert sample is not None
    count, lines = sample.groups()
    shown = [line.split()[1] for line in lines.splitlines()]
    found = default.find_resources("AWS::CloudWatch::Alarm").values()
    alarms = sorted(alarm["Properties"]["AlarmName"] for alarm in found)
    assert shown == alarms
    assert int(count) == len(alarms)
