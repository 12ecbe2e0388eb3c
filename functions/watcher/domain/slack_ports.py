"""The Slack notifier's ports: where messages go (a Slack destination), the delivery ledger, and the Slack queue.
The delivery use case (slack_delivery) takes them as arguments; adapters and the tests' fakes implement them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from watcher.domain.ledger import Ledger


@dataclass(frozen=True)
class Posted:
    """Where a message went: the channel's id and the message's ts (Slack's id of it)."""

    channel_id: str
    ts: str


class SlackDestination(Protocol):
    """Slack as the notifier sees it. Every call raises a SlackPostError kind (slack_outcomes) when Slack did not
    take it. `threads`: whether the destination keeps a job's messages in a thread of its channel and can be asked
    what it posted (the app); an incoming webhook is one flat stream that cannot."""

    @property
    def threads(self) -> bool: ...

    def channel_id(self, channel: str) -> str:
        """A route's channel (#name or id) as Slack's id."""
        ...

    def post(self, channel_id: str, message: dict[str, Any]) -> Posted | None:
        """Post `message` on its own (a webhook answers no Posted)."""
        ...

    def reply(self, channel_id: str, thread_ts: str, message: dict[str, Any], *, broadcast: bool) -> None:
        """Post `message` in the thread of the root `thread_ts` (`broadcast`: shown in the channel too)."""
        ...

    def update(self, channel_id: str, ts: str, message: dict[str, Any]) -> None: ...

    def find(
        self, channel_id: str, notification_id: str, *, since: datetime, thread_ts: str | None = None
    ) -> str | None:
        """The ts of the message carrying `notification_id`: in the channel since `since`, or in the thread of
        `thread_ts`; None when there is none (or, for a webhook, when it cannot tell)."""
        ...


class SlackLedgers(Protocol):
    """Per stream (a job's notifications, a digest), how far delivery got; every save is conditional on the
    version read, and raises ItemConflict when another invocation saved first."""

    def get(self, stream: str) -> Ledger: ...

    def save(self, ledger: Ledger, now: datetime) -> Ledger: ...


class SlackQueue(Protocol):
    """The Slack queue and its dead-letter queue, by a message's receipt handle."""

    def retry_in(self, receipt: str, seconds: int) -> None:
        """Offer the message again in `seconds` (not before)."""
        ...

    def delete(self, receipt: str) -> None: ...

    def dead_letter(self, body: dict[str, Any], attributes: dict[str, str]) -> None:
        """Set a message Slack rejected for good aside, with its attributes (the destination it failed at...)."""
        ...
