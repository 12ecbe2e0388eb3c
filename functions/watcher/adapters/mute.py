"""DynamoDB adapter of mutes (model.Mute): one `mute#<scope>#<job>` item a job in the state table (<scope> as in
state_store: the region for labeling jobs, `<region>#<kind>` for the others), in the sparse index under
`mute#<scope>` so that a run reads a scope's mutes in one Query; DynamoDB's TTL removes it an hour after the mute
ends."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from watcher.adapters.dynamo_items import PK, Item, ItemTable
from watcher.domain.contract import ACTIVE_INDEX_KEY, EVENT_TYPES, MUTE_KEY_PREFIX, TTL_ATTRIBUTE
from watcher.domain.job import JobKind, Scope
from watcher.domain.model import from_iso, to_iso
from watcher.domain.mute_rules import Mute, mute_job_key

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

KEPT_AFTER_END = timedelta(hours=1)


def mute_key(scope: Scope, name: str) -> str:
    return f"{MUTE_KEY_PREFIX}{scope.key}#{mute_job_key(name)}"


class MuteStore:
    """DynamoDB adapter of the MuteReader port (ports.py), and where `gtwatch mute` writes."""

    def __init__(self, dynamodb: DynamoDBClient, table_name: str) -> None:
        self._items = ItemTable(dynamodb, table_name)

    def put(self, mute: Mute) -> None:
        """Store `mute`, replacing the job's earlier one."""
        self._items.put(
            {
                PK: mute_key(mute.scope, mute.name),
                ACTIVE_INDEX_KEY: f"{MUTE_KEY_PREFIX}{mute.scope.key}",
                "region": mute.region,
                "kind": None if mute.kind is JobKind.LABELING else mute.kind.value,
                "account": mute.account,
                "name": mute.name,
                "until": to_iso(mute.until),
                "events": sorted(mute.events, key=EVENT_TYPES.index),
                "by": mute.by or None,
                "at": to_iso(mute.at) if mute.at else None,
                TTL_ATTRIBUTE: int((mute.until + KEPT_AFTER_END).timestamp()),
            }
        )

    def delete(self, scope: Scope, name: str) -> bool:
        """Remove the job's mute; whether there was one."""
        return self._items.delete(mute_key(scope, name))

    def in_scope(self, scope: Scope) -> dict[str, Mute]:
        """The scope's mutes (expired ones included until TTL removes them), by mute_rules.mute_job_key of the job."""
        mutes = (_mute_from(item) for item in self._items.in_index(f"{MUTE_KEY_PREFIX}{scope.key}"))
        return {mute.job_key: mute for mute in mutes}

    def for_job(self, scope: Scope, name: str) -> Mute | None:
        item = self._items.get(mute_key(scope, name))
        return None if item is None else _mute_from(item)


def _mute_from(item: Item) -> Mute:
    return Mute(
        region=item["region"],
        kind=JobKind(item.get("kind") or JobKind.LABELING),
        account=item.get("account"),
        name=item["name"],
        until=from_iso(item["until"]),
        events=frozenset(item.get("events") or EVENT_TYPES),
        by=item.get("by") or "",
        at=from_iso(item["at"]) if item.get("at") else None,
    )
