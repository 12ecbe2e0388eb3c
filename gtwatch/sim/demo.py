"""`gtwatch demo`: a realistic day of labeling jobs on the emulator, shown as a person would receive it.

First the day as it happened, one line per email and per Slack call; then, in app mode, each Slack channel as a
person sees it at the end of the day: one card per job (the root message, as last updated) with its thread under it.
Everything shown is rebuilt from the replay's output (docs/scenario-format.md), as any reader of it could.
"""

from __future__ import annotations

import json
import re
import textwrap
from dataclasses import dataclass, field
from datetime import datetime
from importlib import resources
from typing import Any, TextIO

from . import replay, scenario
from .emulator.deployment import EmulatorMode

EMOJI = {
    ":white_check_mark:": "✅",
    ":x:": "❌",
    ":octagonal_sign:": "🛑",
    ":hourglass:": "⏳",
    ":warning:": "⚠️",
    ":arrow_forward:": "▶️",
    ":test_tube:": "🧪",
}
EVENT_EMOJI = {"completed": "✅", "failed": "❌", "stopped": "🛑", "stalled": "⏳", "resumed": "▶️", "test": "🧪"}
# What a card's first line says the job is, by the notification it shows last.
CARD_STATE = {
    "completed": "Completed",
    "failed": "Failed",
    "stopped": "Stopped",
    "stalled": "Stalled",
    "resumed": "In progress again",
}
WIDTH = 110
_LINK = re.compile(r"<([^|>!@]+)\|([^>]+)>")
# Slack's markup for a mention; escaped text (&lt;!channel&gt;) is not one, which is what keeps job text silent.
_MENTION = re.compile(r"<!subteam\^(S[A-Z0-9]+)(?:\|([^>]+))?>|<!(here|channel|everyone)>|<@([UW][A-Z0-9]+)>")
_LEADING_MENTION = re.compile(r"^((?:<[!@][^>]+>\s*)+)")


def load_day() -> scenario.Scenario:
    text = resources.files("gtwatch.sim").joinpath("scenarios/demo-day.json").read_text(encoding="utf-8")
    return scenario.parse(json.loads(text))


def show(*, mode: EmulatorMode = "inprocess", out: TextIO) -> None:
    day = load_day()
    result = replay.run(day, mode=mode)
    app = day.config.slack.mode == "app"
    jobs = sorted({step.create.name for step in day.steps if step.create})
    out.write(f"gtwatch demo: a day of {len(jobs)} labeling jobs on the local emulator ({', '.join(jobs)}),\n")
    out.write(f"polled every {day.tick_minutes} minutes from {day.start:%Y-%m-%d %H:%M} UTC; ")
    out.write(f"stall alert after {day.config.stall_after_minutes} minutes without progress.\n")
    if app:
        out.write("Slack: a Slack app (app mode) posting to these routes:\n")
        for route in day.config.slack.routes:
            events = ", ".join(route.events) if len(route.events) < 5 else "every event"
            mention = f", mentioning {as_shown(route.mention)}" if route.mention else ""
            names = f" of jobs whose name contains {route.name_contains!r}" if route.name_contains else ""
            out.write(f"  {route.channel:<12} {events}{names}{mention}\n")
    else:
        out.write("Slack: one incoming webhook (webhook mode).\n")
    out.write("\nThe day as it happened:\n\n")
    for notification in result.notifications:
        out.write(_timeline_line(day, notification))
    if app:
        out.write("\nThe Slack channels at the end of the day ")
        out.write("(a card per job, showing its latest notification; its thread below):\n")
        for channel, cards in channels(result.notifications).items():
            out.write(f"\n{channel}\n")
            for card in cards:
                out.write(_card_text(day, card))
        failed_mail = next((n for n in result.notifications if n["channel"] == "email" and n["type"] == "failed"), None)
        if failed_mail is not None:
            out.write("\nThe failure as the email subscription receives it:\n\n")
            out.write(textwrap.indent(f"Subject: {failed_mail['subject']}\n\n{failed_mail['message']}", "  "))
    out.write("\n" + _summary(result) + "\n")


# --- the day, line by line ---------------------------------------------------------------------------------


def _timeline_line(day: scenario.Scenario, notification: dict[str, Any]) -> str:
    moment = f"{day.moment(notification['minute']):%H:%M}"
    if notification["channel"] == "email":
        return f"{moment}  Email  Subject: {notification['subject']}\n"
    job, event = notification["job"], notification["type"]
    action = notification.get("action", "post")  # an incoming webhook only ever posts
    what = f"{EVENT_EMOJI.get(event, '')} {job}: {event}"
    if action == "update":
        what = f"{job}'s card now shows {CARD_STATE.get(event, event)}"
    elif notification["payload"].get("reply_broadcast"):
        what += " (also shown in the channel)"
    mention = _LEADING_MENTION.match(notification["payload"].get("text", ""))
    if mention and action == "post":
        what += f", mentioning {as_shown(mention.group(1).strip())}"
    return f"{moment}  Slack  {notification.get('destination', 'webhook'):<11} {action:<6}  {what}\n"


