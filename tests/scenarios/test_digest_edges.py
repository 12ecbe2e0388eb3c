"""The daily digest at its edges: daylight saving days, jobs over before the watch began, quiet and unhealthy days,
and Slack outages (docs/scenario-format.md, Version 2 promises)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from gtwatch.sim import replay, scenario

DATA = Path(__file__).parent / "data"


def digests(name: str) -> list[dict[str, Any]]:
    result = replay.run(scenario.load(DATA / name))
    return [n for n in result.notifications if n["type"] == "digest"]


def when(lines: list[dict[str, Any]]) -> list[tuple[int, str]]:
    return sorted((n["minute"], n["channel"]) for n in lines)


def slack_text(line: dict[str, Any]) -> str:
    return "\n".join(str(block.get("text", {}).get("text", "")) for block in line["payload"]["blocks"])


def test_on_a_fall_back_day_the_digest_goes_out_once_at_the_first_of_the_two_local_times():
    # 01:30 in New York happens twice on 1 November 2026: 05:30 UTC (EDT, minute 1050) and 06:30 UTC (EST, minute
    # 1110). EventBridge Scheduler runs a cron once then; the next day 01:30 EST is 06:30 UTC (minute 2550).
    assert when(digests("digest-fall-back.json")) == [
        (1050, "email"),
        (1050, "slack"),
        (2550, "email"),
        (2550, "slack"),
    ]


def test_on_a_spring_forward_day_whose_time_does_not_exist_no_digest_goes_out():
    # 02:30 does not exist in New York on 8 March 2026; the next day's 02:30 EDT is 06:30 UTC (minute 2550).
    assert when(digests("digest-spring-forward.json")) == [(2550, "email"), (2550, "slack")]


def test_a_job_over_before_the_watch_began_is_never_named_one_that_ended_after_is():
    lines = digests("digest-baseline.json")
    assert when(lines) == [(60, "email"), (60, "slack")]
    email = next(n for n in lines if n["channel"] == "email")
    slack = next(n for n in lines if n["channel"] == "slack")
    for text in (email["message"], slack_text(slack)):
        assert "finishes-after" in text and "still-running" in text
        assert "finished-before" not in text and "failed-before" not in text
    assert "Ended in the last 24 hours (1)" in email["message"]
    assert email["subject"] == "[gtwatch] Daily digest: 0 stalled, 1 active, 1 ended in 24 h"


def test_a_day_with_no_job_to_name_and_a_healthy_watcher_sends_nothing():
    # Two days, two 09:00s: only jobs that were over at the baseline, which no digest names.
    assert digests("digest-quiet-day.json") == []


def test_a_day_with_no_job_to_name_still_gets_a_digest_when_the_regions_runs_are_failing():
    # SageMaker throttles every call from 08:50: the runs at 08:50, 08:55 and 09:00 fail. The digest says so; once
    # the runs work again (09:05) the next day would be quiet.
    lines = digests("digest-failing-runs.json")
    assert when(lines) == [(60, "email"), (60, "slack")]
    email = next(n for n in lines if n["channel"] == "email")
    assert "us-east-1: last complete run 2026-05-04 08:45 UTC, 15 min ago (LATE" in email["message"]
    assert "finished-before" not in email["message"]
    assert "Stalled" not in email["message"] and "Active" not in email["message"]
    assert "LATE" in slack_text(next(n for n in lines if n["channel"] == "slack"))


def test_a_digest_due_during_a_slack_outage_arrives_once_soon_after_slack_answers_again():
    # Slack answers HTTP 500 from 08:30 to 12:20 (minutes 30-260). Email is not held; Slack gets the 09:00 digest
    # within 30 minutes after the outage, once, as Slack's notifier retries any message.
    lines = digests("digest-slack-outage.json")
    email = [n["minute"] for n in lines if n["channel"] == "email"]
    slack = [n["minute"] for n in lines if n["channel"] == "slack"]
    assert email == [60]
    assert len(slack) == 1 and 260 <= slack[0] <= 290
    assert "receipts" in slack_text(next(n for n in lines if n["channel"] == "slack"))


def test_in_app_mode_a_digest_due_during_a_slack_outage_arrives_once_in_its_channel_after_it():
    lines = digests("digest-slack-outage-app.json")
    slack = [n for n in lines if n["channel"] == "slack"]
    assert [n["minute"] for n in lines if n["channel"] == "email"] == [60]
    assert [(n["destination"], n["action"]) for n in slack] == [("#labeling-digest", "post")]
    assert 260 <= slack[0]["minute"] <= 290


def test_in_app_mode_a_digest_whose_answer_was_lost_is_found_not_posted_twice():
    lines = digests("digest-lost-answer-app.json")
    # The destination is the digest's channel as configured, by its ID.
    assert [(n["minute"], n["destination"], n["action"]) for n in lines] == [(60, "C0DIGEST01", "post")]
