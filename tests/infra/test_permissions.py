"""Least privilege: each function may make exactly the calls its code makes, on its own resources; the key lets
SNS and CloudWatch in, and no more."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aws_cdk.assertions import Template
from botocore.client import BaseClient
from watcher.adapters.mute import MuteStore
from watcher.domain.contract import STATE_CHANGE_DETAIL_TYPE, STATE_CHANGE_SOURCE
from watcher.domain.mute_rules import Mute
from watcher.handlers import event_handler, poller_handler, slack_handler

from gtwatch.sim.emulator import deployment, labeling_jobs
from gtwatch.sim.emulator.deployment import FakeLambdaContext, Resources
from gtwatch.sim.slack_endpoint import SlackEndpoint
from tests.infra.queries import (
    DEAD_LETTER_QUEUE,
    EVENT_HANDLER,
    HANDLERS,
    POLLER_HANDLER,
    SLACK_HANDLER,
    SLACK_QUEUE,
    STATE_TABLE,
    WATCH_START_HANDLER,
    actions,
    function_id,
    function_props,
    grants,
    key_arn,
    logical_id,
    only,
    render,
    rendered_arn,
    role_id,
    statements_of,
)
from tests.infra.stacks import synth

XRAY = (("xray:PutTelemetryRecords", "xray:PutTraceSegments"), "*")
# What watching one job calls on the state table (by key: the job, the region's run record, the job's mute; conditional
# puts and deletes); nobody calls UpdateItem.
JOB_ITEMS = ("dynamodb:DeleteItem", "dynamodb:GetItem", "dynamodb:PutItem")
# The poller also reads listed jobs in batches.
POLL_ITEMS = ("dynamodb:BatchGetItem", *JOB_ITEMS)


def named(template: Template, resource_type: str, props: dict[str, Any] | None = None) -> str:
    return logical_id(template, resource_type, props)


def log_grant(template: Template, handler: str) -> tuple[tuple[str, ...], str]:
    """Writing to the function's own log group only (its Arn attribute ends in ":*", covering its streams)."""
    log_group = function_props(template, handler)["LoggingConfig"]["LogGroup"]["Ref"]
    return (("logs:CreateLogStream", "logs:PutLogEvents"), f"${{{log_group}.Arn}}")


def watcher_grants(
    template: Template, handler: str, describe_regions: list[str], items: tuple[str, ...] = JOB_ITEMS
) -> set[tuple[tuple[str, ...], str]]:
    """What the poller and the event handler share: job items, publish, the key, describe, logs (no X-Ray by
    default)."""
    table = named(template, "AWS::DynamoDB::Table", STATE_TABLE)
    topic = named(template, "AWS::SNS::Topic", {"TopicName": "Gtwatch-notifications"})
    key = named(template, "AWS::KMS::Key")
    return {
        log_grant(template, handler),
        (items, f"${{{table}.Arn}}"),
        (("sns:Publish",), f"${{{topic}}}"),
        (("kms:Decrypt", "kms:GenerateDataKey"), f"${{{key}.Arn}}"),
        *(
            (("sagemaker:DescribeLabelingJob",), rendered_arn("sagemaker", "labeling-job/*", region))
            for region in describe_regions
        ),
    }


def poller_grants(template: Template, describe_regions: list[str]) -> set[tuple[tuple[str, ...], str]]:
    """A run over a region adds batch reads of listed jobs, a Query of the `active` index and listing jobs."""
    table = named(template, "AWS::DynamoDB::Table", STATE_TABLE)
    return {
        *watcher_grants(template, POLLER_HANDLER, describe_regions, items=POLL_ITEMS),
        (("dynamodb:Query",), f"${{{table}.Arn}}/index/active"),
        # ListLabelingJobs supports no resource type; DescribeLabelingJob does, so it is kept to labeling jobs.
        (("sagemaker:ListLabelingJobs",), "*"),
    }


def test_poller_may_list_and_describe_jobs_use_its_state_and_publish_nothing_else(default: Template) -> None:
    assert grants(default, POLLER_HANDLER) == poller_grants(default, ["${AWS::Region}"])


