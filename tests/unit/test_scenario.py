"""Scenario files: what the loader accepts, what it refuses (naming the field), and the Version 2 model."""

from __future__ import annotations

import dataclasses
import json
from datetime import time
from pathlib import Path
from typing import Any

import botocore.session
import pytest
from watcher.domain.slack_routes import validate_slack_channel, validate_slack_mention

from gtwatch.cli import main
from gtwatch.sim.scenario import (
    ALL_EVENTS,
    FAILURE_REASON_MAX_LENGTH,
    S3_URI_MAX_LENGTH,
    WORKTEAM_ARN_MAX_LENGTH,
    WORKTEAM_ARN_PATTERN,
    PipelineChange,
    ScenarioError,
    SlackRoute,
    TrainingChange,
    load,
    parse,
    validate_clock_time,
    validate_s3_uri,
    validate_timezone,
)

DATA = Path(__file__).parents[1] / "scenarios" / "data"
START = "2026-01-05T09:00:00Z"


def scenario(*steps: dict[str, Any], **config: Any) -> dict[str, Any]:
    return {"start": START, "config": config, "steps": list(steps)}


def create(minute: int, name: str = "cats", **fields: Any) -> dict[str, Any]:
    return {"at_minute": minute, "create": {"name": name, **fields}}


def update(minute: int, name: str = "cats", **fields: Any) -> dict[str, Any]:
    return {"at_minute": minute, "update": {"name": name, **fields}}


def refusal(raw: dict[str, Any]) -> str:
    with pytest.raises(ScenarioError) as excinfo:
        parse(raw)
    return str(excinfo.value)


# --- the example files --------------------------------------------------------------------------------


@pytest.mark.parametrize("path", sorted(DATA.glob("*.json")), ids=lambda path: path.name)
def test_every_example_scenario_loads(path: Path) -> None:
    load(path)


def test_the_app_threads_example_reads_as_written() -> None:
    loaded = load(DATA / "v2-app-threads.json")

    assert loaded.config.slack.mode == "app"
    assert loaded.config.slack.routes == (
        SlackRoute(channel="#labeling", events=ALL_EVENTS),
        SlackRoute(channel="#ml-oncall", events=("failed",), mention="<!here>"),
    )
    assert loaded.v2_features() == [
        "config.slack.mode",
        "config.slack.routes",
        "steps[7].fault.mode",
        "steps[8].fault.until_minute",
    ]
    assert loaded.steps[8].fault is not None
    assert (loaded.steps[8].fault.count, loaded.steps[8].fault.until_minute) == (None, 170)


def test_the_digest_quiet_hours_and_mute_example_reads_as_written() -> None:
    loaded = load(DATA / "v2-digest-quiet-mute.json")

    digest, quiet = loaded.config.digest, loaded.config.quiet_hours
    assert digest is not None and quiet is not None
    assert (digest.local_time, digest.zone.key, digest.channels) == (time(9, 0), "Europe/Paris", ("slack", "email"))
    assert (quiet.start, quiet.end, quiet.hold, quiet.channels) == (
        "19:00",
        "08:00",
        ("completed", "stalled", "resumed"),
        ("slack",),
    )
    mute = loaded.steps[5].mute
    assert mute is not None and (mute.name, mute.until_minute, mute.events) == (
        "street-signs",
        1500,
        ("stalled", "resumed"),
    )
    assert loaded.v2_features() == ["config.digest", "config.quiet_hours", "steps[5].mute"]


def test_a_version_1_scenario_uses_no_version_2_feature_and_keeps_its_defaults() -> None:
    loaded = load(DATA / "faults.json")

    assert loaded.v2_features() == []
    assert loaded.config.slack.mode == "webhook"
    assert loaded.config.slack_events == ALL_EVENTS
    assert (loaded.config.digest, loaded.config.quiet_hours) == (None, None)
    assert all(step.fault.count is not None for step in loaded.steps if step.fault is not None)


def test_a_fault_without_count_or_until_minute_fails_the_next_call() -> None:
    loaded = parse(scenario({"at_minute": 0, "fault": {"target": "sns", "mode": "error"}}))

    assert loaded.steps[0].fault is not None
    assert (loaded.steps[0].fault.count, loaded.steps[0].fault.until_minute) == (1, None)


def test_webhook_mode_said_out_loud_is_not_a_version_2_feature() -> None:
    assert parse(scenario(slack={"mode": "webhook"})).v2_features() == []


def test_version_2_settings_cannot_be_changed_once_read() -> None:
    loaded = load(DATA / "v2-app-threads.json")

    with pytest.raises(dataclasses.FrozenInstanceError):
        loaded.config.slack.routes[0].channel = "#elsewhere"  # type: ignore[misc]


# --- impossible jobs ------------------------------------------------------------------------------------


