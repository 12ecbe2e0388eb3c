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


def test_the_demo_shows_a_day_of_every_kind_of_job_for_a_person(demo_text):
    text = demo_text
    lines = _normalized(text)
    # The introduction names the day's jobs by kind, each kind with its stall rule.
    for expected in (
        "Labeling jobs: support-chat-intent, lidar-frames-3d; stalled after 60 min with no object labeled",
        "Processing jobs: embeddings-backfill, churn-features-0302; stalled after 30 min with no new log line",
        "Tuning job: ranker-hpo-0302; stalled after 120 min with no change in its training jobs",
        "Pipeline execution: churn-retrain-0302; an execution never stalls (its steps' jobs can)",
    ):
        assert expected in lines, expected
    assert "labeling jobs on the local emulator" not in text
    # The day, call by call, each message naming its job's kind: a job's first message is its card, later ones reply
    # in its thread and update the card; failures of every kind also go to the on-call channel.
    timeline = _normalized(_between(text, "as they happened", "\nThe Slack channels"))
    day = timeline[: timeline.index("Tuesday 3 March")]
    assert [line for line in day if line[6:].startswith(("Slack ", "Email "))] == [
        "11:30 Email Subject: [gtwatch] Stalled: lidar-frames-3d (us-east-1)",
        "11:30 Slack #ml-jobs post ⏳ Labeling job lidar-frames-3d: stalled",
        "12:30 Email Subject: [gtwatch] Resumed: lidar-frames-3d (us-east-1)",
        "12:30 Slack #ml-jobs reply ▶️ Labeling job lidar-frames-3d: resumed",
        "12:30 Slack #ml-jobs update lidar-frames-3d's card now shows In progress again",
        "13:07 Email Subject: [gtwatch] Failed: Processing job embeddings-backfill (us-east-1)",
        "13:07 Slack #ml-jobs post ❌ Processing job embeddings-backfill: failed",
        "13:07 Slack #ml-oncall post ❌ Processing job embeddings-backfill: failed, mentioning @ml-oncall",
        "20:30 Email Subject: [gtwatch] Stalled: lidar-frames-3d (us-east-1)",
        "22:45 Email Subject: [gtwatch] Completed: Processing job churn-features-0302 (us-east-1)",
        "22:45 Email Subject: [gtwatch] Completed: Tuning job ranker-hpo-0302 (us-east-1)",
    ]
    # Each channel as a person sees it: one card per job at its latest state, with what its kind lets one know.
    channel = _between(text, "\n#ml-jobs\n", "\n#ml-oncall\n")
    for expected in (
        "┌ Labeling job lidar-frames-3d: ✅ Completed · 100.0% done (300 of 300 objects)",
        "│  ↳ 12:30 ▶️ resumed: 23.3% done (70 of 300 objects)",
        "┌ Processing job embeddings-backfill: ❌ Failed\n│ Ended 2026-03-02 13:07 UTC after 2 h 37 min\n"
        "│ Failure reason: AlgorithmError: See job logs for more information\n"
        "│ Exit message: MemoryError: Unable to allocate 3.2 GiB for shard 41 of 64 <!channel> retry on",
        "┌ Training job churn-train-0302: ❌ Failed\n"
        "│ Secondary status: MaxRuntimeExceeded · Run time: Ran 4 h of 4 h max\n│ Ended 2026-03-03 02:40 UTC\n"
        "│ Failure reason: MaxRuntimeExceeded: Training job runtime exceeded MaxRuntimeInSeconds provided",
        "┌ Pipeline execution churn-retrain-0302: ❌ Failed\n"
        "│ Pipeline: churn-retrain · Failed step: Train · Step's job: Training job churn-train-0302\n"
        "│ Ended 2026-03-03 02:41 UTC after 4 h 41 min\n"
        "│ Step failure reason: ClientError: Training job churn-train-0302 failed: MaxRuntimeExceeded",
        "┌ Processing job churn-features-0302: ✅ Completed\n│ Ended 2026-03-02 22:38 UTC after 38 min",
        "┌ Tuning job ranker-hpo-0302: ✅ Completed · 24 of 24 training jobs done\n"
        "│ Best job: ranker-hpo-0302-019-4c1e9a2b (validation:ndcg@10 = 0.8123)\n"
        "│ Ended 2026-03-02 22:40 UTC after 12 h 25 min",
    ):
        assert expected in channel, expected
    assert channel.count("┌ ") == 6  # one card per job that had something to say, never a second one
    assert "daily digest" not in channel  # the digest is a message of its own, not a job's card
    assert "@ml-oncall" not in channel  # only the on-call route mentions anyone
    oncall = _between(text, "\n#ml-oncall\n", "\nThe first stall")
    assert [line for line in oncall.splitlines() if line.startswith("┌ ")] == [
        "┌ @ml-oncall Processing job embeddings-backfill: ❌ Failed",
        "┌ @ml-oncall Training job churn-train-0302: ❌ Failed",
        "┌ @ml-oncall Pipeline execution churn-retrain-0302: ❌ Failed",
    ]
    assert "<!channel> retry on" in text  # The exit message is shown as text: it never became a mention.
    assert "@channel" not in text
    # churn-train-0301 finished as the watcher was deployed: silent then (the baseline), and never watched, so no
    # digest names it either.
    assert "churn-train-0301" not in _between(text, "as they happened", "Sent by gtwatch at 2026-03-03 09:00 UTC.")
    assert "12 emails and 20 Slack calls (10 posts, 5 replies, 5 updates); 6 Slack messages waited" in text


