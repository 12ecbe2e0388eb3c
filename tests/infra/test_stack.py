"""What a deployment of the synthesized template gives its users, with the default and a customised config."""

from __future__ import annotations

from typing import Any

import pytest
from aws_cdk.assertions import Match, Template

from infra.config import EVENT_TYPES
from tests.infra.stacks import synth

POLLER_HANDLER = "watcher.poller_handler.lambda_handler"
SLACK_HANDLER = "watcher.slack_handler.lambda_handler"

CUSTOM: dict[str, Any] = {
    "schedule_minutes": 10,
    "stall_after_minutes": 90,
    "name_contains": "prod-batch",
    "slack_events": ["completed", "failed"],
    "email_events": ["failed", "stalled"],
    "email_addresses": ["ops@example.com", "labeling-lead@example.org"],
    "slack_webhook_secret_name": "team/gtwatch-slack",
    "regions": ["us-east-1", "eu-west-1"],
    "log_level": "DEBUG",
}


@pytest.fixture(scope="module")
def default() -> Template:
    return synth()


@pytest.fixture(scope="module")
def custom() -> Template:
    return synth(CUSTOM)


def only(template: Template, resource_type: str, props: dict[str, Any] | None = None) -> Any:
    found = template.find_resources(resource_type, {"Properties": props} if props else None)
    assert len(found) == 1, f"expected one {resource_type} matching {props}, found {len(found)}"
    return next(iter(found.values()))


def function_props(template: Template, handler: str) -> Any:
    return only(template, "AWS::Lambda::Function", {"Handler": handler})["Properties"]


def logical_id(template: Template, resource_type: str, props: dict[str, Any]) -> str:
    found = template.find_resources(resource_type, {"Properties": props})
    assert len(found) == 1
    return next(iter(found))


def statements_of(template: Template, handler: str) -> list[dict[str, Any]]:
    """The IAM statements of the role the function with `handler` runs as."""
    role_id = function_props(template, handler)["Role"]["Fn::GetAtt"][0]
    policies = template.find_resources("AWS::IAM::Policy", {"Properties": {"Roles": [{"Ref": role_id}]}})
    return [
        statement for policy in policies.values() for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]


def actions(statement: dict[str, Any]) -> list[str]:
    action = statement["Action"]
    return [action] if isinstance(action, str) else list(action)


def statement_with(statements: list[dict[str, Any]], action: str) -> dict[str, Any]:
    matching = [statement for statement in statements if action in actions(statement)]
    assert len(matching) == 1, f"expected one statement allowing {action}, found {len(matching)}"
    return matching[0]


# --- job state -------------------------------------------------------------------------------------------


