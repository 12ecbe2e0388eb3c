"""What a deployment of the synthesized template gives its users, with the default and a customised config."""

from __future__ import annotations

import json
import tomllib
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest
from aws_cdk.assertions import Match, Template
from watcher.adapters import slack_ledger
from watcher.domain import contract
from watcher.domain.contract import EVENT_TYPES
from watcher.domain.env import Env
from watcher.domain.slack_routes import parse_routes
from watcher.settings import PollerSettings, SlackSettings

from infra.requirements import pinned_version
from tests.infra.queries import (
    DEAD_LETTER_QUEUE,
    EVENT_HANDLER,
    HANDLERS,
    POLLER_HANDLER,
    SLACK_HANDLER,
    SLACK_QUEUE,
    STATE_TABLE,
    WATCH_START_HANDLER,
    arn_of,
    function_id,
    function_props,
    key_arn,
    logical_id,
    only,
    ref,
)
from tests.infra.stacks import APP, APP_ROUTES, synth

SSL_ONLY = {"Bool": {"aws:SecureTransport": "false"}}


def encrypted_with_the_key(template: Template) -> dict[str, Any]:
    return {"KMSMasterKeyId": key_arn(template), "SSEEnabled": True, "SSEType": "KMS"}


# --- the key ---------------------------------------------------------------------------------------------


def test_one_customer_managed_key_with_rotation_outlives_the_stack(default: Template) -> None:
    key = only(default, "AWS::KMS::Key")
    assert key["Properties"]["EnableKeyRotation"] is True
    # The state table is kept after `cdk destroy`; without its key it could not be read.
    assert key["DeletionPolicy"] == "Retain"


# --- job state -------------------------------------------------------------------------------------------


def test_state_table_is_keyed_by_pk_with_an_active_index_ttl_and_point_in_time_recovery(default: Template) -> None:
    table = only(default, "AWS::DynamoDB::Table", STATE_TABLE)
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
    # Kept when the stack is deleted (a deletion by mistake loses no state), and unnamed: a new stack makes a new
    # table instead of failing on the kept one's name (docs/deploy.md, Uninstalling).
    assert table["DeletionPolicy"] == "Retain"
    assert "TableName" not in props


def test_state_table_is_encrypted_with_the_key(default: Template) -> None:
    props = only(default, "AWS::DynamoDB::Table", STATE_TABLE)["Properties"]
    assert props["SSESpecification"] == encrypted_with_the_key(default)


def test_the_state_table_is_the_only_table(default: Template, app: Template) -> None:
    # The Slack notifier keeps its ledgers in the state table (slack# items): no idempotency table any more.
    default.resource_count_is("AWS::DynamoDB::Table", 1)
    app.resource_count_is("AWS::DynamoDB::Table", 1)


def test_the_ledger_key_prefix_the_stack_grants_is_the_one_the_notifier_writes() -> None:
    assert slack_ledger.ledger_key("us-east-1#cats-v1").startswith(contract.SLACK_LEDGER_KEY_PREFIX)


# --- notifications ---------------------------------------------------------------------------------------


def test_notification_topic_is_named_after_the_stack_and_encrypted_with_the_key(default: Template) -> None:
    props = only(default, "AWS::SNS::Topic", {"TopicName": "Gtwatch-notifications"})["Properties"]
    assert props["KmsMasterKeyId"] == key_arn(default)
    assert props["DisplayName"] == "gtwatch"


@pytest.mark.parametrize("topic_name", ["Gtwatch-notifications", "Gtwatch-alarms"])
def test_each_topic_refuses_unencrypted_transport(default: Template, topic_name: str) -> None:
    topic = ref(default, "AWS::SNS::Topic", {"TopicName": topic_name})
    policy = only(default, "AWS::SNS::TopicPolicy", {"Topics": [topic]})["Properties"]["PolicyDocument"]
    assert {
        "Sid": "AllowPublishThroughSSLOnly",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "sns:Publish",
        "Resource": topic,
        "Condition": SSL_ONLY,
    } in policy["Statement"]


def test_slack_queue_dead_letters_only_as_a_safety_net_after_the_contracts_receive_count(default: Template) -> None:
    queue = only(default, "AWS::SQS::Queue", SLACK_QUEUE)["Properties"]
    assert queue["RedrivePolicy"] == {
        "deadLetterTargetArn": arn_of(default, "AWS::SQS::Queue", DEAD_LETTER_QUEUE),
        "maxReceiveCount": contract.SLACK_MAX_RECEIVE_COUNT,
    }
    assert contract.SLACK_MAX_RECEIVE_COUNT == 500


