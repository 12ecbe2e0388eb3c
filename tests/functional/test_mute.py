"""`gtwatch mute`, `unmute` and `mute --list` against a stack on the emulator, and the poller honouring a mute."""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest
from watcher import clock
from watcher.adapters.mute import MuteStore
from watcher.domain.contract import KindName
from watcher.domain.env import Env
from watcher.domain.job import JobKind, Scope
from watcher.handlers import poller_handler

from gtwatch.cli import main
from gtwatch.sim.emulator import deployment, email, labeling_jobs, sagemaker_jobs
from gtwatch.sim.emulator.deployment import Resources


def stack_template(resources: Resources, **outputs: str) -> str:
    return json.dumps(
        {
            "Resources": {"Placeholder": {"Type": "AWS::SNS::Topic"}},
            "Outputs": {
                key: {"Value": value}
                for key, value in {
                    "StateTableName": resources.table_name,
                    "TopicArn": resources.topic_arn,
                    **outputs,
                }.items()
            },
        }
    )


def create_stack(resources: Resources) -> None:
    deployment.client("cloudformation").create_stack(StackName="Gtwatch", TemplateBody=stack_template(resources))


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
    mute = MuteStore(deployment.client("dynamodb"), resources.table_name).for_job(Scope("us-east-1"), "cats-v1")
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
        (("mute", "bad name!"), "is not a job name"),
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


# --- what the command says about a mistake it cannot be sure of, and refuses -------------------------------

T0 = datetime(2026, 12, 4, 18, 0, tzinfo=UTC)


@pytest.fixture
def at_t0(resources: Resources) -> Iterator[None]:
    clock.set_clock(lambda: T0)
    try:
        yield
    finally:
        clock.set_clock(None)


def watching(resources: Resources, *regions: str) -> None:
    """The stack, redeployed with a WatcherConfig output that watches `regions`."""
    config = json.dumps({"regions": list(regions)})
    deployment.client("cloudformation").update_stack(
        StackName="Gtwatch", TemplateBody=stack_template(resources, WatcherConfig=config)
    )


def test_a_job_not_known_yet_is_muted_and_the_command_says_so(at_t0: None) -> None:
    code, out, err = gtwatch("mute", "tonight-batch-7", "--for", "12h")

    assert (code, err) == (0, "")
    assert out.splitlines() == [
        "Muted tonight-batch-7 (us-east-1): completed, failed, stopped, stalled, resumed until 2026-12-05 06:00 UTC.",
        "No job named tonight-batch-7 is known in us-east-1 yet; the mute applies when it appears.",
    ]


def test_a_known_job_is_muted_without_a_word_about_it(at_t0: None) -> None:
    labeling_jobs.put_labeling_job(region="us-east-1", name="cats-v1", status="InProgress", counters={}, at=T0)

    code, out, _ = gtwatch("mute", "Cats-V1", "--for", "1h")  # SageMaker's job names do not depend on case.

    assert code == 0
    assert (
        out == "Muted Cats-V1 (us-east-1): completed, failed, stopped, stalled, resumed until 2026-12-04 19:00 UTC.\n"
    )


def test_a_mute_that_replaces_a_longer_one_says_what_it_cut_short(at_t0: None) -> None:
    assert gtwatch("mute", "cats-v1", "--for", "8h")[0] == 0

    code, out, _ = gtwatch("mute", "cats-v1", "--for", "1h", "--events", "stalled")

    assert code == 0
    assert out.splitlines()[:2] == [
        "Muted cats-v1 (us-east-1): stalled until 2026-12-04 19:00 UTC.",
        "This replaces a longer mute (completed, failed, stopped, stalled, resumed until 2026-12-05 02:00 UTC): the "
        "job is muted until 2026-12-04 19:00 UTC now, not 2026-12-05 02:00 UTC.",
    ]
    assert gtwatch("mute", "--list")[1].startswith("cats-v1 (us-east-1): stalled until 2026-12-04 19:00 UTC by ")


def test_a_mute_that_replaces_a_shorter_one_says_it_replaced_it(at_t0: None) -> None:
    assert gtwatch("mute", "cats-v1", "--for", "1h", "--events", "stalled")[0] == 0

    code, out, _ = gtwatch("mute", "cats-v1", "--for", "2h")

    assert code == 0
    assert "This replaces the earlier mute (stalled until 2026-12-04 19:00 UTC)." in out.splitlines()


