"""The fan-out in the template: a stack whose (account, region) pairs outgrow one poll invocation has the poll-work
queue (encrypted with the stack's key, a dead-letter queue after a few receives), a poll worker it triggers one batch
at a time, exactly the poller's reads for the worker and only sending for the poller, and an alarm on dead letters. A
stack within one invocation has none of it."""

from __future__ import annotations

import json
from typing import Any

from aws_cdk.assertions import Match, Template
from cfnlint.api import ManualArgs, lint  # type: ignore[import-untyped]
from watcher.domain.contract import (
    POLL_WORK_DEAD_LETTER_RETENTION_SECONDS,
    POLL_WORK_MAX_RECEIVE_COUNT,
    POLL_WORK_RETENTION_SECONDS,
    pairs_per_invocation,
)
from watcher.domain.env import Env

from infra.config import parse_config
from infra.poll_work import fans_out, watched_pair_count
from tests.infra.queries import (
    EVENT_HANDLER,
    POLL_WORKER_HANDLER,
    POLLER_HANDLER,
    function_id,
    function_props,
    grants,
    key_arn,
    render,
    role_id,
)
from tests.infra.stacks import FAN_OUT, Synthesized
from tests.infra.test_checks import TOLERATED_CFN_LINT_RULES, nag_report

WORK_QUEUE = {
    "RedrivePolicy": {"maxReceiveCount": POLL_WORK_MAX_RECEIVE_COUNT, "deadLetterTargetArn": Match.any_value()}
}


def work_queue(template: Template) -> tuple[str, dict[str, Any]]:
    ((logical_id, queue),) = template.find_resources("AWS::SQS::Queue", {"Properties": WORK_QUEUE}).items()
    return logical_id, dict(queue)


def dead_letter_queue_id(template: Template) -> str:
    _, queue = work_queue(template)
    target: str = queue["Properties"]["RedrivePolicy"]["deadLetterTargetArn"]["Fn::GetAtt"][0]
    return target


def test_only_a_stack_whose_pairs_outgrow_one_invocation_fans_out(default: Template, fan_out: Template) -> None:
    config = parse_config(FAN_OUT)
    assert watched_pair_count(config) == 9 > pairs_per_invocation(config.kinds) == 8
    assert fans_out(config)
    assert not fans_out(parse_config({}))
    assert default.find_resources("AWS::Lambda::Function", {"Properties": {"Handler": POLL_WORKER_HANDLER}}) == {}
    assert len(default.find_resources("AWS::SQS::Queue")) == 2  # the Slack queue and its dead letters, as before
    assert len(fan_out.find_resources("AWS::SQS::Queue")) == 4


def test_both_queues_are_encrypted_with_the_stacks_key_and_take_ssl_only(fan_out: Template) -> None:
    queue_id, queue = work_queue(fan_out)
    dead_letters = fan_out.to_json()["Resources"][dead_letter_queue_id(fan_out)]
    for props in (queue["Properties"], dead_letters["Properties"]):
        assert props["KmsMasterKeyId"] == key_arn(fan_out)
    for queue_ref in (queue_id, dead_letter_queue_id(fan_out)):
        policies = fan_out.find_resources(
            "AWS::SQS::QueuePolicy", {"Properties": {"Queues": [{"Ref": queue_ref}]}}
        ).values()
        [statement] = [s for policy in policies for s in policy["Properties"]["PolicyDocument"]["Statement"]]
        assert statement["Effect"] == "Deny"
        assert statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_a_failed_batch_is_offered_again_after_six_worker_timeouts_and_dead_lettered_after_its_receives(
    fan_out: Template,
) -> None:
    _, queue = work_queue(fan_out)
    props = queue["Properties"]
    worker_timeout = function_props(fan_out, POLL_WORKER_HANDLER)["Timeout"]
    assert props["VisibilityTimeout"] >= 6 * worker_timeout
    assert props["RedrivePolicy"]["deadLetterTargetArn"] == arn_of_id(dead_letter_queue_id(fan_out))
    assert props["MessageRetentionPeriod"] == POLL_WORK_RETENTION_SECONDS
    # Long enough for every receive; the dead letters kept longer than the source (they keep their first enqueue time).
    assert POLL_WORK_MAX_RECEIVE_COUNT * props["VisibilityTimeout"] < POLL_WORK_RETENTION_SECONDS
    dead_letters = fan_out.to_json()["Resources"][dead_letter_queue_id(fan_out)]["Properties"]
    assert (
        dead_letters["MessageRetentionPeriod"] == POLL_WORK_DEAD_LETTER_RETENTION_SECONDS > POLL_WORK_RETENTION_SECONDS
    )


def arn_of_id(logical_id: str) -> dict[str, list[str]]:
    return {"Fn::GetAtt": [logical_id, "Arn"]}


def test_the_worker_takes_one_batch_per_invocation_and_reports_failed_batches(fan_out: Template) -> None:
    queue_id, _ = work_queue(fan_out)
    fan_out.has_resource_properties(
        "AWS::Lambda::EventSourceMapping",
        {
            "FunctionName": {"Ref": function_id(fan_out, POLL_WORKER_HANDLER)},
            "EventSourceArn": arn_of_id(queue_id),
            "BatchSize": 1,
            "FunctionResponseTypes": ["ReportBatchItemFailures"],
        },
    )