def test_a_failure_reason_sagemaker_could_not_hold_is_refused() -> None:
    assert refusal(scenario(create(0, failure_reason="x" * 1025))).startswith("steps[0].create.failure_reason: ")
    assert refusal(scenario(create(0), update(5, failure_reason="x" * 1025))).startswith(
        "steps[1].update.failure_reason: "
    )
    parse(scenario(create(0, failure_reason="x" * 1024)))


@pytest.mark.parametrize(
    "output", ["/tmp/out.manifest", "https://bucket/out.manifest", "s3://bucket", "s3://bucket/", "s3://My_Bucket/o"]
)
def test_an_output_that_is_not_an_s3_uri_is_refused(output: str) -> None:
    assert refusal(scenario(create(0, output=output))).startswith("steps[0].create.output: ")
    assert refusal(scenario(create(0), update(1, output=output))).startswith("steps[1].update.output: ")


def test_the_limits_are_sagemakers() -> None:
    model = botocore.session.get_session().get_service_model("sagemaker")

    assert model.shape_for("FailureReason").metadata["max"] == FAILURE_REASON_MAX_LENGTH
    assert model.shape_for("S3Uri").metadata["max"] == S3_URI_MAX_LENGTH
    assert model.shape_for("WorkteamArn").metadata["max"] == WORKTEAM_ARN_MAX_LENGTH
    assert model.shape_for("WorkteamArn").metadata["pattern"] == WORKTEAM_ARN_PATTERN


@pytest.mark.parametrize(
    "workteam_arn",
    [
        "team",
        "arn:aws:sagemaker:us-east-1:123456789012:labeling-job/cats",
        "arn:aws:sagemaker:us-east-1:12345:workteam/private-crowd/team",
        "arn:aws:sagemaker:us-east-1:123456789012:workteam/" + "x" * 207,
    ],
)
def test_a_workteam_arn_sagemaker_would_refuse_is_refused(workteam_arn: str) -> None:
    assert refusal(scenario(create(0, workteam_arn=workteam_arn))).startswith(
        f"steps[0].create.workteam_arn: {workteam_arn!r} is not a work team ARN SageMaker takes"
    )


def test_a_workteam_arn_of_the_longest_kind_is_accepted() -> None:
    parse(scenario(create(0, workteam_arn="arn:aws:sagemaker:us-east-1:123456789012:workteam/" + "x" * 206)))


def test_an_output_that_is_an_s3_uri_is_accepted() -> None:
    parse(scenario(create(0, output="s3://labels-prod/cats/output/output.manifest")))


def test_an_update_of_a_job_no_step_created_is_refused() -> None:
    assert refusal(scenario(create(0), update(5, "dogs"))) == (
        "steps[1].update.name: 'dogs' is not a job created by an earlier step"
    )


def test_an_update_before_the_creation_is_refused_whatever_the_file_order() -> None:
    assert refusal(scenario(update(5), create(10))) == (
        "steps[0].update.name: 'cats' is not a job created by an earlier step"
    )


def test_at_the_same_minute_the_file_order_decides() -> None:
    assert "steps[0].update.name" in refusal(scenario(update(5), create(5)))
    parse(scenario(create(5), update(5)))


def test_steps_listed_out_of_order_are_checked_in_the_order_they_apply() -> None:
    parse(scenario(update(30), {"at_minute": 31, "state_change_event": {"name": "cats"}}, create(0)))


def test_a_second_job_with_the_same_name_is_refused_in_any_case() -> None:
    assert refusal(scenario(create(0), update(1), create(9, "CATS"))) == (
        "steps[2].create.name: 'CATS' is already created by steps[0]"
    )


@pytest.mark.parametrize(
    ("step", "field"),
    [
        ({"at_minute": 3, "state_change_event": {"name": "dogs"}}, "steps[1].state_change_event.name"),
        (update(3, "dogs"), "steps[1].update.name"),
    ],
)
def test_any_step_changing_a_job_needs_it_created_first(step: dict[str, Any], field: str) -> None:
    assert refusal(scenario(create(0), step)) == f"{field}: 'dogs' is not a job created by an earlier step"


def test_a_mute_may_name_a_job_that_does_not_exist_yet() -> None:
    # The contract: "A mute may name a job that does not exist yet" (muting tonight's batch in advance).
    parsed = parse(scenario({"at_minute": 3, "mute": {"name": "dogs", "until_minute": 9}}, create(5, "dogs")))
    assert [step.action for step in parsed.ordered_steps()] == ["mute", "create"]


def test_an_event_for_an_arbitrary_arn_needs_no_job() -> None:
    parse(scenario({"at_minute": 0, "state_change_event": {"arn": "arn:aws:sagemaker:us-east-1:1:labeling-job/x"}}))


