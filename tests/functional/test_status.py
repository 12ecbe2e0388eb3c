"""`gtwatch status` on the emulator, after real poller runs: what an operator sees about a deployed watcher."""

from __future__ import annotations

import argparse
import importlib.metadata
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

import boto3
import pytest
from botocore.stub import Stubber
from watcher import clock
from watcher.adapters.mute import MuteStore
from watcher.domain.contract import (
    EVENT_TYPES,
    OUTPUT_ALARM_TOPIC_ARN,
    OUTPUT_CONFIG,
    OUTPUT_DEAD_LETTER_QUEUE_URL,
    OUTPUT_SLACK_QUEUE_URL,
    OUTPUT_STATE_TABLE,
    OUTPUT_TOPIC_ARN,
)
from watcher.domain.env import Env
from watcher.domain.job import JobKind
from watcher.handlers import poller_handler

from gtwatch.ops import add_commands, status
from gtwatch.ops.mute import mute_job
from gtwatch.ops.stack import StackInfo, read_stack
from gtwatch.sim.emulator import deployment, labeling_jobs, sagemaker_jobs
from gtwatch.sim.emulator.deployment import FakeLambdaContext, Resources, Routing

T0 = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)
ALL = EVENT_TYPES
CONFIG = {
    "regions": ["us-east-1"],
    "name_contains": None,
    "slack_events": list(ALL),
    "email_events": ["failed", "stalled"],
    "stall_after_minutes": 60,
    "stall_repeat_minutes": None,
    "schedule_minutes": 5,
}


def counters(labeled: int, unlabeled: int) -> dict[str, int]:
    return {
        "TotalLabeled": labeled,
        "HumanLabeled": labeled,
        "MachineLabeled": 0,
        "FailedNonRetryableError": 0,
        "Unlabeled": unlabeled,
    }


@dataclass
class Watched:
    """A deployment on the emulator, driven through poller runs on a simulated clock."""

    resources: Resources
    alarm_topic_arn: str
    now: datetime = T0
    out: io.StringIO = field(default_factory=io.StringIO)
    err: io.StringIO = field(default_factory=io.StringIO)

    def at(self, minute: int) -> None:
        self.now = T0 + timedelta(minutes=minute)

    def create(self, name: str, labeled: int, unlabeled: int) -> None:
        labeling_jobs.put_labeling_job(
            region="us-east-1", name=name, status="InProgress", counters=counters(labeled, unlabeled), at=self.now
        )

    def update(self, name: str, **kwargs: Any) -> None:
        labeling_jobs.update_labeling_job(region="us-east-1", name=name, at=self.now, **kwargs)

    def run_poller(self) -> None:
        poller_handler.lambda_handler({}, FakeLambdaContext("gtwatch-poller"))

    def stack(self, *, config: dict[str, Any] | None = CONFIG) -> StackInfo:
        """The stack's outputs as CloudFormation would give them, built from the emulator's resources."""
        outputs = {
            OUTPUT_TOPIC_ARN: self.resources.topic_arn,
            OUTPUT_STATE_TABLE: self.resources.table_name,
            OUTPUT_SLACK_QUEUE_URL: self.resources.slack_queue_url,
            OUTPUT_DEAD_LETTER_QUEUE_URL: self.resources.dead_letter_queue_url,
            OUTPUT_ALARM_TOPIC_ARN: self.alarm_topic_arn,
        }
        if config is not None:
            outputs[OUTPUT_CONFIG] = json.dumps(config, separators=(",", ":"))
        return StackInfo(name="Gtwatch", region="us-east-1", outputs=outputs, status="UPDATE_COMPLETE")

    def status(self, *, as_json: bool = False, config: dict[str, Any] | None = CONFIG) -> str:
        report = status.gather(boto3.session.Session(), self.stack(config=config), self.now)
        out = io.StringIO()
        status.show(report, as_json=as_json, out=out)
        return out.getvalue()

    def gtwatch(self, *argv: str) -> int:
        parser = argparse.ArgumentParser(prog="gtwatch")
        add_commands(parser.add_subparsers(dest="command", required=True))
        args = parser.parse_args(list(argv))
        result: int = args.func(args, out=self.out, err=self.err)
        return result


