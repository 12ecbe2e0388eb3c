"""The gtwatch settings in cdk.json: defaults, and the message a user sees for each kind of mistake."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from watcher.domain import contract
from watcher.domain.contract import EVENT_TYPES
from watcher.domain.quiet import parse_quiet_hours

from infra.config import ConfigError, GtwatchConfig, SlackConfig, load_config, parse_config
from infra.context import CdkJsonError, cdk_json_context
from infra.requirements import pinned_version

ALL_EVENTS = "completed, failed, stopped, stalled, resumed"
# The home account and two spokes, one with an alias.
SPOKES: list[dict[str, Any]] = [
    {"id": "123456789012", "regions": ["us-east-1"]},
    {"id": "111111111111", "alias": "research", "regions": ["us-east-1", "eu-west-1"]},
    {"id": "222222222222", "regions": ["us-west-2"]},
]


def test_no_settings_means_every_default() -> None:
    config = parse_config(None)
    assert config == parse_config({})
    assert config.schedule_minutes == 5
    assert config.kinds == ("labeling",)
    assert config.stall_after_minutes == 60
    assert config.stall_thresholds == {"labeling": 60}
    assert config.stall_repeat_minutes is None
    assert config.name_contains is None
    assert config.slack_events == EVENT_TYPES
    assert config.email_events == EVENT_TYPES
    assert config.email_addresses == ()
    assert config.slack_webhook_secret_name is None
    assert config.regions == ()
    assert config.log_level == "INFO"
    assert config.alarm_email_addresses == ()
    assert config.powertools_layer_version == pinned_version("aws-lambda-powertools")
    assert config.stack_name == "Gtwatch"
    assert config.dashboard is False
    assert config.tracing is False
    assert config.slack_lag_alarm_minutes == 30
    assert config.slack == SlackConfig(mode="webhook", routes=None, token_secret_name=None)
    assert config.quiet_hours is None
    assert config.digest is None


def test_the_default_powertools_layer_is_the_version_requirements_txt_pins() -> None:
    # requirements.txt is the one place the version is written; cdk.json may still override it.
    assert GtwatchConfig().powertools_layer_version == pinned_version("aws-lambda-powertools")
    assert "powertools_layer_version" not in cdk_json_context()["gtwatch"]
    assert parse_config({"powertools_layer_version": "3.36.0"}).powertools_layer_version == "3.36.0"


def test_cdk_json_spells_out_the_defaults() -> None:
    assert parse_config(cdk_json_context()["gtwatch"]) == GtwatchConfig()


def test_the_effective_configuration_names_the_home_region_when_none_is_configured() -> None:
    assert GtwatchConfig().effective("eu-west-1") == {
        "regions": ["eu-west-1"],
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
    assert parse_config({"regions": ["us-east-1"]}).effective("eu-west-1")["regions"] == ["us-east-1"]


def test_a_cdk_json_that_is_not_json_is_reported_in_one_line_with_its_place(tmp_path: Path) -> None:
    path = tmp_path / "cdk.json"
    path.write_text('{\n  "context": {\n    "gtwatch": {"schedule_minutes": 5,}\n  }\n}\n')
    with pytest.raises(CdkJsonError) as raised:
        cdk_json_context(path)
    assert str(raised.value) == f"{path}:3:39: not valid JSON: Expecting property name enclosed in double quotes"


def test_a_cdk_json_whose_context_is_not_an_object_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "cdk.json"
    path.write_text('{"context": []}')
    with pytest.raises(CdkJsonError, match=r'cdk\.json: "context" must be an object$'):
        cdk_json_context(path)


def test_every_setting_can_be_changed() -> None:
    raw = {
        "schedule_minutes": 1440,
        "kinds": ["labeling", "training", "pipeline"],
        "stall_after_minutes": {"labeling": 5, "training": 30},
        "stall_repeat_minutes": 30,
        "name_contains": "a-b-1",
        "slack_events": ["stalled"],
        "email_events": ["failed", "resumed"],
        "email_addresses": ["ops@example.com"],
        "slack_webhook_secret_name": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:gtwatch/slack-AbC123",
        "regions": ["eu-west-1", "us-gov-west-1"],
        "log_level": "DEBUG",
        "alarm_email_addresses": ["oncall@example.com"],
        "powertools_layer_version": "3.40.1",
        "stack_name": "Gtwatch-staging2",
        "dashboard": True,
        "tracing": True,
        "slack_lag_alarm_minutes": 1440,
        "slack": {"mode": "webhook", "routes": None, "token_secret_name": None},
        "quiet_hours": QUIET,
        "digest": {"at": "23:59", "timezone": "Asia/Kolkata", "channels": ["email"], "slack_channel": None},
    }
    assert parse_config(raw).model_dump(mode="json") == {
        **raw,
        "slack_events": ["stalled"],
        "email_events": ["failed", "resumed"],
        # Not with `regions` (the home account's regions are listed in `accounts`): tests/infra/test_accounts.py.
        "accounts": None,
        "spoke_external_id": None,
        "organization_id": None,
    }


def test_settings_given_as_json_text_are_read() -> None:
    assert parse_config('{"schedule_minutes": 15}').schedule_minutes == 15


ROUTE = {"channel": "#labeling", "events": ["completed", "failed"]}
QUIET = {"start": "20:00", "end": "08:00", "timezone": "Europe/Berlin", "hold": ["completed", "resumed"]}
DIGEST = {"at": "07:30", "timezone": "Europe/Berlin"}

# Each key's mistakes and the message the user sees for them.
BAD_VALUES: list[tuple[dict[str, Any], str]] = [
    ({"schedule_minutes": 0}, "gtwatch.schedule_minutes: 0 is not a whole number of minutes from 1 to 1440"),
    ({"schedule_minutes": 1441}, "gtwatch.schedule_minutes: 1441 is not a whole number of minutes from 1 to 1440"),
    ({"schedule_minutes": "5"}, "gtwatch.schedule_minutes: '5' is not a whole number of minutes from 1 to 1440"),
    (
        {"kinds": ["labeling", "trainng"]},
        "gtwatch.kinds[1]: 'trainng' is not a job kind; the kinds are labeling, training, processing, transform, "
        "tuning, pipeline; did you mean training?",
    ),
    ({"kinds": ["Pipelines"]}, "gtwatch.kinds[0]: 'Pipelines' is not a job kind; the kinds are labeling, training, "),
    ({"kinds": ["hpo"]}, "gtwatch.kinds[0]: 'hpo' is not a job kind; the kinds are labeling, training, processing, "),
    ({"kinds": [7]}, "gtwatch.kinds[0]: 7 is not a job kind; the kinds are labeling"),
    ({"kinds": ["training", "training"]}, "gtwatch.kinds: 'training' is listed twice"),
    (
        {"kinds": []},
        "gtwatch.kinds: [] is not a non-empty list of job kinds from labeling, training, processing, transform, "
        "tuning, pipeline",
    ),
    ({"kinds": "training"}, "gtwatch.kinds: 'training' is not a non-empty list of job kinds from labeling"),
    ({"kinds": None}, "gtwatch.kinds: null is not a non-empty list of job kinds"),
    ({"stall_after_minutes": 4}, "gtwatch.stall_after_minutes: 4 is not a whole number of minutes, at least 5"),
    ({"stall_after_minutes": True}, "gtwatch.stall_after_minutes: true is not a whole number of minutes"),
    (
        {"stall_after_minutes": "60"},
        "gtwatch.stall_after_minutes: '60' is not a whole number of minutes, at least 5 (or an object of such numbers "
        'by job kind, like {"training": 30})',
    ),
    (
        {"kinds": ["training"], "stall_after_minutes": {"training": 4}},
        "gtwatch.stall_after_minutes.training: 4 is not a whole number of minutes, at least 5",
    ),
    (
        {"kinds": ["training"], "stall_after_minutes": {"training": 30.5}},
        "gtwatch.stall_after_minutes.training: 30.5 is not a whole number of minutes, at least 5",
    ),
    (
        {"kinds": ["training"], "stall_after_minutes": {"training": None}},
        "gtwatch.stall_after_minutes.training: null is not a whole number of minutes",
    ),
    (
        {"kinds": ["training", "pipeline"], "stall_after_minutes": {"pipeline": 30}},
        "gtwatch.stall_after_minutes.pipeline: a pipeline execution never stalls (its steps' jobs can, as jobs of "
        "their own kind",
    ),
    (
        {"stall_after_minutes": {"training": 30}},
        "gtwatch.stall_after_minutes.training: 'training' is not watched (gtwatch.kinds is labeling); add it to "
        "gtwatch.kinds or leave it out here",
    ),
    (
        {"kinds": ["training"], "stall_after_minutes": {"trianing": 30}},
        "gtwatch.stall_after_minutes.trianing: 'trianing' is not a job kind; the kinds are labeling, training, "
        "processing, transform, tuning, pipeline; did you mean training?",
    ),
    (
        {"stall_repeat_minutes": 4},
        "gtwatch.stall_repeat_minutes: 4 is not a whole number of minutes, at least 5 (or null to announce a "
        "stall once)",
    ),
    ({"stall_repeat_minutes": "30"}, "gtwatch.stall_repeat_minutes: '30' is not a whole number of minutes"),
    (
        {"name_contains": "has space"},
        "gtwatch.name_contains: 'has space' is not 1 to 63 letters, digits or hyphens",
    ),
    ({"name_contains": "x" * 64}, "gtwatch.name_contains: 'xxxx"),
    ({"name_contains": ""}, "gtwatch.name_contains: '' is not 1 to 63 letters"),
    ({"slack_events": ["failed", "done"]}, f"gtwatch.slack_events[1]: 'done' is not one of {ALL_EVENTS}"),
    ({"slack_events": []}, f"gtwatch.slack_events: [] is not a non-empty list of event types from {ALL_EVENTS}"),
    ({"slack_events": ["failed", "failed"]}, "gtwatch.slack_events: 'failed' is listed twice"),
    ({"email_events": "failed"}, "gtwatch.email_events: 'failed' is not a non-empty list of event types"),
    ({"email_events": ["Failed"]}, f"gtwatch.email_events[0]: 'Failed' is not one of {ALL_EVENTS}"),
    ({"email_addresses": ["ops@example.com", "ops"]}, "gtwatch.email_addresses[1]: 'ops' is not an email address"),
    (
        {"email_addresses": ["a@example.com", "a@example.com"]},
        "gtwatch.email_addresses: 'a@example.com' is listed twice",
    ),
    (
        {"slack_webhook_secret_name": "my secret"},
        "gtwatch.slack_webhook_secret_name: 'my secret' is not the name or ARN",
    ),
    (
        {"regions": ["us-east-1", "Frankfurt"]},
        "gtwatch.regions[1]: 'Frankfurt' is not a region name like us-east-1",
    ),
    ({"regions": ["eu-west-1", "eu-west-1"]}, "gtwatch.regions: 'eu-west-1' is listed twice"),
    (
        {"regions": ["us-east-1", "us-east-7"]},
        "gtwatch.regions[1]: 'us-east-7' is not a region where SageMaker runs (as botocore ",
    ),
    ({"log_level": "TRACE"}, "gtwatch.log_level: 'TRACE' is not one of DEBUG, INFO, WARNING, ERROR"),
    (
        {"alarm_email_addresses": ["oncall"]},
        "gtwatch.alarm_email_addresses[0]: 'oncall' is not an email address like ops@example.com",
    ),
    ({"alarm_email_addresses": "a@example.com"}, "gtwatch.alarm_email_addresses: 'a@example.com' is not a list"),
    (
        {"alarm_email_addresses": ["a@example.com", "a@example.com"]},
        "gtwatch.alarm_email_addresses: 'a@example.com' is listed twice",
    ),
    (
        {"powertools_layer_version": "latest"},
        "gtwatch.powertools_layer_version: 'latest' is not a released Powertools for AWS Lambda (Python) "
        "version like 3.37.0",
    ),
    ({"powertools_layer_version": 3.37}, "gtwatch.powertools_layer_version: 3.37 is not a released Powertools"),
    (
        {"stack_name": "2gtwatch"},
        "gtwatch.stack_name: '2gtwatch' is not a letter, then up to 127 letters, digits or hyphens",
    ),
    ({"stack_name": "gt_watch"}, "gtwatch.stack_name: 'gt_watch' is not a letter"),
    ({"stack_name": "G" * 129}, "gtwatch.stack_name: 'GGGG"),
    ({"dashboard": "yes"}, "gtwatch.dashboard: 'yes' is not true or false"),
    ({"tracing": 1}, "gtwatch.tracing: 1 is not true or false"),
    (
        {"slack_lag_alarm_minutes": 9},
        "gtwatch.slack_lag_alarm_minutes: 9 is not a whole number of minutes from 10 to 1440",
    ),
    ({"slack_lag_alarm_minutes": 1441}, "gtwatch.slack_lag_alarm_minutes: 1441 is not a whole number"),
    ({"slack": "app"}, "gtwatch.slack: 'app' is not a mapping of Slack settings (mode, routes, token_secret_name)"),
    ({"slack": {"mode": "bot"}}, "gtwatch.slack.mode: 'bot' is not webhook (the incoming webhook, for slack_events)"),
    ({"slack": {"channel": "#x"}}, "gtwatch.slack.channel: unknown key; the keys are mode, routes, token_secret_name"),
    (
        {"slack": {"mode": "app", "token_secret_name": "my token", "routes": [ROUTE]}},
        "gtwatch.slack.token_secret_name: 'my token' is not the name or ARN of a Secrets Manager secret",
    ),
    # Quiet hours: the watcher's own parse_quiet_hours, naming the key under gtwatch.
    ({"quiet_hours": "night"}, "gtwatch.quiet_hours: expected an object with start, end, timezone, hold and channels"),
    ({"quiet_hours": {**QUIET, "start": "8pm"}}, "gtwatch.quiet_hours.start: '8pm' is not a time of day HH:MM"),
    ({"quiet_hours": {**QUIET, "end": "20:00"}}, "gtwatch.quiet_hours.end: the window is empty"),
    (
        {"quiet_hours": {**QUIET, "timezone": "CET+1"}},
        "gtwatch.quiet_hours.timezone: 'CET+1' is not an IANA time zone name such as Europe/Berlin",
    ),
    (
        {"quiet_hours": {**QUIET, "timezone": "localtime"}},
        "gtwatch.quiet_hours.timezone: 'localtime' is not an IANA time zone name such as Europe/Berlin",
    ),
    ({"quiet_hours": {**QUIET, "hold": ["done"]}}, f"gtwatch.quiet_hours.hold[0]: 'done' is not one of {ALL_EVENTS}"),
    ({"quiet_hours": {**QUIET, "hold": []}}, f"gtwatch.quiet_hours.hold: expected a non-empty list of {ALL_EVENTS}"),
    (
        {"quiet_hours": {**QUIET, "channels": ["sms"]}},
        "gtwatch.quiet_hours.channels[0]: 'sms' is not one of slack, email",
    ),
    (
        {"quiet_hours": {key: value for key, value in QUIET.items() if key != "timezone"}},
        "gtwatch.quiet_hours.timezone: required: an IANA time zone name such as Europe/Berlin",
    ),
    (
        {"quiet_hours": {key: value for key, value in QUIET.items() if key != "start"}},
        "gtwatch.quiet_hours.start: required: a time of day HH:MM",
    ),
    ({"quiet_hours": {**QUIET, "days": ["mon"]}}, "gtwatch.quiet_hours.days: not a quiet-hours setting"),
    # The digest.
    ({"digest": "07:30"}, "gtwatch.digest: '07:30' is not a mapping of digest settings (at, timezone, channels"),
    ({"digest": {"timezone": "UTC"}}, "gtwatch.digest.at: required: a time of day HH:MM on the 24-hour clock"),
    ({"digest": {**DIGEST, "at": "7:30"}}, "gtwatch.digest.at: '7:30' is not a time of day HH:MM on the 24-hour"),
    ({"digest": {**DIGEST, "at": "24:00"}}, "gtwatch.digest.at: '24:00' is not a time of day HH:MM"),
    ({"digest": {**DIGEST, "at": 730}}, "gtwatch.digest.at: 730 is not a time of day HH:MM"),
    ({"digest": {"at": "07:30"}}, "gtwatch.digest.timezone: required: an IANA time zone name such as Europe/Berlin"),
    (
        {"digest": {**DIGEST, "timezone": "Mars/Olympus_Mons"}},
        "gtwatch.digest.timezone: 'Mars/Olympus_Mons' is not an IANA time zone name such as Europe/Berlin",
    ),
    ({"digest": {**DIGEST, "timezone": "localtime"}}, "gtwatch.digest.timezone: 'localtime' is not an IANA time"),
    ({"digest": {**DIGEST, "channels": ["sms"]}}, "gtwatch.digest.channels[0]: 'sms' is not one of slack, email"),
    ({"digest": {**DIGEST, "channels": []}}, "gtwatch.digest.channels: [] is not a non-empty list of channels"),
    ({"digest": {**DIGEST, "channels": ["email", "email"]}}, "gtwatch.digest.channels: 'email' is listed twice"),
    (
        {"digest": {**DIGEST, "slack_channel": "Labeling"}},
        "gtwatch.digest.slack_channel: 'Labeling' is not a Slack channel: use #name",
    ),
    ({"digest": {**DIGEST, "hour": 7}}, "gtwatch.digest.hour: unknown key; the keys are at, timezone, channels, slack"),
    (
        {"accounts": [{"id": "12345", "regions": ["us-east-1"]}]},
        "gtwatch.accounts[0].id: '12345' is not a 12-digit AWS account id",
    ),
    (
        {"spoke_external_id": "x", "accounts": SPOKES},
        "gtwatch.spoke_external_id: 'x' is not an external ID of 2 to 1224 letters",
    ),
    (
        {"organization_id": "org-1", "accounts": SPOKES},
        "gtwatch.organization_id: 'org-1' is not an AWS Organizations id like o-a1b2c3d4e5",
    ),
]


@pytest.mark.parametrize(
    ("raw", "message"),
    BAD_VALUES,
    ids=lambda value: next(iter(value)) if isinstance(value, dict) else "",
)
def test_a_bad_value_names_the_key_and_what_it_allows(raw: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError) as raised:
        parse_config(raw)
    assert message in str(raised.value)


def test_every_key_has_its_bad_values_tested() -> None:
    assert {next(iter(raw)) for raw, _ in BAD_VALUES} == set(GtwatchConfig.model_fields)


def test_other_accounts_are_watched_the_first_being_the_home_account() -> None:
    config = parse_config({"accounts": SPOKES})
    assert config.home_account is not None and config.home_account.id == "123456789012"
    assert [account.name for account in config.spokes] == ["research", "222222222222"]
    assert config.home_regions == ("us-east-1",)
    assert config.hub_region == "us-east-1"


def test_an_unknown_key_is_refused_and_the_keys_listed() -> None:
    with pytest.raises(ConfigError, match=r"gtwatch\.schedule: unknown key; the keys are schedule_minutes, "):
        parse_config({"schedule": 5})


def test_every_bad_value_is_reported_at_once() -> None:
    with pytest.raises(ConfigError) as raised:
        parse_config({"schedule_minutes": 0, "log_level": "LOUD"})
    assert "gtwatch.schedule_minutes" in str(raised.value)
    assert "gtwatch.log_level" in str(raised.value)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (
            ["schedule_minutes"],
            "the gtwatch settings must be a mapping (an object of settings in cdk.json's context), "
            "got the list schedule_minutes",
        ),
        (5, "the gtwatch settings must be a mapping (an object of settings in cdk.json's context), got 5"),
        ("not json", "the gtwatch context value is not valid JSON (Expecting value: line 1 column 1 (char 0))"),
    ],
)
def test_settings_that_are_not_a_mapping_are_refused(raw: Any, message: str) -> None:
    # The app prints a ConfigError after its own "gtwatch: "; the message does not name the program again.
    with pytest.raises(ConfigError) as raised:
        parse_config(raw)
    assert str(raised.value) == message


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"stall_after_minutes": [60, 90]}, "gtwatch.stall_after_minutes: the list 60, 90 is not a whole number"),
        ({"dashboard": ["yes"]}, "gtwatch.dashboard: the list yes is not true or false"),
        ({"slack_lag_alarm_minutes": None}, "gtwatch.slack_lag_alarm_minutes: null is not a whole number"),
    ],
)
def test_a_refused_value_is_quoted_in_jsons_words_not_pythons(raw: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError) as raised:
        parse_config(raw)
    assert message in str(raised.value)
    assert "[" not in str(raised.value) and "None" not in str(raised.value)


def test_config_errors_are_value_errors() -> None:
    assert issubclass(ConfigError, ValueError)


def test_settings_are_read_from_the_app_context() -> None:
    from aws_cdk import App

    app = App(context={"gtwatch": {"schedule_minutes": 30}})
    assert load_config(app).schedule_minutes == 30
    assert load_config(app.node).schedule_minutes == 30
    assert load_config(App()) == GtwatchConfig()


def test_the_event_type_setting_allows_the_contracts_event_types() -> None:
    for event in contract.EVENT_TYPES:
        assert parse_config({"slack_events": [event], "email_events": [event]}).email_events == (event,)


def test_event_types_are_the_ones_the_watcher_publishes_on_its_own() -> None:
    model = pytest.importorskip("watcher.domain.model")
    # "test" is sent on request only (gtwatch test-notify); it is not a setting.
    assert set(EVENT_TYPES) == {event.value for event in model.EventType} - {"test"}


def test_test_notifications_cannot_be_configured_as_an_event() -> None:
    with pytest.raises(ConfigError, match=r"gtwatch\.slack_events\[0\]: 'test' is not one of"):
        parse_config({"slack_events": ["test"]})


# --- Slack app mode --------------------------------------------------------------------------------------


def test_app_mode_takes_routes_and_an_optional_token_secret() -> None:
    routes = [ROUTE, {"channel": "C0123ABCD", "events": ["failed"], "name_contains": "prod", "mention": "<@U024BE7LH>"}]
    config = parse_config({"slack": {"mode": "app", "routes": routes, "token_secret_name": "team/gtwatch-bot"}})
    assert config.slack_app
    assert config.slack.token_secret_name == "team/gtwatch-bot"
    assert config.events_to_slack == ("completed", "failed")
    assert config.effective("eu-west-1")["slack"] == {
        "mode": "app",
        "routes": [
            {"channel": "#labeling", "events": ["completed", "failed"]},
            {"channel": "C0123ABCD", "events": ["failed"], "name_contains": "prod", "mention": "<@U024BE7LH>"},
        ],
    }


# Route mistakes: the notifier's own check (watcher.domain.slack_routes.parse_routes) runs at synthesis, naming the key.
BAD_ROUTES: list[tuple[Any, str]] = [
    ("#labeling", "gtwatch.slack.routes: expected a non-empty list of routes, got '#labeling'"),
    ([], "gtwatch.slack.routes: expected a non-empty list of routes, got []"),
    ([ROUTE, {**ROUTE, "mention": "@here"}], "gtwatch.slack.routes[1].mention: '@here' is not a Slack mention"),
    ([{**ROUTE, "channel": "labeling"}], "gtwatch.slack.routes[0].channel: 'labeling' is not a Slack channel"),
    ([{**ROUTE, "events": ["done"]}], f"gtwatch.slack.routes[0].events[0]: 'done' is not one of {ALL_EVENTS}"),
    (
        [{**ROUTE, "events": []}],
        f"gtwatch.slack.routes[0].events: expected a non-empty list of event types from {ALL_EVENTS}",
    ),
    ([{**ROUTE, "name_contains": "a b"}], "gtwatch.slack.routes[0].name_contains: 'a b' is not 1 to 63 letters"),
    ([{**ROUTE, "ping": "x"}], "gtwatch.slack.routes[0].ping: not a route setting"),
]


@pytest.mark.parametrize(("routes", "message"), BAD_ROUTES)
def test_a_bad_route_is_refused_at_synthesis_naming_its_key(routes: Any, message: str) -> None:
    with pytest.raises(ConfigError) as raised:
        parse_config({"slack": {"mode": "app", "routes": routes}})
    assert str(raised.value).startswith(f"invalid gtwatch configuration: {message}")
    assert "\n" not in str(raised.value)


def test_a_route_may_be_narrowed_to_watched_kinds_and_the_notifier_gets_them() -> None:
    routes = [
        {**ROUTE, "kinds": ["pipeline", "training"]},
        {"channel": "C0123ABCD", "events": ["failed"], "name_contains": "prod", "mention": "<!here>"},
    ]
    config = parse_config({"kinds": ["training", "pipeline"], "slack": {"mode": "app", "routes": routes}})
    # The contract's order; a route without kinds takes every watched kind and says nothing of kinds.
    assert config.slack.route_kinds == (("training", "pipeline"), None)
    assert json.loads(config.slack.routes_json) == [
        {"channel": "#labeling", "events": ["completed", "failed"], "kinds": ["training", "pipeline"]},
        {"channel": "C0123ABCD", "events": ["failed"], "name_contains": "prod", "mention": "<!here>"},
    ]
    assert config.effective("eu-west-1")["slack"]["routes"] == json.loads(config.slack.routes_json)


# A route's kinds: known kinds, listed once, and watched (a route could never take another).
ROUTE_KIND_MISTAKES: list[tuple[dict[str, Any], str]] = [
    (
        {"slack": {"mode": "app", "routes": [ROUTE, {**ROUTE, "channel": "#b", "kinds": ["trainig"]}]}},
        "gtwatch.slack.routes[1].kinds[0]: 'trainig' is not a job kind; the kinds are labeling, training, processing, "
        "transform, tuning, pipeline; did you mean training?",
    ),
    (
        {"slack": {"mode": "app", "routes": [{**ROUTE, "kinds": []}]}},
        "gtwatch.slack.routes[0].kinds: [] is not a non-empty list of job kinds from labeling",
    ),
    (
        {"slack": {"mode": "app", "routes": [{**ROUTE, "kinds": "labeling"}]}},
        "gtwatch.slack.routes[0].kinds: 'labeling' is not a non-empty list of job kinds",
    ),
    (
        {"slack": {"mode": "app", "routes": [{**ROUTE, "kinds": ["labeling", "labeling"]}]}},
        "gtwatch.slack.routes[0].kinds: 'labeling' is listed twice",
    ),
    (
        {"kinds": ["labeling", "training"], "slack": {"mode": "app", "routes": [{**ROUTE, "kinds": ["pipeline"]}]}},
        "gtwatch.slack.routes[0].kinds: 'pipeline' is not watched (gtwatch.kinds is labeling, training); add it to "
        "gtwatch.kinds or leave it out here",
    ),
    (
        {"slack": {"mode": "app", "routes": [{**ROUTE, "kinds": ["training"]}]}},
        "gtwatch.slack.routes[0].kinds: 'training' is not watched (gtwatch.kinds is labeling)",
    ),
    # A route's accounts are listed accounts: with none listed, none can be named.
    (
        {"slack": {"mode": "app", "routes": [{**ROUTE, "accounts": ["prod"]}]}},
        "gtwatch.slack.routes[0].accounts[0]: 'prod' is not a listed account (gtwatch.accounts lists none)",
    ),
]


@pytest.mark.parametrize(("raw", "message"), ROUTE_KIND_MISTAKES)
def test_a_routes_kinds_mistake_is_refused_at_synthesis_in_one_line(raw: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError) as raised:
        parse_config(raw)
    assert str(raised.value).startswith(f"invalid gtwatch configuration: {message}")
    assert "\n" not in str(raised.value)


# --- kinds and their stall thresholds ----------------------------------------------------------------------


def test_kinds_are_kept_in_the_contracts_order() -> None:
    assert parse_config({"kinds": ["pipeline", "labeling", "tuning"]}).kinds == ("labeling", "tuning", "pipeline")


def test_a_number_of_minutes_stalls_every_watched_kind_that_can_stall() -> None:
    config = parse_config({"kinds": list(contract.JOB_KINDS), "stall_after_minutes": 45})
    assert config.stall_thresholds == {
        "labeling": 45,
        "training": 45,
        "processing": 45,
        "transform": 45,
        "tuning": 45,
        "pipeline": None,
    }


def test_minutes_by_kind_leave_the_kinds_left_out_never_stalling() -> None:
    config = parse_config({"kinds": ["labeling", "training", "pipeline"], "stall_after_minutes": {"training": 30}})
    assert config.stall_after_minutes == {"training": 30}
    assert config.stall_thresholds == {"labeling": None, "training": 30, "pipeline": None}
    effective = config.effective("eu-west-1")
    assert effective["kinds"] == ["labeling", "training", "pipeline"]
    assert effective["stall_after_minutes"] == {"training": 30}
    assert effective["stall_after_minutes_by_kind"] == {"labeling": None, "training": 30, "pipeline": None}


def test_no_kind_may_stall_at_all() -> None:
    assert parse_config({"stall_after_minutes": {}}).stall_thresholds == {"labeling": None}


def test_a_refused_kind_does_not_also_refuse_its_stall_threshold() -> None:
    with pytest.raises(ConfigError) as raised:
        parse_config({"kinds": ["trainng"], "stall_after_minutes": {"training": 30}})
    assert "gtwatch.kinds[0]: 'trainng' is not a job kind" in str(raised.value)
    assert "stall_after_minutes" not in str(raised.value)


MODE_MISTAKES: list[tuple[dict[str, Any], str]] = [
    ({"slack": {"mode": "app"}}, "gtwatch.slack.routes: app mode needs at least one route"),
    (
        {"slack_events": ["failed"], "slack": {"mode": "app", "routes": [ROUTE]}},
        "gtwatch.slack_events: not used in app mode (gtwatch.slack.mode is app)",
    ),
    (
        {"slack_webhook_secret_name": "team/hook", "slack": {"mode": "app", "routes": [ROUTE]}},
        "gtwatch.slack_webhook_secret_name: not used in app mode",
    ),
    ({"slack": {"routes": [ROUTE]}}, "gtwatch.slack.routes: routes apply in app mode only"),
    ({"slack": {"token_secret_name": "team/bot"}}, "gtwatch.slack.token_secret_name: a bot token is used in app mode"),
    (
        {"slack": {"mode": "app", "routes": [{**ROUTE, "channel": f"#team-{n:03}"} for n in range(80)]}},
        "gtwatch.slack.routes: 4481 bytes as the notifier's GTWATCH_SLACK_ROUTES, over 3000",
    ),
]


@pytest.mark.parametrize(("raw", "message"), MODE_MISTAKES)
def test_slack_settings_that_do_not_fit_the_mode_are_refused_naming_the_key(raw: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError) as raised:
        parse_config(raw)
    assert message in str(raised.value)


def test_cdk_json_with_its_spelled_out_slack_events_must_drop_them_for_app_mode() -> None:
    raw = {**cdk_json_context()["gtwatch"], "slack": {"mode": "app", "routes": [ROUTE]}}
    with pytest.raises(ConfigError, match=r"gtwatch\.slack_events: not used in app mode"):
        parse_config(raw)
    del raw["slack_events"], raw["slack_webhook_secret_name"]
    assert parse_config(raw).slack_app


# --- quiet hours and the digest --------------------------------------------------------------------------


def test_quiet_hours_reach_the_functions_as_the_watcher_reads_them() -> None:
    config = parse_config({"quiet_hours": QUIET})
    assert config.quiet_hours_json == (
        '{"start":"20:00","end":"08:00","timezone":"Europe/Berlin","hold":["completed","resumed"],'
        '"channels":["email","slack"]}'
    )
    assert config.parsed_quiet_hours == parse_quiet_hours(QUIET)
    assert config.effective("eu-west-1")["quiet_hours"] == json.loads(config.quiet_hours_json)


def test_a_quiet_hours_mistake_is_one_line() -> None:
    with pytest.raises(ConfigError) as raised:
        parse_config({"quiet_hours": {**QUIET, "start": "25:00"}})
    assert str(raised.value) == (
        "invalid gtwatch configuration: gtwatch.quiet_hours.start: '25:00' is not a time of day HH:MM"
    )


@pytest.mark.parametrize(("at", "expression"), [("07:30", "cron(30 7 * * ? *)"), ("00:05", "cron(5 0 * * ? *)")])
def test_the_digest_time_becomes_a_daily_cron_for_eventbridge_scheduler(at: str, expression: str) -> None:
    digest = parse_config({"digest": {**DIGEST, "at": at}}).digest
    assert digest is not None
    assert digest.cron_expression == expression


def test_the_digest_goes_to_both_channels_unless_told() -> None:
    digest = parse_config({"digest": DIGEST}).digest
    assert digest is not None
    assert digest.channels == ("slack", "email")
    assert digest.slack_channel is None


def test_in_app_mode_the_digest_names_its_slack_channel() -> None:
    raw = {"slack": {"mode": "app", "routes": [ROUTE]}, "digest": {**DIGEST, "slack_channel": "C0123ABCD"}}
    assert parse_config(raw).effective("eu-west-1")["digest"] == {
        "at": "07:30",
        "timezone": "Europe/Berlin",
        "channels": ["slack", "email"],
        "slack_channel": "C0123ABCD",
    }
    # Email only: no Slack channel to name.
    email_only = {"slack": {"mode": "app", "routes": [ROUTE]}, "digest": {**DIGEST, "channels": ["email"]}}
    assert parse_config(email_only).digest is not None


DIGEST_MODE_MISTAKES: list[tuple[dict[str, Any], str]] = [
    (
        {"slack": {"mode": "app", "routes": [ROUTE]}, "digest": DIGEST},
        'gtwatch.digest.slack_channel: app mode posts the digest to one channel; name it (e.g. "#labeling")',
    ),
    (
        {"digest": {**DIGEST, "slack_channel": "#labeling"}},
        "gtwatch.digest.slack_channel: webhook mode posts the digest to the webhook's own channel",
    ),
    (
        {
            "slack": {"mode": "app", "routes": [ROUTE]},
            "digest": {**DIGEST, "channels": ["email"], "slack_channel": "#labeling"},
        },
        "gtwatch.digest.slack_channel: the digest does not go to Slack",
    ),
]


@pytest.mark.parametrize(("raw", "message"), DIGEST_MODE_MISTAKES)
def test_a_digest_slack_channel_that_does_not_fit_the_mode_is_refused(raw: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError) as raised:
        parse_config(raw)
    assert message in str(raised.value)
    assert "\n" not in str(raised.value)


def test_regions_in_any_partition_where_sagemaker_runs_are_accepted() -> None:
    regions = ("us-east-1", "eu-central-1", "ap-southeast-2", "cn-north-1", "us-gov-west-1")
    assert parse_config({"regions": list(regions)}).regions == regions


def test_a_setting_passed_as_a_context_key_of_its_own_is_refused_naming_it() -> None:
    from aws_cdk import App

    # What `cdk synth -c gtwatch.schedule_minutes=10` hands the app: a string under a key of its own.
    app = App(context={"gtwatch": {"schedule_minutes": 5}, "gtwatch.schedule_minutes": "10"})
    with pytest.raises(ConfigError) as raised:
        load_config(app)
    assert str(raised.value).startswith(
        "gtwatch.schedule_minutes: not read: the settings are the one context value gtwatch; set it in cdk.json"
    )


def test_context_keys_that_are_not_gtwatch_settings_are_left_to_the_cdk() -> None:
    from aws_cdk import App

    app = App(context={"gtwatch": {"schedule_minutes": 30}, "@aws-cdk/core:checkSecretUsage": True, "gtwatchx": 1})
    assert load_config(app).schedule_minutes == 30
