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


def test_a_mute_may_name_a_job_before_it_exists_and_silences_it_when_it_appears():
    # tonight-batch-7 is muted at minute 0 and created at minute 120; its twin tonight-batch-8 is not muted.
    assert heard("mute-in-advance.json") == sorted(
        both(150, "stalled", "tonight-batch-8")
        + both(200, "resumed", "tonight-batch-8")
        + both(230, "stalled", "tonight-batch-8")
        + both(300, "failed", "tonight-batch-8")
    )


def test_a_later_mute_of_a_job_replaces_the_earlier_one():
    assert heard("mute-replaced.json") == sorted(
        # narrowed: muted for everything, then for completed only: its stalls and recovery arrive, not its end.
        both(30, "stalled", "narrowed")
        + both(60, "resumed", "narrowed")
        + both(90, "stalled", "narrowed")
        # shortened: muted until minute 400, then until minute 25: everything after minute 25 arrives.
        + both(30, "stalled", "shortened")
        + both(60, "resumed", "shortened")
        + both(90, "stalled", "shortened")
        + both(120, "completed", "shortened")
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


def test_the_digest_goes_out_at_nine_paris_time_across_the_daylight_saving_change_naming_the_right_jobs():
    """v2-digest-quiet-mute.json (from the contract): 09:00 Paris is 08:00 UTC on 28 March and 07:00 UTC on the 29th."""
    result = replay.run(scenario.load(DATA / "v2-digest-quiet-mute.json"))
    digests = [n for n in result.notifications if n["type"] == "digest"]
    assert sorted((n["minute"], n["channel"]) for n in digests) == [
        (960, "email"),
        (960, "slack"),
        (2340, "email"),
        (2340, "slack"),
    ]
    assert all(n["job"] is None for n in digests)
    first, second = (next(n for n in digests if n["channel"] == "email" and n["minute"] == m) for m in (960, 2340))
    # Day one: street-signs is stalled (and muted), receipts completed 11 hours before.
    assert "Stalled (1)" in first["message"] and "street-signs (muted)" in first["message"]
    assert "Ended in the last 24 hours (1)" in first["message"] and "receipts" in first["message"]
    # Day two: receipts ended more than 24 hours before and is gone; street-signs failed the evening before.
    assert "receipts" not in second["message"]
    assert "street-signs" in second["message"] and "Failed" in second["message"]
    # Quiet hours held the night's Slack news until 08:00 Paris time (07:00 UTC, minute 900), in order per job.
    # street-signs' held stall and recovery are not among them: it was muted for those at minute 480, and a muted
    # notification is never delivered, even one decided before the mute.
    night = [(n["type"], n["job"]) for n in result.notifications if n["channel"] == "slack" and n["minute"] == 900]
    assert night == [("stalled", "receipts"), ("completed", "receipts")]
    # Email was not quiet: street-signs' first stall and recovery went out at once, before the mute; its second
    # stall (in the mute) on no channel.
    street = [(n["minute"], n["channel"], n["type"]) for n in result.notifications if n["job"] == "street-signs"]
    assert [item for item in street if item[2] in ("stalled", "resumed")] == [
        (180, "email", "stalled"),
        (400, "email", "resumed"),
    ]


def test_a_day_with_nothing_to_report_sends_no_digest(tmp_path):
    raw = {
        "start": "2026-05-04T08:00:00Z",
        "duration_minutes": 120,
        "config": {"digest": {"at": "09:00", "timezone": "UTC", "channels": ["slack", "email"]}},
    }
    assert replay.run(scenario.parse(raw)).notifications == []


def test_a_window_ending_at_a_time_that_does_not_exist_that_night_ends_at_the_jump():
    """quiet-hours-spring-forward.json: 22:00-02:30 in New York on 8 March 2026, when 02:00 EST becomes 03:00 EDT
    (07:00 UTC, minute 300). 02:30 never happens: the first minute outside the window is 03:00 EDT."""
    result = replay.run(scenario.load(DATA / "quiet-hours-spring-forward.json"))
    heard = [(n["minute"], n["channel"], n["type"]) for n in result.notifications]
    # The stall happens at 22:00 EST (minute 60): email (not quiet) at once, Slack at 03:00 EDT, not 03:30.
    assert heard == [(60, "email", "stalled"), (300, "slack", "stalled")]


def test_the_repeated_hour_of_a_fall_back_night_is_inside_the_window_when_its_local_time_is():
    """quiet-hours-fall-back.json: 22:00-01:30 in New York on 1 November 2026, when 02:00 EDT becomes 01:00 EST
    (06:00 UTC, minute 120), so 01:00-01:59 happens twice."""
    result = replay.run(scenario.load(DATA / "quiet-hours-fall-back.json"))
    slack = {n["job"]: n["minute"] for n in result.notifications if n["channel"] == "slack"}
    email = {n["job"]: n["minute"] for n in result.notifications if n["channel"] == "email"}
    assert email == {"first-pass": 60, "between-passes": 95, "repeated-hour": 125}
    # 01:00 EDT: held until the first 01:30 (EDT, minute 90).
    assert slack["first-pass"] == 90
    # 01:35 EDT: outside the window, sent at once.
    assert slack["between-passes"] == 95
    # 01:05 the second time (EST): inside the window again, held until 01:30 EST (06:30 UTC, minute 150).
    assert slack["repeated-hour"] == 150


def test_a_notification_is_dropped_when_its_job_is_muted_at_the_minute_it_happens_or_would_be_delivered():
    """mute-at-either-minute.json: quiet hours 22:00-02:00 London (minute 60 to 300) hold stalls in Slack; Slack is
    down from minute 35 to 200."""
    assert heard("mute-at-either-minute.json") == [
        # late-into-a-mute completes at minute 40: email at once; Slack is down until 200, and the job is muted for
        # completions from minute 100, so Slack never shows it.
        (40, "email", "completed", "late-into-a-mute"),
        # held-then-muted stalls at 22:00 (minute 60): email at once; Slack held until 02:00, when the job is muted
        # (from minute 90): dropped.
        (60, "email", "stalled", "held-then-muted"),
        # muted-when-it-happens stalls at minute 60 inside its mute (30 to 120): dropped on every channel, even
        # though the mute is over by the window's end.
    ]


def test_a_failure_releases_held_email_only_when_the_email_subscriptions_take_failures():
    """quiet-hours-email-events.json: quiet hours 22:00-06:00 London (minute 60 to 540) hold stalls on both
    channels; email takes stalls and completions only. The job stalls at 22:30 (minute 90), fails at 23:30 (150)."""
    assert heard("quiet-hours-email-events.json") == [
        # Slack takes the failure: it goes at once, just after the stall it releases there.
        (150, "slack", "failed", "night-job"),
        (150, "slack", "stalled", "night-job"),
        # Email does not take it: the stall waits there for 06:00.
        (540, "email", "stalled", "night-job"),
    ]
