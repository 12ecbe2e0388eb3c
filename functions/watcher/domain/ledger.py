"""The Slack notifier's delivery ledger of one stream (a job's notifications, or a digest's parts), as a value.

- `delivered`: the last sequence number handled for every destination; the next one is `delivered + 1`;
- `done` / `started`: for that next notification, the destinations already handled, and those where a Slack call
  was started (its answer may have been lost, so the message may exist: look before posting again);
- `roots`: in app mode, the channel id and ts of the job's root message in each channel (at most one, ever), and
  `root_started`: channels where a root post was started;
- `owed`: per destination, the notifications already handled elsewhere that quiet hours still hold there (shown
  when the watcher sends them again: at the window's end, or with later news that reaches that destination), and
  `owed_started`: the ones (`channel#sequence`) whose post there was started;
- a claim (`claim_owner` until `claim_until`) so that two notifier invocations never post the same message;
- `retry_at`: when the next notification will be offered again after its last attempt failed (Slack down), and
  `advanced_at`: when `delivered` last moved on. A later notification that waits for the next one looks at these to
  come back just after it, instead of backing off blindly.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime


@dataclass(frozen=True)
class Root:
    channel_id: str
    ts: str


@dataclass(frozen=True)
class Ledger:
    stream: str
    delivered: int = 0
    done: frozenset[str] = frozenset()
    started: frozenset[str] = frozenset()
    roots: dict[str, Root] = field(default_factory=dict)
    root_started: frozenset[str] = frozenset()
    owed: dict[str, tuple[int, ...]] = field(default_factory=dict)
    owed_started: frozenset[str] = frozenset()
    claim_owner: str | None = None
    claim_until: datetime | None = None
    retry_at: datetime | None = None
    advanced_at: datetime | None = None
    version: int = 0

    def claimed_by_another(self, owner: str, now: datetime) -> bool:
        return self.claim_owner not in (None, owner) and self.claim_until is not None and self.claim_until > now

    def claimed(self, owner: str, until: datetime) -> Ledger:
        return replace(self, claim_owner=owner, claim_until=until)

    def finished(self, sequence: int, at: datetime) -> Ledger:
        """Every destination of `sequence` handled (at `at`): the stream moves on, and the claim is given up."""
        return replace(
            self,
            delivered=sequence,
            done=frozenset(),
            started=frozenset(),
            claim_owner=None,
            claim_until=None,
            retry_at=None,
            advanced_at=at,
        )

    def owing(self, channel: str, sequence: int) -> Ledger:
        """`sequence` is held for `channel`: it is shown there later, before anything after it."""
        return replace(self, owed={**self.owed, channel: (*self.owed.get(channel, ()), sequence)})

    def paid(self, channel: str, sequence: int) -> Ledger:
        """`sequence` was shown in `channel` (or muted since): no longer owed there."""
        left = tuple(owed for owed in self.owed.get(channel, ()) if owed != sequence)
        owed = {other: sequences for other, sequences in self.owed.items() if other != channel}
        return replace(
            self,
            owed={**owed, channel: left} if left else owed,
            owed_started=self.owed_started - {owed_key(channel, sequence)},
        )


def owed_key(channel: str, sequence: int) -> str:
    return f"{channel}#{sequence}"