def test_an_ended_mute_is_not_mentioned_when_the_job_is_muted_again(at_t0: None) -> None:
    assert gtwatch("mute", "cats-v1", "--for", "1h")[0] == 0
    clock.set_clock(lambda: T0 + timedelta(hours=2))

    code, out, _ = gtwatch("mute", "cats-v1", "--for", "1h")

    assert code == 0
    assert "replaces" not in out


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (("--list", "cats-v1"), "gtwatch: --list takes no job, --for, --until or --events; drop the job 'cats-v1'\n"),
        (
            ("--list", "--for", "2h", "--events", "stalled"),
            "gtwatch: --list takes no job, --for, --until or --events; drop --for, --events\n",
        ),
    ],
)
def test_list_refuses_what_it_would_ignore(resources: Resources, arguments: tuple[str, ...], message: str) -> None:
    assert gtwatch("mute", *arguments) == (2, "", message)


def test_a_region_the_stack_does_not_watch_is_refused_naming_the_watched_ones(resources: Resources) -> None:
    watching(resources, "us-east-1", "eu-west-1")

    assert gtwatch("mute", "cats-v1", "--job-region", "ap-south-1") == (
        2,
        "",
        "gtwatch: --job-region: stack Gtwatch does not watch ap-south-1; it watches us-east-1, eu-west-1\n",
    )
    assert gtwatch("unmute", "cats-v1", "--job-region", "ap-south-1")[0] == 2
    assert gtwatch("mute", "--list", "--job-region", "ap-south-1")[0] == 2

    code, out, _ = gtwatch("mute", "cats-v1", "--job-region", "eu-west-1")
    assert code == 0 and out.startswith("Muted cats-v1 (eu-west-1): ")


def test_a_stack_that_does_not_watch_its_own_region_needs_the_jobs_region(resources: Resources) -> None:
    watching(resources, "eu-west-1")

    assert gtwatch("mute", "cats-v1") == (
        2,
        "",
        "gtwatch: stack Gtwatch does not watch its own region us-east-1; it watches eu-west-1: name the job's region "
        "with --job-region\n",
    )


def test_a_region_that_does_not_exist_is_named_as_such(resources: Resources) -> None:
    code, _, err = gtwatch("mute", "cats-v1", "--job-region", "us-east-7")

    assert code == 2
    assert err.startswith("gtwatch: --job-region: 'us-east-7' is not an AWS region that botocore ")
    assert "did you mean " in err and "us-east-1" in err and len(err.splitlines()) == 1


# --- kinds: a mute names its job by kind (--kind), as the watcher keeps mutes by scope ----------------------


def test_a_training_job_is_muted_apart_from_a_labeling_job_of_the_same_name(at_t0: None, resources: Resources) -> None:
    code, out, err = gtwatch("mute", "cats", "--kind", "training", "--for", "2h", "--events", "stalled")

    assert (code, err) == (0, "")
    assert out.splitlines()[0] == "Muted cats (training, us-east-1): stalled until 2026-12-04 20:00 UTC."
    store = MuteStore(deployment.client("dynamodb"), resources.table_name)
    training = store.for_job(Scope("us-east-1", JobKind.TRAINING), "cats")
    assert training is not None and training.kind is JobKind.TRAINING and training.events == {"stalled"}
    assert store.for_job(Scope("us-east-1"), "cats") is None  # The labeling job of that name is not muted.


def test_mute_list_names_each_mutes_kind(at_t0: None) -> None:
    assert gtwatch("mute", "cats", "--kind", "training", "--for", "2h")[0] == 0
    assert gtwatch("mute", "cats", "--for", "1h", "--events", "failed")[0] == 0
    assert gtwatch("mute", "nightly-42", "--kind", "pipeline", "--for", "3h", "--events", "failed")[0] == 0

    code, out, _ = gtwatch("mute", "--list")

    assert code == 0
    assert [line.split(" by ")[0] for line in out.splitlines()] == [
        "cats (us-east-1): failed until 2026-12-04 19:00 UTC",
        "cats (training, us-east-1): completed, failed, stopped, stalled, resumed until 2026-12-04 20:00 UTC",
        "nightly-42 (pipeline, us-east-1): failed until 2026-12-04 21:00 UTC",
    ]


