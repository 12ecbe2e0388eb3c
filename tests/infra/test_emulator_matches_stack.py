"""The emulator's deployment (gtwatch.sim.emulator.deployment, which the replay and the functional tests run the
handlers on) matches the synthesized stack: the state table's layout, the Slack queues, the subscriptions and every
environment variable the stack gives each function.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Any

import pytest
from aws_cdk.assertions import Template
from watcher.domain.contract import EVENT_TYPES
from watcher.domain.env import Env
from watcher.domain.slack_routes import parse_routes, routes_to_json

from gtwatch.ops.kinds import kinds_env, stall_after_env
from gtwatch.sim.emulator import deployment
from gtwatch.sim.emulator.deployment import Routing
from infra.config import parse_config
from tests.infra.conftest import CUSTOM
from tests.infra.queries import (
    DEAD_LETTER_QUEUE,
    EVENT_HANDLER,
    HANDLERS,
    POLLER_HANDLER,
    SLACK_HANDLER,
    SLACK_QUEUE,
    STATE_TABLE,
    function_props,
    only,
    ref,
)
from tests.infra.stacks import ALL_KINDS, APP_ROUTES


@dataclass(frozen=True)
class Emulated:
    """What one emulator deployment created, read back through the AWS APIs, and the handlers' environment."""

    table: dict[str, Any]
    time_to_live: dict[str, Any]
    slack_queue: dict[str, str]
    dead_letter_queue: dict[str, str]
    subscriptions: dict[str, dict[str, str]]  # by protocol
    environ: dict[str, str]


def _emulate(routing: Routing, handler_env: dict[str, str] | None = None) -> Emulated:
    with deployment.deployed(
        mode="inprocess",
        routing=routing,
        slack_webhook_url="https://hooks.slack.com/services/T000/B000/XXXX",
        handler_env=handler_env or {},
        slack_api_url="http://127.0.0.1:9/api/",
        slack_bot_token="xoxb-emulated",
    ) as resources:
        dynamodb, sqs, sns = (deployment.client(name) for name in ("dynamodb", "sqs", "sns"))
        subscriptions = {}
        for listed in sns.list_subscriptions_by_topic(TopicArn=resources.topic_arn)["Subscriptions"]:
            attributes = sns.get_subscription_attributes(SubscriptionArn=listed["SubscriptionArn"])["Attributes"]
            subscriptions[listed["Protocol"]] = attributes
        return Emulated(
            table=dynamodb.describe_table(TableName=resources.table_name)["Table"],
            time_to_live=dynamodb.describe_time_to_live(TableName=resources.table_name)["TimeToLiveDescription"],
            slack_queue=sqs.get_queue_attributes(QueueUrl=resources.slack_queue_url, AttributeNames=["All"])[
                "Attributes"
            ],
            dead_letter_queue=sqs.get_queue_attributes(
                QueueUrl=resources.dead_letter_queue_url, AttributeNames=["All"]
            )["Attributes"],
            subscriptions=subscriptions,
            environ=dict(os.environ),
        )


@pytest.fixture(scope="module")
def webhook() -> Emulated:
    """The emulator as the default stack, with CUSTOM's email events (the default stack has no email address)."""
    return _emulate(Routing(slack_events=EVENT_TYPES, email_events=tuple(CUSTOM["email_events"])))


@pytest.fixture(scope="module")
def app_mode() -> Emulated:
    routes = routes_to_json(parse_routes(APP_ROUTES))
    return _emulate(Routing(slack_events=(), email_events=(), slack_mode="app", slack_routes_json=routes))


@pytest.fixture(scope="module")
def every_kind() -> Emulated:
    """The emulator with ALL_KINDS's kinds and thresholds, as the replay and `gtwatch emulator` give them (the
    variables the stack's config writes, through the same functions)."""
    config = parse_config(ALL_KINDS)
    handler_env: dict[str, str] = {
        Env.REGIONS: ",".join(config.regions),
        Env.KINDS: kinds_env(config.kinds),
        Env.STALL_AFTER_MINUTES: stall_after_env(config.stall_after_minutes),
    }
    return _emulate(
        Routing(slack_events=(), email_events=(), slack_mode="app", slack_routes_json=config.slack.routes_json),
        handler_env,
    )


def table_props(template: Template) -> Any:
    return only(template, "AWS::DynamoDB::Table", STATE_TABLE)["Properties"]


# --- the state table -------------------------------------------------------------------------------------


def test_the_state_tables_key_and_attributes_match(default: Template, webhook: Emulated) -> None:
    props = table_props(default)
    assert webhook.table["KeySchema"] == props["KeySchema"]
    key = lambda definition: definition["AttributeName"]  # noqa: E731
    assert sorted(webhook.table["AttributeDefinitions"], key=key) == sorted(props["AttributeDefinitions"], key=key)
    assert webhook.table["BillingModeSummary"]["BillingMode"] == props["BillingMode"]


def test_the_active_index_matches(default: Template, webhook: Emulated) -> None:
    emulated = [
        {"IndexName": index["IndexName"], "KeySchema": index["KeySchema"], "Projection": index["Projection"]}
        for index in webhook.table["GlobalSecondaryIndexes"]
    ]
    assert emulated == table_props(default)["GlobalSecondaryIndexes"]


