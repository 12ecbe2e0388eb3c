"""Scenario tests of Slack app mode (docs/scenario-format.md, "Version 2"): a thread per job in each route's channel,
routes and mentions, order and once-per-destination through Slack's faults, and day-long outages."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from gtwatch.sim import replay, scenario
from tests.property.app_threads import PING, check_app_mode, routes_of, slack_lines

DATA = Path(__file__).parent / "data"
# A loopback call answers in milliseconds; half a second keeps the injected timeouts and lost answers cheap. A real
# call that took longer would only look lost, and app mode looks before it posts again.
SLACK_TIMEOUT = 0.5
ONCALL = "<!subteam^S0ABC123|ml-oncall>"


def run(name: str) -> tuple[list[dict[str, Any]], replay.ReplayResult]:
    """The scenario's notification lines, checked against every app-mode promise, and the whole result."""
    path = DATA / name
    result = replay.run(scenario.load(path), slack_timeout_seconds=SLACK_TIMEOUT)
    check_app_mode(result.notifications, routes_of(json.loads(path.read_text(encoding="utf-8"))["config"]))
    return result.notifications, result


def thread(lines: list[dict[str, Any]], destination: str, job: str) -> list[tuple[str, str]]:
    return [(n["action"], n["type"]) for n in slack_lines(lines) if n["destination"] == destination and n["job"] == job]


def decided(lines: list[dict[str, Any]]) -> dict[str, int]:
    """Notification id -> the minute it was decided: its email's (email is not faulted in these scenarios)."""
    return {n["id"]: n["minute"] for n in lines if n["channel"] == "email"}


def test_each_job_has_one_thread_per_channel_and_only_its_route_pings():
    lines, result = run("app-routes-threads.json")

    assert thread(lines, "#labeling", "prod-cats") == [
        ("post", "stalled"),
        ("reply", "resumed"),
        ("update", "resumed"),
        ("reply", "failed"),
        ("update", "failed"),
    ]
    # The on-call route takes failed and stalled, for names containing "prod" in any case, with its mention.
    assert thread(lines, "#ml-oncall", "prod-cats") == [("post", "stalled"), ("reply", "failed"), ("update", "failed")]
    assert thread(lines, "#ml-oncall", "Prod-dogs") == [("post", "stalled")]
    assert {n["job"] for n in slack_lines(lines) if n["destination"] == "#ml-oncall"} == {"prod-cats", "Prod-dogs"}
    assert thread(lines, "#labeling", "dev-fish") == [("post", "stopped")]
    assert thread(lines, "#labeling", "dev-birds") == [
        ("post", "stalled"),
        ("reply", "failed"),
        ("update", "failed"),
    ]
    oncall = [n for n in slack_lines(lines) if n["destination"] == "#ml-oncall" and n["action"] != "update"]
    assert all(n["payload"]["text"].startswith(f"{ONCALL} ") for n in oncall)
    everything = json.dumps([n["payload"] for n in slack_lines(lines)], ensure_ascii=False)
    assert set(PING.findall(everything)) == {ONCALL}  # SageMaker's <!channel>, <!everyone>, <@U…> stay text
    assert "&lt;!channel&gt;" in everything and "&lt;!everyone&gt;" in everything
    failed = [n for n in slack_lines(lines) if n["type"] == "failed" and n["action"] == "reply"]
    assert len(failed) == 3 and all(n["payload"]["reply_broadcast"] for n in failed)
    assert result.dead_letters == 0


def test_order_and_once_per_destination_hold_through_every_kind_of_slack_fault():
    lines, result = run("app-faults-order.json")

    assert result.faults_injected["slack"] == 17  # every armed fault met a call
    assert result.dead_letters == 0
    # Lost answers: the reply was in the thread at once, the notifier learned of it a minute later (by its
    # metadata) and went on to edit the root without posting it again.
    late_edits = [
        (n["destination"], n["type"])
        for n in slack_lines(lines)
        if n["action"] == "reply"
        and next(m for m in slack_lines(lines) if m["action"] == "update" and m["id"] == n["id"])["minute"]
        > n["minute"]
    ]
    assert ("#labeling", "resumed") in late_edits and ("#labeling", "failed") in late_edits
    # prod-dogs' second stall was still being retried when it resumed: the resumed waited for it.
    minutes = {
        (n["destination"], n["type"], n["id"]): n["minute"] for n in slack_lines(lines) if n["job"] == "prod-dogs"
    }
    times = decided(lines)
    stall = next(i for i in times if "prod-dogs:stalled" in i and i.endswith("#2"))
    resume = next(i for i in times if "prod-dogs:resumed" in i and times[i] > times[stall])
    assert times[resume] < minutes["#labeling", "stalled", stall] < minutes["#labeling", "resumed", resume]
    assert thread(lines, "#labeling", "prod-dogs") == [
        ("post", "stalled"),
        *[
            (action, event)
            for event in ("resumed", "stalled", "resumed", "stalled", "completed")
            for action in ("reply", "update")
        ],
    ]


@pytest.mark.parametrize("name", ["app-slack-outage-6h.json", "app-slack-outage-24h.json"])
def test_a_slack_outage_of_up_to_a_day_loses_nothing_and_catches_up_within_30_minutes(name):
    raw = json.loads((DATA / name).read_text(encoding="utf-8"))
    (start, until) = next((s["at_minute"], s["fault"]["until_minute"]) for s in raw["steps"] if "fault" in s)
    lines, result = run(name)

    during = {n["type"] for n in lines if n["channel"] == "email" and start <= n["minute"] < until}
    assert during == {"stalled", "resumed", "completed", "failed", "stopped"}  # jobs stall, resume and end in it
    assert result.dead_letters == 0
    assert result.faults_injected["slack"] > (until - start) // 10  # Slack was asked, and refused, all along
    times = decided(lines)
    held = 0
    for n in slack_lines(lines):
        if n["action"] == "update":
            continue
        if start <= times[n["id"]] < until:
            held += 1
            assert until <= n["minute"] <= until + 30, f"{n['type']} {n['job']} decided {times[n['id']]}: {n['minute']}"
        else:
            assert n["minute"] <= times[n["id"]] + 30
    assert held >= 15