def test_unmute_ends_only_the_mute_of_the_kind_named(at_t0: None) -> None:
    assert gtwatch("mute", "cats", "--kind", "training", "--for", "2h")[0] == 0
    assert gtwatch("mute", "cats", "--for", "2h")[0] == 0

    assert gtwatch("unmute", "cats", "--kind", "training")[:2] == (0, "Unmuted cats (training, us-east-1).\n")
    assert gtwatch("unmute", "cats", "--kind", "training")[:2] == (0, "cats (training, us-east-1) was not muted.\n")
    assert gtwatch("mute", "--list")[1].startswith("cats (us-east-1): ")


@pytest.mark.parametrize("command", [("mute", "cats"), ("unmute", "cats"), ("mute", "--list")])
def test_an_unknown_kind_is_one_clear_error_naming_kind(resources: Resources, command: tuple[str, ...]) -> None:
    assert gtwatch(*command, "--kind", "trainng") == (
        2,
        "",
        "gtwatch: --kind: 'trainng' is not a job kind; the kinds are labeling, training, processing, transform, "
        "tuning, pipeline; did you mean training?\n",
    )


KIND_NOUNS_IN_NOTICES: list[tuple[KindName, str]] = [
    ("training", "training job"),
    ("processing", "processing job"),
    ("transform", "transform job"),
    ("tuning", "tuning job"),
    ("pipeline", "pipeline execution"),
]


@pytest.mark.parametrize(("kind", "noun"), KIND_NOUNS_IN_NOTICES)
def test_a_job_of_any_kind_not_known_yet_is_muted_and_the_command_says_so(
    at_t0: None, kind: KindName, noun: str
) -> None:
    code, out, err = gtwatch("mute", "tonight-7", "--kind", kind, "--for", "12h")

    assert (code, err) == (0, "")
    assert out.splitlines()[1:] == [
        f"No {noun} named tonight-7 is known in us-east-1 yet; the mute applies when it appears."
    ]


@pytest.mark.parametrize(("kind", "noun"), KIND_NOUNS_IN_NOTICES)
def test_a_known_job_of_any_kind_is_muted_without_a_word_about_it(at_t0: None, kind: KindName, noun: str) -> None:
    if kind == "pipeline":
        sagemaker_jobs.put_pipeline_execution(pipeline="nightly", name="tonight-7", at=T0)
    else:
        sagemaker_jobs.put_job(kind=kind, name="tonight-7", at=T0)
    # A labeling job of that name is unknown; the job of the kind named is what is looked up.
    code, out, _ = gtwatch("mute", "tonight-7", "--kind", kind, "--for", "1h")

    assert code == 0
    assert out.splitlines() == [
        f"Muted tonight-7 ({kind}, us-east-1): completed, failed, stopped, stalled, resumed until 2026-12-04 19:00 UTC."
    ]


def test_the_poller_drops_a_muted_training_jobs_notification_and_not_the_labeling_jobs_of_its_name(
    deploy: Callable[..., Resources], tmp_path, monkeypatch, lambda_context
) -> None:
    monkeypatch.chdir(tmp_path)
    create_stack(deploy(handler_env={Env.KINDS: "labeling,training"}))
    labeling_jobs.put_labeling_job(
        region="us-east-1", name="cats", status="InProgress", counters={"Unlabeled": 10}, at=clock.now()
    )
    sagemaker_jobs.put_job(kind="training", name="cats", at=clock.now(), secondary_status="Training")
    poller_handler.lambda_handler({}, lambda_context("gtwatch-poller"))
    assert gtwatch("mute", "cats", "--kind", "training", "--events", "completed")[0] == 0

    labeling_jobs.update_labeling_job(region="us-east-1", name="cats", at=clock.now(), status="Completed")
    sagemaker_jobs.update_job(kind="training", name="cats", at=clock.now(), status="Completed")
    poller_handler.lambda_handler({}, lambda_context("gtwatch-poller"))
    poller_handler.metrics.clear_metrics()

    assert [mail.subject for mail in email.take()] == ["[gtwatch] Completed: cats (us-east-1)"]
