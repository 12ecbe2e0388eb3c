"""The watcher tells its operators when it is sick: alarms to an encrypted alarm topic, and a dashboard."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_cdk.assertions import Template

from infra.config import EVENT_TYPES
from tests.infra.queries import (
    DEAD_LETTER_QUEUE,
    POLLER_HANDLER,
    SLACK_HANDLER,
    function_id,
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


def test_five_alarms(default: Template) -> None:
    names = sorted(a["Properties"]["AlarmName"] for a in default.find_resources("AWS::CloudWatch::Alarm").values())
    assert names == [
        "Gtwatch-poller-errors",
        "Gtwatch-poller-not-running",
        "Gtwatch-poller-throttles",
        "Gtwatch-slack-dead-letters",
        "Gtwatch-slack-notifier-errors",
    ]


@pytest.mark.parametrize(("metric", "name"), [("Errors", "poller-errors"), ("Throttles", "poller-throttles")])
@pytest.mark.parametrize(("template_name", "period"), [("default", 300), ("custom", 600)])
def test_any_poller_error_or_throttle_in_a_schedule_period_alarms(
    request: pytest.FixtureRequest, template_name: str, period: int, metric: str, name: str
) -> None:
    template: Template = request.getfixturevalue(template_name)
    props = alarm(template, name)
    assert {key: props[key] for key in ("Namespace", "MetricName", "Dimensions")} == lambda_metric(
        template, POLLER_HANDLER, metric
    )
    assert (props["Statistic"], props["Period"], props["EvaluationPeriods"], props["DatapointsToAlarm"]) == (
        "Sum",
        period,
        1,
        1,
    )
    assert (props["ComparisonOperator"], props["Threshold"]) == ("GreaterThanOrEqualToThreshold", 1)
    assert props["TreatMissingData"] == "notBreaching"


@pytest.mark.parametrize(("template_name", "period"), [("default", 300), ("custom", 600)])
def test_no_successful_run_for_three_schedule_periods_alarms(
    request: pytest.FixtureRequest, template_name: str, period: int
) -> None:
    props = alarm(request.getfixturevalue(template_name), "poller-not-running")
    assert {key: props[key] for key in ("Namespace", "MetricName", "Dimensions", "Statistic", "Period")} == {
        "Namespace": "Gtwatch",
        "MetricName": "PollSucceeded",
        "Dimensions": [{"Name": "service", "Value": "gtwatch"}],
        "Statistic": "Sum",
        "Period": period,
    }
    assert (props["ComparisonOperator"], props["Threshold"]) == ("LessThanThreshold", 1)
    assert (props["EvaluationPeriods"], props["DatapointsToAlarm"]) == (3, 3)
    # A run that never happened leaves no data point: missing data is the very thing to alarm on.
    assert props["TreatMissingData"] == "breaching"


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


def dashboard(template: Template) -> dict[str, Any]:
    props = only(template, "AWS::CloudWatch::Dashboard")["Properties"]
    assert props["DashboardName"] == "Gtwatch-watcher"
    body: dict[str, Any] = json.loads(str(render(props["DashboardBody"])))
    return body


def widget(body: dict[str, Any], title: str) -> dict[str, Any]:
    found: list[dict[str, Any]] = [w["properties"] for w in body["widgets"] if w["properties"].get("title") == title]
    assert len(found) == 1, f"no widget titled {title!r}"
    return found[0]


def test_dashboard_shows_runs_jobs_watched_and_failures(default: Template) -> None:
    body = dashboard(default)
    runs = widget(body, "Poller runs")["metrics"]
    assert ["Gtwatch", "PollSucceeded", "service", "gtwatch", {"label": "Successful runs", "stat": "Sum"}] in runs
    assert widget(body, "Jobs watched")["metrics"] == [
        ["Gtwatch", "JobsWatched", "service", "gtwatch", {"label": "Jobs", "stat": "Maximum"}]
    ]
    failures = {metric[1] for metric in widget(body, "Run failures")["metrics"]}
    assert failures == {"RegionFailures", "PublishFailures"}


def test_dashboard_shows_notifications_by_type_and_stalls(default: Template) -> None:
    body = dashboard(default)
    by_type = widget(body, "Notifications sent, by type")["metrics"]
    assert [(m[1], m[2:6]) for m in by_type] == [
        ("NotificationsPublished", ["EventType", event_type, "service", "gtwatch"])
        for event_type in [*EVENT_TYPES, "test"]
    ]
    stalls = widget(body, "Stalls")["metrics"]
    assert [m[3] for m in stalls] == ["stalled", "resumed"]


def test_dashboard_sums_the_watchers_figures_per_schedule_period(custom: Template) -> None:
    runs = widget(dashboard(custom), "Poller runs")["metrics"]
    assert runs[0] == [
        "Gtwatch",
        "PollSucceeded",
        "service",
        "gtwatch",
        {"label": "Successful runs", "period": 600, "stat": "Sum"},
    ]


def test_dashboard_shows_the_dead_letter_queue_depth_and_every_alarm(default: Template) -> None:
    body = dashboard(default)
    depth = widget(body, "Slack dead-letter queue depth")["metrics"]
    assert depth[0][:2] == ["AWS/SQS", "ApproximateNumberOfMessagesVisible"]
    alarms = widget(body, "Alarms")["alarms"]
    assert len(alarms) == 5