def test_the_shared_app_threads_scenario_keeps_the_contract():
    lines, result = run("v2-app-threads.json")

    assert thread(lines, "#labeling", "dogs-v2") == [("post", "failed")]
    assert thread(lines, "#ml-oncall", "dogs-v2") == [("post", "failed")]
    assert thread(lines, "#labeling", "cats-v2") == [
        ("post", "stalled"),
        ("reply", "resumed"),
        ("update", "resumed"),
        ("reply", "completed"),
        ("update", "completed"),
    ]
    assert not thread(lines, "#ml-oncall", "cats-v2")
    oncall = [n for n in slack_lines(lines) if n["destination"] == "#ml-oncall"]
    assert [n["payload"]["text"].split(" ", 1)[0] for n in oncall] == ["<!here>"]
    everything = json.dumps([n["payload"] for n in slack_lines(lines)], ensure_ascii=False)
    assert set(PING.findall(everything)) == {"<!here>"} and "&lt;!channel&gt;" in everything
    # cats-v2 completed at 150, in the outage that ends at 170: it arrives within 30 minutes of the end.
    completed = next(n for n in slack_lines(lines) if n["type"] == "completed" and n["action"] == "reply")
    assert 170 <= completed["minute"] <= 200
    assert result.dead_letters == 0


def test_in_quiet_hours_a_failure_releases_held_news_only_where_it_goes_itself():
    """app-quiet-hours-per-destination.json: quiet hours 22:00-06:00 London (UTC in January, minute 60 to 540) hold
    stalls in Slack; #all takes stalls, #oncall stalls and failures of "prod" jobs. Both jobs stall at 22:30
    (minute 90) and fail at 23:30 (minute 150)."""
    lines, _ = run("app-quiet-hours-per-destination.json")
    posted: dict[tuple[str, str], list[tuple[int, str]]] = {}
    for n in slack_lines(lines):
        if n["action"] in ("post", "reply"):
            posted.setdefault((n["destination"], n["job"]), []).append((n["minute"], n["type"]))
    assert posted == {
        # prod-cats' failure goes to #oncall at once, just after the held stall it releases there...
        ("#oncall", "prod-cats"): [(150, "stalled"), (150, "failed")],
        # ...but not into #all, which its failure does not reach: the stalls wait there for 06:00 (minute 540).
        ("#all", "prod-cats"): [(540, "stalled")],
        ("#all", "dev-dogs"): [(540, "stalled")],
    }


def test_two_routes_to_one_channel_are_refused_before_the_replay_starts(tmp_path, capsys):
    from gtwatch.cli import main

    raw = json.loads((DATA / "v2-app-threads.json").read_text(encoding="utf-8"))
    oncall = {"channel": "#ml-oncall", "events": ["stalled"], "mention": "<!here>"}
    raw["config"]["slack"]["routes"].append(oncall)  # #ml-oncall is routes[1]'s already
    path = tmp_path / "two-routes-one-channel.json"
    path.write_text(json.dumps(raw), encoding="utf-8")

    assert main(["replay", str(path)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "config.slack.routes[2].channel: '#ml-oncall' is already config.slack.routes[1]'s" in captured.err


def test_a_route_that_names_its_channel_by_id_prints_and_threads_under_that_id(tmp_path):
    raw = json.loads((DATA / "v2-app-threads.json").read_text(encoding="utf-8"))
    for route in raw["config"]["slack"]["routes"]:
        if route["channel"] == "#ml-oncall":
            route["channel"] = "C0ONCALL01"  # Slack takes a channel's ID wherever it takes its name
    path = tmp_path / "app-channel-id.json"
    path.write_text(json.dumps(raw), encoding="utf-8")

    result = replay.run(scenario.load(path), slack_timeout_seconds=SLACK_TIMEOUT)
    lines = result.notifications

    check_app_mode(lines, routes_of(raw["config"]))
    assert {n["destination"] for n in slack_lines(lines)} == {"#labeling", "C0ONCALL01"}
    assert thread(lines, "C0ONCALL01", "dogs-v2") == [("post", "failed")]
    assert thread(lines, "#labeling", "dogs-v2") == [("post", "failed")]


def test_two_jobs_with_35_notifications_queued_in_a_6_hour_outage_drain_within_30_minutes():
    lines, result = run("app-slack-outage-backlog.json")
    raw = json.loads((DATA / "app-slack-outage-backlog.json").read_text(encoding="utf-8"))
    (start, until) = next((s["at_minute"], s["fault"]["until_minute"]) for s in raw["steps"] if "fault" in s)
    assert until - start == 360

    times = decided(lines)
    queued = Counter(n["job"] for n in lines if n["channel"] == "email" and start <= n["minute"] < until)
    assert queued == {"prod-cats": 35, "dev-dogs": 35}
    delivered = [n for n in slack_lines(lines) if n["action"] != "update" and start <= times[n["id"]] < until]
    assert len(delivered) == 70
    # Each job's thread goes out in its order (checked by run), each message within 30 minutes of Slack's return.
    assert max(n["minute"] for n in delivered) <= until + 30
    assert result.dead_letters == 0
