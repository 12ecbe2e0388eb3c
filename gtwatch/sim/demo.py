"""`gtwatch demo`: a realistic day and night of a team's SageMaker jobs of every kind on the emulator (labeling jobs, a
pipeline execution and the jobs of its steps, a tuning job, a processing job), shown as a person would receive it;
`gtwatch demo --day accounts`: a working day across three accounts and four regions, one account's role refused for
two hours, each job named with its account's alias and its region.

First the day as it happened, one line per email and per Slack call (with the mutes and the quiet hours, and which
Slack messages waited for the morning); then, in app mode, each Slack channel as a person sees it at the end: one card
per job (the root message, as last updated) with its thread under it; then the morning's digest as Slack shows it and
as the email reads. Everything shown is rebuilt from the scenario and the replay's output (docs/scenario-format.md),
as any reader of them could.
"""

from __future__ import annotations

import json
import re
import textwrap
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from importlib import resources
from typing import Any, Literal, TextIO
from zoneinfo import ZoneInfo

from watcher.domain.job import KIND_NOUNS, LOG_KINDS, JobKind

from . import replay, scenario
from .emulator.deployment import EmulatorMode

SlackMode = Literal["app", "webhook"]
DayName = Literal["team", "accounts"]
# The built-in days (gtwatch/sim/scenarios/): a team's day and night in one account, and a day across accounts.
DAYS: dict[str, str] = {"team": "demo-day.json", "accounts": "demo-accounts.json"}

EMOJI = {
    ":white_check_mark:": "✅",
    ":x:": "❌",
    ":octagonal_sign:": "🛑",
    ":hourglass:": "⏳",
    ":warning:": "⚠️",
    ":arrow_forward:": "▶️",
    ":test_tube:": "🧪",
    ":checkered_flag:": "🏁",
}
EVENT_EMOJI = {
    "completed": "✅",
    "failed": "❌",
    "stopped": "🛑",
    "stalled": "⏳",
    "resumed": "▶️",
    "test": "🧪",
    "digest": "📋",
}
# What a card's first line says the job is, by the notification it shows last.
CARD_STATE = {
    "completed": "Completed",
    "failed": "Failed",
    "stopped": "Stopped",
    "stalled": "Stalled",
    "resumed": "In progress again",
}
# What a card shows of a job of a kind after labeling, beside its state (formatting.KIND_FACTS' labels), in this order.
KIND_CARD_FACTS = ("Secondary status", "Run time", "Best job", "Pipeline", "Failed step", "Step's job")
# The service's own words a card quotes (formatting.notes' labels).
QUOTED = ("Failure reason", "Exit message", "Step failure reason")
# What a notification that quiet hours do not hold is called when it releases the held ones before it.
RELEASED_BY = {"failed": "failure", "test": "test notification"}
WIDTH = 110
_LINK = re.compile(r"<([^|>!@]+)\|([^>]+)>")
# Slack's markup for a mention; escaped text (&lt;!channel&gt;) is not one, which is what keeps job text silent.
_MENTION = re.compile(r"<!subteam\^(S[A-Z0-9]+)(?:\|([^>]+))?>|<!(here|channel|everyone)>|<@([UW][A-Z0-9]+)>")
_LEADING_MENTION = re.compile(r"^((?:<[!@][^>]+>\s*)+)")
_BOLD = re.compile(r"\*([^*\n]+)\*")


def load_day(*, slack: SlackMode = "app", day: DayName = "team") -> scenario.Scenario:
    """The demo's day (`day`: DAYS); with `slack="webhook"`, the same day with Slack as one incoming webhook that takes
    every event type the app's routes take (a webhook posts to its own channel, so the digest's channel goes)."""
    text = resources.files("gtwatch.sim").joinpath(f"scenarios/{DAYS[day]}").read_text(encoding="utf-8")
    raw = json.loads(text)
    if slack == "webhook":
        config = raw["config"]
        routed = {event for route in config["slack"]["routes"] for event in route["events"]}
        config["slack"] = {"mode": "webhook"}
        config["slack_events"] = [event for event in scenario.ALL_EVENTS if event in routed]
        if config.get("digest"):
            config["digest"].pop("slack_channel", None)
    return scenario.parse(raw)


