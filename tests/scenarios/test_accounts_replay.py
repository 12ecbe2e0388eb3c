"""Scenario tests: Version 3's accounts and regions replayed on the emulator (docs/scenario-format.md, "Version 3").

The replay's side (jobs in their account and region, each spoke's role, GTWATCH_ACCOUNTS, events as the hub's bus
delivers them, the sts fault that also revokes the role's older sessions) and the watcher's promises: the public
example's deliveries, and an account unreadable for two hours while the others deliver on time, everything it owes
delivered once after (the watcher assumes the role again when its sessions are denied).
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from watcher import container
from watcher.domain.env import Env
from watcher.handlers import event_handler

from gtwatch.cli import main
from gtwatch.sim import replay, scenario

DATA = Path(__file__).parent / "data" / "version3"
EXAMPLE = DATA / "v3-accounts.json"
OUTAGE = DATA / "v3-accounts-outage.json"
HOME, RESEARCH, PROD, VISION = "123456789012", "111111111111", "222222222222", "333333333333"
ROLE = "arn:aws:iam::{}:role/gtwatch-spoke-reader"


def run(path: Path, **options: Any) -> replay.ReplayResult:
    return replay.run(scenario.load(path), **options)


def seen(result: replay.ReplayResult) -> list[tuple[int, str, str | None, str, str, str, str]]:
    """(minute, channel, destination, type, job, account, region) of each line."""
    return [
        (
            line["minute"],
            line["channel"],
            line.get("destination"),
            line["type"],
            line["job"],
            line["account"],
            line["region"],
        )
        for line in result.notifications
    ]


@pytest.fixture
def delivered_events(monkeypatch: pytest.MonkeyPatch) -> list[tuple[dict[str, Any], str]]:
    """Each event the replay hands the event handler, and the GTWATCH_ACCOUNTS it runs with: observed at the replay's
    own seam (the handler it invokes), never by patching the Lambda code."""
    events: list[tuple[dict[str, Any], str]] = []

    class Recording:
        @staticmethod
        def lambda_handler(event: dict[str, Any], context: Any) -> Any:
            events.append((event, os.environ.get(Env.ACCOUNTS, "")))
            return event_handler.lambda_handler(event, context)

    monkeypatch.setattr(replay, "event_handler", Recording)
    return events


def test_the_version_3_accounts_example_replays_to_exit_0_each_line_naming_its_jobs_account_and_region(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["replay", str(EXAMPLE)]) == 0

    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    notifications = [line for line in lines if not line.get("summary")]
    assert notifications
    # Where each (kind, name) lives in the example: detector-v5 is two jobs, one in each account.
    places = {
        ("training", "old-run"): {(VISION, "eu-central-1")},
        ("labeling", "cars-bbox"): {(VISION, "eu-central-1")},
        ("training", "detector-v5"): {(VISION, "us-east-1"), (HOME, "us-east-1")},
    }
    for line in notifications:
        assert (line["account"], line["region"]) in places[line["kind"], line["job"]], line
    assert (100, "stalled", "cars-bbox", VISION, "eu-central-1") in {
        (line["minute"], line["type"], line["job"], line["account"], line["region"]) for line in notifications
    }


def test_the_version_3_accounts_example_delivers_what_the_contract_promises() -> None:
    result = run(EXAMPLE)

    lines = seen(result)
    # cars-bbox's last progress at minute 40, stalled after 60; the home detector-v5 completes at 200, on time.
    on_time = [
        (100, "slack", "#ml-jobs", "stalled", "cars-bbox", VISION, "eu-central-1"),
        (100, "email", None, "stalled", "cars-bbox", VISION, "eu-central-1"),
        (200, "slack", "#ml-jobs", "completed", "detector-v5", HOME, "us-east-1"),
        (200, "email", None, "completed", "detector-v5", HOME, "us-east-1"),
    ]
    for line in on_time:
        assert lines.count(line) == 1, line
    # The spoke's detector-v5 fails at 150 while its role cannot be assumed (130 to 170): delivered from the event at
    # once, or within 30 minutes after the role works again; once on each route that takes it (the vision-team
    # route takes this account's failures) and by email.
    failed = [line for line in lines if line[3:5] == ("failed", "detector-v5")]
    assert sorted(line[1:] for line in failed) == [
        ("email", None, "failed", "detector-v5", VISION, "us-east-1"),
        ("slack", "#ml-jobs", "failed", "detector-v5", VISION, "us-east-1"),
        ("slack", "#vision-oncall", "failed", "detector-v5", VISION, "us-east-1"),
    ]
    assert all(line[0] == 151 or 170 <= line[0] <= 200 for line in failed)
    assert len(lines) == len(on_time) + len(failed)


def test_a_spokes_event_reaches_the_event_handler_as_the_hubs_bus_delivers_it(
    delivered_events: list[tuple[dict[str, Any], str]],
) -> None:
    run(EXAMPLE)

    assert len(delivered_events) >= 1
    event, accounts = delivered_events[0]
    # SageMaker's own event from the spoke: its account and region, the job's ARN in that account.
    assert (event["account"], event["region"], event["detail-type"]) == (
        VISION,
        "us-east-1",
        "SageMaker Training Job State Change",
    )
    assert event["resources"] == [f"arn:aws:sagemaker:us-east-1:{VISION}:training-job/detector-v5"]
    assert event["detail"]["TrainingJobStatus"] == "Failed"
    # The handlers run with the accounts as the stack writes them: the home account first (the spokes' roles are
    # derived from their ids).
    assert json.loads(accounts) == [
        {"id": HOME, "alias": "ml-shared", "regions": ["us-east-1"]},
        {"id": VISION, "alias": "vision-team", "regions": ["us-east-1", "eu-central-1"]},
    ]


def test_an_event_from_an_account_or_region_not_listed_never_reaches_the_hub(
    delivered_events: list[tuple[dict[str, Any], str]],
) -> None:
    raw = json.loads(OUTAGE.read_text(encoding="utf-8"))
    raw["steps"] += [
        {"at_minute": 5, "create": {"name": "elsewhere", "kind": "training", "account": PROD, "region": "eu-west-1"}},
        {
            "at_minute": 6,
            "state_change_event": {"name": "elsewhere", "kind": "training", "account": PROD, "region": "eu-west-1"},
        },
        {"at_minute": 5, "create": {"name": "stranger", "kind": "training", "account": "444444444444"}},
        {"at_minute": 6, "state_change_event": {"name": "stranger", "kind": "training", "account": "444444444444"}},
    ]

    result = replay.run(scenario.parse(raw))

    assert {event["resources"][0].split(":")[4] for event, _ in delivered_events} == {RESEARCH}
    assert not {"elsewhere", "stranger"} & {line["job"] for line in result.notifications}


def test_an_account_unreadable_for_two_hours_delays_none_of_the_other_accounts_notifications() -> None:
    result = run(OUTAGE)

    lines = seen(result)
    on_time = [
        (45, "completed", "home-labels", HOME, "us-east-1"),
        (90, "completed", "prod-train", PROD, "us-west-2"),
        (120, "failed", "home-train", HOME, "us-east-1"),
    ]
    for minute, kind, job, account, region in on_time:
        for channel in ("slack", "email"):
            assert lines.count((minute, channel, None, kind, job, account, region)) == 1, (minute, channel, job)
    # Nothing of research's is announced as if it were another account's.
    assert {line[5] for line in lines if line[4].startswith("res-")} <= {RESEARCH}
    assert result.faults_injected["sts"] > 0


def test_an_account_unreadable_for_two_hours_gets_everything_owed_within_30_minutes_after_once() -> None:
    result = run(OUTAGE)

    owed = _owed(seen(result))
    assert owed == {
        ("slack", "failed", "res-train"): 1,
        ("email", "failed", "res-train"): 1,
        ("slack", "completed", "res-labels"): 1,
        ("email", "completed", "res-labels"): 1,
    }


def test_once_the_role_can_be_assumed_again_a_new_session_reads_the_account_and_everything_owed_arrives_once() -> None:
    # The replay's side of the promise: the sts fault ends at its minute for a watcher that assumes the role again
    # (here every run is a cold start, whose container assumes it afresh).
    @contextmanager
    def cold_start(minute: int, another_run: Any) -> Iterator[None]:
        container.reset()
        yield

    result = run(OUTAGE, around_tick=cold_start)

    lines = seen(result)
    owed = _owed(lines)
    assert owed == {
        ("slack", "failed", "res-train"): 1,
        ("email", "failed", "res-train"): 1,
        ("slack", "completed", "res-labels"): 1,
        ("email", "completed", "res-labels"): 1,
    }
    assert {line[0] for line in lines if line[4].startswith("res-")} == {150}
    assert {(line[4], line[5], line[6]) for line in lines if line[4].startswith("res-")} == {
        ("res-train", RESEARCH, "us-east-1"),
        ("res-labels", RESEARCH, "eu-west-1"),
    }


def _owed(lines: list[tuple[int, str, str | None, str, str, str, str]]) -> Counter[tuple[str, str, str]]:
    """Research's notifications delivered by 30 minutes after its role works again (minute 150), by channel."""
    return Counter((line[1], line[3], line[4]) for line in lines if line[5] == RESEARCH and line[0] <= 180)


