"""Operations you can trust: one bad job never holds up the rest; the watch begins at deployment."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from watcher import composition
from watcher.domain.model import JobState
from watcher.domain.ports import JobStateStore
from watcher.handlers import poller_handler
from watcher.poll_reporting import report_run
from watcher.usecases.poll import PollOutcome
from watcher.usecases.watch import Run, RunReport

from gtwatch.sim import replay, scenario
from tests.fakes.store import FailingSave

DATA = Path(__file__).parent / "data"
UNSAFE = re.compile(r"[\ud800-\udfff\x00-\x08\x0b-\x1f\x7f\u202a-\u202e\u2066-\u2069]")


def received(name: str) -> list[dict[str, Any]]:
    return replay.run(scenario.load(DATA / name)).notifications


def test_jobs_that_end_while_dynamodb_is_down_from_deployment_are_announced_once_it_is_back():
    notifications = received("dynamodb-down-at-start.json")
    seen = sorted((n["minute"], n["channel"], n["type"], n["job"]) for n in notifications)
    assert seen == [
        (10, "email", "completed", "early-finisher"),
        (10, "email", "failed", "still-running"),
        (10, "slack", "completed", "early-finisher"),
        (10, "slack", "failed", "still-running"),
    ]


def test_a_failure_reason_with_half_a_surrogate_pair_reaches_people_cleaned_and_holds_up_no_one():
    notifications = received("lone-surrogate.json")
    seen = sorted((n["minute"], n["channel"], n["type"], n["job"]) for n in notifications)
    assert seen == [
        (10, "email", "completed", "zzz-neighbour"),
        (10, "email", "failed", "aaa-hostile"),
        (10, "slack", "completed", "zzz-neighbour"),
        (10, "slack", "failed", "aaa-hostile"),
    ]
    for notification in notifications:
        text = json.dumps(notification, ensure_ascii=False)
        assert not UNSAFE.search(text), f"unsafe text reached {notification['channel']}"
    [slack] = [n for n in notifications if n["channel"] == "slack" and n["job"] == "aaa-hostile"]
    assert "<!channel>" not in json.dumps(slack["payload"], ensure_ascii=False)
    [mail] = [n for n in notifications if n["channel"] == "email" and n["job"] == "aaa-hostile"]
    assert "half a pair \ufffd then a bell, evil and <!channel>" in mail["message"]


def test_a_job_that_cannot_be_watched_is_retried_by_name_while_the_others_go_out_on_time():
    """aaa-poison's watch raises for two runs: zzz-fine is announced at once, aaa-poison when it recovers."""
    failures = {"left": 2}

    def flaky(state: JobState) -> bool:
        if state.name == "aaa-poison" and state.status_class.is_terminal and failures["left"]:
            failures["left"] -= 1
            return True
        return False

    def flaky_store(store: JobStateStore) -> JobStateStore:
        return FailingSave(store, flaky)

    done = {"TotalLabeled": 10, "HumanLabeled": 10, "Unlabeled": 0}
    raw = {
        "start": "2026-05-04T08:00:00Z",
        "duration_minutes": 40,
        "steps": [
            {"at_minute": 0, "create": {"name": "aaa-poison", "status": "InProgress", "counters": {"Unlabeled": 10}}},
            {"at_minute": 0, "create": {"name": "zzz-fine", "status": "InProgress", "counters": {"Unlabeled": 10}}},
            {"at_minute": 3, "update": {"name": "aaa-poison", "status": "Completed", "counters": done}},
            {"at_minute": 3, "update": {"name": "zzz-fine", "status": "Completed", "counters": done}},
        ],
    }
    with composition.overriding(composition.Overrides(store=flaky_store)):
        notifications = replay.run(scenario.parse(raw)).notifications
    seen = sorted((n["minute"], n["channel"], n["job"]) for n in notifications)
    assert seen == [
        (5, "email", "zzz-fine"),
        (5, "slack", "zzz-fine"),
        (15, "email", "aaa-poison"),
        (15, "slack", "aaa-poison"),
    ]
    assert failures["left"] == 0


def metrics_of(reports: list[RunReport], failed: list[str], run: Run) -> dict[str, list[float]]:
    """The metrics the poller adds for a run with these reports, failed in these scopes."""
    poller_handler.metrics.clear_metrics()
    outcome = PollOutcome(reports=reports, errors={scope: RuntimeError("failed") for scope in failed})
    report_run(outcome, run, poller_handler.logger, poller_handler.metrics)
    values = {name: entry["Value"] for name, entry in poller_handler.metrics.metric_set.items()}
    poller_handler.metrics.clear_metrics()
    return values


@pytest.fixture
def run() -> Run:
    return Run.starting(datetime(2026, 5, 4, 8, 0, tzinfo=UTC), seconds_left=60)


def test_a_run_succeeds_only_when_every_notification_was_published_or_kept(run):
    assert metrics_of([RunReport(region="us-east-1")], [], run) == {"PollSucceeded": [1.0]}
    failed_publish = RunReport(region="us-east-1", publish_failures=2)
    failed_publish.waiting_since(run.now - timedelta(minutes=7))
    values = metrics_of([failed_publish], [], run)
    assert values == {"PublishFailures": [2.0], "OutboxOldestAgeSeconds": [420.0]}
    assert metrics_of([RunReport(region="us-east-1", failed_jobs=["x"])], [], run) == {"JobErrors": [1.0]}
    assert metrics_of([], ["us-east-1"], run) == {}
