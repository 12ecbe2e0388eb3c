"""Slack routes narrowed by job kind: which notifications a route takes, and the checks of its `kinds`."""

from __future__ import annotations

import json

import pytest
from watcher.domain.contract import JOB_KINDS
from watcher.domain.job import JobKind
from watcher.domain.slack_routes import Route, parse_routes, routes_to_json

ONCALL = {"channel": "#prod-ml", "events": ["failed", "stalled"], "kinds": ["training", "pipeline"]}
ALL_KINDS = ", ".join(JOB_KINDS)


def test_a_route_with_kinds_takes_only_jobs_of_those_kinds() -> None:
    [route] = parse_routes([ONCALL])

    assert route.takes("failed", "bert-3", "training")
    assert route.takes("stalled", "nightly-7", "pipeline")
    assert not route.takes("failed", "cats", "labeling")
    assert not route.takes("failed", "prep-9", "processing")
    assert not route.takes("completed", "bert-3", "training")  # its events still apply
    assert route.takes("failed", "bert-3", JobKind.TRAINING)  # as the notifier passes a job's kind
    assert not route.takes("failed", "cats", JobKind.LABELING)


def test_a_route_without_kinds_takes_every_kind() -> None:
    [route] = parse_routes([{"channel": "#ml", "events": ["failed"]}])

    assert route.kinds is None
    assert all(route.takes("failed", "job", kind) for kind in JOB_KINDS)


def test_name_contains_applies_to_every_kind() -> None:
    [route] = parse_routes([{"channel": "#ml", "events": ["failed"], "name_contains": "Prod"}])

    assert route.takes("failed", "prod-bert-3", "training")
    assert route.takes("failed", "nightly-PROD-7", "pipeline")
    assert not route.takes("failed", "dev-bert-3", "training")


def test_the_test_notification_reaches_a_route_of_any_kinds() -> None:
    [route] = parse_routes([ONCALL])

    assert route.takes("test", "gtwatch-test", "labeling")


def test_kinds_travel_in_the_routes_json_the_stack_passes_to_the_notifier() -> None:
    routes = parse_routes([{**ONCALL, "kinds": ["pipeline", "training"]}, {"channel": "#all", "events": ["failed"]}])

    raw = routes_to_json(routes)

    assert json.loads(raw) == [
        {"channel": "#prod-ml", "events": ["failed", "stalled"], "kinds": ["training", "pipeline"]},
        {"channel": "#all", "events": ["failed"]},
    ]
    assert parse_routes(json.loads(raw)) == routes
    assert routes[0] == Route("#prod-ml", frozenset({"failed", "stalled"}), kinds=frozenset({"training", "pipeline"}))


@pytest.mark.parametrize(
    ("kinds", "message"),
    [
        ([], f"routes[0].kinds: expected a non-empty list of job kinds from {ALL_KINDS}"),
        ("training", f"routes[0].kinds: expected a non-empty list of job kinds from {ALL_KINDS}"),
        (["training", "trainings"], f"routes[0].kinds[1]: 'trainings' is not one of {ALL_KINDS}"),
        (["Training"], f"routes[0].kinds[0]: 'Training' is not one of {ALL_KINDS}"),
        (["tuning", "tuning"], "routes[0].kinds: a kind is listed twice"),
    ],
)
def test_bad_kinds_are_refused_naming_the_key(kinds: object, message: str) -> None:
    with pytest.raises(ValueError) as error:
        parse_routes([{**ONCALL, "kinds": kinds}])

    assert str(error.value) == message


def test_an_unknown_route_setting_lists_kinds_among_the_settings() -> None:
    with pytest.raises(ValueError) as error:
        parse_routes([{**ONCALL, "kind": ["training"]}])

    assert str(error.value) == (
        "routes[0].kind: not a route setting (channel, events, kinds, accounts, name_contains, mention)"
    )