def test_every_impossible_step_is_reported_at_once() -> None:
    message = refusal(scenario(update(0, "a"), create(1, "b"), create(2, "b"), update(3, "c")))

    assert message.split("; ") == [
        "steps[0].update.name: 'a' is not a job created by an earlier step",
        "steps[2].create.name: 'b' is already created by steps[1]",
        "steps[3].update.name: 'c' is not a job created by an earlier step",
    ]


def test_the_replay_command_exits_2_naming_the_step(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "unknown-job.json"
    path.write_text(json.dumps(scenario(create(0), update(3, "nope"))))

    assert main(["replay", str(path)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "steps[1].update.name: 'nope' is not a job created by an earlier step" in captured.err


def test_the_replay_command_exits_2_naming_a_workteam_sagemaker_would_refuse(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "team.json"
    path.write_text(json.dumps(scenario(create(0, workteam_arn="team"))))

    assert main(["replay", str(path)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "steps[0].create.workteam_arn: 'team' is not a work team ARN SageMaker takes" in captured.err


# --- Version 2 fields -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "mention",
    ["<!here>", "<!channel>", "<!everyone>", "<@U024BE7LH>", "<!subteam^S0ABC123|ml-oncall>", "<!subteam^S0ABC123>"],
)
def test_slack_mentions_in_slack_markup_are_accepted(mention: str) -> None:
    assert validate_slack_mention(mention) == mention


@pytest.mark.parametrize(
    "mention", ["@here", "<!here", "<!HERE>", "<!here> <!channel>", "<@u024be7lh>", "<!subteam^X1|a>", "@ml-oncall", ""]
)
def test_anything_else_is_not_a_mention(mention: str) -> None:
    with pytest.raises(ValueError, match="is not a Slack mention"):
        validate_slack_mention(mention)


@pytest.mark.parametrize("channel", ["#labeling", "#ml_alerts-2", "#" + "a" * 80, "C0123ABCD", "G0123ABCD"])
def test_slack_channels_by_name_or_id_are_accepted(channel: str) -> None:
    assert validate_slack_channel(channel) == channel


@pytest.mark.parametrize(
    "channel", ["labeling", "#Labeling", "#ml alerts", "#", "#" + "a" * 81, "c0123abcd", "D0123ABCD", "#ml.alerts"]
)
def test_anything_else_is_not_a_channel(channel: str) -> None:
    with pytest.raises(ValueError, match="is not a Slack channel"):
        validate_slack_channel(channel)


@pytest.mark.parametrize(("value", "valid"), [("09:00", True), ("23:59", True), ("24:00", False), ("9:00", False)])
def test_times_of_day_are_hh_mm(value: str, valid: bool) -> None:
    if valid:
        assert validate_clock_time(value) == value
    else:
        with pytest.raises(ValueError, match="HH:MM"):
            validate_clock_time(value)


@pytest.mark.parametrize(
    ("value", "valid"), [("Europe/Berlin", True), ("UTC", True), ("CET+1", False), ("../etc", False)]
)
def test_time_zones_are_iana_names(value: str, valid: bool) -> None:
    if valid:
        assert validate_timezone(value) == value
    else:
        with pytest.raises(ValueError, match="IANA"):
            validate_timezone(value)


def test_s3_uris_name_a_bucket_and_a_key() -> None:
    assert validate_s3_uri("s3://bucket/key") == "s3://bucket/key"
    with pytest.raises(ValueError, match="s3://bucket/key"):
        validate_s3_uri("s3://bucket/" + "k" * 1024)


ROUTE = {"channel": "#labeling", "events": ["failed"]}
DIGEST = {"at": "09:00", "timezone": "Europe/Berlin"}
QUIET = {"start": "20:00", "end": "08:00", "timezone": "America/New_York", "hold": ["completed"]}


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"slack": {"mode": "bot"}}, "config.slack.mode: Input should be 'webhook' or 'app'"),
        ({"slack": {"mode": "app", "routes": [{**ROUTE, "channel": "labeling"}]}}, "config.slack.routes[0].channel: "),
        ({"slack": {"mode": "app", "routes": [{**ROUTE, "events": []}]}}, "config.slack.routes[0].events: "),
        ({"slack": {"mode": "app", "routes": [{**ROUTE, "events": ["done"]}]}}, "config.slack.routes[0].events[0]: "),
        ({"slack": {"mode": "app", "routes": [{**ROUTE, "mention": "@here"}]}}, "config.slack.routes[0].mention: "),
        ({"slack": {"mode": "app", "routes": [{**ROUTE, "name_contains": "a b"}]}}, "routes[0].name_contains: "),
        ({"slack": {"mode": "app", "routes": [{**ROUTE, "colour": "red"}]}}, "routes[0].colour: is not a known field"),
        ({"slack": {"mode": "app", "routes": [{"events": ["failed"]}]}}, "config.slack.routes[0].channel: Field req"),
        ({"slack": {"mode": "app"}}, "config.slack.routes: app mode needs at least one route"),
        ({"slack": {"routes": [ROUTE]}}, "config.slack.routes: routes apply in app mode only"),
        (
            {"slack": {"mode": "app", "routes": [ROUTE]}, "slack_events": ["failed"]},
            "config.slack_events: not used in app mode",
        ),
        ({"digest": {**DIGEST, "at": "9am"}}, "config.digest.at: "),
        ({"digest": {**DIGEST, "timezone": "Mars/Olympus"}}, "config.digest.timezone: "),
        ({"digest": {"at": "09:00"}}, "config.digest.timezone: Field required"),
        ({"digest": {**DIGEST, "channels": ["pager"]}}, "config.digest.channels[0]: "),
        ({"digest": {**DIGEST, "channels": []}}, "config.digest.channels: "),
        (
            {"digest": {**DIGEST, "slack_channel": "#labeling"}},
            "config.digest.slack_channel: webhook mode posts the digest to the webhook's own channel",
        ),
        (
            {"slack": {"mode": "app", "routes": [ROUTE]}, "digest": DIGEST},
            "config.digest.slack_channel: app mode posts the digest to one channel",
        ),
        (
            {
                "slack": {"mode": "app", "routes": [ROUTE]},
                "digest": {**DIGEST, "channels": ["email"], "slack_channel": "#a"},
            },
            "config.digest.slack_channel: the digest does not go to Slack",
        ),
        ({"quiet_hours": {**QUIET, "end": "20:00"}}, "config.quiet_hours.end: Value error, the window is empty"),
        ({"quiet_hours": {**QUIET, "start": "25:00"}}, "config.quiet_hours.start: "),
        ({"quiet_hours": {**QUIET, "hold": ["completed", "completed"]}}, "config.quiet_hours.hold: "),
        ({"quiet_hours": {**QUIET, "timezone": "EST5EDT!"}}, "config.quiet_hours.timezone: "),
        ({"quiet_hours": {**QUIET, "channels": ["sms"]}}, "config.quiet_hours.channels[0]: "),
    ],
)
def test_a_version_2_setting_that_is_not_valid_is_refused_naming_the_field(
    config: dict[str, Any], message: str
) -> None:
    assert message.replace("Value error, ", "") in refusal(scenario(**config))


def test_the_version_2_settings_in_full_are_read() -> None:
    loaded = parse(
        scenario(
            slack={
                "mode": "app",
                "routes": [
                    {
                        "channel": "#ml-alerts",
                        "events": ["failed", "stalled"],
                        "name_contains": "prod",
                        "mention": "<!subteam^S0ABC123|ml-oncall>",
                    },
                    {"channel": "C0123ABCD", "events": list(ALL_EVENTS)},
                ],
            },
            digest={**DIGEST, "channels": ["slack"], "slack_channel": "#labeling"},
            quiet_hours={**QUIET, "channels": ["email"]},
        )
    )

    first, second = loaded.config.slack.routes
    assert first.matches("failed", "cats-PROD-v2") and not first.matches("failed", "cats-dev")
    assert not first.matches("completed", "cats-prod")
    assert second.matches("resumed", "anything")
    assert loaded.config.digest is not None and loaded.config.digest.slack_channel == "#labeling"
    assert loaded.config.quiet_hours is not None and loaded.config.quiet_hours.channels == ("email",)
    assert loaded.v2_features() == ["config.slack.mode", "config.slack.routes", "config.digest", "config.quiet_hours"]


@pytest.mark.parametrize(
    ("local", "held"), [(time(19, 59), False), (time(20, 0), True), (time(2, 0), True), (time(8, 0), False)]
)
def test_quiet_hours_may_span_midnight(local: time, held: bool) -> None:
    quiet = parse(scenario(quiet_hours=QUIET)).config.quiet_hours

    assert quiet is not None and quiet.holds(local) is held


@pytest.mark.parametrize(
    ("step", "message"),
    [
        (
            {"mute": {"name": "cats", "until_minute": 5}},
            "steps[1].mute.until_minute: 5 is not after the step's at_minute (5)",
        ),
        ({"mute": {"name": "cats", "until_minute": 50, "events": []}}, "steps[1].mute.events: "),
        ({"mute": {"name": "cats", "until_minute": 50, "events": ["done"]}}, "steps[1].mute.events[0]: "),
        ({"mute": {"name": "cats"}}, "steps[1].mute.until_minute: Field required"),
        ({"mute": {"name": "cats", "until_minute": 50, "for": "ever"}}, "steps[1].mute.for: is not a known field"),
        (
            {"fault": {"target": "slack", "mode": "http_500", "count": 2, "until_minute": 60}},
            "steps[1].fault: give count (the next calls fail) or until_minute (an outage), not both",
        ),
        (
            {"fault": {"target": "slack", "mode": "http_500", "until_minute": 2}},
            "steps[1].fault.until_minute: 2 is not after",
        ),
        ({"fault": {"target": "sns", "mode": "lost_response"}}, "steps[1].fault: mode 'lost_response' does not apply"),
    ],
)
def test_a_version_2_step_that_is_not_valid_is_refused_naming_the_field(step: dict[str, Any], message: str) -> None:
    assert message in refusal(scenario(create(0), {"at_minute": 5, **step}))


def test_an_event_type_listed_twice_is_refused() -> None:
    assert refusal(scenario(slack_events=["failed", "failed"])) == "config.slack_events: 'failed' is listed twice"


def test_a_mute_without_events_mutes_every_type() -> None:
    loaded = parse(scenario(create(0), {"at_minute": 5, "mute": {"name": "cats", "until_minute": 60}}))

    assert loaded.steps[1].mute is not None and loaded.steps[1].mute.events == ALL_EVENTS
    assert loaded.v2_features() == ["steps[1].mute"]


# --- Version 3: job kinds -------------------------------------------------------------------------------


def kind_create(minute: int, kind: str, name: str = "job-1", **fields: Any) -> dict[str, Any]:
    return {"at_minute": minute, "create": {"name": name, "kind": kind, **fields}}


def kind_update(minute: int, kind: str, name: str = "job-1", **fields: Any) -> dict[str, Any]:
    return {"at_minute": minute, "update": {"name": name, "kind": kind, **fields}}


def test_the_version_3_kinds_example_reads_as_written() -> None:
    loaded = load(DATA / "version3" / "v3-kinds.json")

    assert loaded.config.kinds == ("training", "processing", "pipeline")
    assert loaded.config.stall_after_minutes == {"training": 30, "processing": 45}
    assert loaded.config.stall_after_setting() == '{"training":30,"processing":45}'
    first = loaded.steps[0].create
    assert isinstance(first, TrainingChange)
    assert (first.secondary_status, first.max_runtime_minutes, first.spot) == ("Starting", 600, True)
    assert [step.action for step in loaded.steps[:4]] == ["create", "update", "update", "log"]
    assert {step.job_kind for step in loaded.steps} == {"training", "processing", "pipeline"}
    failed = loaded.steps[-1].update
    assert isinstance(failed, PipelineChange) and failed.steps is not None
    assert [(state.name, state.status) for state in failed.steps][-1] == ("Evaluate", "Failed")
    assert failed.steps[1].job is not None and failed.steps[1].job.name == "bert-finetune-3"
    assert loaded.v2_features() == []


def test_a_version_1_scenario_watches_labeling_jobs_only_and_stalls_after_a_number() -> None:
    loaded = load(DATA / "faults.json")

    assert loaded.config.kinds == ("labeling",)
    assert loaded.config.stall_after_setting() == str(loaded.config.stall_after_minutes)
    assert all(step.job_kind == "labeling" for step in loaded.steps)


def test_the_home_account_and_region_said_out_loud_are_accepted() -> None:
    loaded = parse(scenario(create(0, account="123456789012", region="us-east-1")))

    assert loaded.steps[0].create is not None and loaded.steps[0].create.account == "123456789012"


def test_two_kinds_may_share_a_job_name() -> None:
    loaded = parse(
        scenario(create(0, "resnet"), kind_create(0, "training", "resnet"), kind_create(0, "tuning", "resnet"))
    )

    assert [step.job_kind for step in loaded.steps] == ["labeling", "training", "tuning"]


def test_a_route_narrowed_by_kinds_is_accepted() -> None:
    routes = [{"channel": "#ml", "events": ["failed"], "kinds": ["training", "pipeline"]}]

    loaded = parse(scenario(slack={"mode": "app", "routes": routes}))

    assert loaded.config.slack.routes[0].kinds == ("training", "pipeline")


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        # Kinds that do not exist, wherever a kind is named.
        (scenario(kind_create(0, "robot")), "steps[0].create.kind: 'robot' is not a job kind (labeling, training, "),
        (scenario(create(0), update(5, kind="robot")), "steps[1].update.kind: 'robot' is not a job kind"),
        (scenario(kinds=["labeling", "robot"]), "config.kinds[1]: Input should be 'labeling', 'training'"),
        (scenario(kinds=[]), "config.kinds: list at least one"),
        (scenario(kinds=["training", "training"]), "config.kinds: 'training' is listed twice"),
        (
            scenario({"at_minute": 0, "state_change_event": {"name": "x", "kind": "robot"}}),
            "steps[0].state_change_event.kind: Input should be 'labeling'",
        ),
        # stall_after_minutes: a number or an object by the kinds that can stall.
        (scenario(stall_after_minutes={"robot": 5}), "config.stall_after_minutes: 'robot' is not a job kind"),
        (
            scenario(stall_after_minutes={"pipeline": 30}),
            "config.stall_after_minutes: pipeline: a pipeline execution never stalls",
        ),
        (scenario(stall_after_minutes={"training": 0}), "config.stall_after_minutes: training: 0 is not a whole"),
        (scenario(stall_after_minutes={"training": "30"}), "config.stall_after_minutes: training: '30' is not"),
        (scenario(stall_after_minutes=0), "config.stall_after_minutes: 0 is not a whole number of minutes"),
        (scenario(stall_after_minutes="60"), "config.stall_after_minutes: '60' is neither a whole number"),
        # Each kind's own statuses and fields.
        (
            scenario(kind_create(0, "training", status="Executing")),
            "steps[0].create.status: Input should be 'InProgress'",
        ),
        (scenario(kind_create(0, "pipeline", pipeline="p", status="InProgress")), "steps[0].create.status: "),
        (scenario(kind_create(0, "training", secondary_status="Sleeping")), "steps[0].create.secondary_status: "),
        (
            scenario(kind_create(0, "training", final_metrics={"f1": "high"})),
            "steps[0].create.final_metrics.f1: 'high'",
        ),
        (scenario(kind_create(0, "training", spot="yes")), "steps[0].create.spot: "),
        (scenario(kind_create(0, "training", max_runtime_minutes=0)), "steps[0].create.max_runtime_minutes: "),
        (
            scenario(kind_create(0, "processing", secondary_status="Training")),
            "steps[0].create.secondary_status: is not a",
        ),
        (
            scenario(kind_create(0, "tuning", counters={"TotalLabeled": 3})),
            "steps[0].create.counters.TotalLabeled: is not",
        ),
        (scenario(kind_create(0, "tuning", best={"job": "j", "metric": "auc"})), "steps[0].create.best.value: Field"),
        (scenario(kind_create(0, "transform", exit_message="x")), "steps[0].create.exit_message: is not a known field"),
        (scenario(create(0, secondary_status="Training")), "steps[0].create.secondary_status: is not a known field"),
        (scenario(kind_create(0, "pipeline")), "steps[0].create.pipeline: give the name of the pipeline"),
        (
            scenario(kind_create(0, "pipeline", pipeline="p", steps=[{"name": "Train", "status": "Running"}])),
            "steps[0].create.steps[0].status: ",
        ),
        (
            scenario(
                kind_create(0, "pipeline", "exec-1", pipeline="nightly"),
                {"at_minute": 5, "update": {"name": "exec-1", "kind": "pipeline", "pipeline": "weekly"}},
            ),
            "steps[1].update.pipeline: 'weekly' is not the pipeline 'exec-1' runs ('nightly')",
        ),
        # A log step is for the kinds that write log lines.
        (
            scenario(create(0), {"at_minute": 5, "log": {"name": "cats"}}),
            "steps[1].log.kind: a log step without kind names a labeling job, which writes no log lines",
        ),
        (
            scenario(kind_create(0, "tuning"), {"at_minute": 5, "log": {"name": "job-1", "kind": "tuning"}}),
            "steps[1].log.kind: 'tuning' jobs write no log lines",
        ),
        (
            scenario(
                kind_create(0, "pipeline", pipeline="p"), {"at_minute": 5, "log": {"name": "job-1", "kind": "pipeline"}}
            ),
            "steps[1].log.kind: 'pipeline' jobs write no log lines",
        ),
        # A step names a job of its kind that an earlier step created.
        (scenario(create(0), update(5, kind="training")), "steps[1].update.name: 'cats' is not a training job created"),
        (
            scenario(create(0, "resnet"), {"at_minute": 5, "log": {"name": "resnet", "kind": "training"}}),
            "steps[1].log.name: 'resnet' is not a training job created by an earlier step",
        ),
        (
            scenario(kind_create(5, "training"), {"at_minute": 1, "log": {"name": "job-1", "kind": "training"}}),
            "steps[1].log.name: 'job-1' is not a training job created by an earlier step",
        ),
        (
            scenario(
                kind_create(0, "training"), {"at_minute": 5, "state_change_event": {"name": "job-1", "kind": "tuning"}}
            ),
            "steps[1].state_change_event.name: 'job-1' is not a tuning job created by an earlier step",
        ),
        (
            scenario({"at_minute": 5, "update": {"name": "exec-1", "kind": "pipeline", "status": "Failed"}}),
            "steps[0].update.name: 'exec-1' is not a pipeline execution created by an earlier step",
        ),
        (
            scenario(
                kind_create(0, "processing", "prep"),
                kind_create(
                    1,
                    "pipeline",
                    "exec-1",
                    pipeline="p",
                    steps=[{"name": "Train", "status": "Executing", "job": {"kind": "training", "name": "prep"}}],
                ),
            ),
            "steps[1].create.steps[0].job.name: 'prep' is not a training job created by an earlier step",
        ),
        (
            scenario(
                kind_create(
                    0,
                    "pipeline",
                    pipeline="p",
                    steps=[{"name": "Label", "status": "Executing", "job": {"kind": "labeling", "name": "x"}}],
                )
            ),
            "steps[0].create.steps[0].job.kind: Input should be 'training', 'processing', 'transform' or 'tuning'",
        ),
        (
            scenario(kind_create(0, "training", "a"), kind_create(0, "training", "A")),
            "steps[1].create.name: 'A' is already created by steps[0]",
        ),
        # Faults on CloudWatch Logs.
        (
            scenario({"at_minute": 0, "fault": {"target": "logs", "mode": "error"}}),
            "steps[0].fault: mode 'error' does not apply to target 'logs' (allowed: throttle)",
        ),
    ],
)
def test_a_version_3_kinds_scenario_that_is_not_valid_is_refused_naming_the_field(
    raw: dict[str, Any], message: str
) -> None:
    assert message in refusal(raw)