def test_slack_queue_keeps_a_message_through_a_day_long_slack_outage_and_past_its_last_retry(default: Template) -> None:
    retention = only(default, "AWS::SQS::Queue", SLACK_QUEUE)["Properties"]["MessageRetentionPeriod"]
    # At most 10 minutes between attempts: the receives run out (and the redrive policy keeps the message) before
    # the message would expire.
    longest_retrying = contract.SLACK_MAX_RECEIVE_COUNT * 10 * 60
    assert retention == contract.SLACK_QUEUE_RETENTION_SECONDS
    assert retention >= max(4 * 24 * 3600, longest_retrying, 24 * 3600)


def test_dead_letter_queue_keeps_messages_longer_than_the_slack_queue(default: Template) -> None:
    # A message the redrive policy moves keeps its first enqueue time (SQS, dead-letter queue retention).
    slack = only(default, "AWS::SQS::Queue", SLACK_QUEUE)["Properties"]["MessageRetentionPeriod"]
    dead_letters = only(default, "AWS::SQS::Queue", DEAD_LETTER_QUEUE)["Properties"]["MessageRetentionPeriod"]
    assert dead_letters == contract.SLACK_DEAD_LETTER_RETENTION_SECONDS == 14 * 24 * 3600
    assert dead_letters > slack


def test_slack_queue_visibility_is_at_least_six_times_the_notifier_timeout(default: Template) -> None:
    queue = only(default, "AWS::SQS::Queue", SLACK_QUEUE)["Properties"]
    assert queue["VisibilityTimeout"] >= 6 * function_props(default, SLACK_HANDLER)["Timeout"]


def test_the_notifier_timeout_holds_a_whole_batch_of_the_slowest_messages(default: Template) -> None:
    # Read back from the template: what Lambda will enforce, and what the function is told it may spend.
    props = function_props(default, SLACK_HANDLER)
    env = props["Environment"]["Variables"]
    batch_size = only(default, "AWS::Lambda::EventSourceMapping")["Properties"]["BatchSize"]
    http_timeout = float(env[Env.SLACK_TIMEOUT_SECONDS])
    retry_after_budget = float(env[Env.SLACK_MAX_RETRY_AFTER_SECONDS])
    slowest_message = http_timeout * contract.SLACK_POST_ATTEMPTS + retry_after_budget
    assert props["Timeout"] >= batch_size * slowest_message + contract.SLACK_STARTUP_MARGIN_SECONDS


def test_both_queues_are_encrypted_with_the_key_and_refuse_unencrypted_transport(default: Template) -> None:
    queues = default.find_resources("AWS::SQS::Queue")
    assert len(queues) == 2
    for queue_id, queue in queues.items():
        assert queue["Properties"]["KmsMasterKeyId"] == key_arn(default)
        assert "SqsManagedSseEnabled" not in queue["Properties"]
        policy = only(default, "AWS::SQS::QueuePolicy", {"Queues": [{"Ref": queue_id}]})["Properties"]
        assert {
            "Effect": "Deny",
            "Principal": {"AWS": "*"},
            "Action": "sqs:*",
            "Resource": {"Fn::GetAtt": [queue_id, "Arn"]},
            "Condition": SSL_ONLY,
        } in policy["PolicyDocument"]["Statement"]


def test_only_the_notification_topic_may_send_to_the_slack_queue(default: Template) -> None:
    queue_id = logical_id(default, "AWS::SQS::Queue", SLACK_QUEUE)
    policy = only(default, "AWS::SQS::QueuePolicy", {"Queues": [{"Ref": queue_id}]})["Properties"]
    allows = [s for s in policy["PolicyDocument"]["Statement"] if s["Effect"] == "Allow"]
    assert allows == [
        {
            "Effect": "Allow",
            "Principal": {"Service": "sns.amazonaws.com"},
            "Action": "sqs:SendMessage",
            "Resource": {"Fn::GetAtt": [queue_id, "Arn"]},
            "Condition": {
                "ArnEquals": {"aws:SourceArn": ref(default, "AWS::SNS::Topic", {"TopicName": "Gtwatch-notifications"})}
            },
        }
    ]


