"""DynamoDB adapter: the state table's items as plain values, read and written with the conditions every store needs.

Every item is keyed by `pk` alone. Items that change under several writers (a job's state, a stream's Slack ledger)
carry a `version`: a write names the version it read (or that the item must not exist yet) and writes the next one,
so that of two writers who read the same version exactly one succeeds; the other gets ItemConflict and leaves the
change to the first. The stores (state_store, mute, slack_ledger) turn their values into items and back; this module
knows nothing of jobs, mutes or ledgers.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, cast

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from watcher.domain.contract import ACTIVE_INDEX_KEY, ACTIVE_INDEX_NAME, TABLE_PARTITION_KEY
from watcher.domain.ports import ItemConflict

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef, KeysAndAttributesTypeDef

Item = dict[str, Any]

PK = TABLE_PARTITION_KEY
VERSION = "version"
BATCH_GET_LIMIT = 100
# BatchGetItem's unprocessed keys (the table's capacity was exceeded) are asked for again after an exponential
# back-off with full jitter, as the DynamoDB developer guide advises; after the last round the read fails.
BATCH_GET_ROUNDS = 6
BATCH_GET_BASE_DELAY = 0.05
BATCH_GET_MAX_DELAY = 2.0

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


class ItemReadError(RuntimeError):
    """DynamoDB did not return every item asked for, even after backing off."""


class ItemTable:
    """One table's items by key (`pk`) and by partition of the sparse `active` index; reads are strongly consistent
    where DynamoDB allows it (not on the index)."""

    def __init__(
        self, dynamodb: DynamoDBClient, table_name: str, *, sleep: Callable[[float], None] = time.sleep
    ) -> None:
        self._dynamodb = dynamodb
        self._table = table_name
        self._sleep = sleep

    def get(self, key: str) -> Item | None:
        response = self._dynamodb.get_item(TableName=self._table, Key=_key(key), ConsistentRead=True)
        raw = response.get("Item")
        return None if raw is None else _from_attributes(raw)

    def get_many(self, keys: Iterable[str]) -> Iterator[Item]:
        """The items that exist among `keys`, in no particular order (BatchGetItem, 100 keys a call)."""
        wanted: list[Mapping[str, AttributeValueTypeDef]] = [_key(key) for key in sorted(set(keys))]
        for start in range(0, len(wanted), BATCH_GET_LIMIT):
            yield from self._batch_get(wanted[start : start + BATCH_GET_LIMIT])

    def in_index(self, partition: str) -> Iterator[Item]:
        """Every item under `partition` of the sparse index, page after page (eventually consistent)."""
        pages = self._dynamodb.get_paginator("query").paginate(
            TableName=self._table,
            IndexName=ACTIVE_INDEX_NAME,
            KeyConditionExpression=f"{ACTIVE_INDEX_KEY} = :partition",
            ExpressionAttributeValues={":partition": {"S": partition}},
        )
        return (_from_attributes(raw) for page in pages for raw in page.get("Items", []))

    def put(self, item: Mapping[str, Any]) -> None:
        """Write `item` whatever is stored (attributes that are None are left out)."""
        self._dynamodb.put_item(TableName=self._table, Item=_to_attributes(item))

    def put_new(self, item: Mapping[str, Any]) -> None:
        """Write `item` only if no item has its key; ItemConflict otherwise."""
        with _conflict_on_failed_condition(item[PK]):
            self._dynamodb.put_item(TableName=self._table, Item=_to_attributes(item), **_absent())

    def put_version(self, item: Mapping[str, Any], *, expected_version: int | None) -> int:
        """Write `item` as the version after `expected_version`, only if the stored item is still that version (None:
        only if there is no item yet); ItemConflict otherwise. Returns the version written."""
        version = (expected_version or 0) + 1
        condition = _absent() if expected_version is None else _version_is(expected_version)
        with _conflict_on_failed_condition(item[PK]):
            self._dynamodb.put_item(TableName=self._table, Item=_to_attributes({**item, VERSION: version}), **condition)
        return version

    def delete(self, key: str) -> bool:
        """Delete the item whatever is stored; whether there was one."""
        response = self._dynamodb.delete_item(TableName=self._table, Key=_key(key), ReturnValues="ALL_OLD")
        return "Attributes" in response

    def delete_version(self, key: str, *, expected_version: int) -> None:
        """Delete the item only if it is still `expected_version`; ItemConflict if it changed (or is gone)."""
        with _conflict_on_failed_condition(key):
            self._dynamodb.delete_item(TableName=self._table, Key=_key(key), **_version_is(expected_version))

    def _batch_get(self, keys: list[Mapping[str, AttributeValueTypeDef]]) -> Iterator[Item]:
        request: Mapping[str, KeysAndAttributesTypeDef] = {self._table: {"Keys": keys, "ConsistentRead": True}}
        for attempt in range(BATCH_GET_ROUNDS):
            if attempt:
                self._sleep(backoff_delay(attempt))
            response = self._dynamodb.batch_get_item(RequestItems=request)
            yield from (_from_attributes(raw) for raw in response.get("Responses", {}).get(self._table, []))
            # The unprocessed keys come back in the shape the request takes.
            request = cast("Mapping[str, KeysAndAttributesTypeDef]", response.get("UnprocessedKeys") or {})
            if not request:
                return
        raise ItemReadError(f"DynamoDB left keys unprocessed after {BATCH_GET_ROUNDS} rounds of BatchGetItem")


def backoff_delay(attempt: int) -> float:
    """Seconds to wait before round `attempt` (1, 2, ...): exponential, capped, with full jitter."""
    ceiling = min(BATCH_GET_MAX_DELAY, BATCH_GET_BASE_DELAY * 2**attempt)
    return random.uniform(0, ceiling)


def _key(key: str) -> dict[str, AttributeValueTypeDef]:
    return {PK: {"S": key}}


@contextmanager
def _conflict_on_failed_condition(key: str) -> Iterator[None]:
    try:
        yield
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
            raise ItemConflict(key) from error
        raise


def _absent() -> dict[str, Any]:
    return {"ConditionExpression": f"attribute_not_exists({PK})"}


def _version_is(expected: int) -> dict[str, Any]:
    return {
        "ConditionExpression": f"{VERSION} = :expected",
        "ExpressionAttributeValues": {":expected": {"N": str(expected)}},
    }


def _to_attributes(values: Mapping[str, Any]) -> dict[str, Any]:
    return {name: _serializer.serialize(value) for name, value in values.items() if value is not None}


def _from_attributes(raw: Mapping[str, Any]) -> Item:
    return {name: _deserializer.deserialize(value) for name, value in raw.items()}
