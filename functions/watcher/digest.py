"""The daily digest: what is running, what has stopped moving, what ended in the last day, and whether the watcher
itself is well. Pure: built from the state table's records and rendered for email (a plain-text table) and Slack
(Block Kit within Slack's limits, "+N more" past them). A day with nothing to report gives no digest."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from .diff import WatchRules, progress
from .formatting import clock_time, duration, per_hour, progress_text
from .model import JobState, Progress
from .mute import Mute
from .slack_message import escaped_within
from .text import one_line

DIGEST_WINDOW = timedelta(hours=24)
# Slack allows 50 blocks a message; the header, the group titles, health and "+N more" lines need some of them.
SLACK_JOB_BLOCKS = 40
METADATA_EVENT_TYPE = "gtwatch_digest"
SUBJECT_LIMIT = 99


@dataclass(frozen=True)
class JobLine:
    state: JobState
    progress: Progress
    muted_until: datetime | None = None

    @property
    def stalled(self) -> bool:
        return self.state.stall_notified_at is not None


@dataclass(frozen=True)
class Health:
    """The watcher's own state: each region's last complete run, and Slack's queue."""

    last_runs: dict[str, datetime | None] = field(default_factory=dict)
    schedule_minutes: int = 5
    slack_waiting: int | None = None
    dead_letters: int | None = None

    def late_regions(self, now: datetime) -> list[str]:
        limit = timedelta(minutes=3 * self.schedule_minutes)
        return [region for region, last in self.last_runs.items() if last is None or now - last > limit]

    @property
    def ok(self) -> bool:
        return not self.dead_letters


@dataclass(frozen=True)
class Digest:
    now: datetime
    local_label: str
    stalled: list[JobLine]
    active: list[JobLine]
    ended: list[JobLine]
    health: Health

    @property
    def counts(self) -> str:
        return f"{len(self.stalled)} stalled, {len(self.active)} active, {len(self.ended)} ended in 24 h"


def build(
    now: datetime,
    *,
    local_label: str,
    active: list[JobState],
    ended: list[JobState],
    mutes: dict[tuple[str, str], Mute],
    health: Health,
    rules: WatchRules,
) -> Digest | None:
    """The digest as of `now`, or None when there is nothing to report (no job running, none ended in the last
    day, and the watcher is well). `mutes` are keyed by region and job name in lower case."""

    def line(state: JobState) -> JobLine:
        mute = mutes.get((state.region, state.name.lower()))
        until = mute.until if mute is not None and mute.until > now else None
        return JobLine(state, progress(state, state.counters, now, rules), until)

    running = sorted((line(s) for s in active if not s.status.is_terminal), key=lambda j: j.state.name)
    recent = [s for s in ended if s.ended_at is not None and now - DIGEST_WINDOW <= s.ended_at <= now]
    finished = sorted((line(s) for s in recent), key=lambda j: (j.state.ended_at or now, j.state.name))
    if not running and not finished and health.ok and not health.late_regions(now):
        return None
    return Digest(
        now=now,
        local_label=local_label,
        stalled=[j for j in running if j.stalled],
        active=[j for j in running if not j.stalled],
        ended=finished,
        health=health,
    )


# --- email -----------------------------------------------------------------------------------------------------


def email_subject(digest: Digest) -> str:
    return f"[gtwatch] Daily digest: {digest.counts}"[:SUBJECT_LIMIT]


def email_body(digest: Digest) -> str:
    lines = [f"gtwatch daily digest, {digest.local_label}", ""]
    if digest.stalled:
        lines += _table(
            f"Stalled ({len(digest.stalled)})",
            ["Job", "Region", "Progress", "No progress since"],
            [[_name(j), j.state.region, progress_text(j.progress), _since(j, digest.now)] for j in digest.stalled],
        )
    if digest.active:
        lines += _table(
            f"Active ({len(digest.active)})",
            ["Job", "Region", "Progress", "Rate", "ETA"],
            [
                [_name(j), j.state.region, progress_text(j.progress), _rate(j), _eta(j, digest.now)]
                for j in digest.active
            ],
        )
    if digest.ended:
        lines += _table(
            f"Ended in the last 24 hours ({len(digest.ended)})",
            ["Job", "Region", "Outcome", "Ended", "Progress"],
            [
                [_name(j), j.state.region, j.state.status.value, _ended(j), progress_text(j.progress)]
                for j in digest.ended
            ],
        )
    lines += ["Watcher health", *(f"  {text}" for text in _health_lines(digest)), ""]
    lines.append(f"Sent by gtwatch at {clock_time(digest.now)}.")
    return "\n".join(lines)


