"""DynamoDB adapter: each job's remembered state, keyed by scope (kind, region) and name; each scope's run record.

Layout (one table, key `pk`), where <scope> is the region for labeling jobs (as before other kinds existed) and
`<region>#<kind>` for the others (job.Scope.key):
- `job#<scope>#<name>`: a job's state. While the job is active, or has notifications not yet published,
  the item carries `active_region` (<scope>), which puts it in the sparse `active` index: one Query per scope
  returns exactly the jobs a run must look at, however many finished jobs the account has.
- `run#<scope>`: when the scope was last listed successfully; its absence means the next run is the baseline: a
  kind enabled later starts silently too.
Finished jobs keep their item (so late events and overlapping runs stay silent) until `expires_at`.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING

from watcher.adapters.dynamo_items import PK, VERSION, Item, ItemTable
from watcher.domain.contract import ACTIVE_INDEX_KEY, ENDED_KEY_PREFIX, JOB_KEY_PREFIX, RUN_KEY_PREFIX, TTL_ATTRIBUTE
from watcher.domain.job import JobKind, Scope
from watcher.domain.model import JobState, JobStatus, LabelCounters, OutboxEntry, Sample, from_iso, to_iso
from watcher.domain.ports import ItemConflict, RunRecord

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

FINISHED_RETENTION = timedelta(days=30)


def ended_partition(scope: Scope, day: date) -> str:
    """Where a finished job sits in the sparse index: by scope and UTC day it ended, so that the digest reads the
    last day's endings with two Queries however many jobs the account ever finished."""
    return f"{ENDED_KEY_PREFIX}{scope.key}#{day.isoformat()}"


def job_key(scope: Scope, name: str) -> str:
    return f"{JOB_KEY_PREFIX}{scope.key}#{name}"


def run_key(scope: Scope) -> str:
    return f"{RUN_KEY_PREFIX}{scope.key}"


class StateStore:
    """DynamoDB adapter of the JobStateStore port (ports.py)."""

    def __init__(
        self, dynamodb: DynamoDBClient, table_name: str, *, sleep: Callable[[float], None] = time.sleep
    ) -> None:
        self._items = ItemTable(dynamodb, table_name, sleep=sleep)

    def load_run(self, scope: Scope) -> RunRecord | None:
        item = self._items.get(run_key(scope))
        if item is None:
            return None
        return RunRecord(
            scope=scope,
            started_at=from_iso(item["started_at"]),
            listed_at=from_iso(item["listed_at"]) if item.get("listed_at") else None,
            retry=tuple(item.get("retry", ())),
            log_cursor=item.get("log_cursor"),
            unreadable=item.get("unreadable"),
            unreadable_since=from_iso(item["unreadable_since"]) if item.get("unreadable_since") else None,
        )

    def start_watching(self, scope: Scope, now: datetime) -> RunRecord:
        """The scope's record, created at `now` by the first run that gets here (a conditional write)."""
        try:
            self._items.put_new({PK: run_key(scope), "started_at": to_iso(now)})
        except ItemConflict:
            existing = self.load_run(scope)
            if existing is not None:
                return existing
        return RunRecord(scope=scope, started_at=now)

    def save_run(self, run: RunRecord) -> None:
        self._items.put(
            {
                PK: run_key(run.scope),
                "started_at": to_iso(run.started_at),
                "listed_at": None if run.listed_at is None else to_iso(run.listed_at),
                "retry": list(run.retry) or None,
                "log_cursor": run.log_cursor,
                "unreadable": run.unreadable,
                "unreadable_since": to_iso(run.unreadable_since) if run.unreadable_since else None,
            }
        )

    def active_states(self, scope: Scope) -> dict[str, JobState]:
        """States of the scope's active jobs and of jobs with unpublished notifications."""
        states = (_state_from_item(item) for item in self._items.in_index(scope.key))
        return {state.name: state for state in states}

    def ended_states(self, scope: Scope, since: datetime, until: datetime) -> list[JobState]:
        """The scope's jobs that reached a final status in [since, until), from the sparse index's day partitions."""
        first = since.astimezone(UTC).date()
        days = sorted({first + timedelta(days=offset) for offset in range((until - since).days + 2)})
        states = (_state_from_item(item) for day in days for item in self._items.in_index(ended_partition(scope, day)))
        return [state for state in states if state.ended_at is not None and since <= state.ended_at < until]

    def get_states(self, scope: Scope, names: Iterable[str]) -> dict[str, JobState]:
        """States of the named jobs that the watcher has seen before (strongly consistent reads)."""
        states = (_state_from_item(item) for item in self._items.get_many(job_key(scope, name) for name in names))
        return {state.name: state for state in states}

    def save(self, state: JobState, *, expected_version: int | None, now: datetime) -> JobState:
        """Write `state` as the next version, only if the stored one is still `expected_version`.

        None means the job must not be stored yet. Raises ItemConflict when another run got there first.
        """
        version = self._items.put_version(_state_to_item(state, now), expected_version=expected_version)
        return replace(state, version=version)

    def get_state(self, scope: Scope, name: str) -> JobState | None:
        item = self._items.get(job_key(scope, name))
        return None if item is None else _state_from_item(item)

    def forget(self, state: JobState) -> None:
        """Delete the job's item if it is still the version read; ItemConflict if another run changed it."""
        self._items.delete_version(job_key(state.scope, state.name), expected_version=state.version)


