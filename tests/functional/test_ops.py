"""`gtwatch check` and `gtwatch test-notify` against the emulator, as a user runs them against their account.

Each test runs in an empty directory (no cdk.json) unless it writes one, as the commands read ./cdk.json.
"""

from __future__ import annotations

import argparse
import io
import json
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from watcher.domain.contract import KindName
from watcher.domain.model import EventType
from watcher.handlers import slack_handler

from gtwatch.ops import check as ops
from gtwatch.ops import common
from gtwatch.sim.emulator import deployment, email, labeling_jobs, sagemaker_jobs
from gtwatch.sim.emulator.deployment import FakeLambdaContext, Resources, Routing
from gtwatch.sim.slack_endpoint import SlackEndpoint

NOW = datetime.now(UTC)
HALF = {"TotalLabeled": 4, "HumanLabeled": 4, "MachineLabeled": 0, "FailedNonRetryableError": 0, "Unlabeled": 6}
DONE = {"TotalLabeled": 10, "HumanLabeled": 9, "MachineLabeled": 1, "FailedNonRetryableError": 0, "Unlabeled": 0}


@dataclass
class Calls:
    """Every AWS call the commands make, as (service, operation), seen through a botocore event hook."""

    made: list[tuple[str, str]] = field(default_factory=list)

    def __call__(self, model: Any, **_: Any) -> None:
        self.made.append((model.service_model.service_name, model.name))

    @property
    def services(self) -> set[str]:
        return {service for service, _ in self.made}


@dataclass
class Emulated:
    resources: Resources
    calls: Calls
    out: io.StringIO = field(default_factory=io.StringIO)
    err: io.StringIO = field(default_factory=io.StringIO)

    def gtwatch(self, *argv: str) -> int:
        """Run `gtwatch <argv>` through the parser that add_commands() builds, as cli.py wires it."""
        parser = argparse.ArgumentParser(prog="gtwatch")
        ops.add_commands(parser.add_subparsers(dest="command", required=True))
        args = parser.parse_args(list(argv))
        result: int = args.func(args, out=self.out, err=self.err)
        return result

    def slack_queue(self) -> list[dict[str, Any]]:
        sqs = deployment.client("sqs")
        response = sqs.receive_message(QueueUrl=self.resources.slack_queue_url, MaxNumberOfMessages=10)
        return [json.loads(message["Body"]) for message in response.get("Messages", [])]


# The commands' own AWS clients, over HTTP as against a real account; in-process moto is quicker for the rest.
BOTH_MODES = pytest.mark.parametrize("emulated", ["server", "inprocess"], indirect=True)


@pytest.fixture
def emulated(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Emulated]:
    monkeypatch.chdir(tmp_path)
    # Slack takes failures only and email completions only: test notifications must reach both anyway.
    routing = Routing(slack_events=("failed",), email_events=("completed",))
    with deployment.deployed(
        mode=getattr(request, "param", "inprocess"),
        routing=routing,
        slack_webhook_url="http://127.0.0.1:9/unused",
        handler_env={},
    ) as resources:
        calls = Calls()

        def session() -> boto3.session.Session:
            watched = boto3.session.Session()
            watched.events.register("before-call", calls)
            return watched

        monkeypatch.setattr(common, "make_session", session)
        yield Emulated(resources, calls)


def put_job(name: str, *, status: str, counters: dict[str, int], created: timedelta, region: str = "us-east-1") -> None:
    labeling_jobs.put_labeling_job(region=region, name=name, status=status, counters=counters, at=NOW - created)


def finish_job(name: str, *, status: str, ago: timedelta, region: str = "us-east-1", **kwargs: Any) -> None:
    labeling_jobs.update_labeling_job(region=region, name=name, status=status, at=NOW - ago, **kwargs)


def lines(out: str) -> list[str]:
    """The printed lines with runs of spaces made one, so that column widths do not matter."""
    return [" ".join(line.split()) for line in out.splitlines()]


# --- check -----------------------------------------------------------------------------------------------