def show(
    *, mode: EmulatorMode = "inprocess", slack: SlackMode = "app", day_name: DayName = "team", out: TextIO
) -> None:
    day = load_day(slack=slack, day=day_name)
    result = replay.run(day, mode=mode)
    app = day.config.slack.mode == "app"
    notifications = result.notifications
    notes = quiet_hours_notes(day, notifications)
    out.write(_introduction(day))
    heading = "The day and the night as they happened" if day.config.accounts is None else "The day as it happened"
    out.write(f"\n{heading} (times UTC):\n")
    out.write(_timeline(day, notifications, notes))
    if app:
        out.write("\nThe Slack channels at the end ")
        out.write("(a card per job, showing its latest notification; its thread below):\n")
        by_ts = {notifications[index]["ts"]: note for index, note in notes.items() if "ts" in notifications[index]}
        for channel, cards in channels(notifications).items():
            out.write(f"\n{channel}\n")
            for card in cards:
                out.write(_card_text(day, card, by_ts))
    else:
        out.write(_webhook_channel_text(day, notifications))
    mails = [n for n in notifications if n["channel"] == "email"]
    log_stall = next((n for n in mails if n["type"] == "stalled" and n.get("kind") in LOG_KINDS), None)
    if log_stall is not None:
        noun = KIND_NOUNS[JobKind(log_stall["kind"])].lower()
        out.write(f"\nThe first stall of a {noun} (its log had no new line) as the email subscription receives it:\n\n")
        out.write(textwrap.indent(f"Subject: {log_stall['subject']}\n\n{log_stall['message']}", "  "))
    shown = log_stall["job"] if log_stall is not None else None
    failures = [n for n in mails if n["type"] == "failed"]
    failed_mail = next((n for n in failures if n["job"] != shown), None)
    if failed_mail is not None:
        first = "The first failure" if failed_mail is failures[0] else "The first failure of another job"
        out.write(f"\n{first}, {_named(failed_mail, day)}, as the email subscription receives it:\n\n")
        out.write(textwrap.indent(f"Subject: {failed_mail['subject']}\n\n{failed_mail['message']}", "  "))
    out.write(_digest_text(day, notifications))
    out.write("\n" + _summary(result, held=len(notes)) + "\n")


def _introduction(day: scenario.Scenario) -> str:
    config = day.config
    end = day.moment(day.duration)
    if config.accounts is None:
        text = "gtwatch demo: a day and a night of a team's SageMaker jobs on the local emulator, polled every "
    else:
        text = "gtwatch demo: a day of SageMaker jobs in three accounts on the local emulator, polled every "
    text += f"{day.tick_minutes} minutes\nfrom {_date(day.start)} {day.start:%H:%M} to {_date(end)} {end:%H:%M} UTC:\n"
    if config.accounts is not None:
        text += "Accounts (the first is the home account, where gtwatch is deployed; each other one read through its\n"
        text += "reader role, its events forwarded to the hub's bus):\n"
        for account in config.watched_accounts:
            text += f"  {account.name:<12} {account.id}  {', '.join(account.regions)}\n"
    for kind, jobs in _jobs_by_kind(day).items():
        noun = KIND_NOUNS[JobKind(kind)]
        plural = noun.replace(" job", " jobs").replace(" execution", " executions") if len(jobs) > 1 else noun
        text += _wrapped(f"{plural + ':':<21}{', '.join(jobs)}; {_stall_rule(config, kind)}", "  ", " " * 23)
    if config.slack.mode == "app":
        text += "Slack: a Slack app (app mode) posting to these routes:\n"
        for route in config.slack.routes:
            events = ", ".join(route.events) if len(route.events) < 5 else "every event"
            mention = f", mentioning {as_shown(route.mention)}" if route.mention else ""
            names = f" of jobs whose name contains {route.name_contains!r}" if route.name_contains else ""
            if route.accounts:
                names += f" of jobs in {' and '.join(route.accounts)}"
            text += f"  {route.channel:<12} {events}{names}{mention}\n"
    else:
        text += "Slack: one incoming webhook (webhook mode).\n"
    zones = set()
    if (quiet := config.quiet_hours) is not None:
        held = " and ".join(", ".join(quiet.hold).rsplit(", ", 1))
        channels_held = " and ".join("Slack" if channel == "slack" else channel for channel in quiet.channels)
        text += f"Quiet hours {quiet.start}-{quiet.end} {quiet.timezone}: {held} wait for the window's end on "
        text += f"{channels_held}"
        text += "; email goes at once.\n" if "email" not in quiet.channels else ".\n"
        zones.add(quiet.timezone)
    if (digest := config.digest) is not None:
        where = " and ".join(
            f"Slack {digest.slack_channel}" if channel == "slack" and digest.slack_channel else channel
            for channel in digest.channels
        )
        text += f"Daily digest at {digest.at} {digest.timezone} to {where}.\n"
        zones.add(digest.timezone)
    for zone in sorted(zones):
        if day.start.astimezone(ZoneInfo(zone)).utcoffset() == timedelta(0):
            text += f"({zone} is on UTC on these days: its times and the times below are the same.)\n"
    return text