def _state_to_item(state: JobState, now: datetime) -> Item:
    """The job's item but its version, which ItemTable.put_version writes."""
    watching = not state.status_class.is_terminal or bool(state.outbox)
    if watching:
        index_key: str | None = state.scope.key
    elif state.ended_at is not None:
        index_key = ended_partition(state.scope, state.ended_at.astimezone(UTC).date())
    else:
        index_key = None
    return {
        PK: job_key(state.scope, state.name),
        "region": state.region,
        "name": state.name,
        # Absent for labeling jobs, whose items are as they were before other kinds existed.
        "kind": None if state.kind is JobKind.LABELING else state.kind.value,
        "account": state.account,
        "arn": state.arn,
        "signal": None if state.signal is None else list(state.signal),
        ACTIVE_INDEX_KEY: index_key,
        "ended_at": to_iso(state.ended_at) if state.ended_at else None,
        "status": str(state.status),
        "counters": state.counters.to_api(),
        "unchanged_since": to_iso(state.unchanged_since),
        "stall_notified_at": None if state.stall_notified_at is None else to_iso(state.stall_notified_at),
        "stall_notices": state.stall_notices,
        "history": [[to_iso(sample.at), sample.done] for sample in state.history],
        "outbox": [json.dumps(entry.to_document(), ensure_ascii=False) for entry in state.outbox] or None,
        "lease_owner": state.lease_owner if state.outbox else None,
        "lease_until": to_iso(state.lease_until) if state.outbox and state.lease_until else None,
        "stream": state.stream,
        "sequence": state.sequence,
        TTL_ATTRIBUTE: None if watching else int((now + FINISHED_RETENTION).timestamp()),
    }


def _state_from_item(item: Item) -> JobState:
    kind = JobKind(item.get("kind") or JobKind.LABELING)
    signal = item.get("signal")
    return JobState(
        region=item["region"],
        name=item["name"],
        kind=kind,
        arn=item.get("arn"),
        account=item.get("account"),
        signal=None if signal is None else tuple(str(part) for part in signal),
        status=JobStatus(item["status"]) if kind is JobKind.LABELING else str(item["status"]),
        counters=LabelCounters.from_api(item["counters"]),
        unchanged_since=from_iso(item["unchanged_since"]),
        stall_notified_at=from_iso(item["stall_notified_at"]) if item.get("stall_notified_at") else None,
        stall_notices=int(item.get("stall_notices", 0)),
        history=tuple(Sample(at=from_iso(at), done=int(done)) for at, done in item.get("history", [])),
        outbox=tuple(OutboxEntry.from_document(json.loads(raw)) for raw in item.get("outbox", [])),
        lease_owner=item.get("lease_owner"),
        lease_until=from_iso(item["lease_until"]) if item.get("lease_until") else None,
        version=int(item[VERSION]),
        # Items stored before streams existed get a stream of their own, stable from then on.
        stream=str(item.get("stream") or f"{Scope(item['region'], kind, item.get('account')).key}#{item['name']}"),
        sequence=int(item.get("sequence", 0)),
        ended_at=from_iso(item["ended_at"]) if item.get("ended_at") else None,
    )