def test_a_mute_names_its_job_by_account_and_region_and_silences_that_job_only() -> None:
    raw = json.loads(OUTAGE.read_text(encoding="utf-8"))
    mute = {"name": "prod-train", "kind": "training", "account": PROD, "region": "us-west-2", "until_minute": 200}
    # The same name in the home account is another job, which the mute leaves alone.
    raw["steps"] += [
        {"at_minute": 10, "mute": mute},
        {"at_minute": 10, "create": {"name": "prod-train", "kind": "training"}},
        {"at_minute": 95, "update": {"name": "prod-train", "kind": "training", "status": "Stopped"}},
    ]

    result = replay.run(scenario.parse(raw))

    prod_train = {(line[0], line[1], line[3], line[5]) for line in seen(result) if line[4] == "prod-train"}
    assert prod_train == {(95, "slack", "stopped", HOME), (95, "email", "stopped", HOME)}


def unreadable_at_first() -> dict[str, Any]:
    """prod cannot be read from the deployment to minute 60: one job ended before the deployment, one ends at 30."""
    raw: dict[str, Any] = json.loads(OUTAGE.read_text(encoding="utf-8"))
    raw["steps"] = [
        {"at_minute": 0, "fault": {"target": "sts", "mode": "access_denied", "account": PROD, "until_minute": 60}},
        {
            "at_minute": 0,
            "create": {
                "name": "old-train",
                "kind": "training",
                "account": PROD,
                "region": "us-west-2",
                "status": "Completed",
            },
        },
        {"at_minute": 0, "create": {"name": "prod-train", "kind": "training", "account": PROD, "region": "us-west-2"}},
        {
            "at_minute": 30,
            "update": {
                "name": "prod-train",
                "kind": "training",
                "account": PROD,
                "region": "us-west-2",
                "status": "Completed",
            },
        },
    ]
    raw["duration_minutes"] = 120
    return raw


def test_a_spoke_unreadable_at_first_gets_no_notification_before_it_can_be_read() -> None:
    result = replay.run(scenario.parse(unreadable_at_first()))

    assert all(line[0] >= 60 for line in seen(result))
    assert "old-train" not in {line[4] for line in seen(result)}


def test_a_spoke_unreadable_at_first_has_its_baseline_at_the_deployment() -> None:
    result = replay.run(scenario.parse(unreadable_at_first()))

    # "the baseline of every account is the deployment, even for a spoke unreadable at first": old-train ended before
    # it (silent), prod-train after it (owed, delivered within 30 minutes after the role works again, once).
    lines = [line for line in seen(result) if line[4] in ("prod-train", "old-train")]
    assert sorted(line[1:] for line in lines) == [
        ("email", None, "completed", "prod-train", PROD, "us-west-2"),
        ("slack", None, "completed", "prod-train", PROD, "us-west-2"),
    ]
    assert all(60 <= line[0] <= 90 for line in lines)
