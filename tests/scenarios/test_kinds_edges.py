"""Version 3 kinds at their edges: a threshold per kind (a kind left out never stalls), a job stuck in Stopping,
log lines while Stopping, a secondary status that changed and changed back between two ticks, tuning counters
(its best job is not progress), duplicate events, and CloudWatch Logs throttled for longer than a stall."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from gtwatch.sim import replay, scenario

DATA = Path(__file__).parent / "data" / "version3"


def notifications(name: str) -> list[dict[str, Any]]:
    result = replay.run(scenario.load(DATA / name), mode="inprocess")
    return result.notifications


def said(lines: list[dict[str, Any]], channel: str) -> list[tuple[int, str, str, str, str]]:
    return [(n["minute"], n["type"], n["kind"], n["job"], n["status"]) for n in lines if n["channel"] == channel]


def test_each_kind_stalls_after_its_own_time_and_a_kind_left_out_never_stalls() -> None:
    lines = notifications("v3-kinds-thresholds.json")

    expected = [
        # Stopping at 10; its log lines while stopping (12, 22, 32) are not progress: stalled 30 minutes later.
        (40, "stalled", "training", "t-stop", "Stopping"),
        # Downloading at 20; Training at 41 and Downloading again at 43 is no change at the tick of 45.
        (50, "stalled", "training", "t-secondary", "InProgress"),
        (50, "stopped", "training", "t-stop", "Stopped"),
        (60, "resumed", "training", "t-secondary", "InProgress"),
        (70, "failed", "training", "t-secondary", "Failed"),
        # Transform and processing are left out of stall_after_minutes: silent for 90 and 100 minutes, then ended.
        (90, "failed", "transform", "x-quiet", "Failed"),
        # Tuning's counters last moved at 30; its threshold is 60. The best job changing at 100 is not progress.
        (90, "stalled", "tuning", "hpo", "InProgress"),
        (95, "resumed", "tuning", "hpo", "InProgress"),
        (100, "completed", "processing", "p-quiet", "Completed"),
        (120, "completed", "tuning", "hpo", "Completed"),
    ]
    assert said(lines, "email") == expected
    assert said(lines, "slack") == expected
    by_minute = {(n["minute"], n["job"]): n for n in lines if n["channel"] == "email"}
    assert "Still stopping: no status change since 08:10 UTC (30 min)" in by_minute[(40, "t-stop")]["message"]
    assert "No change in its training jobs since 08:30 UTC (1 h)" in by_minute[(90, "hpo")]["message"]
    assert "Best job:    hpo-004 (validation:auc = 0.93)" in by_minute[(120, "hpo")]["message"]
    assert "Failure reason: ClientError: model container exited" in by_minute[(90, "x-quiet")]["message"]


def test_a_cloudwatch_logs_outage_keeps_log_lines_out_of_stalls_and_delays_nothing() -> None:
    lines = notifications("v3-logs-throttle.json")

    # A line every 5 minutes; CloudWatch Logs throttles every read from 20 to 80. The last line read was at the tick
    # of 15: 30 minutes later the job is stalled, during the outage (a logs fault delays no notification); the tick
    # of 80 reads the newest line and the job is moving again.
    expected = [
        (45, "stalled", "processing", "feat", "InProgress"),
        (80, "resumed", "processing", "feat", "InProgress"),
        (150, "completed", "processing", "feat", "Completed"),
    ]
    assert said(lines, "email") == expected
    assert said(lines, "slack") == expected
    stalled = next(n for n in lines if n["channel"] == "email" and n["type"] == "stalled")
    assert "No new log line since 08:15 UTC (30 min)" in stalled["message"]