def test_slack_queue_gets_every_notification_raw_whatever_its_type(default: Template) -> None:
    subscription = only(default, "AWS::SNS::Subscription", {"Protocol": "sqs"})
    props = subscription["Properties"]
    assert props["TopicArn"] == ref(default, "AWS::SNS::Topic", {"TopicName": "Gtwatch-notifications"})
    assert props["Endpoint"] == arn_of(default, "AWS::SQS::Queue", SLACK_QUEUE)
    assert props["RawMessageDelivery"] is True
    # The notifier routes by itself and needs every notification of a job to keep the job's order: no event type
    # is filtered out, only what was published for email alone (quiet hours).
    assert props["FilterPolicy"] == {"channel": ["slack", "all"]}
    # SNS checks that it may send when the subscription is made: the queue policy must exist first.
    queue_policy = logical_id(
        default, "AWS::SQS::QueuePolicy", {"Queues": [ref(default, "AWS::SQS::Queue", SLACK_QUEUE)]}
    )
    assert subscription["DependsOn"] == [queue_policy]


@pytest.mark.parametrize("template_name", ["custom", "app"])
def test_configured_slack_events_or_routes_do_not_filter_event_types_out_of_the_slack_queue(
    request: pytest.FixtureRequest, template_name: str
) -> None:
    template: Template = request.getfixturevalue(template_name)
    props = only(template, "AWS::SNS::Subscription", {"Protocol": "sqs"})["Properties"]
    assert props["FilterPolicy"] == {"channel": ["slack", "all"]}
    assert "FilterPolicyScope" not in props


def test_no_email_subscription_without_addresses(default: Template) -> None:
    assert default.find_resources("AWS::SNS::Subscription", {"Properties": {"Protocol": "email"}}) == {}


def test_each_configured_address_gets_the_configured_email_events_and_tests(custom: Template) -> None:
    topic = ref(custom, "AWS::SNS::Topic", {"TopicName": "Gtwatch-notifications"})
    emails = custom.find_resources("AWS::SNS::Subscription", {"Properties": {"Protocol": "email", "TopicArn": topic}})
    assert sorted(e["Properties"]["Endpoint"] for e in emails.values()) == [
        "labeling-lead@example.org",
        "ops@example.com",
    ]
    for email in emails.values():
        assert email["Properties"]["FilterPolicy"] == {
            "event_type": ["failed", "stalled", "test"],
            "channel": ["email", "all"],
        }


def notifier_queues_and_table(template: Template) -> dict[str, Any]:
    return {
        Env.TABLE_NAME: ref(template, "AWS::DynamoDB::Table", STATE_TABLE),
        Env.SLACK_QUEUE_URL: ref(template, "AWS::SQS::Queue", SLACK_QUEUE),
        Env.SLACK_DEAD_LETTER_QUEUE_URL: ref(template, "AWS::SQS::Queue", DEAD_LETTER_QUEUE),
        Env.SLACK_TIMEOUT_SECONDS: "5",
        Env.SLACK_MAX_RETRY_AFTER_SECONDS: "8",
        Env.SLACK_LAG_ALARM_SECONDS: "1800",
        "POWERTOOLS_SERVICE_NAME": "gtwatch",
        "POWERTOOLS_METRICS_NAMESPACE": "Gtwatch",
        "POWERTOOLS_LOG_LEVEL": "INFO",
    }


def test_slack_notifier_runs_the_slack_handler_in_webhook_mode_by_default(default: Template) -> None:
    props = function_props(default, SLACK_HANDLER)
    assert props["Timeout"] == 30
    assert props["Environment"]["Variables"] == {
        Env.SLACK_MODE: "webhook",
        Env.SLACK_WEBHOOK_SECRET: ref(default, "AWS::SecretsManager::Secret"),
        Env.SLACK_EVENTS: "completed,failed,stopped,stalled,resumed",
        **notifier_queues_and_table(default),
    }


