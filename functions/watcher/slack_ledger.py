"""DynamoDB adapter of the Slack notifier: per job stream, how far Slack delivery got, and each channel's root.

One item per stream (`slack#<stream>` in the state table), written only with a condition on the version read:
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

import json
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from .contract import SLACK_LEDGER_KEY_PREFIX, TTL_ATTRIBUTE
from .dynamo_items import PK, VERSION, ItemTable
from .model import from_iso, to_iso

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

# Kept as long as a finished job's state, so that a late duplicate of its last message is still recognised.
LEDGER_RETENTION = timedelta(days=30)


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


def ledger_key(stream: str) -> str:
    return f"{SLACK_LEDGER_KEY_PREFIX}{stream}"


class LedgerStore:
    def __init__(self, dynamodb: DynamoDBClient, table_name: str) -> None:
        self._items = ItemTable(dynamodb, table_name)

    def get(self, stream: str) -> Ledger:
        item = self._items.get(ledger_key(stream))
        if item is None:
            return Ledger(stream=stream)
        return Ledger(
            stream=stream,
            delivered=int(item.get("delivered", 0)),
            done=frozenset(item.get("done", ())),
            started=frozenset(item.get("started", ())),
            roots={channel: Root(**root) for channel, root in json.loads(item.get("roots", "{}")).items()},
            root_started=frozenset(item.get("root_started", ())),
            owed={channel: tuple(sequences) for channel, sequences in json.loads(item.get("owed", "{}")).items()},
            owed_started=frozenset(item.get("owed_started", ())),
            claim_owner=item.get("claim_owner"),
            claim_until=from_iso(item["claim_until"]) if item.get("claim_until") else None,
            retry_at=from_iso(item["retry_at"]) if item.get("retry_at") else None,
            advanced_at=from_iso(item["advanced_at"]) if item.get("advanced_at") else None,
            version=int(item[VERSION]),
        )

    def save(self, ledger: Ledger, now: datetime) -> Ledger:
        """Store `ledger` as the next version if the stored one is still `ledger.version` (0: none stored yet); else
        ItemConflict."""
        item = {
            PK: ledger_key(ledger.stream),
            "delivered": ledger.delivered,
            "done": sorted(ledger.done) or None,
            "started": sorted(ledger.started) or None,
            "roots": json.dumps({c: {"channel_id": r.channel_id, "ts": r.ts} for c, r in ledger.roots.items()}),
            "root_started": sorted(ledger.root_started) or None,
            "owed": json.dumps({channel: list(sequences) for channel, sequences in ledger.owed.items()})
            if ledger.owed
            else None,
            "owed_started": sorted(ledger.owed_started) or None,
            "claim_owner": ledger.claim_owner,
            "claim_until": to_iso(ledger.claim_until) if ledger.claim_until else None,
            "retry_at": to_iso(ledger.retry_at) if ledger.retry_at else None,
            "advanced_at": to_iso(ledger.advanced_at) if ledger.advanced_at else None,
            TTL_ATTRIBUTE: int((now + LEDGER_RETENTION).timestamp()),
        }
        version = self._items.put_version(item, expected_version=ledger.version or None)
        return replace(ledger, version=version)
