"""In-memory fakes of the Slack notifier's ports (slack_ports): a Slack destination that can fail, lose answers and
rate-limit, a ledger store with versioned conditional writes, and the Slack queue; and the two broken-safeguard
variants the order-once tests must catch (a destination that never finds what it posted; see also
slack_delivery.Notifier.in_turn)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Literal

from watcher.domain.ledger import Ledger
from watcher.domain.ports import ItemConflict
from watcher.domain.slack_outcomes import SlackMisconfigured, SlackPostError, SlackRejected
from watcher.domain.slack_ports import Posted, SlackDestination

Failure = Literal["down", "lost", "rate_limited", "rejected", "misconfigured"]


@dataclass
class Shown:
    """One message as Slack shows it: where, in which thread (None: top-level), and what."""

    channel_id: str
    ts: str
    message: dict[str, Any]
    thread_ts: str | None = None
    broadcast: bool = False

    @property
    def notification_id(self) -> str | None:
        found = ((self.message.get("metadata") or {}).get("event_payload") or {}).get("notification_id")
        return None if found is None else str(found)


class FakeSlack:
    """Slack: channels by name (#labeling → C-labeling), messages with a ts each. `threads`: the app (roots,
    replies, updates, lookups); otherwise one incoming webhook. `fail_next` queues failures of the next calls:
    `down` and `rate_limited` (nothing posted), `lost` (posted, but the answer never came back), `rejected` (the
    message is invalid for good), `misconfigured` (the token or channel is wrong)."""

    def __init__(self, *, threads: bool = True) -> None:
        self._threads = threads
        self.shown: list[Shown] = []
        self.updates: list[tuple[str, str, dict[str, Any]]] = []
        self.lookups = 0
        self._failures: list[Failure] = []
        self._next_ts = 0

    @property
    def threads(self) -> bool:
        return self._threads

    def fail_next(self, failure: Failure, count: int = 1) -> None:
        self._failures.extend([failure] * count)

    def channel_id(self, channel: str) -> str:
        return f"C-{channel.removeprefix('#')}" if channel.startswith("#") else channel

    def post(self, channel_id: str, message: dict[str, Any]) -> Posted | None:
        posted = self._show(Shown(channel_id, "", message))
        return posted if self._threads else None

    def reply(self, channel_id: str, thread_ts: str, message: dict[str, Any], *, broadcast: bool) -> None:
        self._show(Shown(channel_id, "", message, thread_ts=thread_ts, broadcast=broadcast))

    def update(self, channel_id: str, ts: str, message: dict[str, Any]) -> None:
        self._fail_if_asked(lost_posts=None)
        self.updates.append((channel_id, ts, message))

    def find(
        self, channel_id: str, notification_id: str, *, since: datetime, thread_ts: str | None = None
    ) -> str | None:
        self.lookups += 1
        self._fail_if_asked(lost_posts=None)
        if not self._threads:
            return None
        for shown in self.shown:
            if (
                shown.channel_id == channel_id
                and shown.thread_ts == thread_ts
                and shown.notification_id == notification_id
            ):
                return shown.ts
        return None

    def in_channel(self, channel: str) -> list[str | None]:
        """The notification ids of the messages shown in `channel`, top-level and replies, in the order shown."""
        channel_id = self.channel_id(channel)
        return [shown.notification_id for shown in self.shown if shown.channel_id == channel_id]

    def _show(self, shown: Shown) -> Posted:
        self._fail_if_asked(lost_posts=shown)
        return self._add(shown)

    def _add(self, shown: Shown) -> Posted:
        self._next_ts += 1
        shown.ts = f"{1_700_000_000 + self._next_ts}.000100"
        self.shown.append(shown)
        return Posted(shown.channel_id, shown.ts)

    def _fail_if_asked(self, *, lost_posts: Shown | None) -> None:
        if not self._failures:
            return
        failure = self._failures.pop(0)
        if failure == "lost":
            if lost_posts is not None:
                self._add(lost_posts)
            raise SlackPostError("Slack did not answer chat.postMessage: TimeoutError")
        if failure == "rejected":
            raise SlackRejected("Slack refused chat.postMessage: msg_too_long")
        if failure == "misconfigured":
            raise SlackMisconfigured("Slack refused chat.postMessage: not_in_channel")
        error = SlackPostError(
            f"Slack refused chat.postMessage: {'ratelimited' if failure == 'rate_limited' else 'HTTP 500'}"
        )
        error.code = "ratelimited" if failure == "rate_limited" else None
        raise error


class Wrapped:
    """A destination that passes every call on to `destination`; the variants below change one thing."""

    def __init__(self, destination: SlackDestination) -> None:
        self._destination = destination

    @property
    def threads(self) -> bool:
        return self._destination.threads

    def channel_id(self, channel: str) -> str:
        return self._destination.channel_id(channel)

    def post(self, channel_id: str, message: dict[str, Any]) -> Posted | None:
        return self._destination.post(channel_id, message)

    def reply(self, channel_id: str, thread_ts: str, message: dict[str, Any], *, broadcast: bool) -> None:
        self._destination.reply(channel_id, thread_ts, message, broadcast=broadcast)

    def update(self, channel_id: str, ts: str, message: dict[str, Any]) -> None:
        self._destination.update(channel_id, ts, message)

    def find(
        self, channel_id: str, notification_id: str, *, since: datetime, thread_ts: str | None = None
    ) -> str | None:
        return self._destination.find(channel_id, notification_id, since=since, thread_ts=thread_ts)


class NoLookup(Wrapped):
    """Broken on purpose: a destination that never finds what it posted (as if the app did not look before posting
    again after a lost answer)."""

    def find(
        self, channel_id: str, notification_id: str, *, since: datetime, thread_ts: str | None = None
    ) -> str | None:
        return None


class Oversized(Wrapped):
    """A destination whose messages carrying `notification_id` are too long for Slack (over 40,000 characters of
    text): the real Slack refuses them with msg_too_long."""

    def __init__(self, destination: SlackDestination, notification_id: str) -> None:
        super().__init__(destination)
        self._notification_id = notification_id

    def post(self, channel_id: str, message: dict[str, Any]) -> Posted | None:
        return super().post(channel_id, self._sized(message))

    def reply(self, channel_id: str, thread_ts: str, message: dict[str, Any], *, broadcast: bool) -> None:
        super().reply(channel_id, thread_ts, self._sized(message), broadcast=broadcast)

    def _sized(self, message: dict[str, Any]) -> dict[str, Any]:
        carried = ((message.get("metadata") or {}).get("event_payload") or {}).get("notification_id")
        return {**message, "text": "x" * 40_001} if carried == self._notification_id else message


class FakeLedgers:
    """The ledger store: one ledger per stream, each save conditional on the version read (ItemConflict else).
    `interfere` runs before the next save (another invocation writing first); `broken` makes every call raise."""

    def __init__(self) -> None:
        self.ledgers: dict[str, Ledger] = {}
        self.interfere: Callable[[FakeLedgers], object] | None = None
        self.broken: Exception | None = None

    def get(self, stream: str) -> Ledger:
        if self.broken is not None:
            raise self.broken
        return self.ledgers.get(stream, Ledger(stream=stream))

    def save(self, ledger: Ledger, now: datetime) -> Ledger:
        if self.broken is not None:
            raise self.broken
        if self.interfere is not None:
            interfere, self.interfere = self.interfere, None
            interfere(self)
        stored = self.ledgers.get(ledger.stream, Ledger(stream=ledger.stream))
        if stored.version != ledger.version:
            raise ItemConflict(ledger.stream)
        saved = replace(ledger, version=ledger.version + 1)
        self.ledgers[ledger.stream] = saved
        return saved


@dataclass
class FakeQueue:
    """The Slack queue by receipt handle, and its dead-letter queue."""

    retries: dict[str, int] = field(default_factory=dict)
    deleted: list[str] = field(default_factory=list)
    dead_letters: list[tuple[dict[str, Any], dict[str, str]]] = field(default_factory=list)

    def retry_in(self, receipt: str, seconds: int) -> None:
        self.retries[receipt] = seconds

    def delete(self, receipt: str) -> None:
        self.deleted.append(receipt)

    def dead_letter(self, body: dict[str, Any], attributes: dict[str, str]) -> None:
        self.dead_letters.append((body, attributes))
