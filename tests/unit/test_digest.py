"""The digest: who is in it, in which order, and within Slack's limits."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from watcher.domain.diff import WatchRules
from watcher.domain.digest import Digest, Health, build, email_body, email_subject, slack_messages
from watcher.domain.job import JobKind
from watcher.domain.model import JobState, JobStatus, LabelCounters
from watcher.domain.mute_rules import Mute

from gtwatch.sim.slack_endpoint import validate_payload

NOW = datetime(2026, 5, 4, 9, 0, tzinfo=UTC)
RULES = WatchRules(stall_after=timedelta(minutes=60))
HEALTH = Health(last_runs={"us-east-1": NOW - timedelta(minutes=3)}, slack_waiting=0, dead_letters=0)


def state(name: str, status: JobStatus = JobStatus.IN_PROGRESS, **changes: object) -> JobState:
    fields: dict[str, object] = {
        "region": "us-east-1",
        "name": name,
        "status": status,
        "counters": LabelCounters(total_labeled=40, human_labeled=40, unlabeled=60),
        "unchanged_since": NOW - timedelta(minutes=10),
    }
    return JobState(**(fields | changes))  # type: ignore[arg-type]


def test_a_day_with_nothing_to_report_gives_no_digest() -> None:
    old = state("long-done", JobStatus.COMPLETED, ended_at=NOW - timedelta(hours=25))
    assert build(NOW, local_label="today", active=[], ended=[old], mutes={}, health=HEALTH, rules=RULES) is None


def test_stalled_jobs_come_first_then_active_then_those_ended_in_the_last_day() -> None:
    stalled = state("b-stuck", stall_notified_at=NOW - timedelta(minutes=5), unchanged_since=NOW - timedelta(hours=2))
    running = state("a-moving")
    done = state("c-done", JobStatus.FAILED, ended_at=NOW - timedelta(hours=3))
    mutes = {("us-east-1", "b-stuck"): Mute(region="us-east-1", name="b-stuck", until=NOW + timedelta(hours=1))}
    digest = build(
        NOW, local_label="Monday", active=[running, stalled], ended=[done], mutes=mutes, health=HEALTH, rules=RULES
    )
    assert digest is not None
    assert [j.state.name for j in digest.stalled] == ["b-stuck"]
    assert [j.state.name for j in digest.active] == ["a-moving"]
    assert [j.state.name for j in digest.ended] == ["c-done"]
    body = email_body(digest)
    assert body.index("Stalled (1)") < body.index("Active (1)") < body.index("Ended in the last 24 hours (1)")
    assert "b-stuck (muted)" in body
    assert email_subject(digest) == "[gtwatch] Daily digest: 1 stalled, 1 active, 1 ended in 24 h"
    assert email_subject(digest).isascii() and len(email_subject(digest)) < 100


def test_a_big_day_stays_within_slacks_limits_naming_fifty_and_how_many_more() -> None:
    many = [state(f"job-{index:03d}") for index in range(120)]
    digest = build(NOW, local_label="busy", active=many, ended=[], mutes={}, health=HEALTH, rules=RULES)
    assert digest is not None
    (payload,) = slack_messages(digest)
    assert validate_payload(payload) is None
    assert len(payload["blocks"]) <= 50
    text = "\n".join(block["text"]["text"] for block in payload["blocks"] if "text" in block)
    assert [f"job-{index:03d}" in text for index in range(120)] == [index < 50 for index in range(120)]
    assert any(block.get("text", {}).get("text") == "+70 more" for block in payload["blocks"])


def test_hostile_job_names_cannot_ping_from_the_digest() -> None:
    hostile = state("x", counters=LabelCounters(unlabeled=1))
    hostile = JobState(**{**hostile.__dict__, "name": "<!channel>-job"})
    digest = build(NOW, local_label="t", active=[hostile], ended=[], mutes={}, health=HEALTH, rules=RULES)
    assert digest is not None
    assert "<!channel>" not in str(slack_messages(digest))
    (message,) = slack_messages(digest)
    assert "*&lt;!channel&gt;-job* (us-east-1)" in str(message["blocks"])  # escaped once: shown as typed


def test_a_late_poller_alone_is_worth_a_digest() -> None:
    late = Health(last_runs={"us-east-1": NOW - timedelta(hours=2)})
    digest = build(NOW, local_label="t", active=[], ended=[], mutes={}, health=late, rules=RULES)
    assert digest is not None and "LATE" in email_body(digest)


def test_a_region_is_late_once_a_run_due_since_its_last_complete_one_has_not_finished() -> None:
    # Every 5 minutes, a run takes at most the poller's 2-minute timeout; a minute more for the schedule's slack.
    just_in_time = Health(last_runs={"us-east-1": NOW - timedelta(minutes=8)}, schedule_minutes=5)
    one_run_missing = Health(last_runs={"us-east-1": NOW - timedelta(minutes=8, seconds=1)}, schedule_minutes=5)
    assert just_in_time.late_regions(NOW) == []
    assert build(NOW, local_label="t", active=[], ended=[], mutes={}, health=just_in_time, rules=RULES) is None
    assert one_run_missing.late_regions(NOW) == ["us-east-1"]
    digest = build(NOW, local_label="t", active=[], ended=[], mutes={}, health=one_run_missing, rules=RULES)
    assert digest is not None
    assert "us-east-1: last complete run 2026-05-04 08:51 UTC, 8 min ago (LATE: its runs are late or failing" in (
        email_body(digest)
    )


def test_jobs_the_last_run_could_not_watch_make_a_quiet_day_worth_a_digest_that_names_them() -> None:
    failing = Health(
        last_runs={"us-east-1": NOW - timedelta(minutes=3)},
        failing_jobs={"us-east-1": tuple(f"bad-{index}" for index in range(7))},
    )
    digest = build(NOW, local_label="t", active=[], ended=[], mutes={}, health=failing, rules=RULES)
    assert digest is not None
    assert (
        "us-east-1: the last run could not watch 7 job(s): bad-0, bad-1, bad-2, bad-3, bad-4 and 2 more"
        in email_body(digest)
    )


def test_a_job_that_ended_before_its_regions_watch_began_is_not_named_one_that_ended_after_is() -> None:
    began = NOW - timedelta(hours=2)
    before = state("before", JobStatus.COMPLETED, ended_at=began)  # the baseline: over when the watch began
    after = state("after", JobStatus.FAILED, ended_at=began + timedelta(seconds=1))
    digest = build(
        NOW,
        local_label="t",
        active=[],
        ended=[before, after],
        mutes={},
        health=HEALTH,
        rules=RULES,
        watch_started={"us-east-1": began},
    )
    assert digest is not None and [j.state.name for j in digest.ended] == ["after"]
    only_before = build(
        NOW,
        local_label="t",
        active=[],
        ended=[before],
        mutes={},
        health=HEALTH,
        rules=RULES,
        watch_started={"us-east-1": began},
    )
    assert only_before is None


def test_a_day_with_more_endings_than_a_group_names_names_the_latest_in_the_order_they_ended() -> None:
    # 70 jobs ended 10 minutes apart, the oldest first: the digest names the 50 latest and says "+20 more".
    ended = [
        state(f"done-{index:02d}", JobStatus.COMPLETED, ended_at=NOW - timedelta(minutes=10 * (70 - index)))
        for index in range(70)
    ]
    digest = build(NOW, local_label="t", active=[], ended=ended, mutes={}, health=HEALTH, rules=RULES)
    assert digest is not None
    body = email_body(digest)
    assert [f"done-{index:02d}" in body for index in range(70)] == [index >= 20 for index in range(70)]
    assert body.index("done-20") < body.index("done-69") and "+20 more" in body
    slack = "\n".join(
        block["text"]["text"] for payload in slack_messages(digest) for block in payload["blocks"] if "text" in block
    )
    assert [f"done-{index:02d}" in slack for index in range(70)] == [index >= 20 for index in range(70)]


# Jobs of every kind ----------------------------------------------------------------------------------------------


def kind_state(name: str, kind: JobKind, status: JobStatus = JobStatus.IN_PROGRESS, **changes: object) -> JobState:
    """A job of another kind than labeling, as the state table remembers it: its status, no objects."""
    return state(name, status, kind=kind, counters=LabelCounters(), **changes)


def slack_text(digest: Digest) -> str:
    return "\n".join(
        block["text"]["text"] for payload in slack_messages(digest) for block in payload["blocks"] if "text" in block
    )


def test_a_digest_of_several_kinds_names_each_jobs_kind_and_its_status_instead_of_objects() -> None:
    stuck = kind_state(
        "bert-3",
        JobKind.TRAINING,
        stall_notified_at=NOW - timedelta(minutes=5),
        unchanged_since=NOW - timedelta(hours=2),
    )
    tuning = kind_state("hpo-1", JobKind.TUNING)
    scored = kind_state("score-2", JobKind.TRANSFORM, JobStatus.FAILED, ended_at=NOW - timedelta(hours=1))
    cats = state("cats")
    digest = build(
        NOW, local_label="t", active=[stuck, tuning, cats], ended=[scored], mutes={}, health=HEALTH, rules=RULES
    )
    assert digest is not None

    body = email_body(digest)
    assert (
        "Stalled (1)\n"
        "  Job     Kind      Region     Progress    No progress since\n"
        "  bert-3  training  us-east-1  InProgress  2026-05-04 07:00 UTC (2 h)\n"
    ) in body
    assert (
        "Active (2)\n"
        "  Job    Kind      Region     Progress                        Rate              ETA\n"
        "  cats   labeling  us-east-1  40.0% done (40 of 100 objects)  not measured yet  unknown\n"
        "  hpo-1  tuning    us-east-1  InProgress                      -                 -\n"
    ) in body
    assert (
        "Ended in the last 24 hours (1)\n"
        "  Job      Kind       Region     Outcome  Ended                 Progress\n"
        "  score-2  transform  us-east-1  Failed   2026-05-04 08:00 UTC  -\n"
    ) in body
    slack = slack_text(digest)
    assert "*bert-3* (training, us-east-1): InProgress · no progress since 2026-05-04 07:00 UTC (2 h)" in slack
    assert "*hpo-1* (tuning, us-east-1): InProgress\n" in slack + "\n"
    assert "*cats* (labeling, us-east-1): 40.0% done (40 of 100 objects) · not measured yet; ETA unknown" in slack
    assert "*score-2* (transform, us-east-1): Failed 2026-05-04 08:00 UTC\n" in slack + "\n"
    assert "objects" not in "".join(line for line in slack.splitlines() if "labeling" not in line)


def test_a_digest_of_labeling_jobs_alone_reads_as_before_without_kinds() -> None:
    digest = build(NOW, local_label="t", active=[state("cats")], ended=[], mutes={}, health=HEALTH, rules=RULES)
    assert digest is not None

    assert "  Job   Region     Progress                        Rate              ETA\n" in email_body(digest)
    assert "*cats* (us-east-1): 40.0% done (40 of 100 objects) · not measured yet; ETA unknown" in slack_text(digest)
    assert "labeling" not in email_body(digest) + slack_text(digest)


def test_a_digest_of_many_jobs_of_every_kind_stays_within_slacks_limits() -> None:
    kinds = [kind for kind in JobKind if kind is not JobKind.PIPELINE]  # JobState.status is a JobStatus for now
    active = [kind_state(f"{kind.value}-{index:03d}", kind) for kind in kinds for index in range(60)]
    digest = build(NOW, local_label="busy", active=active, ended=[], mutes={}, health=HEALTH, rules=RULES)
    assert digest is not None

    for payload in slack_messages(digest):
        assert validate_payload(payload) is None
        assert len(payload["blocks"]) <= 50
        assert all(len(block["text"]["text"]) <= 3000 for block in payload["blocks"] if "text" in block)
    assert f"+{len(active) - 50} more" in slack_text(digest)