# --- the day, line by line ---------------------------------------------------------------------------------


def _jobs_by_kind(day: scenario.Scenario) -> dict[str, list[str]]:
    """The day's jobs by kind, in the order of the watched kinds, each kind's in the order created."""
    by_kind: dict[str, list[str]] = {kind: [] for kind in day.config.kinds}
    for step in sorted(day.steps, key=lambda step: step.at_minute):
        if step.create is not None:
            name = step.create.name
            if day.config.accounts is not None:
                account, region = step.create.place
                name += f" ({_account_name(day, account)}, {region})"
            by_kind.setdefault(step.create.kind, []).append(name)
    return {kind: names for kind, names in by_kind.items() if names}


def _stall_rule(config: scenario.Config, kind: str) -> str:
    """When a job of the kind is announced as stalled, and by what signal (docs/scenario-format.md, Version 3)."""
    if kind == "pipeline":
        return "an execution never stalls (its steps' jobs can)"
    minutes = config.stall_after_minutes
    after = minutes.get(kind) if isinstance(minutes, dict) else minutes
    if after is None:
        return "never stalled"
    signal = {
        "labeling": "no object labeled",
        "training": "no new log line and no change of secondary status",
        "processing": "no new log line",
        "transform": "no new log line",
        "tuning": "no change in its training jobs",
    }[kind]
    return f"stalled after {after} min with {signal}"


def quiet_hours_notes(day: scenario.Scenario, notifications: list[dict[str, Any]]) -> dict[int, str]:
    """The Slack messages that waited for quiet hours to end, by their index in the replay's lines, each with a note
    saying since when: the minute its email went out, for email is not a quiet channel and carries the same
    notification id. A message sent while the window was still on went with a notification that is not held."""
    quiet = day.config.quiet_hours
    if quiet is None or "slack" not in quiet.channels or "email" in quiet.channels:
        return {}
    decided: dict[str, int] = {}
    for line in notifications:
        if line["channel"] == "email" and line.get("id"):
            decided.setdefault(line["id"], line["minute"])

    def inside(minute: int) -> bool:
        return quiet.inside(day.moment(minute))

    notes = {}
    for index, line in enumerate(notifications):
        if line["channel"] != "slack" or line.get("action") == "update" or line["type"] not in quiet.hold:
            continue
        since = decided.get(line.get("id") or "")
        if since is None or since >= line["minute"] or not inside(since):
            continue
        note = f"held for quiet hours since {_clock(day, since)}, "
        if inside(line["minute"]):
            releaser = next(
                (
                    other["type"]
                    for other in notifications[index + 1 :]
                    if other["channel"] == "slack" and other["job"] == line["job"] and other["type"] not in quiet.hold
                ),
                "",
            )
            note += f"sent just before its {RELEASED_BY.get(releaser, f'{releaser} notification')}"
        else:
            note += f"delivered {_clock(day, line['minute'])}"
        notes[index] = note
    return notes