def test_poller_may_describe_labeling_jobs_in_each_configured_region(custom: Template) -> None:
    # The custom configuration turns tracing on, which adds X-Ray's two actions.
    assert grants(custom, POLLER_HANDLER) == {*poller_grants(custom, ["us-east-1", "eu-west-1"]), XRAY}


# --- by kind: a stack watching every kind (ALL_KINDS: two regions) ------------------------------------------------

ALL_KINDS_REGIONS = ["us-east-1", "eu-west-1"]
# Each kind's describe actions on its own resource type only (a pipeline execution: pipeline/<name>/execution/<id>).
DESCRIBE_BY_KIND = {
    "labeling": (("sagemaker:DescribeLabelingJob",), "labeling-job/*"),
    "training": (("sagemaker:DescribeTrainingJob",), "training-job/*"),
    "processing": (("sagemaker:DescribeProcessingJob",), "processing-job/*"),
    "transform": (("sagemaker:DescribeTransformJob",), "transform-job/*"),
    "tuning": (("sagemaker:DescribeHyperParameterTuningJob",), "hyper-parameter-tuning-job/*"),
    "pipeline": (
        ("sagemaker:DescribePipelineExecution", "sagemaker:ListPipelineExecutionSteps"),
        "pipeline/*/execution/*",
    ),
}
# Listing supports no resource type: one statement on "*" with every enabled kind's listing (pipelines: Search).
LIST_EVERY_KIND = (
    (
        "sagemaker:ListHyperParameterTuningJobs",
        "sagemaker:ListLabelingJobs",
        "sagemaker:ListProcessingJobs",
        "sagemaker:ListTrainingJobs",
        "sagemaker:ListTransformJobs",
        "sagemaker:Search",
    ),
    "*",
)
LOG_GROUPS = ("/aws/sagemaker/TrainingJobs", "/aws/sagemaker/ProcessingJobs", "/aws/sagemaker/TransformJobs")


def describe_every_kind(regions: list[str]) -> set[tuple[tuple[str, ...], str]]:
    return {
        (granted, rendered_arn("sagemaker", resource, region))
        for granted, resource in DESCRIBE_BY_KIND.values()
        for region in regions
    }


def read_job_logs(regions: list[str]) -> set[tuple[tuple[str, ...], str]]:
    """Listing a log group's streams (resource type log-group, its ARN ending ":*") and reading a stream's events
    (resource type log-stream), in SageMaker's log groups of the kinds with logs only."""
    return {
        grant
        for group in LOG_GROUPS
        for region in regions
        for grant in (
            (("logs:DescribeLogStreams",), rendered_arn("logs", f"log-group:{group}:*", region)),
            (("logs:GetLogEvents",), rendered_arn("logs", f"log-group:{group}:log-stream:*", region)),
        )
    }


def test_watching_every_kind_the_poller_may_list_describe_and_read_the_logs_of_those_kinds_only(
    all_kinds: Template,
) -> None:
    table = named(all_kinds, "AWS::DynamoDB::Table", STATE_TABLE)
    shared = watcher_grants(all_kinds, POLLER_HANDLER, [], items=POLL_ITEMS)
    assert grants(all_kinds, POLLER_HANDLER) == {
        *shared,
        (("dynamodb:Query",), f"${{{table}.Arn}}/index/active"),
        LIST_EVERY_KIND,
        *describe_every_kind(ALL_KINDS_REGIONS),
        *read_job_logs(ALL_KINDS_REGIONS),
    }


def test_watching_every_kind_the_event_handler_may_describe_each_kind_in_the_stacks_region_and_read_no_logs(
    all_kinds: Template,
) -> None:
    assert grants(all_kinds, EVENT_HANDLER) == {
        *watcher_grants(all_kinds, EVENT_HANDLER, []),
        *describe_every_kind(["${AWS::Region}"]),
    }


def test_watching_labeling_jobs_only_no_role_may_read_sagemakers_logs_or_other_kinds(default: Template) -> None:
    granted = {action for handler in HANDLERS for acts, _ in grants(default, handler) for action in acts}
    sagemaker = {action for action in granted if action.startswith("sagemaker:")}
    assert sagemaker == {"sagemaker:ListLabelingJobs", "sagemaker:DescribeLabelingJob"}
    assert not granted & {"logs:DescribeLogStreams", "logs:GetLogEvents"}