def test_the_demo_s_hung_training_job_is_announced_as_stalled_from_its_log_and_secondary_status(demo_text):
    # Its last log line (23:36) was read at 23:45; 30 minutes later, with SecondaryStatus still Training, it stalled.
    mail = _normalized(_between(demo_text, "The first stall of a training job", "The first failure"))
    for expected in (
        "Subject: [gtwatch] Stalled: Training job churn-train-0302 (us-east-1)",
        "Training job churn-train-0302 is stalled.",
        "Status: InProgress",
        "Secondary status: Training",
        "Run time: Running 1 h 35 min of 4 h max",
        "Stalled: No new log line and no status change since 2026-03-02 23:45 UTC (30 min)",
        "Sent by gtwatch at 2026-03-03 00:15 UTC.",
    ):
        assert expected in mail, expected
    assert any(line.startswith("Logs: https://us-east-1.console.aws.amazon.com/cloudwatch/") for line in mail)
    # The first failure shown in full is another job's: the processing job's, with its exit message.
    failure = _normalized(_between(demo_text, "The first failure, Processing job embeddings-backfill,", "The daily"))
    assert "Subject: [gtwatch] Failed: Processing job embeddings-backfill (us-east-1)" in failure
    assert any(line.startswith("Exit message: MemoryError: Unable to allocate 3.2 GiB") for line in failure)


def test_the_demo_night_holds_slack_for_quiet_hours_and_a_failure_releases_its_job_first(demo_text):
    lines = _normalized(_between(demo_text, "as they happened", "\nThe Slack channels"))
    begin = lines.index(
        "20:00 Quiet hours begin (20:00 Europe/London): Slack holds completed, stopped, stalled, resumed"
    )
    end = lines.index("08:00 Quiet hours end (08:00 Europe/London): the held Slack messages go out, in order")
    night = lines[begin:end]
    assert "Tuesday 3 March" in night
    # Email is not a quiet channel: the night's news goes out by email at once...
    assert [line for line in night if line[6:].startswith("Email ")] == [
        "20:30 Email Subject: [gtwatch] Stalled: lidar-frames-3d (us-east-1)",
        "22:45 Email Subject: [gtwatch] Completed: Processing job churn-features-0302 (us-east-1)",
        "22:45 Email Subject: [gtwatch] Completed: Tuning job ranker-hpo-0302 (us-east-1)",
        "00:15 Email Subject: [gtwatch] Stalled: Training job churn-train-0302 (us-east-1)",
        "01:45 Email Subject: [gtwatch] Resumed: lidar-frames-3d (us-east-1)",
        "02:40 Email Subject: [gtwatch] Failed: Training job churn-train-0302 (us-east-1)",
        "02:41 Email Subject: [gtwatch] Failed: Pipeline execution churn-retrain-0302 (us-east-1)",
        "05:30 Email Subject: [gtwatch] Completed: lidar-frames-3d (us-east-1)",
    ]
    # ...while Slack hears nothing at night but the failures (the state change events' minute), and the hung training
    # job's failure releases its held stall first; the pipeline that ran it fails at its Train step a minute later.
    assert [line for line in night if line[6:].startswith("Slack ")] == [
        "02:40 Slack #ml-jobs post ⏳ Training job churn-train-0302: stalled · held for quiet hours since 00:15, "
        "sent just before its failure",
        "02:40 Slack #ml-jobs reply ❌ Training job churn-train-0302: failed (also shown in the channel)",
        "02:40 Slack #ml-jobs update churn-train-0302's card now shows Failed",
        "02:40 Slack #ml-oncall post ❌ Training job churn-train-0302: failed, mentioning @ml-oncall",
        "02:41 Slack #ml-jobs post ❌ Pipeline execution churn-retrain-0302: failed",
        "02:41 Slack #ml-oncall post ❌ Pipeline execution churn-retrain-0302: failed, mentioning @ml-oncall",
    ]
    # At 08:00 the held messages go out in the order they were decided, each saying since when it waited.
    morning = [line for line in lines[end:] if line.startswith("08:00 Slack") and " update " not in line]
    assert [line.removeprefix("08:00 Slack #ml-jobs ") for line in morning] == [
        "reply ⏳ Labeling job lidar-frames-3d: stalled · held for quiet hours since 20:30, delivered 08:00",
        "reply ▶️ Labeling job lidar-frames-3d: resumed · held for quiet hours since 01:45, delivered 08:00",
        "reply ✅ Labeling job lidar-frames-3d: completed · held for quiet hours since 05:30, delivered 08:00",
        "post ✅ Processing job churn-features-0302: completed · held for quiet hours since 22:45, delivered 08:00",
        "post ✅ Tuning job ranker-hpo-0302: completed · held for quiet hours since 22:45, delivered 08:00",
    ]
    # The channel shows the same: the thread in order, the night's cards posted when the window ended.
    channel = _between(demo_text, "\n#ml-jobs\n", "\n#ml-oncall\n")
    lidar_thread = [line for line in _normalized(channel) if line.startswith("│ ↳ 08:00")]
    assert [line.split(":")[1].split()[-1] for line in lidar_thread] == ["stalled", "resumed", "completed"]
    assert all(line.endswith("delivered 08:00)") for line in lidar_thread)
    assert channel.count("posted 08:00 (held for quiet hours since 22:45, delivered 08:00)") == 2
    assert "posted 02:40 (held for quiet hours since 00:15, sent just before its failure)" in channel
    assert "6 Slack messages waited for quiet hours" in demo_text


