"""The daily digest: what is running, what has stopped moving, what ended in the last day, and whether the watcher
itself is well. Pure: built from the state table's records and rendered for email (plain-text tables) and Slack
(Block Kit messages, each within Slack's limits). Each group names at most GROUP_LIMIT jobs and says how many more,
so a digest has the same bounded size at any scale. A day with nothing to report gives no digest.

A labeling job's line gives its objects' progress, rate and ETA; a job of another kind its status. A digest that
names only labeling jobs reads as it did before other kinds were watched; one that names other kinds names each
job's kind."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from watcher.domain.contract import DIGEST_EVENT_TYPE, POLLER_TIMEOUT_SECONDS
from watcher.domain.diff import WatchRules, progress
from watcher.domain.formatting import clock_time, duration, per_hour, progress_text
from watcher.domain.job import JobKind
from watcher.domain.model import JobState, Progress, from_iso, to_iso
from watcher.domain.mute_rules import Mute, mute_job_key
from watcher.domain.slack_message import escaped_within, slack_length
from watcher.domain.text import one_line

DIGEST_WINDOW = timedelta(hours=24)
# Each group (stalled, active, ended) names at most this many jobs; a bigger group says exactly how many more.
GROUP_LIMIT = 50
# A region's runs are late or failing when its last complete run is older than one schedule period plus what a run
# may take (the poller's timeout) and a minute of the schedule's own slack: the run due since then did not finish.
RUN_ALLOWANCE = timedelta(seconds=POLLER_TIMEOUT_SECONDS + 60)
# Jobs the last run could not watch, named in the health section (the rest counted).
FAILING_JOBS_NAMED = 5
SUBJECT_LIMIT = 99
# An email table cell: job names are at most 63 characters; any other value is cut here.
EMAIL_CELL_LIMIT = 120

# Slack: at most 50 blocks a message, 3,000 characters a section (docs.slack.dev/reference/block-kit/blocks). Slack
# also refuses a message whose blocks hold too much text in all (msg_blocks_too_long), at an undocumented total that
# people have met from about 11,000 characters (slackapi/bolt-js issues 2509 and 2867): a message stays well below.
SLACK_MAX_BLOCKS = 50
SLACK_MESSAGE_TEXT_BUDGET = 8000
SLACK_SECTION_BUDGET = 2500
METADATA_EVENT_TYPE = "gtwatch_digest"


@dataclass(frozen=True)
class JobLine:
    state: JobState
    progress: Progress
    muted_until: datetime | None = None
    # The job's account as people read it (its alias, else its id), when the deployment lists accounts.
    account: str | None = None

    @property
    def where(self) -> str:
        """Its region, after its account's alias when the deployment lists accounts: "research eu-west-1"."""
        region = one_line(self.state.region)
        return region if self.account is None else f"{one_line(self.account)} {region}"

    @property
    def stalled(self) -> bool:
        return self.state.stall_notified_at is not None


@dataclass(frozen=True)
class Health:
    """The watcher's own state: each region's last complete run, the jobs its last run could not watch, and Slack's
    queue."""

    last_runs: dict[str, datetime | None] = field(default_factory=dict)
    schedule_minutes: int = 5
    slack_waiting: int | None = None
    dead_letters: int | None = None
    failing_jobs: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # Scopes whose account cannot be read (its spoke role cannot be assumed): why, since when.
    unreadable: dict[str, tuple[str, datetime | None]] = field(default_factory=dict)

    def late_regions(self, now: datetime) -> list[str]:
        limit = timedelta(minutes=self.schedule_minutes) + RUN_ALLOWANCE
        return [region for region, last in self.last_runs.items() if last is None or now - last > limit]

    @property
    def ok(self) -> bool:
        return not self.dead_letters and not any(self.failing_jobs.values()) and not self.unreadable

    def well(self, now: datetime) -> bool:
        return self.ok and not self.late_regions(now)