def test_slack_notifier_in_app_mode_gets_the_token_secret_and_the_routes(app: Template) -> None:
    env = function_props(app, SLACK_HANDLER)["Environment"]["Variables"]
    assert env == {
        Env.SLACK_MODE: "app",
        Env.SLACK_TOKEN_SECRET: ref(app, "AWS::SecretsManager::Secret"),
        Env.SLACK_ROUTES: (
            '[{"channel":"#labeling","events":["completed","failed"]},'
            '{"channel":"C0123ABCD","events":["failed","stalled"],"name_contains":"prod","mention":"<!here>"}]'
        ),
        **notifier_queues_and_table(app),
    }
    assert parse_routes(json.loads(env[Env.SLACK_ROUTES])) == parse_routes(APP_ROUTES)


@pytest.mark.parametrize("template_name", ["default", "custom", "app"])
def test_the_notifier_starts_with_the_settings_the_stack_gives_it(
    request: pytest.FixtureRequest, template_name: str
) -> None:
    template: Template = request.getfixturevalue(template_name)
    env = function_props(template, SLACK_HANDLER)["Environment"]["Variables"]
    # Resource references become names and URLs at deploy time: stand-ins of that form.
    stand_ins = {
        Env.TABLE_NAME: "Gtwatch-StateTable-ABC123",
        Env.SLACK_QUEUE_URL: "https://sqs.us-east-1.amazonaws.com/123456789012/Gtwatch-SlackQueue",
        Env.SLACK_DEAD_LETTER_QUEUE_URL: "https://sqs.us-east-1.amazonaws.com/123456789012/Gtwatch-Dead",
        Env.SLACK_WEBHOOK_SECRET: "arn:aws:secretsmanager:us-east-1:123456789012:secret:Gtwatch/x-AbCdEf",
        Env.SLACK_TOKEN_SECRET: "arn:aws:secretsmanager:us-east-1:123456789012:secret:Gtwatch/x-AbCdEf",
    }
    environ = {name: value if isinstance(value, str) else stand_ins[name] for name, value in env.items()}
    settings = SlackSettings.from_env(environ)
    assert settings.mode == env[Env.SLACK_MODE]
    assert settings.queue_url is not None  # without it, the back-off falls back to the 3-minute visibility
    # Slack's own Web API: the stack never points the notifier elsewhere.
    assert Env.SLACK_API_URL not in env


def test_slack_notifier_reads_the_queue_in_batches_reporting_failed_items(default: Template) -> None:
    mapping = only(default, "AWS::Lambda::EventSourceMapping")["Properties"]
    assert mapping["EventSourceArn"] == arn_of(default, "AWS::SQS::Queue", SLACK_QUEUE)
    assert mapping["FunctionName"] == {"Ref": function_id(default, SLACK_HANDLER)}
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert mapping["BatchSize"] == contract.SLACK_BATCH_SIZE == 1
    assert mapping["ScalingConfig"] == {"MaximumConcurrency": 2}


def test_a_webhook_secret_is_created_and_its_name_output_when_none_is_configured(default: Template) -> None:
    secret = only(default, "AWS::SecretsManager::Secret")["Properties"]
    assert secret["Name"] == "Gtwatch/slack-webhook-url"
    assert secret["KmsKeyId"] == key_arn(default)
    assert default.to_json()["Outputs"]["SlackWebhookSecretName"]["Value"] == "Gtwatch/slack-webhook-url"


def test_a_configured_webhook_secret_is_used_not_created(custom: Template) -> None:
    custom.resource_count_is("AWS::SecretsManager::Secret", 0)
    assert "SlackWebhookSecretName" not in custom.to_json()["Outputs"]
    env = function_props(custom, SLACK_HANDLER)["Environment"]["Variables"]
    assert env[Env.SLACK_WEBHOOK_SECRET] == "team/gtwatch-slack"
    assert env[Env.SLACK_EVENTS] == "completed,failed"


def test_app_mode_creates_a_bot_token_secret_under_the_key_and_outputs_its_name(app: Template) -> None:
    secret = only(app, "AWS::SecretsManager::Secret")["Properties"]
    assert secret["Name"] == "Gtwatch/slack-bot-token"
    assert secret["KmsKeyId"] == key_arn(app)
    # A placeholder, which the notifier refuses (not xoxb-...) until a person puts the bot token in.
    assert not secret["SecretString"].startswith("xoxb-")
    outputs = app.to_json()["Outputs"]
    assert outputs[contract.OUTPUT_SLACK_TOKEN_SECRET_NAME]["Value"] == "Gtwatch/slack-bot-token"
    # No webhook in app mode: neither its secret nor its output.
    assert contract.OUTPUT_SLACK_WEBHOOK_SECRET_NAME not in outputs


