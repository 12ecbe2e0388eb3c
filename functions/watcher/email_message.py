"""The email rendering of a notification: an SNS-valid subject and a readable plain-text body."""

from __future__ import annotations

import re

from .formatting import clock_time, facts, headline
from .model import Notification

SUBJECT_LIMIT = 99  # SNS: under 100 characters, ASCII, no line breaks.
_NOT_PRINTABLE_ASCII = re.compile(r"[^\x20-\x7e]+")


def subject(notification: Notification) -> str:
    job = notification.job
    text = f"[gtwatch] {notification.event_type.value.capitalize()}: {job.name} ({job.region})"
    text = _NOT_PRINTABLE_ASCII.sub(" ", text).strip()
    return text if len(text) <= SUBJECT_LIMIT else text[: SUBJECT_LIMIT - 3] + "..."


def body(notification: Notification) -> str:
    job = notification.job
    rows: list[tuple[str, str | None]] = [
        *facts(notification),
        ("Failure reason", job.failure_reason),
        ("Output", job.output_uri),
        ("Model", job.active_learning_model_arn),
        ("Input", job.input_manifest_uri or job.input_sns_topic_arn),
        ("Work team", job.workteam_arn),
        ("Created", clock_time(job.creation_time)),
        ("Console", job.console_url),
    ]
    width = max(len(label) for label, _ in rows) + 2
    lines = [f"{headline(notification)}.", ""]
    lines += [f"{label + ':':<{width}}{_one_line(value)}" for label, value in rows if value]
    lines += [
        "",
        f"Sent by gtwatch at {clock_time(notification.occurred_at)} (notification {notification.id}).",
    ]
    return "\n".join(lines) + "\n"


def _one_line(text: str) -> str:
    # A failure reason may hold line breaks; keep the label/value layout readable.
    return " ".join(text.split())