@dataclass(frozen=True)
class Digest:
    now: datetime
    local_label: str
    stalled: list[JobLine]
    active: list[JobLine]
    ended: list[JobLine]
    health: Health

    @property
    def id(self) -> str:
        """The same for every run of the same scheduled digest: Slack delivery posts each of its messages once."""
        return f"digest#{to_iso(self.now)}"

    @property
    def names_kinds(self) -> bool:
        """Whether the digest names a job of a kind other than labeling: then every line names its job's kind."""
        return any(j.state.kind is not JobKind.LABELING for j in [*self.stalled, *self.active, *self.ended])

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
    watch_started: Mapping[str, datetime] | None = None,
    account_labels: Mapping[str | None, str] | None = None,
) -> Digest | None:
    """The digest as of `now`, or None when there is nothing to report (no job running, none ended in the last
    day, and the watcher is well). `mutes` are keyed by scope key (job.Scope.key) and job name in lower case.
    `watch_started`: when the watch of each scope (by str(scope)) began; a job that ended before it was never
    watched (the silent baseline) and is not named. `account_labels`: each account's alias (else id) by the account
    as states name it (None: the home account), when the deployment lists accounts."""
    started = watch_started or {}
    labels = account_labels or {}

    def line(state: JobState) -> JobLine:
        mute = mutes.get((state.scope.key, mute_job_key(state.name)))
        until = mute.until if mute is not None and mute.until > now else None
        return JobLine(state, progress(state, state.counters, now, rules), until, labels.get(state.account))

    def watched_when_it_ended(state: JobState) -> bool:
        began = started.get(str(state.scope))
        return state.ended_at is not None and (began is None or state.ended_at > began)

    running = sorted((line(s) for s in active if not s.status_class.is_terminal), key=lambda j: j.state.name)
    recent = [
        s
        for s in ended
        if s.ended_at is not None and now - DIGEST_WINDOW <= s.ended_at <= now and watched_when_it_ended(s)
    ]
    finished = sorted((line(s) for s in recent), key=lambda j: (j.state.ended_at or now, j.state.name))
    if not running and not finished and health.well(now):
        return None
    stalled = sorted((j for j in running if j.stalled), key=lambda j: (j.state.unchanged_since, j.state.name))
    return Digest(
        now=now,
        local_label=local_label,
        stalled=stalled,
        active=[j for j in running if not j.stalled],
        ended=finished,
        health=health,
    )


# --- email -----------------------------------------------------------------------------------------------------


def email_subject(digest: Digest) -> str:
    return f"[gtwatch] Daily digest: {digest.counts}"[:SUBJECT_LIMIT]


def email_body(digest: Digest) -> str:
    lines = [f"gtwatch daily digest, {digest.local_label}", ""]
    kinds = digest.names_kinds
    if digest.stalled:
        lines += _table(
            f"Stalled ({len(digest.stalled)})",
            _header(["Job", "Region", "Progress", "No progress since"], kinds),
            [_row([_name(j), j.where, _progress(j), _since(j, digest.now)], j, kinds) for j in _named(digest.stalled)],
            more=_more(digest.stalled),
        )
    if digest.active:
        lines += _table(
            f"Active ({len(digest.active)})",
            _header(["Job", "Region", "Progress", "Rate", "ETA"], kinds),
            [
                _row([_name(j), j.where, _progress(j), _rate(j), _eta(j, digest.now)], j, kinds)
                for j in _named(digest.active)
            ],
            more=_more(digest.active),
        )
    if digest.ended:
        lines += _table(
            f"Ended in the last 24 hours ({len(digest.ended)})",
            _header(["Job", "Region", "Outcome", "Ended", "Progress"], kinds),
            [
                _row([_name(j), j.where, str(j.state.status), _ended(j), _ended_progress(j)], j, kinds)
                for j in _named(digest.ended, latest=True)
            ],
            more=_more(digest.ended),
        )
    lines += ["Watcher health", *(f"  {text}" for text in _health_lines(digest)), ""]
    lines.append(f"Sent by gtwatch at {clock_time(digest.now)}.")
    return "\n".join(lines)


def _header(columns: list[str], kinds: bool) -> list[str]:
    return [columns[0], "Kind", *columns[1:]] if kinds else columns


def _row(cells: list[str], job: JobLine, kinds: bool) -> list[str]:
    return [cells[0], job.state.kind.value, *cells[1:]] if kinds else cells


def _table(title: str, header: list[str], rows: list[list[str]], *, more: int) -> list[str]:
    rows = [[_cell(cell) for cell in row] for row in rows]
    widths = [max(len(header[i]), *(len(row[i]) for row in rows)) for i in range(len(header))]

    def render(cells: list[str]) -> str:
        return "  " + "  ".join(cell.ljust(widths[i]) for i, cell in enumerate(cells)).rstrip()

    return [title, render(header), *(render(row) for row in rows), *([f"  +{more} more"] if more else []), ""]


def _cell(text: str) -> str:
    text = one_line(text)
    return text if len(text) <= EMAIL_CELL_LIMIT else text[: EMAIL_CELL_LIMIT - 3] + "..."


# --- Slack -------------------------------------------------------------------------------------------------------