@BOTH_MODES
def test_check_lists_active_and_recently_finished_jobs_and_how_their_endings_read(emulated: Emulated) -> None:
    put_job("cats-batch-1", status="InProgress", counters=HALF, created=timedelta(hours=3))
    put_job("dogs-batch-1", status="InProgress", counters=DONE, created=timedelta(hours=5))
    finish_job("dogs-batch-1", status="Completed", ago=timedelta(hours=1), output_uri="s3://out/dogs/manifest")
    put_job("old-batch", status="InProgress", counters=DONE, created=timedelta(days=9))
    finish_job("old-batch", status="Completed", ago=timedelta(days=8))

    assert emulated.gtwatch("check") == 0

    out = emulated.out.getvalue()
    assert "2 job(s) gtwatch would watch (labeling 2):" in out
    assert "KIND REGION STATUS PROGRESS JOB" in lines(out)
    assert "labeling us-east-1 InProgress 40.0% done (4 of 10 objects) cats-batch-1" in lines(out)
    assert "labeling us-east-1 Completed 100.0% done (10 of 10 objects) dogs-batch-1" in lines(out)
    assert "old-batch" not in out  # finished before the window: the watcher's baseline keeps it silent
    assert "No notification would be sent now." in out  # A new deployment's first run is a silent baseline.
    assert "1 job(s) ended since " in out
    assert (
        "A new deployment never announces them (its first run is a silent baseline); a deployment running when "
        "they ended would have sent:" in out
    )
    assert "--- [gtwatch] Completed: dogs-batch-1 (us-east-1)" in out
    assert "Labeling job dogs-batch-1 completed." in out
    assert "s3://out/dogs/manifest" in out
    assert emulated.err.getvalue() == ""


def test_a_job_that_failed_before_deployment_is_no_notification_a_new_deployment_would_send(
    emulated: Emulated,
) -> None:
    put_job("cats-batch-2", status="InProgress", counters=HALF, created=timedelta(hours=2))
    finish_job("cats-batch-2", status="Failed", ago=timedelta(minutes=30), failure_reason="Workteam deleted")

    assert emulated.gtwatch("check") == 0

    out = emulated.out.getvalue()
    assert "would send now:" not in out
    assert "No notification would be sent now." in out
    # What the failure looked like to a deployment that was running then: shown, and said to be that.
    ended = out.index("1 job(s) ended since ")
    assert out.index("--- [gtwatch] Failed: cats-batch-2 (us-east-1)") > ended
    assert "Workteam deleted" in out[ended:]


@BOTH_MODES
def test_check_touches_nothing_but_the_labeling_job_listing(emulated: Emulated) -> None:
    put_job("cats-batch-1", status="InProgress", counters=HALF, created=timedelta(hours=3))
    put_job("cats-batch-2", status="InProgress", counters=DONE, created=timedelta(hours=2))
    finish_job("cats-batch-2", status="Failed", ago=timedelta(minutes=30), failure_reason="Workteam deleted")

    assert emulated.gtwatch("check") == 0

    assert emulated.calls.services == {"sagemaker"}
    assert {operation for _, operation in emulated.calls.made} == {"ListLabelingJobs"}
    # And so the deployment's state, queue and inboxes are as they were.
    assert deployment.client("dynamodb").scan(TableName=emulated.resources.table_name)["Items"] == []
    assert emulated.slack_queue() == []
    assert email.take() == []


def test_check_looks_in_each_region_given_with_the_name_filter(emulated: Emulated) -> None:
    put_job("prod-cats", status="InProgress", counters=HALF, created=timedelta(hours=3))
    put_job("dev-cats", status="InProgress", counters=HALF, created=timedelta(hours=3))
    put_job("prod-dogs", status="Initializing", counters={}, created=timedelta(minutes=5), region="eu-west-1")

    code = emulated.gtwatch("check", "--region", "us-east-1", "--region", "eu-west-1", "--name-contains", "prod")

    assert code == 0
    out = emulated.out.getvalue()
    assert "us-east-1, eu-west-1; names containing 'prod'" in out
    assert "prod-cats" in out
    assert "labeling eu-west-1 Initializing no objects yet prod-dogs" in lines(out)
    assert "dev-cats" not in out
    assert "No notification would be sent now." in out


def test_check_announces_only_what_finished_within_since_hours(emulated: Emulated) -> None:
    put_job("stopped-batch", status="InProgress", counters=HALF, created=timedelta(hours=30))
    finish_job("stopped-batch", status="Stopped", ago=timedelta(hours=5))

    assert emulated.gtwatch("check", "--since-hours", "2") == 0
    assert "No labeling jobs to watch." in emulated.out.getvalue()

    emulated.out.truncate(0)
    assert emulated.gtwatch("check", "--since-hours", "6") == 0
    assert "--- [gtwatch] Stopped: stopped-batch (us-east-1)" in emulated.out.getvalue()


