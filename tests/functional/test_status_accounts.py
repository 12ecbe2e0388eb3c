"""`gtwatch status` of a hub that watches other accounts, after real poller runs on the emulator's accounts: every
listed account's scopes named by its alias, its jobs and mutes too, and an account whose role cannot be assumed shown
as CANNOT BE READ since when (in --json: `unreadable`, `unreadable_since`)."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import boto3
import pytest
from watcher import clock, container
from watcher.adapters.mute import MuteStore
from watcher.domain.contract import OUTPUT_ALARM_TOPIC_ARN, OUTPUT_CONFIG, OUTPUT_STATE_TABLE, OUTPUT_TOPIC_ARN
from watcher.domain.env import Env
from watcher.domain.job import JobKind
from watcher.handlers import poller_handler

from gtwatch.ops import status
from gtwatch.ops.accounts import accounts_env, parse_accounts
from gtwatch.ops.mute import mute_job
from gtwatch.ops.stack import StackInfo
from gtwatch.sim.emulator import deployment, labeling_jobs, sagemaker_jobs
from gtwatch.sim.emulator.accounts import create_spoke_role
from gtwatch.sim.emulator.deployment import FakeLambdaContext, Resources, Routing
from gtwatch.sim.faults import Faults

T0 = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)
HOME = deployment.ACCOUNT_ID
VISION = "333333333333"
ACCOUNTS = [
    {"id": HOME, "alias": "research", "regions": ["us-east-1"]},
    {"id": VISION, "alias": "vision", "regions": ["eu-central-1"]},
]


def stack_config() -> dict[str, Any]:
    """The WatcherConfig output of the hub's stack, as the stack itself writes it."""
    from infra.config import parse_config

    effective: dict[str, Any] = parse_config({"accounts": ACCOUNTS, "kinds": ["labeling", "training"]}).effective(
        "us-east-1"
    )
    return effective


@dataclass
class Hub:
    resources: Resources
    faults: Faults
    alarm_topic_arn: str
    now: datetime = T0

    def at(self, minute: int) -> None:
        self.now = T0 + timedelta(minutes=minute)

    def run_poller(self) -> None:
        poller_handler.lambda_handler({}, FakeLambdaContext("gtwatch-poller"))

    def status(self, *, as_json: bool = False) -> str:
        outputs = {
            OUTPUT_TOPIC_ARN: self.resources.topic_arn,
            OUTPUT_STATE_TABLE: self.resources.table_name,
            OUTPUT_CONFIG: json.dumps(stack_config()),
            OUTPUT_ALARM_TOPIC_ARN: self.alarm_topic_arn,
        }
        stack = StackInfo(name="Gtwatch", region="us-east-1", outputs=outputs, status="UPDATE_COMPLETE")
        out = io.StringIO()
        status.show(status.gather(boto3.session.Session(), stack, self.now), as_json=as_json, out=out)
        return out.getvalue()


