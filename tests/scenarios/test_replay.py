"""Scenario tests: `gtwatch replay` keeps the promises of the scenario contract."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from gtwatch.sim import replay, scenario

DATA = Path(__file__).parent / "data"


def run(name_or_raw: str | dict[str, Any], mode: str = "inprocess") -> replay.ReplayResult:
    if isinstance(name_or_raw, str):
        return replay.run(scenario.load(DATA / name_or_raw), mode=mode)  # type: ignore[arg-type]
    return replay.run(scenario.parse(name_or_raw), mode=mode)  # type: ignore[arg-type]


def heard(result: replay.ReplayResult) -> list[tuple[int, str, str, str]]:
    return sorted((n["minute"], n["channel"], n["type"], n["job"]) for n in result.notifications)


def both(minute: int, event: str, job: str) -> list[tuple[int, str, str, str]]:
    return [(minute, "email", event, job), (minute, "slack", event, job)]


def slack_text(notification: dict[str, Any]) -> str:
    return json.dumps(notification["payload"], ensure_ascii=False)


@pytest.mark.parametrize("mode", ["inprocess", "server"])
def test_lifecycle_prints_exactly_its_four_notifications(mode):
    result = run("lifecycle.json", mode)
    assert heard(result) == both(35, "completed", "cats-v1") + both(45, "failed", "dogs-v1")

    by_key = {(n["channel"], n["job"]): n for n in result.notifications}
    completed_mail = by_key["email", "cats-v1"]
    assert completed_mail["subject"] == "[gtwatch] Completed: cats-v1 (us-east-1)"
    assert completed_mail["status"] == "Completed"
    assert "s3://labels/cats-v1/manifests/output/output.manifest" in completed_mail["message"]
    assert "100.0% done (500 of 500 objects)" in completed_mail["message"]
    failed_mail = by_key["email", "dogs-v1"]
    assert "ClientError: the manifest <s3://in/dogs.manifest> has 0 objects & no labels" in failed_mail["message"]
    assert "Ran for:" in completed_mail["message"] and "Remaining:" not in completed_mail["message"]
    failed_slack = slack_text(by_key["slack", "dogs-v1"])
    assert "the manifest &lt;s3://in/dogs.manifest&gt; has 0 objects &amp; no labels" in failed_slack
    assert "has 0 objects &amp; no labels" in by_key["slack", "dogs-v1"]["payload"]["text"]
    assert "<s3://in/dogs.manifest>" not in failed_slack
    assert "#/labeling-jobs/details/dogs-v1" in failed_slack


def test_stall_and_resume_prints_its_six_notifications():
    result = run("stall-and-resume.json")
    assert heard(result) == both(70, "stalled", "birds") + both(150, "resumed", "birds") + both(
        200, "completed", "birds"
    )


def test_jobs_created_and_finished_between_two_ticks_are_notified():
    result = run("between-ticks.json")
    assert heard(result) == both(20, "completed", "flash-job") + both(40, "failed", "flash-fail") + both(
        50, "stopped", "flash-stop"
    )


def test_a_hostile_failure_reason_cannot_ping_or_link_and_non_ascii_survives():
    result = run("hostile-failure-reason.json")
    assert heard(result) == both(10, "failed", "evil-job")
    slack = next(n for n in result.notifications if n["channel"] == "slack")
    text = slack_text(slack)
    for forbidden in ("<!channel>", "<!here>", "<@U024BE7LH>", "<https://evil.example/login|", "<b>"):
        assert forbidden not in text
    assert "&lt;!channel&gt;" in text and "&amp;amp;" in text
    assert "naïve café — 失败しました 🚨" in text
    mail = next(n for n in result.notifications if n["channel"] == "email")
    assert mail["subject"] == "[gtwatch] Failed: evil-job (us-east-1)"
    assert mail["subject"].isascii()
    assert "naïve café — 失败しました 🚨" in mail["message"]


def test_a_63_character_job_name_fits_the_subject_and_the_link():
    result = run("long-name.json")
    name = "a" + "-b" * 30 + "cd"
    assert heard(result) == both(15, "stopped", name)
    mail = next(n for n in result.notifications if n["channel"] == "email")
    assert len(mail["subject"]) < 100 and "\n" not in mail["subject"] and mail["subject"].isascii()
    assert name in mail["subject"]
    assert f"#/labeling-jobs/details/{name}" in mail["message"]


def test_a_thousand_jobs_across_many_pages_cost_a_steady_run_a_handful_of_calls():
    history = [
        {"at_minute": 0, "create": {"name": f"old-{i:04d}", "status": status}}
        for i, status in enumerate(["Completed", "Failed", "Stopped"] * 340)
    ]
    active = [
        {"at_minute": 0, "create": {"name": f"live-{i:03d}", "status": "InProgress", "counters": {"Unlabeled": 10}}}
        for i in range(120)
    ]
    finish = [{"at_minute": 23, "update": {"name": f"live-{i:03d}", "status": "Completed"}} for i in range(3)]
    result = run({"start": "2026-03-01T00:00:00Z", "duration_minutes": 45, "steps": history + active + finish})

    assert heard(result) == sorted(
        both(25, "completed", "live-000") + both(25, "completed", "live-001") + both(25, "completed", "live-002")
    )
    ticks = {tick["minute"]: tick for tick in result.ticks}
    # Baseline: the three active-status listings (120 active: 2 pages of InProgress) plus the recent window.
    assert ticks[0]["sagemaker_calls"] < 20
    # Steady: 2 pages of InProgress jobs (120) and 1 for the creation window; none for the 1,020 finished jobs.
    assert ticks[20]["sagemaker_calls"] == 3
    assert ticks[20]["dynamodb_writes"] == 1  # Only the run record: nothing changed.
    # The tick that sees three jobs finish describes them (they left the InProgress listing): 3 + 3.
    assert ticks[25]["sagemaker_calls"] == 6
    assert ticks[25]["sns_publishes"] == 3


def test_the_cli_prints_json_lines_on_stdout_and_logs_on_stderr():
    completed = subprocess.run(
        [sys.executable, "-m", "gtwatch.cli", "replay", str(DATA / "lifecycle.json")],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, replay.LOG_LEVEL_VARIABLE: "INFO"},
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    lines = [json.loads(line) for line in completed.stdout.splitlines()]
    assert [line.get("type") for line in lines[:-1]] == ["completed", "completed", "failed", "failed"]
    assert lines[-1]["summary"] is True and len(lines[-1]["ticks"]) == 25
    assert "Run done" in completed.stderr


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"steps": []}, "start: Field required"),
        ({"start": "2026-01-05T09:00:00"}, "start: Value error, start needs a time zone"),
        ({"start": "2026-01-05T09:00:00Z", "tick_minutes": 0}, "tick_minutes"),
        ({"start": "2026-01-05T09:00:00Z", "config": {"slack_events": ["done"]}}, "config.slack_events[0]"),
        ({"start": "2026-01-05T09:00:00Z", "config": {"colour": "red"}}, "config.colour: is not a known field"),
        (
            {"start": "2026-01-05T09:00:00Z", "steps": [{"at_minute": 0, "create": {"name": "bad_name!"}}]},
            "steps[0].create.name",
        ),
        (
            {"start": "2026-01-05T09:00:00Z", "steps": [{"at_minute": 0, "create": {"name": "x", "status": "Done"}}]},
            "steps[0].create.status",
        ),
        (
            {"start": "2026-01-05T09:00:00Z", "steps": [{"at_minute": -1, "update": {"name": "x"}}]},
            "steps[0].at_minute",
        ),
        ({"start": "2026-01-05T09:00:00Z", "steps": [{"at_minute": 1}]}, "steps[0]: a step holds exactly one"),
    ],
)
def test_an_invalid_scenario_exits_2_naming_the_field(tmp_path, capsys, raw, message):
    from gtwatch.cli import main

    path = tmp_path / "bad.json"
    path.write_text(json.dumps(raw))
    assert main(["replay", str(path)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert message.removeprefix("start: Value error, ") in captured.err


def test_a_file_that_is_not_json_exits_2(tmp_path, capsys):
    from gtwatch.cli import main

    path = tmp_path / "bad.json"
    path.write_text("{not json")
    assert main(["replay", str(path)]) == 2
    assert "not valid JSON" in capsys.readouterr().err


def test_a_step_for_an_unknown_job_exits_2_naming_the_step(tmp_path, capsys):
    from gtwatch.cli import main

    path = tmp_path / "unknown.json"
    path.write_text(
        json.dumps({"start": "2026-01-05T09:00:00Z", "steps": [{"at_minute": 3, "update": {"name": "nope"}}]})
    )
    assert main(["replay", str(path)]) == 2
    assert "steps[0].update.name: 'nope' is not a job created by an earlier step" in capsys.readouterr().err


@pytest.fixture(scope="module")
def demo_text() -> str:
    from io import StringIO

    from gtwatch.sim import demo

    out = StringIO()
    demo.show(out=out)
    return out.getvalue()


def _between(text: str, start: str, end: str) -> str:
    return text[text.index(start) : text.index(end, text.index(start))]


def _normalized(text: str) -> list[str]:
    return [" ".join(line.split()) for line in text.splitlines()]  # column widths do not matter


def test_the_demo_shows_a_day_of_notifications_for_a_person(demo_text):
    text = demo_text
    lines = _normalized(text)
    # The day, call by call: a job's first message is its card, later ones reply in its thread and update the card.
    for expected in (
        "Monday 2 March",
        "11:30 Slack #labeling post ⏳ lidar-frames-3d: stalled",
        "12:30 Slack #labeling reply ▶️ lidar-frames-3d: resumed",
        "12:30 Slack #labeling update lidar-frames-3d's card now shows In progress again",
        "13:00 Slack #labeling reply ❌ medical-notes-ner: failed (also shown in the channel)",
        "13:00 Slack #ml-oncall post ❌ medical-notes-ner: failed, mentioning @ml-oncall",
        "13:00 Email Subject: [gtwatch] Failed: medical-notes-ner (us-east-1)",
    ):
        assert expected in lines, expected
    # Each channel as a person sees it: one card per job at its latest state, the thread under it.
    labeling = _between(text, "\n#labeling\n", "\n#ml-oncall\n")
    for expected in (
        "┌ lidar-frames-3d: ✅ Completed · 100.0% done (300 of 300 objects)",
        "│  ↳ 12:30 ▶️ resumed: 23.3% done (70 of 300 objects)",
        "┌ product-photos-classify: 🛑 Stopped",
        "┌ medical-notes-ner: ❌ Failed · 32.8% done (263 of 800 objects)",
        "(also shown in #labeling)",
        "┌ street-signs-bbox: ✅ Completed · 100.0% done (2,400 of 2,400 objects)",
        "┌ receipts-ocr: ❌ Failed · 40.0% done (600 of 1,500 objects)",
        "┌ satellite-tiles-seg: ⏳ Stalled · 37.5% done (900 of 2,400 objects)",
    ):
        assert expected in labeling, expected
    assert labeling.count("┌ ") == 6  # one card per job that had something to say, never a second one
    assert "daily digest" not in labeling  # the digest is a message of its own, not a job's card
    assert "@ml-oncall" not in labeling  # only the on-call route mentions anyone
    oncall = _between(text, "\n#ml-oncall\n", "\nThe first failure")
    assert "┌ @ml-oncall medical-notes-ner: ❌ Failed" in oncall and "┌ @ml-oncall receipts-ocr: ❌ Failed" in oncall
    assert oncall.count("┌ ") == 2
    assert "<!channel> expected" in text  # The failure reason is shown as text: it never became a mention.
    assert "@channel" not in text
    # street-signs-pilot finished as the watcher was deployed: silent then (the baseline), and never watched, so no
    # digest names it either.
    timeline = _between(text, "as they happened", "\nThe Slack channels")
    assert "street-signs-pilot" not in timeline and "street-signs-pilot" not in labeling
    assert "street-signs-pilot" not in _between(text, "The daily digest of", "Sent by gtwatch at")


def test_the_demo_night_holds_slack_for_quiet_hours_and_a_failure_releases_its_job_first(demo_text):
    lines = _normalized(_between(demo_text, "as they happened", "\nThe Slack channels"))
    begin = lines.index(
        "20:00 Quiet hours begin (20:00 Europe/London): Slack holds completed, stopped, stalled, resumed"
    )
    end = lines.index("08:00 Quiet hours end (08:00 Europe/London): the held Slack messages go out, in order")
    night = lines[begin:end]
    assert "Tuesday 3 March" in night
    # Email is not a quiet channel: the night's news goes out by email at once...
    for expected in (
        "20:30 Email Subject: [gtwatch] Stalled: lidar-frames-3d (us-east-1)",
        "23:15 Email Subject: [gtwatch] Stalled: receipts-ocr (us-east-1)",
        "01:45 Email Subject: [gtwatch] Resumed: lidar-frames-3d (us-east-1)",
        "03:37 Email Subject: [gtwatch] Failed: receipts-ocr (us-east-1)",
        "05:30 Email Subject: [gtwatch] Completed: lidar-frames-3d (us-east-1)",
        "05:45 Email Subject: [gtwatch] Stalled: satellite-tiles-seg (us-east-1)",
    ):
        assert expected in night, expected
    # ...while Slack hears nothing at night but the failure, which goes at once and releases its job's stall first.
    assert [line for line in night if line[6:].startswith("Slack ")] == [
        "03:37 Slack #labeling post ⏳ receipts-ocr: stalled · held for quiet hours since 23:15, "
        "sent just before its failure",
        "03:37 Slack #labeling reply ❌ receipts-ocr: failed (also shown in the channel)",
        "03:37 Slack #labeling update receipts-ocr's card now shows Failed",
        "03:37 Slack #ml-oncall post ❌ receipts-ocr: failed, mentioning @ml-oncall",
    ]
    # At 08:00 the held messages go out in the order they were decided, each saying since when it waited.
    morning = [line for line in lines[end:] if line.startswith("08:00 Slack") and " update " not in line]
    assert [line.removeprefix("08:00 Slack #labeling ") for line in morning] == [
        "reply ⏳ lidar-frames-3d: stalled · held for quiet hours since 20:30, delivered 08:00",
        "reply ▶️ lidar-frames-3d: resumed · held for quiet hours since 01:45, delivered 08:00",
        "reply ✅ lidar-frames-3d: completed · held for quiet hours since 05:30, delivered 08:00",
        "post ⏳ satellite-tiles-seg: stalled · held for quiet hours since 05:45, delivered 08:00",
    ]
    # The channel shows the same: the thread in order, the night's card posted when the window ended.
    labeling = _between(demo_text, "\n#labeling\n", "\n#ml-oncall\n")
    lidar_thread = [line for line in _normalized(labeling) if line.startswith("│ ↳ 08:00")]
    assert [line.split(":")[1].split()[-1] for line in lidar_thread] == ["stalled", "resumed", "completed"]
    assert all(line.endswith("delivered 08:00)") for line in lidar_thread)
    assert "posted 08:00 (held for quiet hours since 05:45, delivered 08:00)" in labeling
    assert "posted 03:37 (held for quiet hours since 23:15, sent just before its failure)" in labeling
    assert "5 Slack messages waited for quiet hours" in demo_text


def test_the_demo_mutes_a_job_and_the_morning_digest_lists_stalled_active_and_ended_jobs_and_health(demo_text):
    timeline = _between(demo_text, "as they happened", "\nThe Slack channels")
    lines = _normalized(timeline)
    # The mute: nothing about support-chat-intent is sent after it (it stopped at 17:30: no stall at 18:30).
    mute = "17:40 Mute $ gtwatch mute support-chat-intent --until 2026-03-03T10:00Z --events stalled,resumed"
    assert any(line.startswith(mute) for line in lines)
    assert not [line for line in lines if "support-chat-intent" in line and " Mute " not in line]
    # The digest goes out at 09:00 London time to Slack #labeling and by email; quiet hours never hold it.
    counts = "1 stalled, 1 active, 5 ended in 24 h"
    assert f"09:00 Slack #labeling post 📋 gtwatch daily digest: {counts}" in lines
    assert f"09:00 Email Subject: [gtwatch] Daily digest: {counts}" in lines
    # Slack's blocks as a person reads them: stalled jobs first, then active ones with rate and ETA, then ended ones.
    # (A line too long for the terminal goes on indented below it.)
    slack = re.sub(r"\n│ {7}(?=\S)", " ", _between(demo_text, "In Slack, #labeling, posted 09:00:", "\nBy email"))
    order = [
        "┌ gtwatch daily digest",
        "│ Tuesday 03 March 2026, 09:00 Europe/London",
        "│ ⏳ Stalled (1)",
        "│   • satellite-tiles-seg (us-east-1): 37.5% done (900 of 2,400 objects) · no progress since",
        "│ ▶️ Active (1)",
        "│   • support-chat-intent (muted) (us-east-1):",
        "│ 🏁 Ended in the last 24 hours (5)",
        "│ Watcher health",
        "│     us-east-1: last complete run 2026-03-03 09:00 UTC, 0 min ago",
    ]
    positions = [slack.index(part) for part in order]
    assert positions == sorted(positions)
    active = _between(slack, "• support-chat-intent", "🏁")
    assert "objects/hour; ETA 2026-03-" in active and "muted until 2026-03-03 10:00 UTC" in active
    # The email's plain-text tables: every watched job, each in its group, with its facts.
    mail = _normalized(_between(demo_text, "By email, sent 09:00:", "Sent by gtwatch at 2026-03-03 09:00 UTC."))
    groups = ["Stalled (1)", "Active (1)", "Ended in the last 24 hours (5)", "Watcher health"]
    assert [line for line in mail if line in groups] == groups
    assert "Job Region Progress Rate ETA" in mail
    for row in (
        "satellite-tiles-seg us-east-1 37.5% done (900 of 2,400 objects) 2026-03-03 04:45 UTC (4 h 15 min)",
        "street-signs-bbox us-east-1 Completed 2026-03-02 13:52 UTC 100.0% done (2,400 of 2,400 objects)",
        "medical-notes-ner us-east-1 Failed 2026-03-02 12:47 UTC 32.8% done (263 of 800 objects)",
        "receipts-ocr us-east-1 Failed 2026-03-03 03:37 UTC 40.0% done (600 of 1,500 objects)",
        "lidar-frames-3d us-east-1 Completed 2026-03-03 05:30 UTC 100.0% done (300 of 300 objects)",
    ):
        assert row in mail, row
    assert any(line.startswith("support-chat-intent (muted) us-east-1 ") and "objects/hour" in line for line in mail)
    for job in ("product-photos-classify", "street-signs-bbox"):
        assert any(line.startswith(f"{job} us-east-1 ") for line in mail), job


def test_several_stall_episodes_of_one_job_with_ticks_that_do_not_divide_the_threshold():
    result = run("stall-episodes.json")  # 10-minute ticks, stall after 45 minutes
    moose = [
        (50, "stalled"),  # stuck Initializing since the baseline at 0: first run at or past 45
        (60, "resumed"),  # InProgress
        (150, "stalled"),  # counters last moved at 95, first seen at 100: 100 + 45 -> the run at 150
        (210, "resumed"),
        (270, "stalled"),  # moved again at 215, seen at 220
        (350, "stalled"),  # Stopping at 300 ended that episode quietly; stuck Stopping is a new one
        (380, "stopped"),
    ]
    expected = sorted((minute, channel, event, "moose") for minute, event in moose for channel in ("email", "slack"))
    assert heard(result) == expected  # The streaming job waiting for data never stalls.


def test_a_name_filter_combined_with_per_channel_routing():
    result = run("filter-and-routing.json")
    slack = [(n["minute"], n["type"], n["job"]) for n in result.notifications if n["channel"] == "slack"]
    email = [(n["minute"], n["type"], n["job"]) for n in result.notifications if n["channel"] == "email"]
    assert slack == [
        (30, "stalled", "PROD-dogs"),
        (45, "stalled", "prod-cats"),
        (60, "resumed", "prod-cats"),
        (70, "completed", "prod-cats"),
        (90, "failed", "PROD-dogs"),
    ]
    assert email == [(30, "stalled", "PROD-dogs"), (45, "stalled", "prod-cats"), (90, "failed", "PROD-dogs")]
    stalled_mail = next(n for n in result.notifications if n["channel"] == "email" and n["job"] == "prod-cats")
    assert "Stalled:        No progress since 08:15 UTC (30 min)" in stalled_mail["message"]
    assert "Rate:           none" in stalled_mail["message"]
    assert "objects/hour" not in stalled_mail["message"] and "ETA" not in stalled_mail["message"]
    assert "40.0% done (20 of 50 objects)" in stalled_mail["message"]
    assert stalled_mail["message"].endswith("\nref: us-east-1:prod-cats:stalled:2026-03-01T08:15:00.000Z#1\n")