@pytest.mark.parametrize(
    ("environment", "profile_region", "looked_in"),
    [
        ({"AWS_REGION": "eu-west-1", "AWS_DEFAULT_REGION": "us-east-1"}, "ap-south-1", "eu-west-1"),
        ({"AWS_DEFAULT_REGION": "us-east-1"}, "ap-south-1", "us-east-1"),
        ({}, "ap-south-1", "ap-south-1"),
    ],
)
def test_check_finds_the_region_as_the_aws_cli_and_the_cdk_cli_do(
    emulated: Emulated,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    environment: dict[str, str],
    profile_region: str,
    looked_in: str,
) -> None:
    """AWS_REGION, then AWS_DEFAULT_REGION, then the profile: `cdk deploy` and gtwatch target the same region."""
    config = tmp_path / "aws-config"
    config.write_text(f"[default]\nregion = {profile_region}\n")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    for variable in ("AWS_REGION", "AWS_DEFAULT_REGION"):
        monkeypatch.delenv(variable, raising=False)
    for variable, value in environment.items():
        monkeypatch.setenv(variable, value)
    put_job("cats-batch-1", status="InProgress", counters=HALF, created=timedelta(hours=3), region=looked_in)

    assert emulated.gtwatch("check") == 0

    assert emulated.out.getvalue().startswith(f"gtwatch check ({looked_in}; finished since ")
    expected = f"labeling {looked_in} InProgress 40.0% done (4 of 10 objects) cats-batch-1"
    assert expected in lines(emulated.out.getvalue())


def test_check_names_a_region_that_does_not_exist(emulated: Emulated) -> None:
    assert emulated.gtwatch("check", "--region", "us-east-7") == 2

    err = emulated.err.getvalue()
    assert err.startswith("gtwatch: --region: 'us-east-7' is not an AWS region that botocore ")
    assert "did you mean " in err and "us-east-1" in err and len(err.splitlines()) == 1
    assert emulated.calls.made == []  # Refused before any call: no retries against an endpoint that is not there.


def test_check_names_a_region_in_cdk_json_that_does_not_exist(emulated: Emulated) -> None:
    write_cdk_json({"regions": ["us-east-1", "eu-wset-1"]})

    assert emulated.gtwatch("check") == 2

    assert emulated.err.getvalue().startswith(
        f"gtwatch: {Path.cwd() / 'cdk.json'}: regions: 'eu-wset-1' is not an AWS region that botocore "
    )