def test_a_kind_without_logs_adds_no_log_reading(tmp_path_factory: pytest.TempPathFactory) -> None:
    template = synth(tmp_path_factory.mktemp("tuning-pipeline"), {"kinds": ["tuning", "pipeline"]}).template
    assert grants(template, POLLER_HANDLER) - watcher_grants(template, POLLER_HANDLER, [], items=POLL_ITEMS) == {
        (("dynamodb:Query",), f"${{{named(template, 'AWS::DynamoDB::Table', STATE_TABLE)}.Arn}}/index/active"),
        (("sagemaker:ListHyperParameterTuningJobs", "sagemaker:Search"), "*"),
        (DESCRIBE_BY_KIND["tuning"][0], rendered_arn("sagemaker", DESCRIBE_BY_KIND["tuning"][1])),
        (DESCRIBE_BY_KIND["pipeline"][0], rendered_arn("sagemaker", DESCRIBE_BY_KIND["pipeline"][1])),
    }


@pytest.mark.parametrize("handler", HANDLERS)
def test_x_ray_is_allowed_only_when_tracing_is_on(default: Template, custom: Template, handler: str) -> None:
    assert XRAY not in grants(default, handler)
    assert XRAY in grants(custom, handler)


@pytest.mark.parametrize("template_name", ["default", "custom"])
def test_event_handler_may_watch_the_one_job_an_event_names_and_no_more(
    request: pytest.FixtureRequest, template_name: str
) -> None:
    template: Template = request.getfixturevalue(template_name)
    # Events reach the stack's region only, so it describes jobs there only, whatever the watched regions. It watches
    # the one job an event names, by key: no index Query, no BatchGetItem, and (as nothing does) no UpdateItem.
    expected = watcher_grants(template, EVENT_HANDLER, ["${AWS::Region}"])
    assert grants(template, EVENT_HANDLER) - {XRAY} == expected
    for granted, _ in grants(template, EVENT_HANDLER):
        assert not {"dynamodb:Query", "dynamodb:BatchGetItem", "dynamodb:UpdateItem"} & set(granted)


# --- what the code calls, against what its role allows ---------------------------------------------------------


