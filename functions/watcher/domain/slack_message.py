"""The Slack rendering of a notification: a Block Kit message for an incoming webhook, safe to show any job text.

Every value from the job is cleaned (text.one_line) and then escaped (`&`, `<`, `>`), so that job text can neither
mention anyone nor make a link. The notification id is not shown: it travels in the message's `metadata`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from watcher.domain.formatting import Link, Rows, clock_time, details, facts, headline, links, notes, summary, where
from watcher.domain.model import EventType, Notification
from watcher.domain.text import one_line

EMOJI = {
    EventType.COMPLETED: ":white_check_mark:",
    EventType.FAILED: ":x:",
    EventType.STOPPED: ":octagonal_sign:",
    EventType.STALLED: ":hourglass:",
    EventType.RESUMED: ":arrow_forward:",
    EventType.TEST: ":test_tube:",
}

# Block Kit limits (docs.slack.dev/reference/block-kit): a section's text 3000, a field's text 2000, ten fields.
SECTION_TEXT_LIMIT = 3000
FIELD_TEXT_LIMIT = 2000
FIELD_COUNT_LIMIT = 10
# The fallback `text` is what mobile notifications show: the headline and one short line of what matters.
FALLBACK_DETAIL_LIMIT = 200
HEADLINE_LIMIT = 300
# Message metadata (docs.slack.dev/messaging/message-metadata): carried with the message, not shown to people.
METADATA_EVENT_TYPE = "gtwatch_notification"
LINK_TARGET_LIMIT = 2000
ELLIPSIS = "…"
# Slack also refuses a message whose blocks hold too much text in all (msg_blocks_too_long), at an undocumented
# total met from about 11,000 characters (see digest.py). The job's own text shares these budgets, so that a message
# stays within about 8,000 characters of block text however long the job's facts are: the facts' fields, the quoted
# notes (failure reason, exit message, step failure reason), and the details' section.
FIELDS_BUDGET = 2000
NOTES_BUDGET = 2400
DETAILS_BUDGET = 2400


def escape(text: str) -> str:
    """Escape Slack's three control characters so job text can neither mention anyone nor make a link."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_length(text: str) -> int:
    # Counted in UTF-16 code units, as JavaScript does: never less than Python's count, so a text that fits
    # here fits whichever way Slack counts characters outside the Basic Multilingual Plane.
    return len(text.encode("utf-16-le")) // 2


def escaped_within(text: str, limit: int) -> str:
    """`text` escaped, cut to `limit` with an ellipsis when longer; the cut never splits an entity like `&amp;`."""
    escaped = escape(text)
    if slack_length(escaped) <= limit:
        return escaped
    room = limit - len(ELLIPSIS)
    cut = escaped[:room]
    while (excess := slack_length(cut) - room) > 0:
        cut = cut[: len(cut) - (excess + 1) // 2]  # a code point is one or two UTF-16 units
    entity = cut.rfind("&")
    if entity != -1 and ";" not in cut[entity:]:
        cut = cut[:entity]
    return cut + ELLIPSIS


def payload(notification: Notification) -> dict[str, Any]:
    """The incoming-webhook body: a fallback `text` for notifications, the Block Kit `blocks`, and `metadata`
    carrying the notification id (event_payload.notification_id) for machines."""
    title = f"{EMOJI[notification.event_type]} *{escaped_within(headline(notification), HEADLINE_LIMIT)}*"
    blocks: list[dict[str, Any]] = [
        _section(f"{title}\n{' · '.join(_link(link) for link in links(notification.job))}"),
        {"type": "section", "fields": [_mrkdwn(text) for text in _fields(notification)]},
    ]
    blocks += [_section(text) for text in _notes(notification)]
    details = _details(notification)
    if details:
        blocks.append(_section(details))
    blocks.append({"type": "context", "elements": [_mrkdwn(_context_text(notification))]})
    return {"text": _fallback_text(notification), "blocks": blocks, "metadata": _metadata(notification)}


def _fallback_text(notification: Notification) -> str:
    """What a phone shows: the headline, the region, and the one thing to know (formatting.summary: the reason a
    job failed, since when it is stalled, how far it got)."""
    lead = escaped_within(f"{headline(notification)} ({where(notification.job)})", HEADLINE_LIMIT)
    return f"{lead}: {escaped_within(one_line(summary(notification)), FALLBACK_DETAIL_LIMIT)}"


def _metadata(notification: Notification) -> dict[str, Any]:
    # Not escaped or cut: machines match posts to notifications by this exact id. The job is known by its kind,
    # region and name (two kinds may share a name).
    job = notification.job.id
    return {
        "event_type": METADATA_EVENT_TYPE,
        "event_payload": {
            "notification_id": notification.id,
            "job": one_line(job.name),
            "kind": job.kind.value,
            "region": one_line(job.region),
            "event": notification.event_type.value,
            "status": str(notification.job.status),
        },
    }


def _fields(notification: Notification) -> list[str]:
    return _shared(
        facts(notification), lambda label: f"*{label}*\n", FIELDS_BUDGET, FIELD_TEXT_LIMIT, FIELD_COUNT_LIMIT
    )


def _notes(notification: Notification) -> list[str]:
    return _shared(notes(notification), lambda label: f"*{label}*\n> ", NOTES_BUDGET, SECTION_TEXT_LIMIT)


def _details(notification: Notification) -> str:
    # One section: the rows share its room, so that one very long URI cannot push the others out.
    return "\n".join(
        _shared(details(notification.job), lambda label: f"*{label}:* ", DETAILS_BUDGET, SECTION_TEXT_LIMIT)
    )


def _shared(rows: Rows, head: Callable[[str], str], budget: int, limit: int, most: int | None = None) -> list[str]:
    """The rows that have a value (at most `most`), each as `head(label)` and its value escaped, sharing `budget`
    and each within `limit`: a row shorter than an even share takes what it needs, and leaves the rest to the
    longer ones."""
    shown = [(head(label), one_line(value)) for label, value in rows if value and one_line(value)][:most]
    needs = [slack_length(lead) + slack_length(escape(value)) for lead, value in shown]
    rooms = [0] * len(shown)
    left = budget
    for count, index in enumerate(sorted(range(len(shown)), key=needs.__getitem__)):
        rooms[index] = min(needs[index], left // (len(shown) - count), limit)
        left -= rooms[index]
    return [
        lead + escaped_within(value, room - slack_length(lead))
        for (lead, value), room in zip(shown, rooms, strict=True)
    ]


def _context_text(notification: Notification) -> str:
    created = clock_time(notification.job.creation_time)
    occurred = clock_time(notification.occurred_at)
    return f"Job created {created} · sent by gtwatch at {occurred}"


def _link(link: Link) -> str:
    # Inside <url|text> a raw `|` would end the URL early; the URLs are built by us, but their parts are not. The
    # text (a job's name, for a pipeline step's job) is escaped, so it can neither mention anyone nor nest a link.
    target = escape(one_line(link.url).replace("|", "%7C").replace(" ", "%20"))
    if len(target) > LINK_TARGET_LIMIT:
        return f"({escape(link.label.lower())} link too long to show)"
    return f"<{target}|{escaped_within(one_line(link.text), HEADLINE_LIMIT)}>"


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": _mrkdwn(text)}


def _mrkdwn(text: str) -> dict[str, Any]:
    # verbatim: Slack does not auto-link bare channel names or URLs in the job's text; formatting still applies.
    return {"type": "mrkdwn", "text": text, "verbatim": True}