def test_check_refuses_a_window_that_is_not_positive(emulated: Emulated, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stopped:
        emulated.gtwatch("check", "--since-hours", "0")
    assert stopped.value.code == 2
    assert "'0' is not a positive number of hours" in capsys.readouterr().err


def write_cdk_json(gtwatch: dict[str, Any]) -> None:
    Path("cdk.json").write_text(json.dumps({"app": "python app.py", "context": {"gtwatch": gtwatch}}))


def test_check_watches_the_regions_and_names_cdk_json_configures(emulated: Emulated) -> None:
    write_cdk_json({"regions": ["us-east-1", "eu-west-1"], "name_contains": "prod", "log_level": "INFO"})
    put_job("prod-cats", status="InProgress", counters=HALF, created=timedelta(hours=3))
    put_job("dev-cats", status="InProgress", counters=HALF, created=timedelta(hours=3))
    put_job("prod-dogs", status="Initializing", counters={}, created=timedelta(minutes=5), region="eu-west-1")

    assert emulated.gtwatch("check") == 0

    out = emulated.out.getvalue()
    assert "us-east-1, eu-west-1; names containing 'prod'" in out
    assert "labeling eu-west-1 Initializing no objects yet prod-dogs" in lines(out)
    assert "dev-cats" not in out
    assert f"(Regions and name filter not given as flags come from {Path.cwd() / 'cdk.json'}.)" in out


def test_check_flags_override_cdk_json(emulated: Emulated) -> None:
    write_cdk_json({"regions": ["eu-west-1"], "name_contains": "prod"})
    put_job("dev-cats", status="InProgress", counters=HALF, created=timedelta(hours=3))

    assert emulated.gtwatch("check", "--region", "us-east-1", "--name-contains", "") == 0

    out = emulated.out.getvalue()
    assert out.startswith("gtwatch check (us-east-1; finished since ")
    assert "labeling us-east-1 InProgress 40.0% done (4 of 10 objects) dev-cats" in lines(out)
    assert "come from" not in out


def test_check_explains_a_cdk_json_it_cannot_use(emulated: Emulated) -> None:
    write_cdk_json({"regions": "us-east-1"})
    assert emulated.gtwatch("check") == 2
    assert emulated.err.getvalue().startswith("gtwatch: ")
    assert "cdk.json: context.gtwatch: regions: 'us-east-1' is not valid" in emulated.err.getvalue()

    Path("cdk.json").write_text("{not json")
    assert emulated.gtwatch("check") == 2
    assert "cdk.json: cannot read it as JSON" in emulated.err.getvalue()


def test_check_prints_times_in_utc_on_a_machine_in_another_time_zone(
    emulated: Emulated, machine_time_zone: Callable[[str], AbstractContextManager[None]]
) -> None:
    put_job("dogs-batch-1", status="InProgress", counters=DONE, created=timedelta(hours=5))
    finish_job("dogs-batch-1", status="Completed", ago=timedelta(hours=1))
    created = (NOW - timedelta(hours=5)).astimezone(UTC)
    with machine_time_zone("America/New_York"):  # UTC-5 in November: a local time would be off by hours.
        assert emulated.gtwatch("check") == 0

    assert f"Created: {created:%Y-%m-%d %H:%M} UTC" in lines(emulated.out.getvalue())


# --- test-notify -----------------------------------------------------------------------------------------


@BOTH_MODES
def test_test_notify_reaches_slack_and_email_whatever_their_events(emulated: Emulated) -> None:
    with SlackEndpoint(timeout_hold_seconds=1.5) as slack:
        secrets = deployment.client("secretsmanager")
        secrets.put_secret_value(SecretId=emulated.resources.secret_name, SecretString=slack.url)

        assert emulated.gtwatch("test-notify", "--topic-arn", emulated.resources.topic_arn) == 0

        (message,) = queued(emulated.resources)
        document = json.loads(message["Body"])
        assert document["event_type"] == EventType.TEST.value
        assert document["job"]["name"] == ops.TEST_JOB_NAME
        # The Slack notifier posts it to the webhook, though Slack is configured for failures only.
        assert run_slack_notifier(emulated.resources, message) == []
        (payload,) = slack.received
        assert payload["metadata"]["event_payload"]["notification_id"] == document["id"]
        assert "TEST: gtwatch can reach this channel; no job changed" in payload["text"]
    (delivery,) = email.take()
    assert delivery.address == deployment.EMAIL_ADDRESS
    assert delivery.subject == f"[gtwatch] Test: {ops.TEST_JOB_NAME} (us-east-1)"
    assert "(TEST: gtwatch can reach this channel; no job changed)" in delivery.message
    assert delivery.attributes["event_type"] == "test"
    assert f"Sent a test notification to {emulated.resources.topic_arn}" in emulated.out.getvalue()


def queued(resources: Resources) -> list[dict[str, Any]]:
    """The Slack queue's messages, as the notifier's event source receives them."""
    response = deployment.client("sqs").receive_message(
        QueueUrl=resources.slack_queue_url, MaxNumberOfMessages=10, AttributeNames=["All"]
    )
    messages: list[dict[str, Any]] = response.get("Messages", [])
    return messages


def run_slack_notifier(resources: Resources, message: dict[str, Any]) -> list[str]:
    """The Slack notifier invoked on `message` as Lambda's SQS event source does; the ids it failed."""
    record = {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": {"ApproximateReceiveCount": message["Attributes"]["ApproximateReceiveCount"]},
        "messageAttributes": {},
        "eventSource": "aws:sqs",
        "eventSourceARN": resources.slack_queue_arn,
    }
    response = slack_handler.lambda_handler({"Records": [record]}, FakeLambdaContext("gtwatch-slack-notifier"))
    return [str(failure["itemIdentifier"]) for failure in response["batchItemFailures"]]


@BOTH_MODES
def test_test_notify_publishes_and_does_nothing_else(emulated: Emulated) -> None:
    assert emulated.gtwatch("test-notify", "--topic-arn", emulated.resources.topic_arn) == 0
    assert emulated.calls.made == [("sns", "Publish")]


def test_each_test_notification_is_a_notification_of_its_own(emulated: Emulated) -> None:
    first = ops.make_test_notification(emulated.resources.topic_arn, NOW)
    second = ops.make_test_notification(emulated.resources.topic_arn, NOW + timedelta(seconds=1))
    assert first.id != second.id


def test_test_notify_finds_the_topic_from_the_stack_output(emulated: Emulated) -> None:
    template = {
        "Resources": {"Placeholder": {"Type": "AWS::SNS::Topic"}},
        "Outputs": {"TopicArn": {"Value": emulated.resources.topic_arn}},
    }
    deployment.client("cloudformation").create_stack(StackName="Gtwatch", TemplateBody=json.dumps(template))

    assert emulated.gtwatch("test-notify", "--stack-name", "Gtwatch", "--region", "us-east-1") == 0

    assert ("cloudformation", "DescribeStacks") in emulated.calls.made
    assert [d["event_type"] for d in emulated.slack_queue()] == ["test"]


def test_test_notify_names_a_region_that_does_not_exist(emulated: Emulated) -> None:
    assert emulated.gtwatch("test-notify", "--stack-name", "Gtwatch", "--region", "us-east-7") == 2

    assert emulated.err.getvalue().startswith("gtwatch: --region: 'us-east-7' is not an AWS region that botocore ")
    assert emulated.calls.made == []


def test_test_notify_explains_a_stack_without_the_output(emulated: Emulated) -> None:
    template = {"Resources": {"Placeholder": {"Type": "AWS::SNS::Topic"}}}
    deployment.client("cloudformation").create_stack(StackName="NotGtwatch", TemplateBody=json.dumps(template))

    assert emulated.gtwatch("test-notify", "--stack-name", "NotGtwatch") == 2
    assert "stack 'NotGtwatch' has no TopicArn output; is it a gtwatch stack?" in emulated.err.getvalue()


def test_test_notify_reports_a_missing_stack(emulated: Emulated) -> None:
    assert emulated.gtwatch("test-notify", "--stack-name", "Nowhere") == 2
    assert "gtwatch: stack 'Nowhere' in us-east-1:" in emulated.err.getvalue()


def test_test_notify_reports_what_aws_refused(emulated: Emulated) -> None:
    missing = emulated.resources.topic_arn + "-missing"
    assert emulated.gtwatch("test-notify", "--topic-arn", missing) == 1
    assert emulated.err.getvalue().startswith("gtwatch: AWS refused: NotFound")


def test_test_notify_without_a_topic_or_a_stack_uses_the_stack_named_in_cdk_json(emulated: Emulated) -> None:
    write_cdk_json({"stack_name": "GtwatchProd"})
    template = {
        "Resources": {"Placeholder": {"Type": "AWS::SNS::Topic"}},
        "Outputs": {"TopicArn": {"Value": emulated.resources.topic_arn}},
    }
    deployment.client("cloudformation").create_stack(StackName="GtwatchProd", TemplateBody=json.dumps(template))

    assert emulated.gtwatch("test-notify") == 0

    assert [d["event_type"] for d in emulated.slack_queue()] == ["test"]


def test_test_notify_without_cdk_json_looks_for_the_default_stack(emulated: Emulated) -> None:
    assert emulated.gtwatch("test-notify") == 2
    assert emulated.err.getvalue().startswith("gtwatch: stack 'Gtwatch' in us-east-1:")


def test_topic_and_stack_are_either_or(emulated: Emulated, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        emulated.gtwatch("test-notify", "--topic-arn", emulated.resources.topic_arn, "--stack-name", "Gtwatch")
    assert "not allowed with argument" in capsys.readouterr().err


def test_a_topic_arn_that_is_not_one_is_refused(emulated: Emulated) -> None:
    assert emulated.gtwatch("test-notify", "--topic-arn", "gtwatch-notifications") == 2
    assert "'gtwatch-notifications' is not an SNS topic ARN" in emulated.err.getvalue()
    assert emulated.calls.made == []


def put_kind_job(kind: KindName, name: str, *, created: timedelta, **changes: Any) -> None:
    sagemaker_jobs.put_job(kind=kind, name=name, at=NOW - created, **changes)


def end_kind_job(kind: KindName, name: str, *, status: str, ago: timedelta, **changes: Any) -> None:
    sagemaker_jobs.update_job(kind=kind, name=name, at=NOW - ago, status=status, **changes)


def jobs_of_every_kind() -> None:
    """One active job of each kind, a training job that failed an hour ago and a pipeline execution that failed at a
    step; a labeling job and a training job share a name, as SageMaker allows."""
    put_job("cats", status="InProgress", counters=HALF, created=timedelta(hours=3))
    put_kind_job("training", "cats", created=timedelta(hours=2), secondary_status="Training")
    put_kind_job("training", "bert-3", created=timedelta(hours=4), secondary_status="Training")
    end_kind_job("training", "bert-3", status="Failed", ago=timedelta(hours=1), failure_reason="CUDA out of memory")
    put_kind_job("processing", "features-7", created=timedelta(minutes=50))
    put_kind_job("transform", "scores-2", created=timedelta(minutes=40))
    put_kind_job("tuning", "hpo-5", created=timedelta(hours=5), max_jobs=20, counters={"Completed": 6, "InProgress": 2})
    sagemaker_jobs.put_pipeline_execution(pipeline="nightly", name="nightly-42", at=NOW - timedelta(minutes=30))
    sagemaker_jobs.put_pipeline_execution(
        pipeline="nightly",
        name="nightly-41",
        at=NOW - timedelta(hours=3),
        status="Executing",
        steps=[sagemaker_jobs.PipelineStep("Preprocess", "Executing")],
    )
    sagemaker_jobs.update_pipeline_execution(
        name="nightly-41",
        at=NOW - timedelta(hours=2),
        status="Failed",
        steps=[sagemaker_jobs.PipelineStep("Preprocess", "Failed", failure_reason="No space left on device")],
    )


EVERY_KIND = ["labeling", "training", "processing", "transform", "tuning", "pipeline"]


@BOTH_MODES
def test_check_lists_the_jobs_of_every_kind_cdk_json_watches_naming_each_jobs_kind(emulated: Emulated) -> None:
    write_cdk_json({"kinds": EVERY_KIND})
    jobs_of_every_kind()

    assert emulated.gtwatch("check") == 0

    out = emulated.out.getvalue()
    assert (
        "8 job(s) gtwatch would watch (labeling 1, training 2, processing 1, transform 1, tuning 1, pipeline 2):" in out
    )
    watched = lines(out)[lines(out).index("KIND REGION STATUS PROGRESS JOB") + 1 :][:8]
    assert watched == [
        "labeling us-east-1 InProgress 40.0% done (4 of 10 objects) cats",
        "training us-east-1 Failed - bert-3",
        "training us-east-1 InProgress secondary status Training cats",
        "processing us-east-1 InProgress - features-7",
        "transform us-east-1 InProgress - scores-2",
        "tuning us-east-1 InProgress 6 of 20 training jobs done hpo-5",
        "pipeline us-east-1 Failed pipeline nightly nightly-41",
        "pipeline us-east-1 Executing pipeline nightly nightly-42",
    ]
    assert "No notification would be sent now." in out  # A new deployment's first run is a silent baseline.
    # The endings, as a deployment running then sent them: described first, as the watch does.
    ended = out[out.index("2 job(s) ended since ") :]
    assert "--- [gtwatch] Failed: Training job bert-3 (us-east-1)" in ended
    assert "CUDA out of memory" in ended
    assert "--- [gtwatch] Failed: Pipeline execution nightly-41 (us-east-1)" in ended
    assert "Preprocess" in ended and "No space left on device" in ended
    assert (
        "The stalls of training, processing and transform jobs also need the poller's reads of their CloudWatch log "
        "lines, which gtwatch check does not make." in out
    )
    assert "A pipeline execution never stalls" in out
    assert "lists labeling jobs only" not in out
    assert f"(Regions, kinds and name filter not given as flags come from {Path.cwd() / 'cdk.json'}.)" in out
    assert emulated.err.getvalue() == ""


@BOTH_MODES
def test_check_of_every_kind_only_lists_describes_and_searches(emulated: Emulated) -> None:
    write_cdk_json({"kinds": EVERY_KIND})
    jobs_of_every_kind()

    assert emulated.gtwatch("check") == 0

    assert emulated.calls.services == {"sagemaker"}  # No CloudWatch Logs read, no DynamoDB, no SNS.
    operations = {operation for _, operation in emulated.calls.made}
    assert all(operation.startswith(("List", "Describe", "Search")) for operation in operations), operations
    assert {"ListTrainingJobs", "ListProcessingJobs", "ListTransformJobs", "ListHyperParameterTuningJobs"} <= operations
    assert "Search" in operations
    assert deployment.client("dynamodb").scan(TableName=emulated.resources.table_name)["Items"] == []
    assert emulated.slack_queue() == []
    assert email.take() == []


def test_check_looks_only_at_the_kinds_cdk_json_watches(emulated: Emulated) -> None:
    write_cdk_json({"kinds": ["training", "pipeline"]})
    jobs_of_every_kind()

    assert emulated.gtwatch("check") == 0

    out = emulated.out.getvalue()
    assert "4 job(s) gtwatch would watch (training 2, pipeline 2):" in out
    assert not any(line.startswith(("labeling ", "processing ", "tuning ")) for line in lines(out))
    assert {operation for _, operation in emulated.calls.made} <= {
        "ListTrainingJobs",
        "DescribeTrainingJob",
        "Search",
        "DescribePipelineExecution",
        "ListPipelineExecutionSteps",
    }
    # Processing and transform are not watched: only training's log lines are named.
    assert "The stalls of training jobs also need the poller's reads of their CloudWatch log lines" in out


def test_check_kind_flags_override_cdk_json(emulated: Emulated) -> None:
    write_cdk_json({"kinds": ["labeling"]})
    jobs_of_every_kind()

    assert emulated.gtwatch("check", "--kind", "tuning", "--kind", "processing") == 0

    out = emulated.out.getvalue()
    assert "2 job(s) gtwatch would watch (processing 1, tuning 1):" in out
    assert "The stalls of processing jobs also need" in out


def test_check_says_which_kinds_it_found_no_jobs_of(emulated: Emulated) -> None:
    assert emulated.gtwatch("check", "--kind", "training", "--kind", "transform", "--kind", "pipeline") == 0

    assert "No training, transform or pipeline jobs to watch." in emulated.out.getvalue()


def test_check_refuses_an_unknown_kind_flag_naming_it(emulated: Emulated) -> None:
    assert emulated.gtwatch("check", "--kind", "trainng") == 2

    assert emulated.err.getvalue() == (
        "gtwatch: --kind: 'trainng' is not a job kind; the kinds are labeling, training, processing, transform, "
        "tuning, pipeline; did you mean training?\n"
    )
    assert emulated.calls.made == []


@pytest.mark.parametrize(
    ("gtwatch", "message"),
    [
        (
            {"kinds": ["labeling", "trainng"]},
            "cdk.json: context.gtwatch: kinds[1]: 'trainng' is not a job kind; the kinds are labeling, training, "
            "processing, transform, tuning, pipeline; did you mean training?",
        ),
        ({"kinds": []}, "cdk.json: context.gtwatch: kinds: [] is not a non-empty list of job kinds from labeling"),
        ({"kinds": ["tuning", "tuning"]}, "cdk.json: context.gtwatch: kinds: 'tuning' is listed twice"),
        (
            {"kinds": ["training", "pipeline"], "stall_after_minutes": {"pipeline": 30}},
            "cdk.json: context.gtwatch: stall_after_minutes.pipeline: a pipeline execution never stalls",
        ),
        (
            {"stall_after_minutes": {"training": 30}},
            "cdk.json: context.gtwatch: stall_after_minutes.training: 'training' is not watched (kinds is labeling)",
        ),
        (
            {"stall_after_minutes": 4},
            "cdk.json: context.gtwatch: stall_after_minutes: 4 is not a whole number of minutes, at least 5",
        ),
    ],
    ids=["unknown-kind", "no-kinds", "kind-twice", "pipeline-stall", "unwatched-stall", "too-soon"],
)
def test_check_refuses_a_kinds_mistake_in_cdk_json_as_cdk_synth_does(
    emulated: Emulated, gtwatch: dict[str, Any], message: str
) -> None:
    write_cdk_json(gtwatch)

    assert emulated.gtwatch("check") == 2

    assert message in emulated.err.getvalue()
    assert emulated.err.getvalue().count("\n") == 1