def test_the_state_tables_time_to_live_matches(default: Template, webhook: Emulated) -> None:
    ttl = table_props(default)["TimeToLiveSpecification"]
    assert webhook.time_to_live.get("TimeToLiveStatus") == "ENABLED"
    assert webhook.time_to_live.get("AttributeName") == ttl["AttributeName"]


# --- the Slack queues ------------------------------------------------------------------------------------


def test_the_slack_queues_visibility_timeout_matches(default: Template, webhook: Emulated) -> None:
    props = only(default, "AWS::SQS::Queue", SLACK_QUEUE)["Properties"]
    assert int(webhook.slack_queue["VisibilityTimeout"]) == props["VisibilityTimeout"]


def test_the_slack_queues_max_receive_count_matches(default: Template, webhook: Emulated) -> None:
    props = only(default, "AWS::SQS::Queue", SLACK_QUEUE)["Properties"]
    redrive = json.loads(webhook.slack_queue["RedrivePolicy"])
    assert int(redrive["maxReceiveCount"]) == props["RedrivePolicy"]["maxReceiveCount"]
    assert redrive["deadLetterTargetArn"] == webhook.dead_letter_queue["QueueArn"]


def test_the_slack_queues_retention_matches(default: Template, webhook: Emulated) -> None:
    props = only(default, "AWS::SQS::Queue", SLACK_QUEUE)["Properties"]
    assert int(webhook.slack_queue["MessageRetentionPeriod"]) == props["MessageRetentionPeriod"]


def test_the_dead_letter_queues_retention_matches(default: Template, webhook: Emulated) -> None:
    props = only(default, "AWS::SQS::Queue", DEAD_LETTER_QUEUE)["Properties"]
    assert int(webhook.dead_letter_queue["MessageRetentionPeriod"]) == props["MessageRetentionPeriod"]


# --- the subscriptions -----------------------------------------------------------------------------------


def test_the_slack_subscription_is_raw_and_filtered_alike(default: Template, webhook: Emulated) -> None:
    props = only(default, "AWS::SNS::Subscription", {"Protocol": "sqs"})["Properties"]
    emulated = webhook.subscriptions["sqs"]
    assert emulated["Endpoint"] == webhook.slack_queue["QueueArn"]
    assert (emulated["RawMessageDelivery"] == "true") is props["RawMessageDelivery"] is True
    # The stack's is unfiltered: the notifier routes, and needs every notification of a job to keep the order.
    assert json.loads(emulated.get("FilterPolicy") or "null") == props.get("FilterPolicy")


def test_the_email_filter_policy_matches_for_the_same_events(custom: Template, webhook: Emulated) -> None:
    topic = ref(custom, "AWS::SNS::Topic", {"TopicName": "Gtwatch-notifications"})
    emails = custom.find_resources("AWS::SNS::Subscription", {"Properties": {"Protocol": "email", "TopicArn": topic}})
    policies = {json.dumps(email["Properties"]["FilterPolicy"], sort_keys=True) for email in emails.values()}
    assert len(policies) == 1  # every address gets the same events
    assert json.loads(webhook.subscriptions["email"]["FilterPolicy"]) == json.loads(policies.pop())


# --- the handlers' environment ---------------------------------------------------------------------------

DEPLOYMENTS = [
    *(("default", "webhook", handler) for handler in HANDLERS),
    ("app", "app_mode", SLACK_HANDLER),
    # Every kind: GTWATCH_KINDS, the thresholds by kind, and the routes with a route's kinds.
    *(("all_kinds", "every_kind", handler) for handler in (POLLER_HANDLER, EVENT_HANDLER, SLACK_HANDLER)),
]
IDS = [f"{name}-{handler.split('.')[1]}" for name, _, handler in DEPLOYMENTS]


def stack_environment(request: pytest.FixtureRequest, template_name: str, handler: str) -> dict[str, Any]:
    template: Template = request.getfixturevalue(template_name)
    variables: dict[str, Any] = function_props(template, handler)["Environment"]["Variables"]
    return variables


@pytest.mark.parametrize(("template_name", "emulated_name", "handler"), DEPLOYMENTS, ids=IDS)
def test_the_emulator_sets_every_variable_the_stack_sets(
    request: pytest.FixtureRequest, template_name: str, emulated_name: str, handler: str
) -> None:
    emulated: Emulated = request.getfixturevalue(emulated_name)
    assert set(stack_environment(request, template_name, handler)) - set(emulated.environ) == set()


@pytest.mark.parametrize(("template_name", "emulated_name", "handler"), DEPLOYMENTS, ids=IDS)
def test_the_emulator_gives_the_stacks_values_where_they_are_not_resource_names(
    request: pytest.FixtureRequest, template_name: str, emulated_name: str, handler: str
) -> None:
    emulated: Emulated = request.getfixturevalue(emulated_name)
    # A value the template computes (Ref, GetAtt: table names, queue URLs, the region) names a resource; the
    # emulator's own resources have other names. Every literal value must be the same.
    literal = {
        name: value
        for name, value in stack_environment(request, template_name, handler).items()
        if isinstance(value, str) and name in emulated.environ
    }
    assert {name: emulated.environ[name] for name in literal} == literal
