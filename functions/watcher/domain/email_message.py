"""The email rendering of a notification: an SNS-valid subject and a readable plain-text body."""

from __future__ import annotations

import re

from watcher.domain.formatting import clock_time, details, facts, headline, links, notes, where
from watcher.domain.job import KIND_NOUNS, JobKind
from watcher.domain.model import Notification
from watcher.domain.text import one_line

# SNS Publish: a subject is "UTF-8 text with no line breaks or control characters, and less than 100 characters
# long"; email clients want 7-bit ASCII in a header. So: printable ASCII only, at most 99 characters.
SUBJECT_LIMIT = 99
_NOT_PRINTABLE_ASCII = re.compile(r"[^\x20-\x7e]+")


def subject(notification: Notification) -> str:
    job = notification.job.id
    # A labeling job is named alone, as before other kinds were watched (mail filters may match it).
    noun = "" if job.kind is JobKind.LABELING else f"{KIND_NOUNS[job.kind]} "
    text = f"[gtwatch] {notification.event_type.value.capitalize()}: {noun}{job.name} ({where(notification.job)})"
    text = " ".join(_NOT_PRINTABLE_ASCII.sub(" ", text).split())
    return text if len(text) <= SUBJECT_LIMIT else text[: SUBJECT_LIMIT - 3] + "..."


def body(notification: Notification) -> str:
    """Plain text: every value from the job cleaned and on one line; the notification id last, as a reference."""
    job = notification.job
    rows: list[tuple[str, str | None]] = [
        *facts(notification),
        *notes(notification),
        *details(job),
        ("Created", clock_time(job.creation_time)),
        *((link.label, link.url) for link in links(job)),
    ]
    shown = [(label, one_line(value)) for label, value in rows if value and one_line(value)]
    width = max(len(label) for label, _ in shown) + 2
    lines = [f"{headline(notification)}.", ""]
    lines += [f"{label + ':':<{width}}{value}" for label, value in shown]
    lines += [
        "",
        f"Sent by gtwatch at {clock_time(notification.occurred_at)}.",
        f"ref: {one_line(notification.id)}",
    ]
    return "\n".join(lines) + "\n"