def test_app_mode_uses_a_configured_token_secret(tmp_path_factory: pytest.TempPathFactory) -> None:
    configured = {**APP, "slack": {**APP["slack"], "token_secret_name": "team/gtwatch-bot"}}
    template = synth(tmp_path_factory.mktemp("app-configured-token"), configured).template
    template.resource_count_is("AWS::SecretsManager::Secret", 0)
    assert contract.OUTPUT_SLACK_TOKEN_SECRET_NAME not in template.to_json()["Outputs"]
    env = function_props(template, SLACK_HANDLER)["Environment"]["Variables"]
    assert env[Env.SLACK_TOKEN_SECRET] == "team/gtwatch-bot"


# --- the functions ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("handler", HANDLERS)
def test_each_function_runs_python_3_14_on_arm64_without_tracing_by_default(default: Template, handler: str) -> None:
    props = function_props(default, handler)
    assert props["Runtime"] == "python3.14"
    assert props["Architectures"] == ["arm64"]
    assert "TracingConfig" not in props
    assert props["MemorySize"] == 256
    assert "ReservedConcurrentExecutions" not in props


@pytest.mark.parametrize("handler", HANDLERS)
def test_tracing_true_turns_on_active_tracing(custom: Template, handler: str) -> None:
    assert function_props(custom, handler)["TracingConfig"] == {"Mode": "Active"}


@pytest.mark.parametrize(
    ("template_name", "version"), [("default", pinned_version("aws-lambda-powertools")), ("custom", "3.36.0")]
)
def test_each_function_uses_the_powertools_layer_named_by_its_public_parameter(
    request: pytest.FixtureRequest, template_name: str, version: str
) -> None:
    template: Template = request.getfixturevalue(template_name)
    parameters = {
        name: parameter
        for name, parameter in template.to_json()["Parameters"].items()
        if parameter["Default"].startswith("/aws/service/powertools/")
    }
    assert len(parameters) == 1
    ((name, parameter),) = parameters.items()
    # CloudFormation resolves it at deploy time in the stack's region: synthesis needs no AWS call.
    assert parameter == {
        "Type": "AWS::SSM::Parameter::Value<String>",
        "Default": f"/aws/service/powertools/python/arm64/python3.14/{version}",
    }
    for handler in HANDLERS:
        assert function_props(template, handler)["Layers"] == [{"Ref": name}]


def test_each_function_logs_to_its_own_group_kept_a_month_encrypted_with_the_key(default: Template) -> None:
    groups = default.find_resources("AWS::Logs::LogGroup")
    assert len(groups) == 4
    assert all(group["Properties"]["RetentionInDays"] == 30 for group in groups.values())
    assert all(group["Properties"]["KmsKeyId"] == key_arn(default) for group in groups.values())
    used = {handler: function_props(default, handler)["LoggingConfig"]["LogGroup"]["Ref"] for handler in HANDLERS}
    assert set(used.values()) == set(groups)
    # Named under the stack's prefix, which the key policy names for CloudWatch Logs.
    assert {handler: groups[group]["Properties"]["LogGroupName"] for handler, group in used.items()} == {
        POLLER_HANDLER: "/gtwatch/Gtwatch/poller",
        EVENT_HANDLER: "/gtwatch/Gtwatch/event-handler",
        SLACK_HANDLER: "/gtwatch/Gtwatch/slack-notifier",
        WATCH_START_HANDLER: "/gtwatch/Gtwatch/watch-start",
    }


def test_poller_runs_the_poller_handler_with_default_settings(default: Template) -> None:
    props = function_props(default, POLLER_HANDLER)
    assert props["Timeout"] == 120
    assert props["Environment"]["Variables"] == {
        Env.TABLE_NAME: ref(default, "AWS::DynamoDB::Table", STATE_TABLE),
        Env.TOPIC_ARN: ref(default, "AWS::SNS::Topic", {"TopicName": "Gtwatch-notifications"}),
        Env.REGIONS: {"Ref": "AWS::Region"},
        Env.KINDS: "labeling",
        Env.STALL_AFTER_MINUTES: "60",
        Env.SCHEDULE_MINUTES: "5",
        "POWERTOOLS_SERVICE_NAME": "gtwatch",
        "POWERTOOLS_METRICS_NAMESPACE": "Gtwatch",
        "POWERTOOLS_LOG_LEVEL": "INFO",
    }


