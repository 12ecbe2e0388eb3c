"""`gtwatch demo`: a realistic day of labeling jobs on the emulator, shown as a person would receive it."""

from __future__ import annotations

import json
import re
import textwrap
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
}
_LINK = re.compile(r"<([^|>]+)\|([^>]+)>")


def load_day() -> scenario.Scenario:
    text = resources.files("gtwatch.sim").joinpath("scenarios/demo-day.json").read_text(encoding="utf-8")
    return scenario.parse(json.loads(text))


def show(*, mode: EmulatorMode = "inprocess", out: TextIO) -> None:
    day = load_day()
    result = replay.run(day, mode=mode)
    jobs = sorted({step.create.name for step in day.steps if step.create})
    out.write(f"gtwatch demo: a day of {len(jobs)} labeling jobs on the local emulator ({', '.join(jobs)}),\n")
    out.write(f"polled every {day.tick_minutes} minutes from {day.start:%Y-%m-%d %H:%M} UTC; ")
    out.write(f"stall alert after {day.config.stall_after_minutes} minutes without progress.\n\n")
    for notification in result.notifications:
        moment = day.moment(notification["minute"])
        channel = notification["channel"].capitalize()
        out.write(f"{moment:%H:%M}  {channel:<5}  ")
        if notification["channel"] == "slack":
            out.write(_indent(slack_as_text(notification["payload"])))
        else:
            out.write(_indent(f"Subject: {notification['subject']}\n\n{notification['message']}"))
        out.write("\n")
    runs = len(result.ticks)
    calls = sum(tick["sagemaker_calls"] for tick in result.ticks)
    out.write(f"{len(result.notifications)} notifications; {runs} watcher runs made {calls} SageMaker calls.\n")


def slack_as_text(payload: dict[str, Any]) -> str:
    """Roughly how Slack shows the message: mrkdwn links and emoji resolved, escapes undone."""
    lines: list[str] = []
    for block in payload.get("blocks", []):
        if block.get("type") in ("header", "section") and block.get("text"):
            lines.append(block["text"]["text"])
        # A field is "*Label*\nvalue"; Slack shows them side by side, a terminal as "Label: value".
        lines.extend(field["text"].replace("*", "", 2).replace("\n", ": ", 1) for field in block.get("fields", []))
        if block.get("type") == "context":
            lines.append("  ".join(element.get("text", "") for element in block.get("elements", [])))
        for element in block.get("elements", []) if block.get("type") == "actions" else []:
            lines.append(f"[{element['text']['text']}] {element.get('url', '')}")
        if block.get("type") == "section" and isinstance(block.get("accessory"), dict):
            accessory = block["accessory"]
            if accessory.get("type") == "button":
                lines.append(f"[{accessory['text']['text']}] {accessory.get('url', '')}")
    text = "\n".join(lines) or payload.get("text", "")
    for code, emoji in EMOJI.items():
        text = text.replace(code, emoji)
    text = _LINK.sub(r"\2 (\1)", text)
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _indent(text: str) -> str:
    first, _, rest = text.strip("\n").partition("\n")
    return first + "\n" + textwrap.indent(rest, " " * 14) + ("\n" if rest else "")