@pytest.fixture
def watched() -> Iterator[Watched]:
    with deployment.deployed(
        mode="inprocess",
        routing=Routing(slack_events=ALL, email_events=("failed", "stalled")),
        slack_webhook_url="http://127.0.0.1:9/unused",
        handler_env={Env.STALL_AFTER_MINUTES: "60"},
    ) as resources:
        alarm_topic = deployment.client("sns").create_topic(Name="gtwatch-alarms")["TopicArn"]
        world = Watched(resources, alarm_topic)
        clock.set_clock(lambda: world.now)
        labeling_jobs.set_clock(lambda: world.now)
        try:
            yield world
        finally:
            clock.set_clock(None)
            labeling_jobs.set_clock(None)


def alarm(name: str, *, actions: list[str]) -> None:
    deployment.client("cloudwatch").put_metric_alarm(
        AlarmName=name,
        MetricName="Errors",
        Namespace="AWS/Lambda",
        Statistic="Sum",
        Period=300,
        EvaluationPeriods=1,
        Threshold=1,
        ComparisonOperator="GreaterThanOrEqualToThreshold",
        AlarmActions=actions,
    )


def a_day_of_labeling(watched: Watched) -> None:
    """Three jobs through 70 minutes of poller runs: one labels steadily, two stall, and one of those fails while
    SNS is gone."""
    watched.create("cats-batch-1", labeled=0, unlabeled=100)
    watched.create("dogs-batch-1", labeled=5, unlabeled=10)
    watched.create("birds-batch-1", labeled=1, unlabeled=9)
    watched.run_poller()  # The baseline.
    for minute, labeled in ((30, 30), (65, 60)):
        watched.at(minute)
        watched.update("cats-batch-1", counters=counters(labeled, 100 - labeled))
        watched.run_poller()  # At 65 minutes dogs-batch-1 has been still for 60: its stall is announced.
    watched.at(68)
    watched.update("birds-batch-1", status="Failed", failure_reason="Workteam deleted")
    deployment.client("sns").delete_topic(TopicArn=watched.resources.topic_arn)  # Publishing now fails.
    watched.at(70)
    watched.run_poller()
    alarm("gtwatch-poller-errors", actions=[watched.alarm_topic_arn])
    alarm("gtwatch-slack-dead-letters", actions=[watched.alarm_topic_arn])
    deployment.client("cloudwatch").set_alarm_state(
        AlarmName="gtwatch-slack-dead-letters", StateValue="ALARM", StateReason="1 message in the dead-letter queue"
    )
    alarm("someone-elses-alarm", actions=[])
    deployment.client("sqs").send_message(
        QueueUrl=watched.resources.dead_letter_queue_url,
        MessageBody=json.dumps({"id": "us-east-1:x:failed:final", "event_type": "failed"}),
    )
    watched.at(72)


def lines(text: str) -> list[str]:
    return [" ".join(line.split()) for line in text.splitlines()]


def test_status_shows_a_person_what_is_watched_the_last_run_the_jobs_the_queues_and_the_alarms(watched):
    a_day_of_labeling(watched)

    shown = lines(watched.status())

    assert shown[0] == "gtwatch status: stack Gtwatch in us-east-1, UPDATE_COMPLETE, as of 2026-11-28 10:12 UTC"
    assert "Regions: us-east-1" in shown
    assert "Jobs: every job" in shown
    assert "Slack: completed, failed, stopped, stalled, resumed" in shown
    assert "Email: failed, stalled" in shown
    assert "Stalls: after 1 h without progress, announced once per stall" in shown
    assert "us-east-1: 2026-11-28 10:10 UTC (2 min ago)" in shown
    assert "Active jobs: 3" in shown
    cats = shown.index("cats-batch-1 (us-east-1): InProgress")
    assert shown[cats + 1] == "Progress: 60.0% done (60 of 100 objects)"
    assert shown[cats + 2] == "Rate: 50 objects/hour recently; ETA 2026-11-28 11:00 UTC (in about 48 min)"
    assert shown[cats + 3] == "Stall: no (last change 7 min ago)"
    dogs = shown.index("dogs-batch-1 (us-east-1): InProgress")
    assert shown[dogs + 3] == "Stall: STALLED, no progress for 1 h 12 min (announced 2026-11-28 10:05 UTC)"
    birds = shown.index("birds-batch-1 (us-east-1): Failed")
    assert shown[birds + 2] == "Stall: finished; its notification waits in the outbox"
    assert (
        "Outboxes: 1 notification(s) waiting, oldest 2 min (failed: birds-batch-1 in us-east-1); "
        "the next run sends them" in shown
    )
    # Both stalls reached the Slack queue; no notifier drains it here, and moto sends SQS no CloudWatch metrics.
    assert "Slack queue: 2 waiting, 0 in flight; oldest: unknown (no recent CloudWatch data)" in shown
    assert any(line.startswith("Dead letters: 1 waiting, 0 in flight;") for line in shown)
    assert "gtwatch redrive --stack-name Gtwatch --dry-run lists them" in shown[-5]
    assert "Alarms: 2, 1 in ALARM" in shown
    assert any(
        line.startswith("ALARM gtwatch-slack-dead-letters since")
        and line.endswith(": 1 message in the dead-letter queue")
        for line in shown
    )
    assert any(line.startswith("OK gtwatch-poller-errors since 2") for line in shown)
    assert not any("someone-elses-alarm" in line for line in shown)