def _timeline(day: scenario.Scenario, notifications: list[dict[str, Any]], notes: dict[int, str]) -> str:
    """The notifications in the order received, with what else a person would want to know at that minute: a
    mute set, quiet hours beginning or ending; a heading for each day."""
    last = max([day.duration, *(n["minute"] for n in notifications)])
    entries: list[tuple[int, int, str]] = []
    for step in day.steps:
        if step.mute is not None:
            events = " and ".join(", ".join(step.mute.events).rsplit(", ", 1))
            dropped = f"{' ' * 14}(its {events} are dropped on every channel until then)"
            entries.append((step.at_minute, 0, f"Mute   $ {_mute_command(day, step.mute)}\n{dropped}\n"))
    quiet = day.config.quiet_hours
    if quiet is not None:
        was_inside = False
        for minute in range(last + 1):
            inside = quiet.inside(day.moment(minute))
            if inside != was_inside:
                what = (
                    f"hours begin ({quiet.start} {quiet.timezone}): Slack holds {', '.join(quiet.hold)}"
                    if inside
                    else f"hours end ({quiet.end} {quiet.timezone}): the held Slack messages go out, in order"
                )
                entries.append((minute, 0, f"Quiet  {what}\n"))
            was_inside = inside
    for step in day.steps:
        if step.fault is not None and step.fault.target == "sts":
            entries += _role_refused(day, step.at_minute, step.fault)
    for index, notification in enumerate(notifications):
        entries.append((notification["minute"], 1, _timeline_line(notification, notes.get(index), day)))
    text, shown_date = "", None
    for minute, _, line in sorted(entries, key=lambda entry: (entry[0], entry[1])):
        moment = day.moment(minute)
        if moment.date() != shown_date:
            shown_date = moment.date()
            text += f"\n{_date(moment)}\n"
        text += f"{moment:%H:%M}  {line}"
    return text


def _named(notification: dict[str, Any], day: scenario.Scenario | None = None) -> str:
    """The job as a person reads it: its kind's noun and its name ("Training job churn-train-0302"); on a day that
    lists accounts, with its account's alias and its region ("Training job llm-sft-7b (research, us-east-1)")."""
    kind = notification.get("kind") or "labeling"
    named = f"{KIND_NOUNS[JobKind(kind)]} {notification['job']}"
    if day is None or day.config.accounts is None or not notification.get("region"):
        return named
    return f"{named} ({_account_name(day, notification.get('account'))}, {notification['region']})"


def _account_name(day: scenario.Scenario, account_id: str | None) -> str:
    """The account as people read it: its alias, else its id (the home account when none is named)."""
    accounts = day.config.watched_accounts
    listed = next((account for account in accounts if account.id == account_id), accounts[0])
    return listed.name


def _mute_command(day: scenario.Scenario, mute: scenario.MuteJob) -> str:
    until = f"--until {day.moment(mute.until_minute):%Y-%m-%dT%H:%MZ}"
    events = f" --events {','.join(mute.events)}" if len(mute.events) < len(scenario.ALL_EVENTS) else ""
    kind = f" --kind {mute.kind}" if mute.kind != "labeling" else ""
    return f"gtwatch mute {mute.name}{kind} {until}{events}"


def _role_refused(day: scenario.Scenario, minute: int, fault: scenario.Fault) -> list[tuple[int, int, str]]:
    """The timeline's lines for an account whose role the hub cannot assume: from when, and until when."""
    name = _account_name(day, fault.account)
    until = fault.until_minute
    entries = [
        (
            minute,
            0,
            f"Role   {name}'s reader role refuses the hub (AssumeRole: AccessDenied)"
            + (f" until {_clock(day, until)}" if until is not None else "")
            + ": its jobs wait, the other accounts' do not\n",
        )
    ]
    if until is not None:
        entries.append((until, 0, f"Role   {name}'s reader role can be assumed again: what it owes follows\n"))
    return entries