def test_the_poller_is_told_the_queue_and_the_worker_watches_as_the_poller_does(fan_out: Template) -> None:
    queue_id, _ = work_queue(fan_out)
    poller = function_props(fan_out, POLLER_HANDLER)["Environment"]["Variables"]
    worker = function_props(fan_out, POLL_WORKER_HANDLER)["Environment"]["Variables"]
    assert poller[Env.POLL_WORK_QUEUE_URL] == {"Ref": queue_id}
    assert {name: value for name, value in poller.items() if name != Env.POLL_WORK_QUEUE_URL} == worker
    assert function_props(fan_out, POLL_WORKER_HANDLER)["Timeout"] == function_props(fan_out, POLLER_HANDLER)["Timeout"]
    # Under the path the spokes' roles trust, as the poller's.
    roles = fan_out.to_json()["Resources"]
    assert roles[role_id(fan_out, POLL_WORKER_HANDLER)]["Properties"]["Path"] == "/gtwatch-hub/"


def own_log_group(template: Template, handler: str) -> set[tuple[tuple[str, ...], str]]:
    return {grant for grant in grants(template, handler) if grant[0] == ("logs:CreateLogStream", "logs:PutLogEvents")}


def test_the_worker_may_do_exactly_what_the_poller_did_and_read_its_queue_and_the_poller_may_only_send(
    fan_out: Template,
) -> None:
    queue_id, _ = work_queue(fan_out)
    queue, key = f"${{{queue_id}.Arn}}", render(key_arn(fan_out))
    sending = {(("sqs:SendMessage",), queue)}
    receiving = {(("sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ReceiveMessage"), queue)}
    poller = grants(fan_out, POLLER_HANDLER) - own_log_group(fan_out, POLLER_HANDLER)
    worker = grants(fan_out, POLL_WORKER_HANDLER) - own_log_group(fan_out, POLL_WORKER_HANDLER)
    # A producer to the encrypted queue uses the key as a publisher to the encrypted topic does.
    assert sending | {(("kms:Decrypt", "kms:GenerateDataKey"), key)} <= poller
    assert worker == (poller - sending) | receiving
    # Reading the encrypted queue takes kms:Decrypt, which the worker has as a publisher to the encrypted topic.
    assert (("kms:Decrypt", "kms:GenerateDataKey"), key) in worker
    # The event handler sends nothing there.
    assert not {grant for grant in grants(fan_out, EVENT_HANDLER) if queue in grant[1]}


def test_dead_letters_raise_an_alarm_to_the_alarm_topic(fan_out: Template) -> None:
    dead_letters = fan_out.to_json()["Resources"][dead_letter_queue_id(fan_out)]
    assert dead_letters  # the queue the alarm names
    fan_out.has_resource_properties(
        "AWS::CloudWatch::Alarm",
        {
            "AlarmName": "Gtwatch-poll-work-dead-letters",
            "MetricName": "ApproximateNumberOfMessagesVisible",
            "Namespace": "AWS/SQS",
            "Dimensions": [
                {"Name": "QueueName", "Value": {"Fn::GetAtt": [dead_letter_queue_id(fan_out), "QueueName"]}}
            ],
            "Threshold": 1,
            "ComparisonOperator": "GreaterThanOrEqualToThreshold",
            "AlarmActions": [Match.any_value()],
        },
    )


def test_the_poller_not_running_alarm_is_the_same_with_fan_out(default: Template, fan_out: Template) -> None:
    # The workers add a share of PollSucceeded per batch, a whole run adding up to 1: the alarm reads as before.
    def not_running(template: Template) -> dict[str, Any]:
        (alarm,) = template.find_resources(
            "AWS::CloudWatch::Alarm", {"Properties": {"AlarmName": "Gtwatch-poller-not-running"}}
        ).values()
        props: dict[str, Any] = alarm["Properties"]
        return {name: props[name] for name in ("MetricName", "Threshold", "ComparisonOperator", "TreatMissingData")}

    assert not_running(fan_out) == not_running(default)


def test_cdk_nag_passes_and_the_workers_acknowledged_findings_each_say_why(fan_out_synth: Synthesized) -> None:
    report = nag_report(fan_out_synth)
    assert report["conclusion"] == "success"
    assert report["violations"] == []
    worker = [s for s in report["suppressedViolations"] if "/PollWorker/" in s["acknowledgedAt"]]
    # Describing training jobs and reading their logs in the three regions, as the poller's role does.
    assert {s["ruleName"] for s in worker} >= {
        "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:sagemaker:us-west-2:<AWS::AccountId>:training-job/*]",
        "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:sagemaker:eu-west-1:<AWS::AccountId>:training-job/*]",
    }
    assert all(len(s["reason"]) > 60 for s in worker)


def test_cfn_lint_finds_no_error(fan_out: Template) -> None:
    matches = lint(json.dumps(fan_out.to_json()), config=ManualArgs(regions=["us-east-1", "eu-west-1"]))
    assert [str(m) for m in matches if m.rule.id not in TOLERATED_CFN_LINT_RULES] == []
