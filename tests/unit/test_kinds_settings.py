"""The kinds and stall thresholds as cdk.json writes them and as the watching functions receive them
(gtwatch.ops.kinds, shared by `cdk synth`, the operator commands and the emulator)."""

from __future__ import annotations

import json

import pytest

from gtwatch.ops.kinds import (
    kinds_env,
    parse_kinds,
    parse_stall_after,
    split_route_kinds,
    stall_after_env,
    stall_thresholds,
    with_route_kinds,
)


def test_a_number_of_minutes_reaches_the_functions_as_the_number_it_always_was() -> None:
    assert stall_after_env(parse_stall_after(60, "stall_after_minutes")) == "60"


def test_minutes_by_kind_reach_the_functions_as_compact_json_in_the_contracts_order() -> None:
    stall = parse_stall_after({"processing": 45, "training": 30}, "x", kinds=("training", "processing"))
    assert stall_after_env(stall) == '{"training":30,"processing":45}'


def test_the_kinds_reach_the_functions_comma_separated_in_the_contracts_order() -> None:
    assert kinds_env(parse_kinds(["pipeline", "training"], "kinds")) == "training,pipeline"


def test_a_kind_left_out_of_the_thresholds_never_stalls_and_a_pipeline_never_does() -> None:
    assert stall_thresholds(("labeling", "pipeline"), 30) == {"labeling": 30, "pipeline": None}
    assert stall_thresholds(("labeling", "tuning"), {"tuning": 90}) == {"labeling": None, "tuning": 90}


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"kind": "training"}, "kinds: an object is not a non-empty list of job kinds"),
        (["labeling", "Training "], "kinds[1]: 'Training ' is not a job kind; the kinds are labeling, training"),
        (["labeling", True], "kinds[1]: true is not a job kind"),
    ],
)
def test_a_bad_kinds_list_names_its_item(raw: object, message: str) -> None:
    with pytest.raises(ValueError) as raised:
        parse_kinds(raw, "kinds")
    assert str(raised.value).startswith(message)


def test_a_routes_kinds_are_taken_off_for_the_notifiers_parser_and_put_back_in_its_json() -> None:
    routes = [{"channel": "#a", "events": ["failed"], "kinds": ["pipeline", "training"]}, {"channel": "#b"}]
    without, kinds = split_route_kinds(routes, "routes")
    assert without == [{"channel": "#a", "events": ["failed"]}, {"channel": "#b"}]
    assert kinds == (("training", "pipeline"), None)
    notifier_json = json.dumps([{"channel": "#a", "events": ["failed"]}, {"channel": "#b", "events": ["failed"]}])
    assert json.loads(with_route_kinds(notifier_json, kinds)) == [
        {"channel": "#a", "events": ["failed"], "kinds": ["training", "pipeline"]},
        {"channel": "#b", "events": ["failed"]},
    ]


def test_a_route_setting_no_route_has_is_named_with_the_settings_there_are() -> None:
    with pytest.raises(ValueError) as raised:
        split_route_kinds([{"channel": "#a", "events": ["failed"], "account": ["prod"]}], "routes")
    settings = "channel, events, kinds, accounts, name_contains, mention"
    assert str(raised.value) == f"routes[0].account: not a route setting ({settings})"


def test_a_routes_accounts_are_left_to_the_accounts_check() -> None:
    without, _ = split_route_kinds([{"channel": "#a", "events": ["failed"], "accounts": ["prod"]}], "routes")
    assert without == [{"channel": "#a", "events": ["failed"]}]