def slack_messages(digest: Digest) -> list[dict[str, Any]]:
    """The digest as Slack messages, in order: one on most days; as many as Slack's limits need on a big one (each
    group names at most GROUP_LIMIT jobs, so there are a few at most). Each carries the digest's id and its part in
    its metadata, so that a message whose answer was lost is found instead of posted twice."""
    body: list[dict[str, Any]] = []
    groups: list[tuple[str, list[JobLine], Callable[[JobLine], str | None], bool]] = [
        (":hourglass: *Stalled*", digest.stalled, lambda j: f"no progress since {_since(j, digest.now)}", False),
        (
            ":arrow_forward: *Active*",
            digest.active,
            lambda j: f"{_rate(j)}; ETA {_eta(j, digest.now)}" if _labeling(j) else None,
            False,
        ),
        (
            ":checkered_flag: *Ended in the last 24 hours*",
            digest.ended,
            lambda j: f"{j.state.status} {_ended(j)}",
            True,
        ),
    ]
    for title, jobs, detail, latest in groups:
        if not jobs:
            continue
        body.append(_section(f"{title} ({len(jobs)})"))
        named = _named(jobs, latest=latest)
        lines = [_slack_line(job, detail(job), kinds=digest.names_kinds) for job in named]
        body += [_section(text) for text in _packed(lines)]
        if more := _more(jobs):
            body.append(_section(f"+{more} more"))
    health = escaped_within("\n".join(_health_lines(digest)), SLACK_SECTION_BUDGET)
    body.append(_section(f"*Watcher health*\n{health}"))
    parts = _split(body, room=SLACK_MAX_BLOCKS - 2)  # each message starts with its header and date
    return [_slack_message(digest, blocks, number, len(parts)) for number, blocks in enumerate(parts, start=1)]


def _slack_line(job: JobLine, detail: str | None, *, kinds: bool) -> str:
    """ "*name* (region): progress · detail" for a labeling job; "*name* (kind, region): status · detail" when the
    digest names kinds. An ended job of another kind gives its outcome once (the detail), not as its status too."""
    muted = f" · muted until {clock_time(job.muted_until)}" if job.muted_until else ""
    where = f"{job.state.kind.value}, {job.where}" if kinds else job.where
    ended = job.state.status_class.is_terminal and not _labeling(job)
    parts = [part for part in (None if ended else _progress(job), detail) if part]
    # Escaped and cut piece by piece (never escaped twice): at most 2 + 90 + 1 + 300 characters.
    facts = escaped_within(f"({where}): {' · '.join(parts)}{muted}", 300)
    return f"*{escaped_within(_name(job), 90)}* {facts}"


def _packed(lines: list[str]) -> list[str]:
    """Job lines joined into as few section texts as SLACK_SECTION_BUDGET allows, one job a line."""
    texts: list[str] = []
    for text in lines:
        if texts and slack_length(texts[-1]) + 1 + slack_length(text) <= SLACK_SECTION_BUDGET:
            texts[-1] += "\n" + text
        else:
            texts.append(text)
    return texts


def _split(blocks: list[dict[str, Any]], *, room: int) -> list[list[dict[str, Any]]]:
    parts: list[list[dict[str, Any]]] = [[]]
    for block in blocks:
        size = sum(_block_text(b) for b in parts[-1])
        if parts[-1] and (len(parts[-1]) >= room or size + _block_text(block) > SLACK_MESSAGE_TEXT_BUDGET):
            parts.append([])
        parts[-1].append(block)
    return parts


def _block_text(block: dict[str, Any]) -> int:
    return slack_length(str(block["text"]["text"]))


def _slack_message(digest: Digest, blocks: list[dict[str, Any]], number: int, parts: int) -> dict[str, Any]:
    of = f" ({number} of {parts})" if parts > 1 else ""
    return {
        "text": escaped_within(f"gtwatch daily digest{of}: {digest.counts}", 300),
        "blocks": [
            {"type": "header", "text": {"type": "plain_text", "text": f"gtwatch daily digest{of}"}},
            {"type": "context", "elements": [{"type": "mrkdwn", "text": escaped_within(digest.local_label, 300)}]},
            *blocks,
        ],
        "metadata": {
            "event_type": METADATA_EVENT_TYPE,
            "event_payload": {"event": DIGEST_EVENT_TYPE, "notification_id": message_id(digest.id, number)},
        },
    }


def message_id(digest_id: str, number: int) -> str:
    """The id the digest's `number`th Slack message (from 1) carries in its metadata."""
    return f"{digest_id}#{number}"


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text, "verbatim": True}}


