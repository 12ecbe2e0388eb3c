"""DynamoDB adapter: each job's remembered state, keyed by region and name, and each region's run record.

Layout (one table, key `pk`):
- `job#<region>#<name>`: a job's state. While the job is active, or has notifications not yet published,
  the item carries `active_region`, which puts it in the sparse `active` index: one Query per region
  returns exactly the jobs a run must look at, however many finished jobs the account has.
- `run#<region>`: when the region was last listed successfully; its absence means the next run is the baseline.
Finished jobs keep their item (so late events and overlapping runs stay silent) until `expires_at`.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, cast

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from .contract import (
    ACTIVE_INDEX_KEY,
    ACTIVE_INDEX_NAME,
    ENDED_KEY_PREFIX,
    JOB_KEY_PREFIX,
    RUN_KEY_PREFIX,
    TABLE_PARTITION_KEY,
    TTL_ATTRIBUTE,
)
from .model import JobState, JobStatus, LabelCounters, OutboxEntry, Sample, from_iso, to_iso
from .ports import RunRecord as RunRecord  # re-exported: imported from here by older callers
from .ports import StateConflict as StateConflict

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef, KeysAndAttributesTypeDef

FINISHED_RETENTION = timedelta(days=30)
BATCH_GET_LIMIT = 100
# BatchGetItem's unprocessed keys (the table's capacity was exceeded) are asked for again after an exponential
# back-off with full jitter, as the DynamoDB developer guide advises; after the last round the read fails.
BATCH_GET_ROUNDS = 6
BATCH_GET_BASE_DELAY = 0.05
BATCH_GET_MAX_DELAY = 2.0
PK = TABLE_PARTITION_KEY

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


class StateReadError(RuntimeError):
    """DynamoDB did not return every item asked for, even after backing off."""


def ended_partition(region: str, ended_at: datetime | None) -> str | None:
    """Where a finished job sits in the sparse index: by region and UTC day it ended, so that the digest reads the
    last day's endings with two Queries however many jobs the account ever finished."""
    return None if ended_at is None else f"{ENDED_KEY_PREFIX}{region}#{ended_at.astimezone(UTC).date().isoformat()}"


def job_key(region: str, name: str) -> str:
    return f"{JOB_KEY_PREFIX}{region}#{name}"


def run_key(region: str) -> str:
    return f"{RUN_KEY_PREFIX}{region}"


class StateStore:
    """DynamoDB adapter of the JobStateStore port (ports.py)."""

    def __init__(
        self, dynamodb: DynamoDBClient, table_name: str, *, sleep: Callable[[float], None] = time.sleep
    ) -> None:
        self._dynamodb = dynamodb
        self._table = table_name
        self._sleep = sleep

    def load_run(self, region: str) -> RunRecord | None:
        item = self._get(run_key(region))
        if item is None:
            return None
        return RunRecord(
            region=region,
            started_at=from_iso(item["started_at"]),
            listed_at=from_iso(item["listed_at"]) if item.get("listed_at") else None,
            retry=tuple(item.get("retry", ())),
        )

    def start_watching(self, region: str, now: datetime) -> RunRecord:
        """The region's record, created at `now` by the first run that gets here (a conditional write)."""
        try:
            self._dynamodb.put_item(
                TableName=self._table,
                Item=_to_item({PK: run_key(region), "started_at": to_iso(now)}),
                ConditionExpression=f"attribute_not_exists({PK})",
            )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise
            existing = self.load_run(region)
            if existing is not None:
                return existing
        return RunRecord(region=region, started_at=now)

    def save_run(self, run: RunRecord) -> None:
        self._dynamodb.put_item(
            TableName=self._table,
            Item=_to_item(
                {
                    PK: run_key(run.region),
                    "started_at": to_iso(run.started_at),
                    "listed_at": None if run.listed_at is None else to_iso(run.listed_at),
                    "retry": list(run.retry) or None,
                }
            ),
        )

    def active_states(self, region: str) -> dict[str, JobState]:
        """States of the region's active jobs and of jobs with unpublished notifications."""
        states = (_state_from_item(item) for item in index_items(self._dynamodb, self._table, region))
        return {state.name: state for state in states}

    def ended_states(self, region: str, since: datetime, until: datetime) -> list[JobState]:
        """The region's jobs that reached a final status in [since, until), from the sparse index's day partitions."""
        days = {since.astimezone(UTC).date() + timedelta(days=offset) for offset in range((until - since).days + 2)}
        partitions = (f"{ENDED_KEY_PREFIX}{region}#{day.isoformat()}" for day in sorted(days))
        states = (
            _state_from_item(item)
            for partition in partitions
            for item in index_items(self._dynamodb, self._table, partition)
        )
        return [state for state in states if state.ended_at is not None and since <= state.ended_at < until]

    def get_states(self, region: str, names: Iterable[str]) -> dict[str, JobState]:
        """States of the named jobs that the watcher has seen before (strongly consistent reads)."""
        keys: list[Mapping[str, AttributeValueTypeDef]] = [
            {PK: {"S": job_key(region, name)}} for name in sorted(set(names))
        ]
        states: dict[str, JobState] = {}
        for chunk_start in range(0, len(keys), BATCH_GET_LIMIT):
            for item in self._batch_get(keys[chunk_start : chunk_start + BATCH_GET_LIMIT]):
                state = _state_from_item(item)
                states[state.name] = state
        return states

    def save(self, state: JobState, *, expected_version: int | None, now: datetime) -> JobState:
        """Write `state` as the next version, only if the stored one is still `expected_version`.

        None means the job must not be stored yet. Raises StateConflict when another run got there first.
        """
        saved = replace(state, version=(expected_version or 0) + 1)
        if expected_version is None:
            condition: dict[str, Any] = {"ConditionExpression": f"attribute_not_exists({PK})"}
        else:
            condition = {
                "ConditionExpression": "version = :expected",
                "ExpressionAttributeValues": {":expected": {"N": str(expected_version)}},
            }
        try:
            self._dynamodb.put_item(TableName=self._table, Item=_to_item(_state_to_item(saved, now)), **condition)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                raise StateConflict(f"{state.region}/{state.name}") from error
            raise
        return saved

    def get_state(self, region: str, name: str) -> JobState | None:
        item = self._get(job_key(region, name))
        return None if item is None else _state_from_item(item)

    def forget(self, state: JobState) -> None:
        """Delete the job's item if it is still the version read; StateConflict if another run changed it."""
        try:
            self._dynamodb.delete_item(
                TableName=self._table,
                Key={PK: {"S": job_key(state.region, state.name)}},
                ConditionExpression="version = :expected",
                ExpressionAttributeValues={":expected": {"N": str(state.version)}},
            )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                raise StateConflict(f"{state.region}/{state.name}") from error
            raise

    def _get(self, key: str) -> dict[str, Any] | None:
        response = self._dynamodb.get_item(TableName=self._table, Key={PK: {"S": key}}, ConsistentRead=True)
        item = response.get("Item")
        return None if item is None else _from_item(item)

    def _batch_get(self, keys: Sequence[Mapping[str, AttributeValueTypeDef]]) -> Iterator[dict[str, Any]]:
        request: Mapping[str, KeysAndAttributesTypeDef] = {self._table: {"Keys": keys, "ConsistentRead": True}}
        for attempt in range(BATCH_GET_ROUNDS):
            if attempt:
                self._sleep(backoff_delay(attempt))
            response = self._dynamodb.batch_get_item(RequestItems=request)
            yield from (_from_item(raw) for raw in response.get("Responses", {}).get(self._table, []))
            # The unprocessed keys come back in the shape the request takes.
            request = cast("Mapping[str, KeysAndAttributesTypeDef]", response.get("UnprocessedKeys") or {})
            if not request:
                return
        raise StateReadError(f"DynamoDB left keys unprocessed after {BATCH_GET_ROUNDS} rounds of BatchGetItem")