@contextmanager
def calls_made(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Every AWS call made in the block, as the IAM action it needs (service:Operation)."""
    calls: list[str] = []
    original = BaseClient._make_api_call  # type: ignore[attr-defined]  # private: where every client call passes

    def recording(client: BaseClient, operation: str, parameters: dict[str, Any]) -> Any:
        calls.append(f"{client.meta.service_model.signing_name}:{operation}")
        return original(client, operation, parameters)

    with monkeypatch.context() as patch:
        patch.setattr(BaseClient, "_make_api_call", recording)
        yield calls


def allowed(template: Template, handler: str) -> set[str]:
    return {action for granted, _ in grants(template, handler) for action in granted}


def test_the_poller_and_the_event_handler_make_only_calls_their_roles_allow(
    default: Template, deploy: Callable[..., Resources], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a watched job, muted for stalls (so that both read mutes), that completes after the baseline
    resources = deploy()
    now = datetime.now(UTC)
    arn = labeling_jobs.put_labeling_job(
        region=deployment.REGION,
        name="cats",
        status="InProgress",
        counters={"Unlabeled": 5},
        at=now - timedelta(hours=1),
    )
    MuteStore(deployment.client("dynamodb"), resources.table_name).put(
        Mute(region=deployment.REGION, name="cats", until=now + timedelta(hours=4), events=frozenset({"stalled"}))
    )
    with calls_made(monkeypatch) as poller_calls:
        poller_handler.lambda_handler({}, FakeLambdaContext("gtwatch-poller"))
    labeling_jobs.update_labeling_job(
        region=deployment.REGION, name="cats", at=datetime.now(UTC), status="Completed", counters={"Unlabeled": 0}
    )
    event = {"source": STATE_CHANGE_SOURCE, "detail-type": STATE_CHANGE_DETAIL_TYPE, "resources": [arn], "detail": {}}

    # When the event handler announces it, and the poller runs again
    with calls_made(monkeypatch) as event_calls:
        report = event_handler.lambda_handler(event, FakeLambdaContext("gtwatch-events"))
    with calls_made(monkeypatch) as more_poller_calls:
        poller_handler.lambda_handler({}, FakeLambdaContext("gtwatch-poller"))

    # Then each made only calls its role allows
    assert report["published"], report
    assert set(event_calls) <= allowed(default, EVENT_HANDLER), event_calls
    assert "dynamodb:PutItem" in event_calls and "sns:Publish" in event_calls
    assert set(poller_calls + more_poller_calls) <= allowed(default, POLLER_HANDLER), poller_calls
    assert "dynamodb:Query" in poller_calls


@contextmanager
def items_touched(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[tuple[str, str]]]:
    """Every DynamoDB item call made in the block, as (IAM action, partition key of the item)."""
    touched: list[tuple[str, str]] = []
    original = BaseClient._make_api_call  # type: ignore[attr-defined]

    def recording(client: BaseClient, operation: str, parameters: dict[str, Any]) -> Any:
        if operation in {"GetItem", "PutItem", "DeleteItem"}:
            item = parameters.get("Key") or parameters.get("Item") or {}
            touched.append((f"dynamodb:{operation}", item["pk"]["S"]))
        return original(client, operation, parameters)

    with monkeypatch.context() as patch:
        patch.setattr(BaseClient, "_make_api_call", recording)
        yield touched


def item_grants(template: Template, handler: str) -> list[tuple[set[str], tuple[str, ...] | None]]:
    """The role's statements on the state table's items: (actions, the leading-key prefixes allowed, or None: any)."""
    table = named(template, "AWS::DynamoDB::Table", STATE_TABLE)
    found = []
    for statement in statements_of(template, handler):
        resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        if f"${{{table}.Arn}}" not in [render(resource) for resource in resources]:
            continue
        leading = statement.get("Condition", {}).get("ForAllValues:StringLike", {}).get("dynamodb:LeadingKeys")
        prefixes = None if leading is None else tuple(pattern.removesuffix("*") for pattern in leading)
        found.append((set(actions(statement)), prefixes))
    return found


def may(template: Template, handler: str, action: str, key: str) -> bool:
    return any(
        action in granted and (prefixes is None or key.startswith(prefixes))
        for granted, prefixes in item_grants(template, handler)
    )


def test_the_slack_notifier_touches_only_items_its_role_allows(
    default: Template, deploy: Callable[..., Resources], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a job whose completion is on the Slack queue, and a mute of that job (for stalls) in the table
    with SlackEndpoint() as slack:
        resources = deploy(slack_webhook_url=slack.url)
        now = datetime.now(UTC)
        labeling_jobs.put_labeling_job(
            region=deployment.REGION, name="cats", status="InProgress", counters={"Unlabeled": 5}, at=now
        )
        poller_handler.lambda_handler({}, FakeLambdaContext("gtwatch-poller"))
        MuteStore(deployment.client("dynamodb"), resources.table_name).put(
            Mute(region=deployment.REGION, name="cats", until=now + timedelta(hours=4), events=frozenset({"stalled"}))
        )
        labeling_jobs.update_labeling_job(
            region=deployment.REGION, name="cats", at=datetime.now(UTC), status="Completed", counters={"Unlabeled": 0}
        )
        poller_handler.lambda_handler({}, FakeLambdaContext("gtwatch-poller"))
        sqs = deployment.client("sqs")
        received = sqs.receive_message(
            QueueUrl=resources.slack_queue_url, MaxNumberOfMessages=10, AttributeNames=["All"]
        )["Messages"]
        records = [deployment.sqs_record(message, resources.slack_queue_arn) for message in received]

        # When the notifier delivers it
        with items_touched(monkeypatch) as touched:
            response = slack_handler.lambda_handler({"Records": records}, FakeLambdaContext("gtwatch-slack-notifier"))

        # Then Slack has it, and every item the notifier read or wrote is one its role lets it touch
        assert response["batchItemFailures"] == []
        assert len(slack.received) == 1
    assert ("dynamodb:GetItem", "mute#us-east-1#cats") in touched
    refused = [(action, key) for action, key in touched if not may(default, SLACK_HANDLER, action, key)]
    assert refused == []


def slack_notifier_grants(template: Template) -> set[tuple[tuple[str, ...], str]]:
    """What the notifier may do in either mode, but read its secret."""
    table = named(template, "AWS::DynamoDB::Table", STATE_TABLE)
    queue = named(template, "AWS::SQS::Queue", SLACK_QUEUE)
    dead_letters = named(template, "AWS::SQS::Queue", DEAD_LETTER_QUEUE)
    key = named(template, "AWS::KMS::Key")
    ledgers = '{"ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["slack#*"]}}'
    mutes = '{"ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["mute#*"]}}'
    return {
        log_grant(template, SLACK_HANDLER),
        # Its ledgers in the state table, and no job's state: read and conditionally write slack# items.
        (("dynamodb:GetItem", "dynamodb:PutItem"), f"${{{table}.Arn}} when {ledgers}"),
        # A job's mute, read by key: a notification whose job was muted after it was sent is not shown.
        (("dynamodb:GetItem",), f"${{{table}.Arn}} when {mutes}"),
        # The event source mapping's calls on the queue (Receive, Delete, GetQueueAttributes), the notifier's own
        # deletes and its back-off (ChangeMessageVisibility); not GetQueueUrl, which nothing calls.
        (
            ("sqs:ChangeMessageVisibility", "sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ReceiveMessage"),
            f"${{{queue}.Arn}}",
        ),
        # What Slack rejects for good, the notifier dead-letters itself.
        (("sqs:SendMessage",), f"${{{dead_letters}.Arn}}"),
        # Decrypt: the table, the secret, the queue; GenerateDataKey too: sending to the encrypted dead-letter queue.
        (("kms:Decrypt", "kms:GenerateDataKey"), f"${{{key}.Arn}}"),
    }


def test_slack_notifier_may_read_its_webhook_secret_ledgers_and_queues_only(default: Template) -> None:
    secret = named(default, "AWS::SecretsManager::Secret")
    assert grants(default, SLACK_HANDLER) == {
        *slack_notifier_grants(default),
        (("secretsmanager:GetSecretValue",), f"${{{secret}}}"),
    }


def test_slack_notifier_in_app_mode_reads_the_bot_token_secret_instead(app: Template) -> None:
    secret = named(app, "AWS::SecretsManager::Secret", {"Name": "Gtwatch/slack-bot-token"})
    assert grants(app, SLACK_HANDLER) == {
        *slack_notifier_grants(app),
        (("secretsmanager:GetSecretValue",), f"${{{secret}}}"),
    }


def test_slack_notifier_may_read_a_configured_secret_by_its_name(custom: Template) -> None:
    reads = {resource for acts, resource in grants(custom, SLACK_HANDLER) if "secretsmanager:GetSecretValue" in acts}
    # Secrets Manager ends a secret's ARN with "-" and six random characters.
    assert reads == {rendered_arn("secretsmanager", "secret:team/gtwatch-slack-??????")}


@pytest.mark.parametrize("template_name", ["default", "custom", "app", "digest"])
def test_no_role_may_make_the_calls_no_code_makes(request: pytest.FixtureRequest, template_name: str) -> None:
    template: Template = request.getfixturevalue(template_name)
    policies = template.find_resources("AWS::IAM::Policy").values()
    granted = {
        action
        for policy in policies
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        for action in actions(statement)
    }
    assert "dynamodb:PutItem" in granted
    # Every write is a conditional PutItem; nothing scans; the notifier has its queue's URL in its environment.
    assert not granted & {"dynamodb:UpdateItem", "sqs:GetQueueUrl", "dynamodb:Scan"}


def test_the_slack_queue_trigger_keeps_the_logical_id_of_earlier_releases(default: Template) -> None:
    # A new id would make CloudFormation create a second mapping of the queue to the notifier before deleting the
    # first, which Lambda refuses (ResourceConflictException): the upgrade would fail.
    mappings = default.find_resources("AWS::Lambda::EventSourceMapping")
    assert list(mappings) == [
        "NotificationsSlackNotifierFunctionSqsEventSourceGtwatchNotificationsSlackQueue2821E602673F7FAD"
    ]
    properties = next(iter(mappings.values()))["Properties"]
    assert properties["BatchSize"] == 1
    assert properties["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert properties["ScalingConfig"] == {"MaximumConcurrency": 2}


@pytest.mark.parametrize("template_name", ["default", "custom", "app", "all_kinds"])
def test_no_statement_allows_a_wildcard_action(request: pytest.FixtureRequest, template_name: str) -> None:
    template: Template = request.getfixturevalue(template_name)
    for handler in HANDLERS:
        for granted, _ in grants(template, handler):
            assert all("*" not in action for action in granted), granted


@pytest.mark.parametrize("template_name", ["default", "custom"])
def test_each_function_has_a_role_of_its_own_without_managed_policies(
    request: pytest.FixtureRequest, template_name: str
) -> None:
    template: Template = request.getfixturevalue(template_name)
    roles = template.find_resources("AWS::IAM::Role")
    assert sorted(roles) == sorted(role_id(template, handler) for handler in HANDLERS)
    for role in roles.values():
        assert "ManagedPolicyArns" not in role["Properties"]
        assert role["Properties"]["AssumeRolePolicyDocument"]["Statement"] == [
            {"Action": "sts:AssumeRole", "Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}}
        ]


# --- the key policy --------------------------------------------------------------------------------------


def key_statements(template: Template) -> list[dict[str, Any]]:
    statements: list[dict[str, Any]] = render(only(template, "AWS::KMS::Key")["Properties"]["KeyPolicy"]["Statement"])
    return statements


def test_key_policy_leaves_key_use_to_iam_in_the_account(default: Template) -> None:
    assert {
        "Action": "kms:*",
        "Effect": "Allow",
        "Principal": {"AWS": "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"},
        "Resource": "*",
    } in key_statements(default)


def test_key_policy_lets_sns_deliver_from_the_notification_topic_into_the_encrypted_queues(default: Template) -> None:
    # Named by ARN, not Ref: the topic refers to the key, so a Ref back would be a circular dependency.
    assert {
        "Sid": "AllowSnsToDeliverToEncryptedQueues",
        "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
        "Effect": "Allow",
        "Principal": {"Service": "sns.amazonaws.com"},
        "Resource": "*",
        "Condition": {"ArnEquals": {"aws:SourceArn": rendered_arn("sns", "Gtwatch-notifications")}},
    } in key_statements(default)


def test_key_policy_lets_this_stacks_alarms_publish_to_the_encrypted_alarm_topic(default: Template) -> None:
    assert {
        "Sid": "AllowCloudWatchAlarmsToPublishToTheAlarmTopic",
        "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
        "Effect": "Allow",
        "Principal": {"Service": "cloudwatch.amazonaws.com"},
        "Resource": "*",
        "Condition": {
            "StringEquals": {
                "aws:SourceAccount": "${AWS::AccountId}",
                "kms:EncryptionContext:aws:sns:topicArn": rendered_arn("sns", "Gtwatch-alarms"),
            },
            "ArnLike": {"aws:SourceArn": rendered_arn("cloudwatch", "alarm:Gtwatch-*")},
        },
    } in key_statements(default)


def test_key_policy_lets_cloudwatch_logs_use_it_for_this_stacks_log_groups_only(default: Template) -> None:
    assert {
        "Sid": "AllowCloudWatchLogsForThisStacksLogGroups",
        "Action": ["kms:Decrypt*", "kms:Describe*", "kms:Encrypt*", "kms:GenerateDataKey*", "kms:ReEncrypt*"],
        "Effect": "Allow",
        "Principal": {"Service": "logs.${AWS::Region}.amazonaws.com"},
        "Resource": "*",
        "Condition": {
            "ArnLike": {"kms:EncryptionContext:aws:logs:arn": rendered_arn("logs", "log-group:/gtwatch/Gtwatch/*")}
        },
    } in key_statements(default)


def test_key_policy_lets_the_account_use_it_through_secrets_manager_only_for_the_created_secret(
    default: Template,
) -> None:
    # CDK adds this for a secret under a customer managed key; IAM still decides who may (the notifier: Decrypt).
    assert {
        "Action": [
            "kms:CreateGrant",
            "kms:Decrypt",
            "kms:DescribeKey",
            "kms:Encrypt",
            "kms:GenerateDataKey*",
            "kms:ReEncrypt*",
        ],
        "Effect": "Allow",
        "Principal": {"AWS": "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"},
        "Resource": "*",
        "Condition": {"StringEquals": {"kms:ViaService": "secretsmanager.${AWS::Region}.amazonaws.com"}},
    } in key_statements(default)


def test_key_policy_has_nothing_else(default: Template, custom: Template, app: Template) -> None:
    assert len(key_statements(default)) == 5
    # The bot token secret instead of the webhook secret: the same statement for Secrets Manager.
    assert key_statements(app) == key_statements(default)
    # No secret created, no statement for Secrets Manager.
    assert len(key_statements(custom)) == 4


def test_every_alarm_is_named_so_that_the_key_policy_and_the_topic_policy_cover_it(default: Template) -> None:
    for alarm in default.find_resources("AWS::CloudWatch::Alarm").values():
        assert alarm["Properties"]["AlarmName"].startswith("Gtwatch-")


def test_what_the_key_protects(default: Template) -> None:
    key = key_arn(default)
    protected = [
        resource
        for resource in default.to_json()["Resources"].values()
        if key
        in (
            resource["Properties"].get("KmsMasterKeyId"),
            resource["Properties"].get("KmsKeyId"),
            resource["Properties"].get("SSESpecification", {}).get("KMSMasterKeyId"),
        )
    ]
    # Both topics, both queues, the state table, the four log groups and the webhook secret.
    assert sorted(resource["Type"] for resource in protected) == [
        "AWS::DynamoDB::Table",
        "AWS::Logs::LogGroup",
        "AWS::Logs::LogGroup",
        "AWS::Logs::LogGroup",
        "AWS::Logs::LogGroup",
        "AWS::SNS::Topic",
        "AWS::SNS::Topic",
        "AWS::SQS::Queue",
        "AWS::SQS::Queue",
        "AWS::SecretsManager::Secret",
    ]


@pytest.mark.parametrize("handler", HANDLERS)
def test_each_function_is_created_after_every_policy_of_its_role(default: Template, handler: str) -> None:
    # Otherwise its first run (the schedule fires at once) could start without a permission.
    function = only(default, "AWS::Lambda::Function", {"Handler": handler})
    role = role_id(default, handler)
    policies = default.find_resources("AWS::IAM::Policy", {"Properties": {"Roles": [{"Ref": role}]}})
    assert set(policies) <= set(function["DependsOn"])


def test_watch_start_may_read_and_create_run_records_only(default: Template) -> None:
    table = named(default, "AWS::DynamoDB::Table", STATE_TABLE)
    log_group = function_props(default, WATCH_START_HANDLER)["LoggingConfig"]["LogGroup"]["Ref"]
    run_records = '{"ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["run#*"]}}'
    assert grants(default, WATCH_START_HANDLER) == {
        (("dynamodb:GetItem", "dynamodb:PutItem"), f"${{{table}.Arn}} when {run_records}"),
        (("kms:Decrypt",), str(render(key_arn(default)))),
        (("logs:CreateLogStream", "logs:PutLogEvents"), f"${{{log_group}.Arn}}"),
    }


def test_the_watch_start_is_recorded_at_deployment_by_a_custom_resource_of_that_function(default: Template) -> None:
    resource = only(default, "Custom::GtwatchWatchStart")
    function = function_id(default, WATCH_START_HANDLER)
    assert resource["Properties"]["ServiceToken"] == {"Fn::GetAtt": [function, "Arn"]}
    assert function_props(default, WATCH_START_HANDLER)["Timeout"] <= 60
