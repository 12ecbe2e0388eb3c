"""Each function's environment, as the stack sets it, is what that function's settings read: the stack sets no
variable its function ignores, and the settings read none that no configuration of the stack sets, but the ones
the stack leaves to their defaults (watcher.domain.env.LEFT_TO_DEFAULTS).
"""

from __future__ import annotations

import pytest
from aws_cdk.assertions import Template
from watcher.domain.env import LAMBDA_REGION, LEFT_TO_DEFAULTS, Env
from watcher.settings import DigestSettings, PollerSettings, PollPlanSettings, SlackSettings

from infra.digest import SHARED_VARIABLES
from tests.infra.queries import (
    DIGEST_HANDLER,
    EVENT_HANDLER,
    POLL_WORKER_HANDLER,
    POLLER_HANDLER,
    SLACK_HANDLER,
    WATCH_START_HANDLER,
    function_props,
)

# The settings each handler reads (settings(<model>) at its cold start).
HANDLER_SETTINGS: dict[str, type[PollerSettings | SlackSettings | DigestSettings]] = {
    POLLER_HANDLER: PollPlanSettings,
    POLL_WORKER_HANDLER: PollerSettings,
    EVENT_HANDLER: PollerSettings,
    WATCH_START_HANDLER: PollerSettings,
    SLACK_HANDLER: SlackSettings,
    DIGEST_HANDLER: DigestSettings,
}
# Between them, these configurations set every optional variable: the name filter, the repeated stall and quiet
# hours (custom), app mode (app), the digest in webhook mode and in app mode with its own channel, and a run fanned
# out (its poll workers, and the poller's poll-work queue).
TEMPLATES = ("default", "custom", "app", "digest", "digest_app", "fan_out")
IDS = [handler.split(".")[1] for handler in HANDLER_SETTINGS]


def set_by_the_stack(request: pytest.FixtureRequest, handler: str) -> set[str]:
    """The gtwatch variables the stack gives `handler`'s function, in any of TEMPLATES."""
    names: set[str] = set()
    for name in TEMPLATES:
        template: Template = request.getfixturevalue(name)
        if template.find_resources("AWS::Lambda::Function", {"Properties": {"Handler": handler}}):
            names |= set(function_props(template, handler)["Environment"]["Variables"])
    if handler == DIGEST_HANDLER:
        # The digest takes these from the watching functions' environment whenever they are set there (no
        # configuration above has both a digest and a repeated stall).
        names |= set_by_the_stack(request, POLLER_HANDLER) & set(SHARED_VARIABLES)
    return {name for name in names if not name.startswith("POWERTOOLS_")}


def read_by_the_settings(handler: str) -> set[str]:
    return set(HANDLER_SETTINGS[handler].ENV.values()) - {LAMBDA_REGION}


@pytest.mark.parametrize("handler", HANDLER_SETTINGS, ids=IDS)
def test_the_stack_sets_no_variable_the_functions_settings_do_not_read(
    request: pytest.FixtureRequest, handler: str
) -> None:
    assert set_by_the_stack(request, handler) - read_by_the_settings(handler) == set()


@pytest.mark.parametrize("handler", HANDLER_SETTINGS, ids=IDS)
def test_the_settings_read_no_variable_the_stack_never_sets(request: pytest.FixtureRequest, handler: str) -> None:
    assert read_by_the_settings(handler) - LEFT_TO_DEFAULTS - set_by_the_stack(request, handler) == set()


@pytest.mark.parametrize("handler", HANDLER_SETTINGS, ids=IDS)
def test_the_stack_leaves_the_defaults_it_means_to(request: pytest.FixtureRequest, handler: str) -> None:
    assert set_by_the_stack(request, handler) & LEFT_TO_DEFAULTS == set()


def test_every_named_variable_is_read_by_some_function() -> None:
    read = {name for handler in HANDLER_SETTINGS for name in read_by_the_settings(handler)}
    assert set(Env) - read == set()


def test_the_variables_keep_their_documented_names() -> None:
    # Renaming a variable would break a deployed stack's functions until it is deployed again, and docs/deploy.md.
    assert all(name.value == f"GTWATCH_{name.name}" for name in Env)