# --- the channels, as a person sees them -------------------------------------------------------------------


@dataclass
class Card:
    """A job's root message in a channel, as last edited, with its thread's replies in order."""

    channel: str
    ts: str
    posted_minute: int
    payload: dict[str, Any]
    edited_minute: int | None = None
    replies: list[dict[str, Any]] = field(default_factory=list)


def channels(notifications: list[dict[str, Any]]) -> dict[str, list[Card]]:
    """Each app-mode destination's cards, in the order they were posted, rebuilt from the replay's lines."""
    cards: dict[tuple[str, str], Card] = {}
    for line in notifications:
        if line["channel"] != "slack" or "action" not in line:
            continue
        key = (line["destination"], line.get("thread") or line["ts"])
        if line["action"] == "post":
            cards[key] = Card(line["destination"], line["ts"], line["minute"], line["payload"])
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


def _card_text(day: scenario.Scenario, card: Card) -> str:
    payload = card.payload
    carried = (payload.get("metadata") or {}).get("event_payload") or {}
    event, job = carried.get("event", ""), carried.get("job", "?")
    facts = _fields(payload)
    first_block = (payload.get("blocks") or [{}])[0].get("text", {}).get("text", "")
    mention = _LEADING_MENTION.match(first_block)
    lead = f"{as_shown(mention.group(1).strip())} " if mention else ""
    lines = [f"{lead}{job}: {EVENT_EMOJI.get(event, '')} {CARD_STATE.get(event, event)} · {facts.get('Progress', '')}"]
    if "Ended" in facts:
        lines.append(f"Ended {facts['Ended']} after {facts.get('Ran for', '?')}")
    elif "Stalled" in facts:
        lines.append(f"Stalled: {facts['Stalled']}")
    elif "Rate" in facts:
        lines.append(f"Rate: {facts['Rate']}")
    reason = _failure_reason(payload)
    if reason:
        lines.append(f"Failure reason: {reason}")
    posted = f"posted {_clock(day, card.posted_minute)}"
    if card.edited_minute is not None:
        posted += f", edited {_clock(day, card.edited_minute)}"
    replies = len(card.replies)
    lines.append(posted + (f" · {replies} {'reply' if replies == 1 else 'replies'}" if replies else ""))
    text = "".join(_wrapped(line, "┌ " if index == 0 else "│ ", "│   ") for index, line in enumerate(lines))
    for reply in card.replies:
        shown = f"│  ↳ {_clock(day, reply['minute'])} {EVENT_EMOJI.get(reply['type'], '')} {reply['type']}: "
        broadcast = f" (also shown in {card.channel})" if reply["payload"].get("reply_broadcast") else ""
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


def _failure_reason(payload: dict[str, Any]) -> str:
    for block in payload.get("blocks", []):
        text = (block.get("text") or {}).get("text", "")
        if text.startswith("*Failure reason*\n> "):
            return as_shown(text.removeprefix("*Failure reason*\n> "))
    return ""


def _reply_detail(fallback_text: str) -> str:
    """What a reply adds: its fallback text after "Labeling job … (region): " (names hold no parentheses)."""
    _, found, detail = fallback_text.partition("): ")
    return as_shown(detail if found else fallback_text)


def _wrapped(line: str, first: str, rest: str) -> str:
    wrapped = textwrap.wrap(line, WIDTH, initial_indent=first, subsequent_indent=rest, break_on_hyphens=False)
    return "\n".join(wrapped) + "\n"


def _clock(day: scenario.Scenario, minute: int) -> str:
    moment: datetime = day.moment(minute)
    return f"{moment:%H:%M}"


def _summary(result: replay.ReplayResult) -> str:
    mails = sum(1 for n in result.notifications if n["channel"] == "email")
    calls = [n.get("action", "post") for n in result.notifications if n["channel"] == "slack"]
    plural = {"post": "posts", "reply": "replies", "update": "updates"}
    counts = ", ".join(f"{calls.count(action)} {plural[action]}" for action in plural if action in calls)
    runs = len(result.ticks)
    sagemaker = sum(tick["sagemaker_calls"] for tick in result.ticks)
    return (
        f"{mails} emails and {len(calls)} Slack calls ({counts}); "
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