@pytest.fixture
def hub() -> Iterator[Hub]:
    env: dict[str, str] = {
        Env.ACCOUNTS: accounts_env(parse_accounts(ACCOUNTS, "accounts"), "aws"),
        Env.KINDS: "labeling,training",
        Env.REGIONS: "us-east-1",
    }
    with deployment.deployed(
        mode="inprocess",
        routing=Routing(slack_events=("failed",), email_events=("failed",)),
        slack_webhook_url="http://127.0.0.1:9/unused",
        handler_env=env,
    ) as resources:
        alarm_topic = deployment.client("sns").create_topic(Name="gtwatch-alarms")["TopicArn"]
        world = Hub(resources, cast(Faults, None), alarm_topic)
        world.faults = Faults(cast(Any, None), minute=lambda: int((world.now - T0).total_seconds() // 60))
        clock.set_clock(lambda: world.now)
        labeling_jobs.set_clock(lambda: world.now)
        container.reset()
        try:
            with world.faults.installed():
                create_spoke_role(VISION)
                labeling_jobs.put_labeling_job(region="us-east-1", name="cats", status="InProgress", at=T0)
                sagemaker_jobs.put_job(account_id=VISION, region="eu-central-1", kind="training", name="detr-9", at=T0)
                world.run_poller()  # The baseline, in both accounts.
                yield world
        finally:
            container.reset()
            clock.set_clock(None)
            labeling_jobs.set_clock(None)


def lines(text: str) -> list[str]:
    return [" ".join(line.split()) for line in text.splitlines()]


def deny_vision(hub: Hub) -> None:
    """From minute 10 the hub may no longer assume vision's role (its sessions from before are revoked too)."""
    hub.at(10)
    hub.faults.arm("sts", "access_denied", until_minute=24 * 60, account=VISION)
    hub.run_poller()
    hub.at(12)


def runs(shown: list[str]) -> list[str]:
    start = shown.index("Last successful run") + 1
    return shown[start : shown.index("", start)]


def test_status_names_every_accounts_scopes_by_alias(hub: Hub) -> None:
    hub.at(2)

    shown = lines(hub.status())

    assert runs(shown) == [
        "research us-east-1: 2026-11-28 09:00 UTC (2 min ago)",
        "research us-east-1 training: 2026-11-28 09:00 UTC (2 min ago)",
        "vision eu-central-1: 2026-11-28 09:00 UTC (2 min ago)",
        "vision eu-central-1 training: 2026-11-28 09:00 UTC (2 min ago)",
    ]
    assert "Accounts: research (123456789012): us-east-1; vision (333333333333): eu-central-1" in shown
    assert "cats (research, us-east-1): InProgress" in shown
    assert "detr-9 (vision, training, eu-central-1): InProgress" in shown


def test_status_shows_an_account_that_cannot_be_read_since_when(hub: Hub) -> None:
    deny_vision(hub)

    shown = lines(hub.status())

    assert runs(shown) == [
        "research us-east-1: 2026-11-28 09:10 UTC (2 min ago)",
        "research us-east-1 training: 2026-11-28 09:10 UTC (2 min ago)",
        "vision eu-central-1: CANNOT BE READ since 2026-11-28 09:10 UTC (AccessDeniedException: the hub cannot "
        "assume its reader role, or its sessions are refused); last read 2026-11-28 09:00 UTC",
        "vision eu-central-1 training: CANNOT BE READ since 2026-11-28 09:10 UTC (AccessDeniedException: the hub "
        "cannot assume its reader role, or its sessions are refused); last read 2026-11-28 09:00 UTC",
    ]


def test_status_json_gives_each_scopes_account_and_whether_it_can_be_read(hub: Hub) -> None:
    deny_vision(hub)

    document = json.loads(hub.status(as_json=True))

    # "region" names the scope as the text does; "account", "account_alias" and "kind" say whose and what it is.
    scopes = {(run["account"], run["kind"]): run for run in document["regions"]}
    assert {key: run["region"] for key, run in scopes.items()} == {
        (HOME, "labeling"): "research us-east-1",
        (HOME, "training"): "research us-east-1 training",
        (VISION, "labeling"): "vision eu-central-1",
        (VISION, "training"): "vision eu-central-1 training",
    }
    vision = scopes[VISION, "training"]
    assert vision["account_alias"] == "vision"
    assert vision["unreadable"] == "AccessDeniedException"
    assert vision["unreadable_since"] == "2026-11-28T09:10:00.000Z"
    assert vision["last_successful_run"] == "2026-11-28T09:00:00.000Z"
    home = scopes[HOME, "labeling"]
    assert (home["account_alias"], home["unreadable"], home["unreadable_since"]) == ("research", None, None)
    assert home["late"] is False
    jobs = {job["name"]: job for job in document["jobs"]}
    assert (jobs["detr-9"]["account"], jobs["detr-9"]["account_alias"]) == (VISION, "vision")
    assert (jobs["cats"]["account"], jobs["cats"]["account_alias"]) == (HOME, "research")


def test_status_names_the_account_of_a_muted_spoke_job(hub: Hub) -> None:
    mute_job(
        MuteStore(deployment.client("dynamodb"), hub.resources.table_name),
        region="eu-central-1",
        name="detr-9",
        until=T0 + timedelta(hours=2),
        events=frozenset({"stalled"}),
        by="arn:aws:iam::123456789012:user/ops",
        now=T0,
        kind=JobKind.TRAINING,
        account=VISION,
    )
    hub.at(5)

    shown = lines(hub.status())
    document = json.loads(hub.status(as_json=True))

    assert (
        "detr-9 (vision, training, eu-central-1): stalled until 2026-11-28 11:00 UTC by "
        "arn:aws:iam::123456789012:user/ops" in shown
    )
    [mute] = document["mutes"]
    assert (mute["account"], mute["account_alias"]) == (VISION, "vision")