def test_the_demo_mutes_a_job_and_the_morning_digest_lists_active_and_ended_jobs_of_every_kind_and_health(demo_text):
    timeline = _between(demo_text, "as they happened", "\nThe Slack channels")
    lines = _normalized(timeline)
    # The mute: nothing about support-chat-intent is sent after it (it stopped at 17:30: no stall at 18:30).
    mute = "17:40 Mute $ gtwatch mute support-chat-intent --until 2026-03-03T10:00Z --events stalled,resumed"
    assert any(line.startswith(mute) for line in lines)
    assert not [line for line in lines if "support-chat-intent" in line and " Mute " not in line]
    # The digest goes out at 09:00 London time to Slack #ml-jobs and by email; quiet hours never hold it.
    counts = "0 stalled, 1 active, 6 ended in 24 h"
    assert f"09:00 Slack #ml-jobs post 📋 gtwatch daily digest: {counts}" in lines
    assert f"09:00 Email Subject: [gtwatch] Daily digest: {counts}" in lines
    # Slack's blocks as a person reads them: active jobs with rate and ETA, then ended ones with their kind, in the
    # order they ended. (A line too long for the terminal goes on indented below it.)
    slack = re.sub(r"\n│ {7}(?=\S)", " ", _between(demo_text, "In Slack, #ml-jobs, posted 09:00:", "\nBy email"))
    order = [
        "┌ gtwatch daily digest",
        "│ Tuesday 03 March 2026, 09:00 Europe/London",
        "│ ▶️ Active (1)",
        "│   • support-chat-intent (muted) (labeling, us-east-1):",
        "│ 🏁 Ended in the last 24 hours (6)",
        "│   • embeddings-backfill (processing, us-east-1): Failed 2026-03-02 13:07 UTC",
        "│   • churn-features-0302 (processing, us-east-1): Completed 2026-03-02 22:38 UTC",
        "│   • ranker-hpo-0302 (tuning, us-east-1): Completed 2026-03-02 22:40 UTC",
        "│   • churn-train-0302 (training, us-east-1): Failed 2026-03-03 02:40 UTC",
        "│   • churn-retrain-0302 (pipeline, us-east-1): Failed 2026-03-03 02:41 UTC",
        "│   • lidar-frames-3d (labeling, us-east-1): 100.0% done (300 of 300 objects) · Completed 2026-03-03 05:30",
        "│ Watcher health",
        "│     us-east-1: last complete run 2026-03-03 09:00 UTC, 0 min ago",
        "│     us-east-1 training: last complete run 2026-03-03 09:00 UTC, 0 min ago",
    ]
    positions = [slack.index(part) for part in order]
    assert positions == sorted(positions)
    assert "Stalled (" not in slack
    active = _between(slack, "• support-chat-intent", "🏁")
    assert "objects/hour; ETA 2026-03-" in active and "muted until 2026-03-03 10:00 UTC" in active
    # The email's plain-text tables: every watched job, each in its group, with its kind and facts.
    mail = _normalized(_between(demo_text, "By email, sent 09:00:", "Sent by gtwatch at 2026-03-03 09:00 UTC."))
    groups = ["Active (1)", "Ended in the last 24 hours (6)", "Watcher health"]
    assert [line for line in mail if line in groups] == groups
    assert "Job Kind Region Outcome Ended Progress" in mail
    for row in (
        "embeddings-backfill processing us-east-1 Failed 2026-03-02 13:07 UTC -",
        "churn-features-0302 processing us-east-1 Completed 2026-03-02 22:38 UTC -",
        "ranker-hpo-0302 tuning us-east-1 Completed 2026-03-02 22:40 UTC -",
        "churn-train-0302 training us-east-1 Failed 2026-03-03 02:40 UTC -",
        "churn-retrain-0302 pipeline us-east-1 Failed 2026-03-03 02:41 UTC -",
        "lidar-frames-3d labeling us-east-1 Completed 2026-03-03 05:30 UTC 100.0% done (300 of 300 objects)",
    ):
        assert row in mail, row
    muted = "support-chat-intent (muted) labeling us-east-1 "
    assert any(line.startswith(muted) and "objects/hour" in line for line in mail)


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