SPOKES = [
    {"id": "123456789012", "alias": "ml-shared", "regions": ["us-east-1"]},
    {"id": "333333333333", "alias": "vision-team", "regions": ["us-east-1", "eu-central-1"]},
]


def sts_fault(minute: int = 0, **fields: Any) -> dict[str, Any]:
    return {"at_minute": minute, "fault": {"target": "sts", "mode": "access_denied", **fields}}


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (
            scenario(accounts=[{"id": "123456789012", "regions": ["us-east-1"]}, {"id": "12345", "regions": []}]),
            "config.accounts[1].id: '12345' is not a 12-digit AWS account id",
        ),
        (
            scenario(
                accounts=[{"id": "123456789012", "regions": ["us-east-1"]}, {"id": "333333333333", "regions": []}]
            ),
            "config.accounts[1].regions: [] is not a non-empty list of region names",
        ),
        (
            scenario(accounts=[*SPOKES, {"id": "333333333333", "regions": ["us-west-2"]}]),
            "config.accounts[2].id: '333333333333' is listed twice",
        ),
        (
            scenario(accounts=[*SPOKES, {"id": "444444444444", "alias": "vision-team", "regions": ["us-west-2"]}]),
            "config.accounts[2].alias: 'vision-team' is listed twice",
        ),
        (
            scenario(accounts=[*SPOKES, {"id": "444444444444", "alias": "555555555555", "regions": ["us-west-2"]}]),
            "config.accounts[2].alias: '555555555555' is not an alias",
        ),
        (
            scenario(
                accounts=[
                    {"id": "123456789012", "regions": ["mars-north-1"]},
                    {"id": "333333333333", "regions": ["eu-north-9"]},
                ]
            ),
            "config.accounts[0].regions[0]: 'mars-north-1' is not a region name like us-east-1; "
            "config.accounts[1].regions[0]: 'eu-north-9' is not a region where SageMaker runs",
        ),
        (
            scenario(accounts=[SPOKES[1], SPOKES[0]]),
            "config.accounts[0].id: '333333333333': the first account is the home account, where the replay deploys "
            "the watcher: 123456789012",
        ),
        (
            scenario(accounts=[{"id": "123456789012", "regions": ["us-east-1"], "role": "x"}]),
            "config.accounts[0].role: not an account setting",
        ),
        (
            scenario(create(0, account="vision-team"), accounts=SPOKES),
            "steps[0].create.account: 'vision-team' is not a 12-digit account id",
        ),
        (
            scenario(kind_create(0, "training", region="eu-middle-9")),
            "steps[0].create.region: 'eu-middle-9' is not a region where SageMaker runs",
        ),
        (
            scenario(kind_create(0, "training", account="333333333333"), kind_update(5, "training"), accounts=SPOKES),
            "steps[1].update.name: 'job-1' is not a training job created by an earlier step",
        ),
        (
            scenario(
                kind_create(0, "training"),
                {"at_minute": 1, "log": {"name": "job-1", "kind": "training", "region": "eu-central-1"}},
            ),
            "steps[1].log.name: 'job-1' is not a training job in account 123456789012, eu-central-1, created by an "
            "earlier step",
        ),
        (
            scenario(
                create(0, account="333333333333", region="eu-central-1"),
                {"at_minute": 1, "state_change_event": {"name": "cats", "account": "333333333333"}},
                accounts=SPOKES,
            ),
            "steps[1].state_change_event.name: 'cats' is not a job in account 333333333333, us-east-1, created",
        ),
        (
            scenario(sts_fault(account="123456789012"), accounts=SPOKES),
            "steps[0].fault.account: '123456789012' is the home account: an sts fault names a spoke",
        ),
        (
            scenario(sts_fault(account="444444444444"), accounts=SPOKES),
            "steps[0].fault.account: '444444444444' is not a spoke listed in config.accounts",
        ),
        (
            scenario(sts_fault()),
            "steps[0].fault.target: an sts fault needs a spoke: config.accounts lists only the home account",
        ),
        (
            scenario(sts_fault(account="333333333333", region="us-east-1"), accounts=SPOKES),
            "steps[0].fault.region: an sts fault names an account, not a region",
        ),
        (
            scenario(sts_fault(mode="throttle"), accounts=SPOKES),
            "steps[0].fault: mode 'throttle' does not apply to target 'sts' (allowed: access_denied)",
        ),
        (
            scenario(sts_fault(count=2, until_minute=30), accounts=SPOKES),
            "steps[0].fault: give count (the next calls fail) or until_minute (an outage), not both",
        ),
        (
            scenario(sts_fault(account="vision-team"), accounts=SPOKES),
            "steps[0].fault.account: 'vision-team' is not a 12-digit account id",
        ),
        (
            scenario(
                {"at_minute": 0, "fault": {"target": "sagemaker", "mode": "throttle", "account": "444444444444"}},
                accounts=SPOKES,
            ),
            "steps[0].fault.account: '444444444444' is not listed in config.accounts",
        ),
        (
            scenario(
                {
                    "at_minute": 0,
                    "fault": {
                        "target": "sagemaker",
                        "mode": "throttle",
                        "account": "123456789012",
                        "region": "eu-central-1",
                    },
                },
                accounts=SPOKES,
            ),
            "steps[0].fault.region: 'eu-central-1' is not a region config.accounts lists for that account",
        ),
        (
            scenario(
                {"at_minute": 0, "fault": {"target": "sns", "mode": "error", "account": "333333333333"}},
                accounts=SPOKES,
            ),
            "steps[0].fault.account: 'sns' faults are the hub's own: they name no account or region",
        ),
        (
            scenario(
                slack={"mode": "app", "routes": [{"channel": "#ml", "events": ["failed"], "accounts": ["prod"]}]},
                accounts=SPOKES,
            ),
            "config.slack.routes[0].accounts[0]: 'prod' is not a listed account (config.accounts lists ml-shared, "
            "vision-team)",
        ),
        (
            scenario(
                slack={
                    "mode": "app",
                    "routes": [{"channel": "#ml", "events": ["failed"], "accounts": ["vision-team", "333333333333"]}],
                },
                accounts=SPOKES,
            ),
            "config.slack.routes[0].accounts: '333333333333' names an account listed earlier in the route",
        ),
        (
            scenario(slack={"mode": "app", "routes": [{"channel": "#ml", "events": ["failed"], "accounts": []}]}),
            "config.slack.routes[0].accounts: [] is not a non-empty list",
        ),
        (
            scenario(
                create(0),
                {"at_minute": 5, "mute": {"name": "cats", "until_minute": 60, "account": "research"}},
            ),
            "steps[1].mute.account: 'research' is not a 12-digit account id",
        ),
    ],
)
def test_a_version_3_accounts_scenario_that_is_not_valid_is_refused_naming_the_field(
    raw: dict[str, Any], message: str
) -> None:
    assert message in refusal(raw)


