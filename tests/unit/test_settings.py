"""The handlers' settings, read from an environment as the stack writes it: each value parsed once, and the Slack
mode held to the same rules as cdk.json and the scenario files."""

from __future__ import annotations

import json

import pytest
from watcher.domain.env import LAMBDA_REGION, Env
from watcher.domain.quiet import QuietHours
from watcher.settings import PollerSettings, SettingsError, SlackSettings

QUIET = {"start": "22:00", "end": "07:00", "timezone": "Europe/Berlin", "hold": ["completed"]}
ROUTES = [{"channel": "#labeling", "events": ["completed", "failed"]}]
WATCHER: dict[str, str] = {
    Env.TABLE_NAME: "Gtwatch-StateTable-ABC123",
    Env.TOPIC_ARN: "arn:aws:sns:eu-west-1:123456789012:Gtwatch-notifications",
    LAMBDA_REGION: "eu-west-1",
}
NOTIFIER: dict[str, str] = {
    Env.TABLE_NAME: "Gtwatch-StateTable-ABC123",
    Env.SLACK_DEAD_LETTER_QUEUE_URL: "https://sqs.eu-west-1.amazonaws.com/123456789012/Gtwatch-Dead",
}
WEBHOOK: dict[str, str] = {**NOTIFIER, Env.SLACK_MODE: "webhook", Env.SLACK_WEBHOOK_SECRET: "Gtwatch/slack-webhook-url"}
APP: dict[str, str] = {
    **NOTIFIER,
    Env.SLACK_MODE: "app",
    Env.SLACK_TOKEN_SECRET: "Gtwatch/slack-bot-token",
    Env.SLACK_ROUTES: json.dumps(ROUTES),
}


def test_quiet_hours_are_parsed_once_when_the_settings_are_read() -> None:
    settings = PollerSettings.from_env({**WATCHER, Env.QUIET_HOURS: json.dumps(QUIET)})

    assert isinstance(settings.quiet_hours, QuietHours)
    assert settings.quiet_hours is settings.quiet_hours
    assert settings.quiet_hours.hold == {"completed"}


def test_no_quiet_hours_when_the_stack_sets_none() -> None:
    assert PollerSettings.from_env(WATCHER).quiet_hours is None


def test_quiet_hours_that_do_not_parse_fail_the_cold_start_naming_the_variable() -> None:
    with pytest.raises(SettingsError, match=r"GTWATCH_QUIET_HOURS: .*quiet_hours\.end: required"):
        PollerSettings.from_env({**WATCHER, Env.QUIET_HOURS: json.dumps({**QUIET, "end": None})})


def test_app_modes_routes_are_parsed_once() -> None:
    settings = SlackSettings.from_env(APP)

    assert [route.channel for route in settings.routes] == ["#labeling"]
    assert settings.routes is settings.routes


def test_the_name_filter_is_a_watch_rule() -> None:
    assert PollerSettings.from_env({**WATCHER, Env.NAME_CONTAINS: "cats"}).rules.name_contains == "cats"


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({**WEBHOOK, Env.SLACK_WEBHOOK_SECRET: ""}, "GTWATCH_SLACK_WEBHOOK_SECRET is required in webhook mode"),
        ({**APP, Env.SLACK_TOKEN_SECRET: ""}, "GTWATCH_SLACK_TOKEN_SECRET is required in app mode"),
        ({**APP, Env.SLACK_ROUTES: ""}, "GTWATCH_SLACK_ROUTES: app mode needs at least one route"),
        # The stack never writes these; an environment set by hand that does is told what is not used.
        ({**APP, Env.SLACK_EVENTS: "failed"}, "GTWATCH_SLACK_EVENTS: not used in app mode (GTWATCH_SLACK_MODE is app)"),
        ({**WEBHOOK, Env.SLACK_ROUTES: json.dumps(ROUTES)}, "GTWATCH_SLACK_ROUTES: routes apply in app mode only"),
        (
            {**APP, Env.SLACK_ROUTES: json.dumps([{"channel": "labeling", "events": ["failed"]}])},
            "GTWATCH_SLACK_ROUTES[0].channel: 'labeling' is not a Slack channel",
        ),
    ],
)
def test_a_notifier_environment_that_does_not_fit_its_slack_mode_fails_naming_the_variable(
    environ: dict[str, str], message: str
) -> None:
    with pytest.raises(SettingsError) as raised:
        SlackSettings.from_env(environ)
    assert message in str(raised.value)
