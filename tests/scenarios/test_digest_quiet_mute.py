"""Version 2 of the scenario contract: mutes (and, as they land, the digest and quiet hours)."""

from __future__ import annotations

from pathlib import Path

from gtwatch.sim import replay, scenario

DATA = Path(__file__).parent / "data"


def heard(name: str) -> list[tuple[int, str, str, str]]:
    result = replay.run(scenario.load(DATA / name))
    return sorted((n["minute"], n["channel"], n["type"], n["job"]) for n in result.notifications)


def both(minute: int, kind: str, job: str) -> list[tuple[int, str, str, str]]:
    return [(minute, "email", kind, job), (minute, "slack", kind, job)]


def test_a_mute_drops_only_what_it_names_for_the_job_it_names_until_it_ends():
    assert heard("mute.json") == sorted(
        # noisy-job's stalls and recovery while muted are dropped; its failure is not a muted type.
        both(120, "failed", "noisy-job")
        # other-job is not muted: every one of its notifications arrives.
        + both(30, "stalled", "other-job")
        + both(60, "resumed", "other-job")
        + both(90, "stalled", "other-job")
        + both(170, "completed", "other-job")
    )


def test_quiet_hours_hold_slack_until_the_window_ends_across_a_daylight_saving_night_and_a_failure_releases():
    result = replay.run(scenario.load(DATA / "quiet-hours.json"))
    slack = [(n["minute"], n["type"], n["job"]) for n in result.notifications if n["channel"] == "slack"]
    email = [(n["minute"], n["type"], n["job"]) for n in result.notifications if n["channel"] == "email"]
    # Before 20:00 in Paris (minute 120) nothing is held.
    assert (60, "stalled", "night-owl") in slack and (70, "stalled", "early-bird") in slack
    # In the window, email (not a quiet channel) goes at once...
    assert (300, "resumed", "night-owl") in email and (400, "completed", "night-owl") in email
    # ...and Slack gets the held ones at 08:00 Paris time: after the clocks went forward, 06:00 UTC, minute 780,
    # in the order they were decided.
    assert [item for item in slack if item[2] == "night-owl" and item[0] > 120] == [
        (780, "resumed", "night-owl"),
        (780, "stalled", "night-owl"),
        (780, "completed", "night-owl"),
    ]
    # A failure (not held) goes at once, and releases the job's held stall just before it.
    assert [item for item in slack if item[2] == "fragile"] == [(450, "stalled", "fragile"), (450, "failed", "fragile")]
    assert (500, "failed", "early-bird") in slack