def test_status_json_gives_scripts_the_same_facts(watched):
    a_day_of_labeling(watched)

    document = json.loads(watched.status(as_json=True))

    assert document["stack"] == {"name": "Gtwatch", "region": "us-east-1", "status": "UPDATE_COMPLETE"}
    assert document["generated_at"] == "2026-11-28T10:12:00.000Z"
    assert document["config"]["email_events"] == ["failed", "stalled"]
    [region] = document["regions"]
    assert region["last_successful_run"] == "2026-11-28T10:10:00.000Z"
    assert region["last_successful_run_age_seconds"] == 120
    assert region["late"] is False
    jobs = {job["name"]: job for job in document["jobs"]}
    assert set(jobs) == {"cats-batch-1", "dogs-batch-1", "birds-batch-1"}
    assert jobs["cats-batch-1"]["progress"]["percent"] == 60.0
    assert jobs["cats-batch-1"]["progress"]["rate_per_hour"] == 50.0
    assert jobs["cats-batch-1"]["stall"] == "no"
    assert jobs["dogs-batch-1"]["stall"] == "stalled"
    assert jobs["dogs-batch-1"]["stall_announced_at"] == "2026-11-28T10:05:00.000Z"
    assert jobs["birds-batch-1"]["outbox"] == ["us-east-1:birds-batch-1:failed:final"]
    assert document["outbox"]["count"] == 1
    assert document["outbox"]["oldest_age_seconds"] == 120
    assert document["outbox"]["notifications"][0]["event_type"] == "failed"
    assert document["slack_queue"]["waiting"] == 2
    assert document["slack_queue"]["oldest_age_seconds"] is None
    assert document["dead_letters"]["waiting"] == 1
    assert {alarm["name"]: alarm["state"] for alarm in document["alarms"]} == {
        "gtwatch-poller-errors": "OK",
        "gtwatch-slack-dead-letters": "ALARM",
    }


def test_a_stall_due_at_the_next_run_and_a_late_poller_are_called_out(watched):
    watched.create("dogs-batch-1", labeled=5, unlabeled=10)
    watched.run_poller()
    watched.at(61)  # No run since the baseline: the stall is due, and the poller is an hour late.

    shown = lines(watched.status())

    assert "Stall: due: last change 1 h 1 min ago; the next run announces a stall" in shown
    assert any(
        line.startswith("us-east-1: 2026-11-28 09:00 UTC (1 h 1 min ago) LATE: is the poller running?")
        for line in shown
    )
    assert json.loads(watched.status(as_json=True))["regions"][0]["late"] is True


def test_a_region_not_yet_listed_and_an_empty_watch(watched):
    config = {**CONFIG, "regions": ["us-east-1", "eu-west-1"], "name_contains": "cats"}

    shown = lines(watched.status(config=config))

    assert "Regions: us-east-1, eu-west-1" in shown
    assert "Jobs: names containing 'cats'" in shown
    assert "us-east-1: never: no run has reached this region yet" in shown
    assert "Active jobs: none" in shown
    assert "Outboxes: empty: every notification decided was accepted by SNS" in shown
    assert "Slack queue: 0 waiting, 0 in flight" in shown
    assert "Alarms: none found for this stack" in shown


def test_a_stack_without_the_watcher_config_output_is_shown_with_its_own_region(watched):
    watched.create("cats-batch-1", labeled=0, unlabeled=100)
    watched.run_poller()

    shown = lines(watched.status(config=None))

    assert "(the stack has no WatcherConfig output: deployed by an older gtwatch. Shown: the stack's" in shown
    assert "Regions: us-east-1" in shown
    assert "Active jobs: 1" in shown
    assert json.loads(watched.status(as_json=True, config=None))["config"] is None


