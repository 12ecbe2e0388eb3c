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
from typing import TYPE_CHECKING, Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from .contract import SLACK_LEDGER_KEY_PREFIX, TABLE_PARTITION_KEY, TTL_ATTRIBUTE
from .model import from_iso, to_iso

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

LEDGER_KEY_PREFIX = SLACK_LEDGER_KEY_PREFIX
# Kept as long as a finished job's state, so that a late duplicate of its last message is still recognised.
LEDGER_RETENTION = timedelta(days=30)

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


class LedgerConflict(Exception):
    """Another invocation changed the stream's ledger since it was read."""


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


class LedgerStore:
    def __init__(self, dynamodb: DynamoDBClient, table_name: str) -> None:
        self._dynamodb = dynamodb
        self._table = table_name

    def get(self, stream: str) -> Ledger:
        response = self._dynamodb.get_item(
            TableName=self._table, Key={TABLE_PARTITION_KEY: {"S": _key(stream)}}, ConsistentRead=True
        )
        raw = response.get("Item")
        if raw is None:
            return Ledger(stream=stream)
        item = {name: _deserializer.deserialize(value) for name, value in raw.items()}
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
            version=int(item["version"]),
        )

    def save(self, ledger: Ledger, now: datetime) -> Ledger:
        """Store `ledger` as the next version if the stored one is still `ledger.version`; else LedgerConflict."""
        saved = replace(ledger, version=ledger.version + 1)
        values: dict[str, Any] = {
            TABLE_PARTITION_KEY: _key(ledger.stream),
            "delivered": saved.delivered,
            "done": sorted(saved.done) or None,
            "started": sorted(saved.started) or None,
            "roots": json.dumps({c: {"channel_id": r.channel_id, "ts": r.ts} for c, r in saved.roots.items()}),
            "root_started": sorted(saved.root_started) or None,
            "owed": json.dumps({channel: list(sequences) for channel, sequences in saved.owed.items()})
            if saved.owed
            else None,
            "owed_started": sorted(saved.owed_started) or None,
            "claim_owner": saved.claim_owner,
            "claim_until": to_iso(saved.claim_until) if saved.claim_until else None,
            "retry_at": to_iso(saved.retry_at) if saved.retry_at else None,
            "advanced_at": to_iso(saved.advanced_at) if saved.advanced_at else None,
            "version": saved.version,
            TTL_ATTRIBUTE: int((now + LEDGER_RETENTION).timestamp()),
        }
        item = {name: _serializer.serialize(value) for name, value in values.items() if value is not None}
        if ledger.version == 0:
            condition: dict[str, Any] = {"ConditionExpression": f"attribute_not_exists({TABLE_PARTITION_KEY})"}
        else:
            condition = {
                "ConditionExpression": "version = :expected",
                "ExpressionAttributeValues": {":expected": {"N": str(ledger.version)}},
            }
        try:
            self._dynamodb.put_item(TableName=self._table, Item=item, **condition)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                raise LedgerConflict(ledger.stream) from error
            raise
        return saved


def _key(stream: str) -> str:
    return f"{LEDGER_KEY_PREFIX}{stream}"