def _timeline_line(notification: dict[str, Any], note: str | None = None, day: scenario.Scenario | None = None) -> str:
    if notification["channel"] == "email":
        return f"Email  Subject: {notification['subject']}\n"
    job, event = notification["job"], notification["type"]
    action = notification.get("action", "post")  # an incoming webhook only ever posts
    what = f"{EVENT_EMOJI.get(event, '')} {_named(notification, day)}: {event}"
    if event == "digest":
        what = f"{EVENT_EMOJI['digest']} {as_shown(notification['payload'].get('text', 'daily digest'))}"
    elif action == "update":
        what = f"{job}'s card now shows {CARD_STATE.get(event, event)}"
    elif notification["payload"].get("reply_broadcast"):
        what += " (also shown in the channel)"
    mention = _LEADING_MENTION.match(notification["payload"].get("text", ""))
    if mention and action == "post":
        what += f", mentioning {as_shown(mention.group(1).strip())}"
    if note:
        what += f" · {note}"
    return f"Slack  {notification.get('destination', 'webhook'):<11} {action:<6}  {what}\n"


# --- the channels, as a person sees them -------------------------------------------------------------------


def _webhook_channel_text(day: scenario.Scenario, notifications: list[dict[str, Any]]) -> str:
    """The incoming webhook's channel at the end: one message per notification, in the order posted (a webhook
    cannot thread or edit), each as its notification text reads; then the first failure's message in full."""
    posts = [n for n in notifications if n["channel"] == "slack" and n["type"] != "digest"]
    text = "\nThe webhook's channel at the end (a message per notification, oldest first; the digest below):\n\n"
    for post in posts:
        shown = f"{_clock(day, post['minute'])}  {EVENT_EMOJI.get(post['type'], '')} "
        text += shown + textwrap.shorten(as_shown(post["payload"].get("text", "")), WIDTH - len(shown), placeholder="…")
        text += "\n"
    failed = next((post for post in posts if post["type"] == "failed"), None)
    if failed is not None:
        text += "\nThe first failure as Slack shows the webhook's message:\n"
        card = Card(
            "webhook", "0", failed["minute"], failed["payload"], account=failed["account"], region=failed["region"]
        )
        text += _card_text(day, card)
    return text


@dataclass
class Card:
    """A job's root message in a channel, as last edited, with its thread's replies in order."""

    channel: str
    ts: str
    posted_minute: int
    payload: dict[str, Any]
    edited_minute: int | None = None
    replies: list[dict[str, Any]] = field(default_factory=list)
    # The job's account id and region, as the replay's line names them.
    account: str | None = None
    region: str | None = None


def channels(notifications: list[dict[str, Any]]) -> dict[str, list[Card]]:
    """Each app-mode destination's cards, in the order they were posted, rebuilt from the replay's lines."""
    cards: dict[tuple[str, str], Card] = {}
    for line in notifications:
        if line["channel"] != "slack" or "action" not in line or line["type"] == "digest":
            continue  # the digest is a message of its own, shown after the channels
        key = (line["destination"], line.get("thread") or line["ts"])
        if line["action"] == "post":
            cards[key] = Card(
                line["destination"],
                line["ts"],
                line["minute"],
                line["payload"],
                account=line.get("account"),
                region=line.get("region"),
            )
        elif key in cards and line["action"] == "reply":
            cards[key].replies.append(line)
        elif key in cards and line["action"] == "update":
            # chat.update replaces what it is given and keeps the rest (blocks left out stay as they were).
            cards[key].payload = {**cards[key].payload, **line["payload"]}
            cards[key].edited_minute = line["minute"]
    by_channel: dict[str, list[Card]] = {}
    for card in sorted(cards.values(), key=lambda card: (card.channel, float(card.ts))):
        by_channel.setdefault(card.channel, []).append(card)
    return by_channel