def test_poller_gets_the_configured_settings(custom: Template) -> None:
    env = function_props(custom, POLLER_HANDLER)["Environment"]["Variables"]
    assert env[Env.REGIONS] == "us-east-1,eu-west-1"
    assert env[Env.NAME_CONTAINS] == "prod-batch"
    assert env[Env.STALL_AFTER_MINUTES] == "90"
    assert env[Env.STALL_REPEAT_MINUTES] == "120"
    assert env[Env.SCHEDULE_MINUTES] == "10"
    for handler in HANDLERS:
        assert function_props(custom, handler)["Environment"]["Variables"]["POWERTOOLS_LOG_LEVEL"] == "DEBUG"


@pytest.mark.parametrize("handler", [POLLER_HANDLER, EVENT_HANDLER, WATCH_START_HANDLER])
def test_the_watching_functions_get_the_kinds_and_each_kinds_stall_threshold(all_kinds: Template, handler: str) -> None:
    env = function_props(all_kinds, handler)["Environment"]["Variables"]
    assert env[Env.KINDS] == "labeling,training,processing,transform,tuning,pipeline"
    # Minutes by kind as compact JSON in the contract's order; tuning, left out, never stalls.
    assert env[Env.STALL_AFTER_MINUTES] == '{"labeling":60,"training":30,"processing":45,"transform":30}'


def test_the_notifier_gets_a_routes_kinds(all_kinds: Template) -> None:
    env = function_props(all_kinds, SLACK_HANDLER)["Environment"]["Variables"]
    assert json.loads(env[Env.SLACK_ROUTES]) == [
        {"channel": "#ml-failures", "events": ["failed", "stalled"], "kinds": ["training", "pipeline"]},
        {"channel": "#labeling", "events": ["completed", "failed"]},
    ]


@pytest.mark.parametrize("handler", [POLLER_HANDLER, EVENT_HANDLER])
def test_quiet_hours_reach_the_poller_and_the_event_handler_as_they_read_them(custom: Template, handler: str) -> None:
    env = function_props(custom, handler)["Environment"]["Variables"]
    assert env[Env.QUIET_HOURS] == (
        '{"start":"22:00","end":"07:00","timezone":"Europe/Berlin","hold":["completed","resumed"],'
        '"channels":["email","slack"]}'
    )
    # The handlers' own settings accept what the stack gives them (resource references as stand-ins).
    environ = {name: value for name, value in env.items() if isinstance(value, str)}
    environ |= {Env.TABLE_NAME: "Gtwatch-StateTable-ABC123", "AWS_REGION": "eu-west-1"}
    environ[Env.TOPIC_ARN] = "arn:aws:sns:eu-west-1:123456789012:Gtwatch-notifications"
    settings = PollerSettings.from_env(environ)
    quiet = settings.quiet_hours
    assert quiet is not None
    assert (quiet.start.isoformat(), quiet.end.isoformat(), quiet.zone.key) == ("22:00:00", "07:00:00", "Europe/Berlin")
    # What the email subscriptions take: only those notifications release a job's held email.
    assert settings.email_events == ("failed", "stalled")


@pytest.mark.parametrize("handler", [POLLER_HANDLER, EVENT_HANDLER])
def test_no_quiet_hours_by_default(default: Template, handler: str) -> None:
    assert Env.QUIET_HOURS not in function_props(default, handler)["Environment"]["Variables"]


@pytest.mark.parametrize("template_name", ["default", "custom"])
def test_event_handler_has_the_pollers_settings(request: pytest.FixtureRequest, template_name: str) -> None:
    template: Template = request.getfixturevalue(template_name)
    event_handler = function_props(template, EVENT_HANDLER)
    assert event_handler["Environment"] == function_props(template, POLLER_HANDLER)["Environment"]
    assert event_handler["Timeout"] == 60


def test_a_failed_poll_is_not_retried_out_of_schedule_but_a_failed_event_is(default: Template) -> None:
    config = only(default, "AWS::Lambda::EventInvokeConfig")["Properties"]
    assert config["FunctionName"] == {"Ref": function_id(default, POLLER_HANDLER)}
    assert config["MaximumRetryAttempts"] == 0
    # No EventInvokeConfig for the event handler: Lambda's default of two retries applies.


