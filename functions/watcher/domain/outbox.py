"""The outbox rules, pure: which channels a new notification is held for (quiet hours), what a run publishes now
(the held ones a later notification releases, per destination), how a mute set after a decision applies when the
notification is released, and what is left once a run delivered. watch.py does the I/O around them.

Quiet hours hold a notification of a held type, for the held channels, until the window ends. A notification that
is not held releases its job's held ones before it, in order, on each channel it reaches: by email, only one that
the email subscriptions take (`email_events`) and that is not muted; in Slack, any one (a muted one is marked so),
where the held one is shown now only in the channels its releasers reach (`released_by`) and again, everywhere, at
the window's end.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from watcher.domain.contract import EVENT_TYPES
from watcher.domain.model import Notification, OutboxEntry
from watcher.domain.quiet import QuietHours

SLACK = "slack"


def entry_for(notification: Notification, quiet: QuietHours | None, now: datetime) -> OutboxEntry:
    """A new notification's outbox entry: held for the quiet-hours channels if its type is held now."""
    if quiet is None:
        return OutboxEntry(notification)
    held, until = quiet.holds(notification.event_type.value, now)
    return OutboxEntry(notification, held=held, held_until=until)


def due_channels(
    outbox: tuple[OutboxEntry, ...],
    now: datetime,
    silenced: frozenset[str] = frozenset(),
    email_events: frozenset[str] = frozenset(EVENT_TYPES),
) -> list[frozenset[str]]:
    """For each entry, the channels to publish it to now: those not held, and for a channel where a later entry
    is due, every earlier one too (a notification that is not held releases the job's held ones, in order).

    Only a notification that reaches a destination releases there. By email: one of `email_events` (the
    subscriptions' filter) not muted now (`silenced`). Slack hears of every one (a muted one marked so), so any
    moves the job's held ones into the Slack stream, where they are shown only in the channels of a releaser that
    is said (see `released_by`)."""
    last_release: dict[str, int] = {}
    for index, entry in enumerate(outbox):
        said = entry.notification.event_type not in silenced and entry.notification.event_type in email_events
        for channel in entry.channels:
            if not entry.holds(channel, now) and (channel == SLACK or said):
                last_release[channel] = index
    return [
        frozenset(
            channel
            for channel in entry.channels
            if not entry.holds(channel, now) or index <= last_release.get(channel, -1)
        )
        for index, entry in enumerate(outbox)
    ]


def released_by(outbox: tuple[OutboxEntry, ...], index: int, now: datetime, silenced: frozenset[str]) -> frozenset[str]:
    """The types of the job's later notifications that go to Slack now, not held and not muted: a held one sent with
    them is shown now in the Slack channels they reach, and waits for the window's end in the others."""
    return frozenset(
        entry.notification.event_type.value
        for entry in outbox[index + 1 :]
        if SLACK in entry.channels
        and not entry.holds(SLACK, now)
        and not entry.notification.muted
        and entry.notification.event_type not in silenced
    )


@dataclass(frozen=True)
class Release:
    """One notification a run publishes now: as sent, to which channels, and what that delivers of its entry."""

    notification: Notification
    channels: frozenset[str]
    # The entry's channels done once this is published (an early Slack release still owes Slack the full message).
    delivers: frozenset[str]
    # Sent to Slack ahead of the window's end: not "already published" for Slack, which gets it again later.
    early: bool

    def settles(self, channel: str) -> bool:
        """Whether publishing to `channel` now settles the entry there (what a container remembers as published)."""
        return not (channel == SLACK and self.early)


def releases(
    outbox: tuple[OutboxEntry, ...],
    now: datetime,
    silenced: frozenset[str] = frozenset(),
    email_events: frozenset[str] = frozenset(EVENT_TYPES),
) -> list[Release]:
    """What to publish now, in the outbox's order: an empty list when nothing is due (held for quiet hours)."""
    plan: list[Release] = []
    for index, (entry, due) in enumerate(zip(outbox, due_channels(outbox, now, silenced, email_events), strict=True)):
        if not due:
            continue
        notification = entry.notification
        if notification.event_type in silenced:
            # Muted after it was decided (it was held): never said. Slack still hears of it, marked muted, so that
            # the job's later messages are not left waiting for its number; email simply drops it.
            notification, channels = replace(notification, muted=True), due & {SLACK}
        else:
            channels = due
        # Held for Slack yet sent now, with later news of its job (for the order): Slack shows it only where that
        # news goes. It stays in the outbox for Slack, to be sent again, for everywhere, when the window ends.
        early = SLACK in channels and entry.holds(SLACK, now)
        if early:
            notification = replace(
                notification, held_until=entry.held_until, released_by=released_by(outbox, index, now, silenced)
            )
        elif SLACK in entry.held and entry.held_until is not None and entry.held_until <= now:
            # Released at the window's end: Slack has owed it since then, not since it happened (its lag alarm).
            notification = replace(notification, held_until=entry.held_until)
        plan.append(Release(notification, channels, due - {SLACK} if early else due, early))
    return plan


def after_delivery(outbox: tuple[OutboxEntry, ...], delivered: dict[str, frozenset[str]]) -> tuple[OutboxEntry, ...]:
    """The outbox without what was delivered (by notification id, the channels done)."""
    remaining = []
    for entry in outbox:
        channels = entry.channels - delivered.get(entry.notification.id, frozenset())
        if channels:
            remaining.append(replace(entry, channels=channels, held=entry.held & channels))
    return tuple(remaining)