def test_jobs_are_known_by_account_and_region_and_accounts_read_as_written() -> None:
    # "A job is known by (account, region, kind, name)": the same name in two accounts or regions is two jobs.
    parsed = parse(
        scenario(
            kind_create(0, "training"),
            kind_create(0, "training", account="333333333333", region="eu-central-1"),
            kind_create(0, "training", region="eu-central-1"),
            kind_update(5, "training", account="333333333333", region="eu-central-1", status="Failed"),
            sts_fault(10, until_minute=130),
            sts_fault(10, account="333333333333", count=3),
            accounts=SPOKES,
            slack={"mode": "app", "routes": [{"channel": "#ml", "events": ["failed"], "accounts": ["vision-team"]}]},
        )
    )
    assert [step.job_key[:2] for step in parsed.steps[:4]] == [
        ("123456789012", "us-east-1"),
        ("333333333333", "eu-central-1"),
        ("123456789012", "eu-central-1"),
        ("333333333333", "eu-central-1"),
    ]
    assert [account.alias for account in parsed.config.watched_accounts] == ["ml-shared", "vision-team"]
    assert parsed.config.route_accounts() == (("333333333333",),)
    assert parse(scenario()).config.watched_accounts[0].id == "123456789012"


def test_a_mute_step_names_its_job_by_kind() -> None:
    # Version 3: "A `mute` step names its job by `kind`, `account` and `region` as well"; without kind, labeling.
    parsed = parse(
        scenario(
            kind_create(0, "training"),
            {"at_minute": 5, "mute": {"name": "job-1", "until_minute": 60, "kind": "training", "region": "us-east-1"}},
            {"at_minute": 6, "mute": {"name": "job-1", "until_minute": 60}},
        )
    )
    mutes = [step.mute for step in parsed.ordered_steps() if step.mute is not None]
    assert [(mute.kind, mute.name) for mute in mutes] == [("training", "job-1"), ("labeling", "job-1")]
    assert [step.job_kind for step in parsed.ordered_steps()] == ["training", "training", "labeling"]