# --- what runs the functions -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("template_name", "expression"), [("default", "rate(5 minutes)"), ("custom", "rate(10 minutes)")]
)
def test_poller_runs_on_the_configured_schedule(
    request: pytest.FixtureRequest, template_name: str, expression: str
) -> None:
    template: Template = request.getfixturevalue(template_name)
    rule = only(template, "AWS::Events::Rule", {"ScheduleExpression": Match.any_value()})["Properties"]
    assert rule["ScheduleExpression"] == expression
    assert rule["State"] == "ENABLED"
    assert [target["Arn"] for target in rule["Targets"]] == [
        arn_of(template, "AWS::Lambda::Function", {"Handler": POLLER_HANDLER})
    ]


def test_a_stack_watching_every_kind_hands_each_kinds_state_changes_to_the_event_handler(all_kinds: Template) -> None:
    rule = only(all_kinds, "AWS::Events::Rule", {"EventPattern": Match.any_value()})["Properties"]
    assert rule["EventPattern"] == {
        "source": ["aws.sagemaker"],
        "detail-type": [
            "SageMaker Ground Truth Labeling Job State Change",
            "SageMaker Training Job State Change",
            "SageMaker Processing Job State Change",
            "SageMaker Transform Job State Change",
            "SageMaker HyperParameter Tuning Job State Change",
            "SageMaker Model Building Pipeline Execution Status Change",
        ],
    }


def test_the_rule_takes_the_events_of_the_watched_kinds_only(tmp_path_factory: pytest.TempPathFactory) -> None:
    template = synth(tmp_path_factory.mktemp("training-pipeline"), {"kinds": ["pipeline", "training"]}).template
    rule = only(template, "AWS::Events::Rule", {"EventPattern": Match.any_value()})["Properties"]
    assert rule["EventPattern"] == {
        "source": ["aws.sagemaker"],
        "detail-type": [
            "SageMaker Training Job State Change",
            "SageMaker Model Building Pipeline Execution Status Change",
        ],
    }


def test_labeling_job_state_changes_go_to_the_event_handler(default: Template) -> None:
    rule = only(default, "AWS::Events::Rule", {"EventPattern": Match.any_value()})["Properties"]
    assert rule["EventPattern"] == {
        "source": ["aws.sagemaker"],
        "detail-type": ["SageMaker Ground Truth Labeling Job State Change"],
    }
    assert "EventBusName" not in rule  # SageMaker sends to the default bus
    assert [target["Arn"] for target in rule["Targets"]] == [
        arn_of(default, "AWS::Lambda::Function", {"Handler": EVENT_HANDLER})
    ]


@pytest.mark.parametrize(
    ("handler", "rule_props"),
    [(POLLER_HANDLER, {"ScheduleExpression": Match.any_value()}), (EVENT_HANDLER, {"EventPattern": Match.any_value()})],
)
def test_each_rule_may_invoke_its_function_only(default: Template, handler: str, rule_props: dict[str, Any]) -> None:
    permission = only(
        default,
        "AWS::Lambda::Permission",
        {"FunctionName": arn_of(default, "AWS::Lambda::Function", {"Handler": handler})},
    )
    assert permission["Properties"]["Principal"] == "events.amazonaws.com"
    assert permission["Properties"]["Action"] == "lambda:InvokeFunction"
    assert permission["Properties"]["SourceArn"] == arn_of(default, "AWS::Events::Rule", rule_props)


# --- outputs and size ------------------------------------------------------------------------------------


def test_outputs_name_what_people_and_the_gtwatch_commands_need(default: Template) -> None:
    outputs = default.to_json()["Outputs"]
    assert outputs[contract.OUTPUT_TOPIC_ARN]["Value"] == ref(
        default, "AWS::SNS::Topic", {"TopicName": "Gtwatch-notifications"}
    )
    assert outputs[contract.OUTPUT_ALARM_TOPIC_ARN]["Value"] == ref(
        default, "AWS::SNS::Topic", {"TopicName": "Gtwatch-alarms"}
    )
    assert outputs[contract.OUTPUT_STATE_TABLE]["Value"] == ref(default, "AWS::DynamoDB::Table", STATE_TABLE)
    assert outputs[contract.OUTPUT_SLACK_QUEUE_URL]["Value"] == ref(default, "AWS::SQS::Queue", SLACK_QUEUE)
    assert outputs[contract.OUTPUT_DEAD_LETTER_QUEUE_URL]["Value"] == ref(default, "AWS::SQS::Queue", DEAD_LETTER_QUEUE)