@dataclass(frozen=True)
class SlackDigest:
    """The Slack digest on its way through the Slack queue: the notifier posts its messages in order, each once, and
    retries while Slack does not take them, as it does any notification. `destination` is the app mode's channel
    (None: the webhook's)."""

    id: str
    occurred_at: datetime
    messages: tuple[dict[str, Any], ...]
    destination: str | None = None

    KIND = DIGEST_EVENT_TYPE

    @classmethod
    def of(cls, digest: Digest, destination: str | None) -> SlackDigest:
        return cls(digest.id, digest.now, tuple(slack_messages(digest)), destination)

    @classmethod
    def is_document(cls, document: object) -> bool:
        return isinstance(document, dict) and document.get("kind") == cls.KIND

    def message_id(self, number: int) -> str:
        return message_id(self.id, number)

    def to_document(self) -> dict[str, Any]:
        return {
            "kind": self.KIND,
            "event_type": self.KIND,  # what `gtwatch redrive --dry-run` shows of a dead letter
            "id": self.id,
            "occurred_at": to_iso(self.occurred_at),
            "destination": self.destination,
            "messages": list(self.messages),
        }

    @classmethod
    def from_document(cls, document: dict[str, Any]) -> SlackDigest:
        messages = document["messages"]
        if not isinstance(messages, list) or not messages or not all(isinstance(m, dict) for m in messages):
            raise ValueError("messages: expected a non-empty list of Slack messages")
        destination = document.get("destination")
        return cls(
            id=str(document["id"]),
            occurred_at=from_iso(str(document["occurred_at"])),
            messages=tuple(messages),
            destination=None if destination is None else str(destination),
        )


# --- shared pieces ---------------------------------------------------------------------------------------------


def _named(jobs: list[JobLine], *, latest: bool = False) -> list[JobLine]:
    """The jobs a group names: its first GROUP_LIMIT, or for endings (in the order they ended) the latest ones."""
    return jobs[-GROUP_LIMIT:] if latest else jobs[:GROUP_LIMIT]


def _more(jobs: list[JobLine]) -> int:
    return max(0, len(jobs) - GROUP_LIMIT)


def _name(job: JobLine) -> str:
    name = one_line(job.state.name)
    return f"{name} (muted)" if job.muted_until else name


def _labeling(job: JobLine) -> bool:
    return job.state.kind is JobKind.LABELING


def _progress(job: JobLine) -> str:
    """How far the job is: a labeling job's objects; a job of another kind its status (the state keeps no more)."""
    return progress_text(job.progress) if _labeling(job) else str(job.state.status)


def _ended_progress(job: JobLine) -> str:
    return progress_text(job.progress) if _labeling(job) else "-"


def _since(job: JobLine, now: datetime) -> str:
    minutes = max(0, int((now - job.state.unchanged_since).total_seconds() // 60))
    return f"{clock_time(job.state.unchanged_since)} ({duration(minutes)})"


def _rate(job: JobLine) -> str:
    if not _labeling(job):
        return "-"
    rate = job.progress.rate_per_hour
    return "not measured yet" if rate is None else ("none" if rate == 0 else per_hour(rate))


def _eta(job: JobLine, now: datetime) -> str:
    if not _labeling(job):
        return "-"
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
        late = " (LATE: its runs are late or failing; check the poller alarms)"
        if region in health.unreadable:
            reason, since = health.unreadable[region]
            when = f" since {clock_time(since)}" if since else ""
            read = f"; last read {clock_time(last)}" if last else ""
            lines.append(
                f"{region}: its account cannot be read{when} ({one_line(reason)}: its role cannot be assumed){read}"
            )
        elif last is None:
            lines.append(f"{region}: no complete run yet{late}")
        else:
            ago = duration(max(0, int((now - last).total_seconds() // 60)))
            late = late if region in health.late_regions(now) else ""
            lines.append(f"{region}: last complete run {clock_time(last)}, {ago} ago{late}")
    for region, names in sorted(health.failing_jobs.items()):
        if names:
            named = ", ".join(one_line(name) for name in names[:FAILING_JOBS_NAMED])
            rest = f" and {len(names) - FAILING_JOBS_NAMED} more" if len(names) > FAILING_JOBS_NAMED else ""
            lines.append(f"{region}: the last run could not watch {len(names)} job(s): {named}{rest}")
    if health.slack_waiting is not None:
        lines.append(f"Slack queue: {health.slack_waiting} message(s) waiting")
    if health.dead_letters:
        lines.append(f"Dead letters: {health.dead_letters} (see gtwatch redrive --dry-run)")
    return lines