def backoff_delay(attempt: int) -> float:
    """Seconds to wait before round `attempt` (1, 2, ...): exponential, capped, with full jitter."""
    ceiling = min(BATCH_GET_MAX_DELAY, BATCH_GET_BASE_DELAY * 2**attempt)
    return random.uniform(0, ceiling)


def index_items(dynamodb: DynamoDBClient, table: str, partition: str) -> Iterator[dict[str, Any]]:
    """Every item under `partition` of the sparse index (a region's active jobs, its mutes, a day's endings)."""
    pages = dynamodb.get_paginator("query").paginate(
        TableName=table,
        IndexName=ACTIVE_INDEX_NAME,
        KeyConditionExpression=f"{ACTIVE_INDEX_KEY} = :partition",
        ExpressionAttributeValues={":partition": {"S": partition}},
    )
    return (_from_item(raw) for page in pages for raw in page.get("Items", []))


def _to_item(values: dict[str, Any]) -> dict[str, Any]:
    return {name: _serializer.serialize(value) for name, value in values.items() if value is not None}


def _from_item(item: dict[str, Any]) -> dict[str, Any]:
    return {name: _deserializer.deserialize(value) for name, value in item.items()}


def _state_to_item(state: JobState, now: datetime) -> dict[str, Any]:
    watching = not state.status.is_terminal or bool(state.outbox)
    index_key = state.region if watching else ended_partition(state.region, state.ended_at)
    return {
        PK: job_key(state.region, state.name),
        "region": state.region,
        "name": state.name,
        ACTIVE_INDEX_KEY: index_key,
        "ended_at": to_iso(state.ended_at) if state.ended_at else None,
        "status": state.status.value,
        "counters": state.counters.to_api(),
        "unchanged_since": to_iso(state.unchanged_since),
        "stall_notified_at": None if state.stall_notified_at is None else to_iso(state.stall_notified_at),
        "stall_notices": state.stall_notices,
        "history": [[to_iso(sample.at), sample.done] for sample in state.history],
        "outbox": [json.dumps(entry.to_document(), ensure_ascii=False) for entry in state.outbox] or None,
        "lease_owner": state.lease_owner if state.outbox else None,
        "lease_until": to_iso(state.lease_until) if state.outbox and state.lease_until else None,
        "version": state.version,
        "stream": state.stream,
        "sequence": state.sequence,
        TTL_ATTRIBUTE: None if watching else int((now + FINISHED_RETENTION).timestamp()),
    }


def _state_from_item(item: dict[str, Any]) -> JobState:
    return JobState(
        region=item["region"],
        name=item["name"],
        status=JobStatus(item["status"]),
        counters=LabelCounters.from_api(item["counters"]),
        unchanged_since=from_iso(item["unchanged_since"]),
        stall_notified_at=from_iso(item["stall_notified_at"]) if item.get("stall_notified_at") else None,
        stall_notices=int(item.get("stall_notices", 0)),
        history=tuple(Sample(at=from_iso(at), done=int(done)) for at, done in item.get("history", [])),
        outbox=tuple(OutboxEntry.from_document(json.loads(raw)) for raw in item.get("outbox", [])),
        lease_owner=item.get("lease_owner"),
        lease_until=from_iso(item["lease_until"]) if item.get("lease_until") else None,
        version=int(item["version"]),
        # Items stored before streams existed get a stream of their own, stable from then on.
        stream=str(item.get("stream") or f"{item['region']}#{item['name']}"),
        sequence=int(item.get("sequence", 0)),
        ended_at=from_iso(item["ended_at"]) if item.get("ended_at") else None,
    )