def watcher_config(template: Template, region: str) -> Any:
    """The WatcherConfig output as gtwatch status reads it, with the deploy-time region filled in."""
    value = template.to_json()["Outputs"][contract.OUTPUT_CONFIG]["Value"]
    if isinstance(value, dict):
        value = "".join(region if part == {"Ref": "AWS::Region"} else part for part in value["Fn::Join"][1])
    assert " " not in value  # compact
    return json.loads(value)


def test_the_watcher_config_output_holds_the_effective_defaults(default: Template) -> None:
    assert watcher_config(default, "eu-central-1") == {
        "regions": ["eu-central-1"],
        "kinds": ["labeling"],
        "name_contains": None,
        "slack_events": list(EVENT_TYPES),
        "email_events": list(EVENT_TYPES),
        "stall_after_minutes": 60,
        "stall_after_minutes_by_kind": {"labeling": 60},
        "stall_repeat_minutes": None,
        "schedule_minutes": 5,
        "slack": {"mode": "webhook", "routes": None},
        "quiet_hours": None,
        "digest": None,
    }


def test_the_watcher_config_output_holds_the_app_mode_and_its_routes(app: Template) -> None:
    config = watcher_config(app, "us-west-2")
    assert config["slack"] == {
        "mode": "app",
        "routes": [
            {"channel": "#labeling", "events": ["completed", "failed"]},
            {"channel": "C0123ABCD", "events": ["failed", "stalled"], "name_contains": "prod", "mention": "<!here>"},
        ],
    }
    # What reaches Slack at all, in the contract's order: the events of some route.
    assert config["slack_events"] == ["completed", "failed", "stalled"]


def test_the_watcher_config_output_holds_the_configured_settings(custom: Template) -> None:
    assert watcher_config(custom, "unused") == {
        "regions": ["us-east-1", "eu-west-1"],
        "kinds": ["labeling"],
        "name_contains": "prod-batch",
        "slack_events": ["completed", "failed"],
        "email_events": ["failed", "stalled"],
        "stall_after_minutes": 90,
        "stall_after_minutes_by_kind": {"labeling": 90},
        "stall_repeat_minutes": 120,
        "schedule_minutes": 10,
        "slack": {"mode": "webhook", "routes": None},
        "quiet_hours": {
            "start": "22:00",
            "end": "07:00",
            "timezone": "Europe/Berlin",
            "hold": ["completed", "resumed"],
            "channels": ["email", "slack"],
        },
        "digest": None,
    }


def test_the_watcher_config_output_holds_the_kinds_and_each_kinds_stall_threshold(all_kinds: Template) -> None:
    config = watcher_config(all_kinds, "unused")
    assert config["kinds"] == ["labeling", "training", "processing", "transform", "tuning", "pipeline"]
    assert config["stall_after_minutes"] == {"labeling": 60, "training": 30, "processing": 45, "transform": 30}
    assert config["stall_after_minutes_by_kind"] == {
        "labeling": 60,
        "training": 30,
        "processing": 45,
        "transform": 30,
        "tuning": None,
        "pipeline": None,
    }
    assert config["slack"]["routes"][0]["kinds"] == ["training", "pipeline"]


def test_the_default_stack_has_44_resources(default: Template, app: Template) -> None:
    # Reported in the deploy docs; a change here is worth a look at what was added.
    assert len(default.to_json()["Resources"]) == 44
    # App mode swaps the webhook secret for the bot token secret.
    assert len(app.to_json()["Resources"]) == 44


def test_the_template_says_which_gtwatch_release_it_is(default: Template) -> None:
    pyproject = tomllib.loads((Path(__file__).parents[2] / "pyproject.toml").read_text(encoding="utf-8"))
    version = pyproject["project"]["version"]
    # The installed metadata is what the stack reads; an install older than pyproject.toml would misname the release.
    assert metadata.version("gtwatch") == version, "reinstall gtwatch (make .venv/bin/gtwatch)"
    assert default.to_json()["Description"] == (f"gtwatch {version} — watches SageMaker jobs and tells Slack and email")