def _card_text(day: scenario.Scenario, card: Card, notes: dict[str, str] | None = None) -> str:
    """The card, then its thread; `notes` (by message ts) say which messages waited for quiet hours."""
    notes = notes or {}
    payload = card.payload
    carried = (payload.get("metadata") or {}).get("event_payload") or {}
    event = carried.get("event", "")
    named = _named(
        {"job": carried.get("job", "?"), "kind": carried.get("kind"), "account": card.account, "region": card.region},
        day,
    )
    facts = _fields(payload)
    first_block = (payload.get("blocks") or [{}])[0].get("text", {}).get("text", "")
    mention = _LEADING_MENTION.match(first_block)
    lead = f"{as_shown(mention.group(1).strip())} " if mention else ""
    progress = f" · {facts['Progress']}" if facts.get("Progress") else ""
    lines = [f"{lead}{named}: {EVENT_EMOJI.get(event, '')} {CARD_STATE.get(event, event)}{progress}"]
    kind_facts = [f"{label}: {facts[label]}" for label in KIND_CARD_FACTS if facts.get(label)]
    if kind_facts:
        lines.append(" · ".join(kind_facts))
    if "Ended" in facts:
        lines.append(f"Ended {facts['Ended']}" + (f" after {facts['Ran for']}" if "Ran for" in facts else ""))
    elif "Stalled" in facts:
        lines.append(f"Stalled: {facts['Stalled']}")
    elif "Rate" in facts:
        lines.append(f"Rate: {facts['Rate']}")
    lines += [f"{label}: {text}" for label, text in _quoted(payload).items()]
    posted = f"posted {_clock(day, card.posted_minute)}"
    if card.ts in notes:
        posted += f" ({notes[card.ts]})"
    if card.edited_minute is not None:
        posted += f", edited {_clock(day, card.edited_minute)}"
    replies = len(card.replies)
    lines.append(posted + (f" · {replies} {'reply' if replies == 1 else 'replies'}" if replies else ""))
    text = "".join(_wrapped(line, "┌ " if index == 0 else "│ ", "│   ") for index, line in enumerate(lines))
    for reply in card.replies:
        shown = f"│  ↳ {_clock(day, reply['minute'])} {EVENT_EMOJI.get(reply['type'], '')} {reply['type']}: "
        broadcast = f" (also shown in {card.channel})" if reply["payload"].get("reply_broadcast") else ""
        if reply["ts"] in notes:
            broadcast += f" ({notes[reply['ts']]})"
        # One line per reply: Slack shows the reply's whole card, the thread's outline is enough here.
        detail = textwrap.shorten(
            _reply_detail(reply["payload"].get("text", "")), WIDTH - len(shown) - len(broadcast), placeholder="…"
        )
        text += shown + detail + broadcast + "\n"
    return text + "└\n"


def _fields(payload: dict[str, Any]) -> dict[str, str]:
    """The card's facts ("*Label*\\nvalue" fields) by label, as shown."""
    facts: dict[str, str] = {}
    for block in payload.get("blocks", []):
        for item in block.get("fields", []):
            label, _, value = item.get("text", "").partition("\n")
            facts[label.strip("*")] = as_shown(value)
    return facts


def _quoted(payload: dict[str, Any]) -> dict[str, str]:
    """The service's own words the card quotes ("*Label*\\n> text" sections), by label, as shown."""
    quoted = {}
    for block in payload.get("blocks", []):
        text = (block.get("text") or {}).get("text", "")
        for label in QUOTED:
            if text.startswith(f"*{label}*\n> "):
                quoted[label] = as_shown(text.removeprefix(f"*{label}*\n> "))
    return quoted


def _reply_detail(fallback_text: str) -> str:
    """What a reply adds: its fallback text after "Training job … (region): " (names hold no parentheses)."""
    _, found, detail = fallback_text.partition("): ")
    return as_shown(detail if found else fallback_text)


def _wrapped(line: str, first: str, rest: str) -> str:
    wrapped = textwrap.wrap(line, WIDTH, initial_indent=first, subsequent_indent=rest, break_on_hyphens=False)
    return "\n".join(wrapped) + "\n"


def _clock(day: scenario.Scenario, minute: int) -> str:
    moment: datetime = day.moment(minute)
    return f"{moment:%H:%M}"


