"""`gtwatch mute`, `unmute` and `mute --list` against a stack on the emulator, and the poller honouring a mute."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from datetime import timedelta

import pytest
from watcher import clock, poller_handler
from watcher.mute import MuteStore

from gtwatch.cli import main
from gtwatch.sim.emulator import deployment, email, labeling_jobs
from gtwatch.sim.emulator.deployment import Resources


def create_stack(resources: Resources) -> None:
    template = {
        "Resources": {"Placeholder": {"Type": "AWS::SNS::Topic"}},
        "Outputs": {"StateTableName": {"Value": resources.table_name}, "TopicArn": {"Value": resources.topic_arn}},
    }
    deployment.client("cloudformation").create_stack(StackName="Gtwatch", TemplateBody=json.dumps(template))


def gtwatch(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    from contextlib import redirect_stderr, redirect_stdout

    with redirect_stdout(out), redirect_stderr(err):
        code = main([*args, "--stack-name", "Gtwatch", "--region", "us-east-1"])
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def resources(deploy: Callable[..., Resources], tmp_path, monkeypatch) -> Resources:
    monkeypatch.chdir(tmp_path)  # no cdk.json here
    deployed = deploy()
    create_stack(deployed)
    return deployed


def test_mute_list_and_unmute(resources: Resources) -> None:
    code, out, err = gtwatch("mute", "cats-v1", "--for", "2h", "--events", "stalled,resumed")
    assert (code, err) == (0, "")
    assert out.startswith("Muted cats-v1 (us-east-1): stalled, resumed until ")

    code, out, _ = gtwatch("mute", "--list")
    assert code == 0 and out.startswith("cats-v1 (us-east-1): stalled, resumed until ")
    mute = MuteStore(deployment.client("dynamodb"), resources.table_name).for_job("us-east-1", "cats-v1")
    assert mute is not None and mute.by  # who muted is recorded
    assert timedelta(minutes=119) < mute.until - clock.now() <= timedelta(hours=2)

    assert gtwatch("unmute", "cats-v1")[:2] == (0, "Unmuted cats-v1 (us-east-1).\n")
    assert gtwatch("mute", "--list")[1] == "No job is muted in us-east-1.\n"


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (("mute", "cats-v1", "--for", "soon"), "is not a duration like 4h"),
        (("mute", "cats-v1", "--events", "stalled,exploded"), "--events"),
        (("mute", "cats-v1", "--until", "2020-01-01T00:00Z"), "not in the future"),
        (("mute", "bad name!"), "is not a labeling job name"),
        (("mute",), "name the job to mute"),
    ],
)
def test_a_bad_mute_is_one_clear_error(resources: Resources, arguments: tuple[str, ...], message: str) -> None:
    try:
        code, _, err = gtwatch(*arguments)
    except SystemExit as exit_:  # argparse refuses a malformed value before the command runs
        code, err = int(exit_.code or 0), ""
    assert code == 2
    if err:
        assert message in err


def test_the_poller_drops_only_what_the_mute_names(resources: Resources, lambda_context) -> None:
    labeling_jobs.put_labeling_job(
        region="us-east-1", name="cats-v1", status="InProgress", counters={"Unlabeled": 10}, at=clock.now()
    )
    poller_handler.lambda_handler({}, lambda_context("gtwatch-poller"))
    assert gtwatch("mute", "cats-v1", "--events", "completed")[0] == 0
    labeling_jobs.update_labeling_job(region="us-east-1", name="cats-v1", at=clock.now(), status="Completed")
    poller_handler.lambda_handler({}, lambda_context("gtwatch-poller"))
    poller_handler.metrics.clear_metrics()
    assert email.take() == []