def _table(title: str, header: list[str], rows: list[list[str]]) -> list[str]:
    widths = [max(len(header[i]), *(len(row[i]) for row in rows)) for i in range(len(header))]

    def render(cells: list[str]) -> str:
        return "  " + "  ".join(cell.ljust(widths[i]) for i, cell in enumerate(cells)).rstrip()

    return [title, render(header), *(render(row) for row in rows), ""]


# --- Slack -------------------------------------------------------------------------------------------------------


def slack_payload(digest: Digest) -> dict[str, Any]:
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": "gtwatch daily digest"}},
        {"type": "context", "elements": [{"type": "mrkdwn", "text": escaped_within(digest.local_label, 300)}]},
    ]
    room = SLACK_JOB_BLOCKS
    groups: list[tuple[str, list[JobLine], Callable[[JobLine], str]]] = [
        (":hourglass: *Stalled*", digest.stalled, lambda j: f"no progress since {_since(j, digest.now)}"),
        (":arrow_forward: *Active*", digest.active, lambda j: f"{_rate(j)}; ETA {_eta(j, digest.now)}"),
        (
            ":checkered_flag: *Ended in the last 24 hours*",
            digest.ended,
            lambda j: f"{j.state.status.value} {_ended(j)}",
        ),
    ]
    for title, jobs, detail in groups:
        if not jobs:
            continue
        blocks.append(_section(f"{title} ({len(jobs)})"))
        shown = jobs[: max(0, room)]
        for job in shown:
            muted = f" · muted until {clock_time(job.muted_until)}" if job.muted_until else ""
            facts = escaped_within(f"({job.state.region}): {progress_text(job.progress)} · {detail(job)}{muted}", 600)
            blocks.append(_section(f"*{escaped_within(_name(job), 200)}* {facts}"))
        room -= len(shown)
        if len(jobs) > len(shown):
            blocks.append(_section(f"+{len(jobs) - len(shown)} more"))
    blocks.append(_section("*Watcher health*\n" + "\n".join(escaped_within(t, 500) for t in _health_lines(digest))))
    return {
        "text": escaped_within(f"gtwatch daily digest: {digest.counts}", 300),
        "blocks": blocks,
        "metadata": {"event_type": METADATA_EVENT_TYPE, "event_payload": {"event": "digest"}},
    }


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text, "verbatim": True}}


# --- shared pieces ---------------------------------------------------------------------------------------------


def _name(job: JobLine) -> str:
    name = one_line(job.state.name)
    return f"{name} (muted)" if job.muted_until else name


def _since(job: JobLine, now: datetime) -> str:
    minutes = int((now - job.state.unchanged_since).total_seconds() // 60)
    return f"{clock_time(job.state.unchanged_since)} ({duration(minutes)})"


def _rate(job: JobLine) -> str:
    rate = job.progress.rate_per_hour
    return "not measured yet" if rate is None else ("none" if rate == 0 else per_hour(rate))


def _eta(job: JobLine, now: datetime) -> str:
    if job.progress.eta is None:
        return "unknown"
    minutes = max(0, round((job.progress.eta - now).total_seconds() / 60))
    return f"{clock_time(job.progress.eta)} (in about {duration(minutes)})"


def _ended(job: JobLine) -> str:
    return clock_time(job.state.ended_at) if job.state.ended_at else "recently"


def _health_lines(digest: Digest) -> list[str]:
    health, now = digest.health, digest.now
    lines = []
    for region, last in sorted(health.last_runs.items()):
        if last is None:
            lines.append(f"{region}: no complete run yet")
        else:
            ago = duration(int((now - last).total_seconds() // 60))
            late = " (LATE: check the poller-not-running alarm)" if region in health.late_regions(now) else ""
            lines.append(f"{region}: last complete run {clock_time(last)}, {ago} ago{late}")
    if health.slack_waiting is not None:
        lines.append(f"Slack queue: {health.slack_waiting} message(s) waiting")
    if health.dead_letters:
        lines.append(f"Dead letters: {health.dead_letters} (see gtwatch redrive --dry-run)")
    return lines