def test_the_queue_age_comes_from_cloudwatch_when_it_has_a_data_point(watched):
    sqs = deployment.client("sqs")
    sqs.send_message(QueueUrl=watched.resources.slack_queue_url, MessageBody="{}")
    watched.now = datetime.now(UTC)  # CloudWatch keeps data points at the time they were put.
    deployment.client("cloudwatch").put_metric_data(
        Namespace="AWS/SQS",
        MetricData=[
            {
                "MetricName": "ApproximateAgeOfOldestMessage",
                "Dimensions": [{"Name": "QueueName", "Value": "gtwatch-slack"}],
                "Value": 1500.0,
                "Timestamp": watched.now - timedelta(minutes=2),
            }
        ],
    )

    assert "Slack queue: 1 waiting, 0 in flight; oldest 25 min" in lines(watched.status())
    assert json.loads(watched.status(as_json=True))["slack_queue"]["oldest_age_seconds"] == 1500.0


def test_times_are_printed_in_utc_on_a_machine_in_another_time_zone(watched, machine_time_zone):
    watched.create("cats-batch-1", labeled=0, unlabeled=100)
    watched.run_poller()
    alarm("gtwatch-poller-errors", actions=[watched.alarm_topic_arn])
    with machine_time_zone("America/New_York"):
        shown = lines(watched.status())
    assert "us-east-1: 2026-11-28 09:00 UTC (under a minute ago)" in shown
    # The alarm's time comes from botocore in the machine's zone; it is printed in UTC all the same.
    [alarm_line] = [line for line in shown if "gtwatch-poller-errors" in line]
    stamp = alarm_line.split("since ", 1)[1]
    printed = datetime.strptime(stamp, "%Y-%m-%d %H:%M UTC").replace(tzinfo=UTC)
    assert abs(printed - datetime.now(UTC)) < timedelta(minutes=2)


# --- the command: the stack read with DescribeStacks, and the errors ---------------------------------------


def create_stack(name: str, outputs: dict[str, str]) -> None:
    template = {
        "Resources": {"Placeholder": {"Type": "AWS::SNS::Topic"}},
        "Outputs": {key: {"Value": value} for key, value in outputs.items()},
    }
    deployment.client("cloudformation").create_stack(StackName=name, TemplateBody=json.dumps(template))


def test_the_command_reads_the_stack_outputs_with_describe_stacks(watched):
    create_stack("Gtwatch", dict(watched.stack().outputs))

    stack = read_stack(boto3.session.Session(), "Gtwatch", "us-east-1")

    assert stack.outputs == watched.stack().outputs
    assert stack.status == "CREATE_COMPLETE"


def test_gtwatch_status_json_end_to_end(watched):
    watched.create("cats-batch-1", labeled=0, unlabeled=100)
    watched.run_poller()
    create_stack("Gtwatch", dict(watched.stack().outputs))

    assert watched.gtwatch("status", "--stack-name", "Gtwatch", "--region", "us-east-1", "--json") == 0

    document = json.loads(watched.out.getvalue())
    assert document["stack"]["name"] == "Gtwatch"
    assert [job["name"] for job in document["jobs"]] == ["cats-batch-1"]
    assert watched.err.getvalue() == ""


def test_the_stack_name_defaults_to_cdk_json(watched, tmp_path: Path, monkeypatch):
    (tmp_path / "cdk.json").write_text(json.dumps({"context": {"gtwatch": {"stack_name": "GtwatchProd"}}}))
    monkeypatch.chdir(tmp_path)
    create_stack("GtwatchProd", dict(watched.stack().outputs))

    assert watched.gtwatch("status") == 0

    assert watched.out.getvalue().startswith("gtwatch status: stack GtwatchProd in us-east-1, CREATE_COMPLETE")