def test_state_table_is_keyed_by_pk_with_an_active_index_ttl_and_point_in_time_recovery(default: Template) -> None:
    table = only(default, "AWS::DynamoDB::Table", {"KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}]})
    props = table["Properties"]
    assert props["BillingMode"] == "PAY_PER_REQUEST"
    assert props["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}
    assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert props["GlobalSecondaryIndexes"] == [
        {
            "IndexName": "active",
            "KeySchema": [
                {"AttributeName": "active_region", "KeyType": "HASH"},
                {"AttributeName": "pk", "KeyType": "RANGE"},
            ],
            "Projection": {"ProjectionType": "ALL"},
        }
    ]
    assert {"AttributeName": "active_region", "AttributeType": "S"} in props["AttributeDefinitions"]
    # Losing the state would resend old news; the table outlives the stack.
    assert table["DeletionPolicy"] == "Retain"


def test_idempotency_table_has_the_powertools_layout(default: Template) -> None:
    props = only(default, "AWS::DynamoDB::Table", {"KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}]})[
        "Properties"
    ]
    assert props["BillingMode"] == "PAY_PER_REQUEST"
    assert props["TimeToLiveSpecification"] == {"AttributeName": "expiration", "Enabled": True}


# --- notifications ---------------------------------------------------------------------------------------


def test_one_topic_refuses_unencrypted_transport(default: Template) -> None:
    default.resource_count_is("AWS::SNS::Topic", 1)
    default.has_resource_properties(
        "AWS::SNS::TopicPolicy",
        {
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [Match.object_like({"Effect": "Deny", "Condition": {"Bool": {"aws:SecureTransport": "false"}}})]
                )
            }
        },
    )


def test_slack_queue_sends_a_message_to_the_dead_letter_queue_after_five_receives(default: Template) -> None:
    dlq_id = logical_id(default, "AWS::SQS::Queue", {"MessageRetentionPeriod": 1209600})
    queue = only(default, "AWS::SQS::Queue", {"RedrivePolicy": Match.any_value()})["Properties"]
    assert queue["RedrivePolicy"] == {"deadLetterTargetArn": {"Fn::GetAtt": [dlq_id, "Arn"]}, "maxReceiveCount": 5}


def test_slack_queue_visibility_is_at_least_six_times_the_notifier_timeout(default: Template) -> None:
    queue = only(default, "AWS::SQS::Queue", {"RedrivePolicy": Match.any_value()})["Properties"]
    assert queue["VisibilityTimeout"] >= 6 * function_props(default, SLACK_HANDLER)["Timeout"]


def test_both_queues_are_encrypted_and_refuse_unencrypted_transport(default: Template) -> None:
    for queue in default.find_resources("AWS::SQS::Queue").values():
        assert queue["Properties"]["SqsManagedSseEnabled"] is True
    policies = default.find_resources("AWS::SQS::QueuePolicy")
    assert len(policies) == 2
    for policy in policies.values():
        statements = policy["Properties"]["PolicyDocument"]["Statement"]
        assert any(
            s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}} for s in statements
        )


def test_slack_queue_gets_raw_messages_of_every_event_type_by_default(default: Template) -> None:
    props = only(default, "AWS::SNS::Subscription", {"Protocol": "sqs"})["Properties"]
    assert props["RawMessageDelivery"] is True
    assert props["FilterPolicy"] == {"event_type": list(EVENT_TYPES)}


def test_slack_queue_gets_only_the_configured_event_types(custom: Template) -> None:
    props = only(custom, "AWS::SNS::Subscription", {"Protocol": "sqs"})["Properties"]
    assert props["RawMessageDelivery"] is True
    assert props["FilterPolicy"] == {"event_type": ["completed", "failed"]}


def test_no_email_subscription_without_addresses(default: Template) -> None:
    assert default.find_resources("AWS::SNS::Subscription", {"Properties": {"Protocol": "email"}}) == {}


def test_each_configured_address_gets_the_configured_email_events(custom: Template) -> None:
    emails = custom.find_resources("AWS::SNS::Subscription", {"Properties": {"Protocol": "email"}})
    assert sorted(e["Properties"]["Endpoint"] for e in emails.values()) == sorted(CUSTOM["email_addresses"])
    for email in emails.values():
        assert email["Properties"]["FilterPolicy"] == {"event_type": ["failed", "stalled"]}


