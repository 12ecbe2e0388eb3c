"""DynamoDB adapter of the Slack ledgers port: one item per stream (`slack#<stream>` in the state table), written
only with a condition on the version read. What a ledger holds: watcher.domain.ledger."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from watcher.adapters.dynamo_items import PK, VERSION, ItemTable
from watcher.domain.contract import SLACK_LEDGER_KEY_PREFIX, TTL_ATTRIBUTE
from watcher.domain.ledger import Ledger, Root
from watcher.domain.model import from_iso, to_iso

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

# Kept as long as a finished job's state, so that a late duplicate of its last message is still recognised.
LEDGER_RETENTION = timedelta(days=30)


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