def test_a_missing_stack_is_one_clear_line_and_exit_code_2(watched, tmp_path: Path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # No cdk.json: the default stack name.

    assert watched.gtwatch("status") == 2

    assert watched.err.getvalue().startswith("gtwatch: stack 'Gtwatch' in us-east-1: Stack with id Gtwatch does not")
    assert len(watched.err.getvalue().splitlines()) == 1


def test_a_stack_that_is_not_gtwatch_is_explained(watched):
    create_stack("Other", {"Something": "else"})

    assert watched.gtwatch("status", "--stack-name", "Other") == 2

    assert watched.err.getvalue() == "gtwatch: stack 'Other' has no StateTableName output; is it a gtwatch stack?\n"


def test_no_region_and_no_credentials_are_clear_errors(monkeypatch, tmp_path: Path):
    monkeypatch.chdir(tmp_path)
    for variable in ("AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    err = io.StringIO()
    parser = argparse.ArgumentParser(prog="gtwatch")
    add_commands(parser.add_subparsers(dest="command", required=True))

    assert status.run_status(parser.parse_args(["status"]), out=io.StringIO(), err=err) == 2
    assert err.getvalue() == (
        "gtwatch: no region: pass --region, or set AWS_REGION (or AWS_DEFAULT_REGION), or a region in your AWS "
        "profile (~/.aws/config, AWS_PROFILE)\n"
    )

    err = io.StringIO()
    assert status.run_status(parser.parse_args(["status", "--region", "us-east-1"]), out=io.StringIO(), err=err) == 2
    assert err.getvalue().startswith("gtwatch: Unable to locate credentials")


def test_an_older_stack_without_the_alarm_topic_output_has_its_alarms_found_among_its_resources(watched):
    alarm("gtwatch-poller-errors", actions=[])
    alarm("someone-elses-alarm", actions=[])
    real = boto3.session.Session()
    # moto's CloudFormation cannot create alarms; its ListStackResources answer is stubbed, the rest is moto.
    cloudformation = real.client("cloudformation", region_name="us-east-1")
    stubber = Stubber(cloudformation)
    resource = {"LastUpdatedTimestamp": watched.now, "ResourceStatus": "CREATE_COMPLETE"}
    summaries = [
        {**resource, "LogicalResourceId": "PollerErrors", "PhysicalResourceId": "gtwatch-poller-errors"},
        {**resource, "LogicalResourceId": "Topic", "PhysicalResourceId": watched.resources.topic_arn},
    ]
    summaries[0]["ResourceType"] = "AWS::CloudWatch::Alarm"
    summaries[1]["ResourceType"] = "AWS::SNS::Topic"
    stubber.add_response("list_stack_resources", {"StackResourceSummaries": summaries}, {"StackName": "Gtwatch"})

    class Session:
        def client(self, service: str, **kwargs: Any) -> Any:
            return cloudformation if service == "cloudformation" else cast(Any, real).client(service, **kwargs)

    stack = watched.stack()
    outputs = {key: value for key, value in stack.outputs.items() if key != OUTPUT_ALARM_TOPIC_ARN}
    older = StackInfo(name=stack.name, region=stack.region, outputs=outputs)

    with stubber:
        report = status.gather(cast(Any, Session()), older, watched.now)

    assert [(found.name, found.state) for found in report.alarms] == [("gtwatch-poller-errors", "OK")]


# --- Slack app mode, quiet hours, the digest and mutes: what the stack's config says, shown --------------------

APP_MODE = {
    "slack": {
        "mode": "app",
        "routes": [
            {
                "channel": "#prod-ml",
                "events": ["stalled", "failed"],
                "name_contains": "prod",
                "mention": "<!subteam^S0ONCALL|ml-oncall>",
            },
            {"channel": "#labeling", "events": ["completed", "failed", "stopped", "stalled", "resumed"]},
        ],
    },
    "quiet_hours": {
        "start": "22:00",
        "end": "07:00",
        "timezone": "Europe/Paris",
        "hold": ["stalled", "resumed"],
        "channels": ["slack"],
    },
    "digest": {
        "at": "08:30",
        "timezone": "Europe/Berlin",
        "channels": ["slack", "email"],
        "slack_channel": "#labeling",
    },
}


def app_mode_config() -> dict[str, Any]:
    """The WatcherConfig output of an app-mode stack, as the stack itself writes it."""
    from infra.config import parse_config

    effective: dict[str, Any] = parse_config(APP_MODE).effective("us-east-1")
    return effective


def mute(watched: Watched, name: str, *, events: tuple[str, ...], until: datetime) -> None:
    """What `gtwatch mute` stores."""
    from watcher.adapters.mute import MuteStore
    from watcher.domain.mute_rules import Mute

    store = MuteStore(deployment.client("dynamodb"), watched.resources.table_name)
    store.put(Mute(region="us-east-1", name=name, until=until, events=frozenset(events), by="arn:aws:iam::1:user/ana"))


def test_status_in_slack_app_mode_shows_the_routes_quiet_hours_the_digest_and_the_mutes(watched):
    mute(watched, "tonight-batch-7", events=ALL, until=T0 + timedelta(hours=12))  # a job that does not exist yet
    mute(watched, "cats-batch-1", events=("stalled", "resumed"), until=T0 + timedelta(hours=2))
    mute(watched, "old-batch", events=ALL, until=T0 - timedelta(minutes=1))  # over: not shown

    shown = lines(watched.status(config=app_mode_config()))

    assert shown[1] == f"(shown by gtwatch {importlib.metadata.version('gtwatch')})"
    slack = shown.index("Slack: app mode, 2 route(s); a notification goes to every route that takes it")
    assert shown[slack + 1 : slack + 3] == [
        "#prod-ml: failed, stalled; names containing 'prod'; mentions <!subteam^S0ONCALL|ml-oncall>",
        "#labeling: completed, failed, stopped, stalled, resumed",
    ]
    assert (
        "Quiet hours: 22:00 to 07:00 Europe/Paris: stalled, resumed wait for the end on slack; other types go at once"
        in shown
    )
    assert "Digest: every day at 08:30 Europe/Berlin, to slack (#labeling) and email" in shown
    mutes = shown.index("Mutes in force: 2")
    assert shown[mutes + 1 : mutes + 3] == [
        "cats-batch-1 (us-east-1): stalled, resumed until 2026-11-28 11:00 UTC by arn:aws:iam::1:user/ana",
        "tonight-batch-7 (us-east-1): completed, failed, stopped, stalled, resumed until 2026-11-28 21:00 UTC by "
        "arn:aws:iam::1:user/ana",
    ]


def test_status_json_in_slack_app_mode_gives_scripts_the_routes_quiet_hours_the_digest_and_the_mutes(watched):
    mute(watched, "cats-batch-1", events=("stalled", "resumed"), until=T0 + timedelta(hours=2))

    document = json.loads(watched.status(as_json=True, config=app_mode_config()))

    assert document["gtwatch_version"] == importlib.metadata.version("gtwatch")
    assert document["config"]["slack"] == {
        "mode": "app",
        "routes": [
            {
                "channel": "#prod-ml",
                "events": ["failed", "stalled"],
                "name_contains": "prod",
                "mention": "<!subteam^S0ONCALL|ml-oncall>",
                "kinds": None,
            },
            {"channel": "#labeling", "events": list(ALL), "name_contains": None, "mention": None, "kinds": None},
        ],
    }
    assert document["config"]["quiet_hours"] == {
        "start": "22:00",
        "end": "07:00",
        "timezone": "Europe/Paris",
        "hold": ["stalled", "resumed"],
        "channels": ["slack"],
    }
    assert document["config"]["digest"] == {
        "at": "08:30",
        "timezone": "Europe/Berlin",
        "channels": ["slack", "email"],
        "slack_channel": "#labeling",
    }
    assert document["mutes"] == [
        {
            "account": None,  # The stack lists no accounts.
            "account_alias": None,
            "region": "us-east-1",
            "kind": "labeling",
            "job": "cats-batch-1",
            "events": ["stalled", "resumed"],
            "until": "2026-11-28T11:00:00.000Z",
            "by": "arn:aws:iam::1:user/ana",
            "at": None,
        }
    ]


def test_status_of_a_webhook_stack_without_quiet_hours_or_digest_says_none(watched):
    from infra.config import parse_config

    shown = lines(watched.status(config=parse_config({"slack_events": ["failed"]}).effective("us-east-1")))

    assert "Slack: failed" in shown
    assert "Quiet hours: none" in shown and "Digest: none" in shown and "Mutes in force: none" in shown


def test_the_stack_is_looked_for_in_the_region_aws_region_names_first(watched, tmp_path: Path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("AWS_REGION", "eu-west-1")  # As `cdk deploy` reads it, before AWS_DEFAULT_REGION.
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    create_stack("Gtwatch", dict(watched.stack().outputs))  # In us-east-1: not where the user pointed.

    assert watched.gtwatch("status") == 2

    assert watched.err.getvalue().startswith("gtwatch: stack 'Gtwatch' in eu-west-1: ")


def test_a_region_that_does_not_exist_is_named_as_such(watched):
    assert watched.gtwatch("status", "--region", "us-east-7") == 2

    assert watched.err.getvalue().startswith("gtwatch: --region: 'us-east-7' is not an AWS region that botocore ")


# --- kinds and their stall thresholds --------------------------------------------------------------------------


def kinds_config(**settings: Any) -> dict[str, Any]:
    """The WatcherConfig output of a stack with these settings, as the stack itself writes it."""
    from infra.config import parse_config

    effective: dict[str, Any] = parse_config(settings).effective("us-east-1")
    return effective


def test_status_shows_each_watched_kind_with_its_stall_threshold(watched):
    config = kinds_config(
        kinds=["pipeline", "training", "labeling"], stall_after_minutes={"labeling": 60, "training": 30}
    )

    shown = lines(watched.status(config=config))

    assert "Kinds: labeling (stall after 1 h), training (stall after 30 min), pipeline (never stalls)" in shown
    assert "Stalls: after each kind's time without progress (see Kinds), announced once per stall" in shown


def test_status_of_a_stack_stalling_every_kind_alike_keeps_the_one_threshold(watched):
    shown = lines(watched.status(config=kinds_config(kinds=["labeling", "tuning", "pipeline"], stall_after_minutes=45)))

    assert "Kinds: labeling (stall after 45 min), tuning (stall after 45 min), pipeline (never stalls)" in shown
    assert "Stalls: after 45 min without progress, announced once per stall" in shown


def test_status_of_a_stack_deployed_before_kinds_shows_labeling_jobs(watched):
    # CONFIG has neither kinds nor the thresholds by kind: an older stack watched labeling jobs only.
    shown = lines(watched.status())

    assert "Kinds: labeling (stall after 1 h)" in shown
    assert json.loads(watched.status(as_json=True))["config"]["kinds"] == ["labeling"]


def test_status_json_adds_the_kinds_and_each_kinds_threshold(watched):
    config = kinds_config(kinds=["labeling", "training", "pipeline"], stall_after_minutes={"training": 30})

    document = json.loads(watched.status(as_json=True, config=config))

    assert document["config"]["kinds"] == ["labeling", "training", "pipeline"]
    assert document["config"]["stall_after_minutes"] == {"training": 30}
    assert document["config"]["stall_after_minutes_by_kind"] == {"labeling": None, "training": 30, "pipeline": None}


def test_status_shows_a_routes_kinds(watched):
    routes = [
        {"channel": "#ml-failures", "events": ["failed"], "kinds": ["training", "pipeline"]},
        {"channel": "#labeling", "events": ["completed"]},
    ]
    config = kinds_config(kinds=["labeling", "training", "pipeline"], slack={"mode": "app", "routes": routes})

    shown = lines(watched.status(config=config))

    slack = shown.index("Slack: app mode, 2 route(s); a notification goes to every route that takes it")
    assert shown[slack + 1 : slack + 3] == ["#ml-failures: failed; training, pipeline only", "#labeling: completed"]


def test_a_labeling_job_of_a_stack_where_labeling_never_stalls_is_never_due(watched):
    watched.create("dogs-batch-1", labeled=5, unlabeled=10)
    watched.run_poller()
    watched.at(61)  # Still for an hour: due where labeling stalls after an hour.
    config = kinds_config(kinds=["labeling", "training"], stall_after_minutes={"training": 30})

    shown = lines(watched.status(config=config))

    assert "Stall: never: stall_after_minutes leaves labeling out (last change 1 h 1 min ago)" in shown
    assert "Kinds: labeling (never stalls), training (stall after 30 min)" in shown


# --- kinds: the active jobs of every kind, as the state table holds them -------------------------------------

KINDS_ENV: dict[str, str] = {
    Env.KINDS: "labeling,training,pipeline",
    Env.STALL_AFTER_MINUTES: '{"labeling":60,"training":30}',
}


@pytest.fixture
def watched_kinds() -> Iterator[Watched]:
    """A deployment watching labeling jobs (stall after 1 h), training jobs (30 min) and pipeline executions."""
    with deployment.deployed(
        mode="inprocess",
        routing=Routing(slack_events=ALL, email_events=("failed", "stalled")),
        slack_webhook_url="http://127.0.0.1:9/unused",
        handler_env=KINDS_ENV,
    ) as resources:
        alarm_topic = deployment.client("sns").create_topic(Name="gtwatch-alarms")["TopicArn"]
        world = Watched(resources, alarm_topic)
        clock.set_clock(lambda: world.now)
        labeling_jobs.set_clock(lambda: world.now)
        try:
            yield world
        finally:
            clock.set_clock(None)
            labeling_jobs.set_clock(None)


def jobs_of_three_kinds(watched: Watched) -> dict[str, Any]:
    """A labeling job, a training job and a pipeline execution, all still from minute 0; the stack's config."""
    watched.create("cats", labeled=2, unlabeled=8)
    sagemaker_jobs.put_job(kind="training", name="bert-3", at=watched.now, secondary_status="Training")
    sagemaker_jobs.put_pipeline_execution(pipeline="nightly", name="nightly-42", at=watched.now)
    watched.run_poller()  # The baseline.
    return kinds_config(
        kinds=["labeling", "training", "pipeline"], stall_after_minutes={"labeling": 60, "training": 30}
    )


def test_status_shows_a_training_job_and_a_pipeline_execution_by_kind_with_the_kinds_own_stall(watched_kinds):
    config = jobs_of_three_kinds(watched_kinds)
    watched_kinds.at(31)  # Still for 31 minutes: past training's 30, not labeling's hour; a pipeline never stalls.

    shown = lines(watched_kinds.status(config=config))

    assert "Active jobs: 3" in shown
    cats = shown.index("cats (us-east-1): InProgress")
    assert shown[cats + 1] == "Progress: 20.0% done (2 of 10 objects)"
    assert shown[cats + 2].startswith("Rate: ")
    assert shown[cats + 3] == "Stall: no (last change 31 min ago)"
    training = shown.index("bert-3 (training, us-east-1): InProgress")
    # No labeling progress rows: a training job counts no objects. Its secondary status is what it says of itself.
    assert shown[training + 1 : training + 3] == [
        "Secondary: Training",
        "Stall: due: last change 31 min ago; the next run announces a stall",
    ]
    pipeline = shown.index("nightly-42 (pipeline, us-east-1): Executing")
    assert shown[pipeline + 1] == "Stall: never: a pipeline execution never stalls (last change 31 min ago)"
    assert [line for line in shown if line.startswith(("Progress:", "Rate:"))] == shown[cats + 1 : cats + 3]


def test_status_shows_an_announced_stall_of_a_training_job(watched_kinds):
    config = jobs_of_three_kinds(watched_kinds)
    watched_kinds.at(30)
    watched_kinds.run_poller()  # Training's stall is announced at 30.
    watched_kinds.at(40)

    shown = lines(watched_kinds.status(config=config))

    training = shown.index("bert-3 (training, us-east-1): InProgress")
    assert shown[training + 2] == "Stall: STALLED, no progress for 40 min (announced 2026-11-28 09:30 UTC)"


def test_status_json_gives_a_training_job_and_a_pipeline_execution_by_kind(watched_kinds):
    config = jobs_of_three_kinds(watched_kinds)
    watched_kinds.at(31)

    document = json.loads(watched_kinds.status(as_json=True, config=config))

    jobs = {(job["kind"], job["name"]): job for job in document["jobs"]}
    assert set(jobs) == {("labeling", "cats"), ("training", "bert-3"), ("pipeline", "nightly-42")}
    training, pipeline, cats = jobs["training", "bert-3"], jobs["pipeline", "nightly-42"], jobs["labeling", "cats"]
    assert (training["status"], training["stall"], training["stall_after_minutes"]) == ("InProgress", "due", 30)
    assert (pipeline["status"], pipeline["stall"], pipeline["stall_after_minutes"]) == ("Executing", "never", None)
    assert (cats["stall"], cats["stall_after_minutes"]) == ("no", 60)
    secondary = [job["secondary_status"] for job in (training, pipeline, cats)]
    assert secondary == ["Training", None, None]
    # Object counts are the labeling job's alone.
    assert training["counters"] is None and training["progress"] is None
    assert pipeline["counters"] is None and pipeline["progress"] is None
    assert cats["progress"]["percent"] == 20.0
    assert {run["region"] for run in document["regions"]} == {"us-east-1", "us-east-1 training", "us-east-1 pipeline"}


def test_status_names_the_kind_of_a_muted_job_and_of_a_notification_waiting(watched_kinds):
    config = jobs_of_three_kinds(watched_kinds)
    mute_job(
        MuteStore(deployment.client("dynamodb"), watched_kinds.resources.table_name),
        region="us-east-1",
        name="bert-3",
        until=T0 + timedelta(hours=2),
        events=frozenset({"stalled"}),
        by="arn:aws:iam::123456789012:user/ops",
        now=T0,
        kind=JobKind.TRAINING,
    )
    watched_kinds.at(30)
    sagemaker_jobs.update_job(kind="training", name="bert-3", at=watched_kinds.now, status="Failed")
    deployment.client("sns").delete_topic(TopicArn=watched_kinds.resources.topic_arn)  # Publishing now fails.
    watched_kinds.run_poller()

    shown = lines(watched_kinds.status(config=config))
    document = json.loads(watched_kinds.status(as_json=True, config=config))

    assert "Mutes in force: 1" in shown
    assert any(line.startswith("bert-3 (training, us-east-1): stalled until ") for line in shown)
    assert [(mute["kind"], mute["job"]) for mute in document["mutes"]] == [("training", "bert-3")]
    assert any("(failed: training job bert-3 in us-east-1)" in line for line in shown)
    [waiting] = document["outbox"]["notifications"]
    assert (waiting["kind"], waiting["job"], waiting["event_type"]) == ("training", "bert-3", "failed")