def test_slack_notifier_runs_the_slack_handler_with_its_settings(default: Template) -> None:
    props = function_props(default, SLACK_HANDLER)
    secret_id = logical_id(default, "AWS::SecretsManager::Secret", {"Name": "Gtwatch/slack-webhook-url"})
    idempotency_id = logical_id(
        default, "AWS::DynamoDB::Table", {"KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}]}
    )
    assert props["Runtime"] == "python3.13"
    assert props["Timeout"] == 30
    assert props["TracingConfig"] == {"Mode": "Active"}
    assert props["Environment"]["Variables"] == {
        "GTWATCH_SLACK_WEBHOOK_SECRET": {"Ref": secret_id},
        "GTWATCH_IDEMPOTENCY_TABLE_NAME": {"Ref": idempotency_id},
        "POWERTOOLS_SERVICE_NAME": "gtwatch",
        "POWERTOOLS_METRICS_NAMESPACE": "Gtwatch",
        "POWERTOOLS_LOG_LEVEL": "INFO",
    }


def test_slack_notifier_reads_the_queue_in_batches_reporting_failed_items(default: Template) -> None:
    queue_id = logical_id(default, "AWS::SQS::Queue", {"RedrivePolicy": Match.any_value()})
    mapping = only(default, "AWS::Lambda::EventSourceMapping")["Properties"]
    assert mapping["EventSourceArn"] == {"Fn::GetAtt": [queue_id, "Arn"]}
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert mapping["BatchSize"] == 10


def test_slack_notifier_may_read_the_secret_and_its_idempotency_records_only(default: Template) -> None:
    statements = statements_of(default, SLACK_HANDLER)
    secret_id = logical_id(default, "AWS::SecretsManager::Secret", {"Name": "Gtwatch/slack-webhook-url"})
    assert statement_with(statements, "secretsmanager:GetSecretValue")["Resource"] == {"Ref": secret_id}
    dynamo = statement_with(statements, "dynamodb:GetItem")
    assert sorted(actions(dynamo)) == [
        "dynamodb:DeleteItem",
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
    ]


def test_a_webhook_secret_is_created_and_its_name_output_when_none_is_configured(default: Template) -> None:
    secret = only(default, "AWS::SecretsManager::Secret")["Properties"]
    assert secret["Name"] == "Gtwatch/slack-webhook-url"
    assert default.to_json()["Outputs"]["SlackWebhookSecretName"]["Value"] == "Gtwatch/slack-webhook-url"


def test_a_configured_webhook_secret_is_used_not_created(custom: Template) -> None:
    custom.resource_count_is("AWS::SecretsManager::Secret", 0)
    assert "SlackWebhookSecretName" not in custom.to_json()["Outputs"]
    env = function_props(custom, SLACK_HANDLER)["Environment"]["Variables"]
    assert env["GTWATCH_SLACK_WEBHOOK_SECRET"] == "team/gtwatch-slack"
    secret_read = statement_with(statements_of(custom, SLACK_HANDLER), "secretsmanager:GetSecretValue")
    assert "secret:team/gtwatch-slack-??????" in str(secret_read["Resource"])


# --- polling ---------------------------------------------------------------------------------------------


def test_poller_runs_the_poller_handler_with_default_settings(default: Template) -> None:
    props = function_props(default, POLLER_HANDLER)
    table_id = logical_id(default, "AWS::DynamoDB::Table", {"KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}]})
    topic_id = next(iter(default.find_resources("AWS::SNS::Topic")))
    assert props["Runtime"] == "python3.13"
    assert props["MemorySize"] == 256
    assert props["TracingConfig"] == {"Mode": "Active"}
    assert "ReservedConcurrentExecutions" not in props
    assert props["Environment"]["Variables"] == {
        "GTWATCH_TABLE_NAME": {"Ref": table_id},
        "GTWATCH_TOPIC_ARN": {"Ref": topic_id},
        "GTWATCH_REGIONS": {"Ref": "AWS::Region"},
        "GTWATCH_STALL_AFTER_MINUTES": "60",
        "GTWATCH_SCHEDULE_MINUTES": "5",
        "POWERTOOLS_SERVICE_NAME": "gtwatch",
        "POWERTOOLS_METRICS_NAMESPACE": "Gtwatch",
        "POWERTOOLS_LOG_LEVEL": "INFO",
    }


def test_poller_gets_the_configured_settings(custom: Template) -> None:
    env = function_props(custom, POLLER_HANDLER)["Environment"]["Variables"]
    assert env["GTWATCH_REGIONS"] == "us-east-1,eu-west-1"
    assert env["GTWATCH_NAME_CONTAINS"] == "prod-batch"
    assert env["GTWATCH_STALL_AFTER_MINUTES"] == "90"
    assert env["GTWATCH_SCHEDULE_MINUTES"] == "10"
    assert env["POWERTOOLS_LOG_LEVEL"] == "DEBUG"
    assert function_props(custom, SLACK_HANDLER)["Environment"]["Variables"]["POWERTOOLS_LOG_LEVEL"] == "DEBUG"


@pytest.mark.parametrize(
    ("template_name", "expression"), [("default", "rate(5 minutes)"), ("custom", "rate(10 minutes)")]
)
def test_poller_runs_on_the_configured_schedule(
    request: pytest.FixtureRequest, template_name: str, expression: str
) -> None:
    template: Template = request.getfixturevalue(template_name)
    poller_id = logical_id(template, "AWS::Lambda::Function", {"Handler": POLLER_HANDLER})
    rule = only(template, "AWS::Events::Rule")["Properties"]
    assert rule["ScheduleExpression"] == expression
    assert rule["Targets"][0]["Arn"] == {"Fn::GetAtt": [poller_id, "Arn"]}


def test_poller_may_list_and_describe_labeling_jobs(default: Template) -> None:
    statements = statements_of(default, POLLER_HANDLER)
    # ListLabelingJobs supports no resource type; DescribeLabelingJob does, so it is kept to labeling jobs.
    assert statement_with(statements, "sagemaker:ListLabelingJobs")["Resource"] == "*"
    describe = statement_with(statements, "sagemaker:DescribeLabelingJob")
    assert "labeling-job/*" in str(describe["Resource"])


def test_poller_may_describe_labeling_jobs_in_each_configured_region(custom: Template) -> None:
    describe = statement_with(statements_of(custom, POLLER_HANDLER), "sagemaker:DescribeLabelingJob")
    resources = str(describe["Resource"])
    assert ":sagemaker:us-east-1:" in resources
    assert ":sagemaker:eu-west-1:" in resources


def test_poller_may_use_the_state_table_and_its_index_and_publish(default: Template) -> None:
    statements = statements_of(default, POLLER_HANDLER)
    dynamo = statement_with(statements, "dynamodb:Query")
    assert sorted(actions(dynamo)) == [
        "dynamodb:BatchGetItem",
        "dynamodb:DeleteItem",
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:Query",
        "dynamodb:UpdateItem",
    ]
    assert "/index/*" in str(dynamo["Resource"])
    topic_id = next(iter(default.find_resources("AWS::SNS::Topic")))
    assert statement_with(statements, "sns:Publish")["Resource"] == {"Ref": topic_id}


def test_a_failed_poll_is_not_retried_out_of_schedule(default: Template) -> None:
    poller_id = logical_id(default, "AWS::Lambda::Function", {"Handler": POLLER_HANDLER})
    config = only(default, "AWS::Lambda::EventInvokeConfig")["Properties"]
    assert config["FunctionName"] == {"Ref": poller_id}
    assert config["MaximumRetryAttempts"] == 0


# --- across the stack ------------------------------------------------------------------------------------


@pytest.mark.parametrize("template_name", ["default", "custom"])
def test_no_policy_allows_every_action_of_a_service(request: pytest.FixtureRequest, template_name: str) -> None:
    template: Template = request.getfixturevalue(template_name)
    for policy in template.find_resources("AWS::IAM::Policy").values():
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            for action in actions(statement):
                assert action != "*" and not action.endswith(":*"), f"{action} in {statement}"


def test_each_function_logs_to_its_own_group_with_a_retention(default: Template) -> None:
    groups = default.find_resources("AWS::Logs::LogGroup")
    assert len(groups) == 2
    assert all(group["Properties"]["RetentionInDays"] == 30 for group in groups.values())
    for handler in (POLLER_HANDLER, SLACK_HANDLER):
        log_group = function_props(default, handler)["LoggingConfig"]["LogGroup"]["Ref"]
        assert log_group in groups