def _date(moment: datetime) -> str:
    return f"{moment:%A} {moment.day} {moment:%B}"


# --- the digest --------------------------------------------------------------------------------------------


def _digest_text(day: scenario.Scenario, notifications: list[dict[str, Any]]) -> str:
    """The last digest of the run, as the Slack channel shows it and as the email reads."""
    digests = [n for n in notifications if n["type"] == "digest"]
    slack = next((n for n in reversed(digests) if n["channel"] == "slack"), None)
    mail = next((n for n in reversed(digests) if n["channel"] == "email"), None)
    sent = [line for line in (slack, mail) if line is not None]
    if not sent:
        return ""
    digest = day.config.digest
    when = f" ({digest.at} {digest.timezone})" if digest else ""
    text = f"\nThe daily digest of {_date(day.moment(sent[0]['minute']))}{when}:\n"
    if slack is not None:
        where = slack.get("destination", "the webhook's channel")
        text += f"\nIn Slack, {where}, posted {_clock(day, slack['minute'])}:\n"
        text += "".join(digest_lines(slack["payload"])) + "└\n"
    if mail is not None:
        text += f"\nBy email, sent {_clock(day, mail['minute'])}:\n\n"
        text += textwrap.indent(f"Subject: {mail['subject']}\n\n{mail['message']}", "  ") + "\n"
    return text


def digest_lines(payload: dict[str, Any]) -> list[str]:
    """The digest's Block Kit message as a person reads it: its header, its date, each group's title and its jobs
    one to a line (each line of their sections starts with the job's name in bold), and the watcher's health."""
    lines = []
    for block in payload.get("blocks", []):
        if block.get("type") == "header":
            lines.append(_wrapped(block["text"]["text"], "┌ ", "│ "))
        elif block.get("type") == "context":
            shown = " ".join(as_shown(element.get("text", "")) for element in block.get("elements", []))
            lines.append(_wrapped(shown, "│ ", "│ "))
        elif block.get("type") == "section":
            raw = block["text"]["text"].split("\n")
            if all(line.startswith(("*", "+")) for line in raw):  # jobs, one a line (or "+N more")
                lines += [_wrapped(as_shown(_BOLD.sub(r"\1", line)), "│   • ", "│       ") for line in raw]
                continue
            first, *rest = _BOLD.sub(r"\1", block["text"]["text"]).split("\n")
            lines.append(_wrapped(as_shown(first), "│ ", "│   "))
            lines += [_wrapped(as_shown(line), "│     ", "│       ") for line in rest]
    return lines


def _summary(result: replay.ReplayResult, *, held: int = 0) -> str:
    mails = sum(1 for n in result.notifications if n["channel"] == "email")
    calls = [n.get("action", "post") for n in result.notifications if n["channel"] == "slack"]
    plural = {"post": "posts", "reply": "replies", "update": "updates"}
    counts = ", ".join(f"{calls.count(action)} {plural[action]}" for action in plural if action in calls)
    runs = len(result.ticks)
    sagemaker = sum(tick["sagemaker_calls"] for tick in result.ticks)
    waited = f"; {held} Slack messages waited for quiet hours" if held else ""
    return (
        f"{mails} emails and {len(calls)} Slack calls ({counts}){waited}; "
        f"{runs} watcher runs made {sagemaker} SageMaker calls.\n"
    )


# --- Slack's markup as text --------------------------------------------------------------------------------


def as_shown(text: str) -> str:
    """Slack markup as a person sees it: mentions as @name, links as "label (url)", emoji, escapes undone.

    Only real markup becomes a mention; job text reaches Slack escaped (&lt;!channel&gt;) and shows as typed."""
    text = _MENTION.sub(_mention_name, text)
    for code, emoji in EMOJI.items():
        text = text.replace(code, emoji)
    text = _LINK.sub(r"\2 (\1)", text)
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _mention_name(match: re.Match[str]) -> str:
    group_id, handle, special, user = match.groups()
    return f"@{handle or group_id or special or user}"
