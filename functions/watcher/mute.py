"""Mutes: a person's "not now" for one job (`gtwatch mute`): notifications of the named types for that job are
dropped on every channel until a time. Stored in the state table as `mute#<region>#<name>` items, in the sparse
index under `mute#<region>` so that a run reads a region's mutes in one Query; DynamoDB's TTL removes them after.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

from .contract import ACTIVE_INDEX_KEY, EVENT_TYPES, MUTE_KEY_PREFIX, TABLE_PARTITION_KEY, TTL_ATTRIBUTE
from .model import from_iso, to_iso
from .mute_rules import Mute as Mute  # re-exported: the value, for callers that know mutes from here
from .state_store import index_items

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


def mute_key(region: str, name: str) -> str:
    # Job names are case-insensitive in SageMaker; a mute names the job however it was typed.
    return f"{MUTE_KEY_PREFIX}{region}#{name.lower()}"


class MuteStore:
    """DynamoDB adapter of the MuteReader port (ports.py), and where `gtwatch mute` writes."""

    def __init__(self, dynamodb: DynamoDBClient, table_name: str) -> None:
        self._dynamodb = dynamodb
        self._table = table_name

    def put(self, mute: Mute) -> None:
        values: dict[str, Any] = {
            TABLE_PARTITION_KEY: mute_key(mute.region, mute.name),
            ACTIVE_INDEX_KEY: f"{MUTE_KEY_PREFIX}{mute.region}",
            "region": mute.region,
            "name": mute.name,
            "until": to_iso(mute.until),
            "events": sorted(mute.events, key=EVENT_TYPES.index),
            "by": mute.by or None,
            "at": to_iso(mute.at) if mute.at else None,
            TTL_ATTRIBUTE: int(mute.until.timestamp()) + 3600,
        }
        item = {name: _serializer.serialize(value) for name, value in values.items() if value is not None}
        self._dynamodb.put_item(TableName=self._table, Item=item)

    def delete(self, region: str, name: str) -> bool:
        """Remove the job's mute; whether there was one."""
        response = self._dynamodb.delete_item(
            TableName=self._table, Key={TABLE_PARTITION_KEY: {"S": mute_key(region, name)}}, ReturnValues="ALL_OLD"
        )
        return "Attributes" in response

    def in_region(self, region: str) -> dict[str, Mute]:
        """The region's mutes (expired ones included until TTL removes them), by job name in lower case."""
        mutes = (_mute_from(item) for item in index_items(self._dynamodb, self._table, f"{MUTE_KEY_PREFIX}{region}"))
        return {mute.name.lower(): mute for mute in mutes}

    def for_job(self, region: str, name: str) -> Mute | None:
        response = self._dynamodb.get_item(
            TableName=self._table, Key={TABLE_PARTITION_KEY: {"S": mute_key(region, name)}}, ConsistentRead=True
        )
        raw = response.get("Item")
        return (
            None if raw is None else _mute_from({name: _deserializer.deserialize(value) for name, value in raw.items()})
        )


def _mute_from(item: dict[str, Any]) -> Mute:
    return Mute(
        region=item["region"],
        name=item["name"],
        until=from_iso(item["until"]),
        events=frozenset(item.get("events") or EVENT_TYPES),
        by=item.get("by") or "",
        at=from_iso(item["at"]) if item.get("at") else None,
    )
