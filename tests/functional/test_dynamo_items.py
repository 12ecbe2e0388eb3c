"""The item layer every store writes through, against the emulated state table: of two writers who read the same
version exactly one wins and the other gets ItemConflict with nothing written; reads see every item however many."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from watcher.adapters.dynamo_items import PK, ItemTable
from watcher.adapters.slack_ledger import LedgerStore
from watcher.adapters.state_store import StateStore
from watcher.domain.contract import ACTIVE_INDEX_KEY
from watcher.domain.ledger import Ledger
from watcher.domain.model import JobState, JobStatus, LabelCounters
from watcher.domain.ports import ItemConflict

from gtwatch.sim.emulator import deployment
from gtwatch.sim.emulator.deployment import Resources

NOW = datetime(2026, 5, 4, 9, 0, tzinfo=UTC)


@pytest.fixture
def resources(deploy: Callable[..., Resources]) -> Resources:
    return deploy()


@pytest.fixture
def table(resources: Resources) -> ItemTable:
    return ItemTable(deployment.client("dynamodb"), resources.table_name)


def test_the_first_version_is_written_only_where_there_is_no_item(table: ItemTable) -> None:
    assert table.put_version({PK: "job#a", "status": "InProgress"}, expected_version=None) == 1
    with pytest.raises(ItemConflict, match="job#a"):
        table.put_version({PK: "job#a", "status": "Failed"}, expected_version=None)
    assert table.get("job#a") == {PK: "job#a", "status": "InProgress", "version": 1}


def test_of_two_writers_of_the_same_version_the_second_conflicts_and_writes_nothing(table: ItemTable) -> None:
    table.put_version({PK: "job#a", "status": "InProgress"}, expected_version=None)
    assert table.put_version({PK: "job#a", "status": "Completed"}, expected_version=1) == 2
    with pytest.raises(ItemConflict):
        table.put_version({PK: "job#a", "status": "Failed"}, expected_version=1)
    assert table.get("job#a") == {PK: "job#a", "status": "Completed", "version": 2}


def test_a_version_expected_of_an_item_that_is_gone_conflicts(table: ItemTable) -> None:
    with pytest.raises(ItemConflict):
        table.put_version({PK: "job#a", "status": "Completed"}, expected_version=3)
    assert table.get("job#a") is None


def test_an_item_is_deleted_only_at_the_version_read(table: ItemTable) -> None:
    table.put_version({PK: "job#a"}, expected_version=None)
    table.put_version({PK: "job#a"}, expected_version=1)
    with pytest.raises(ItemConflict):
        table.delete_version("job#a", expected_version=1)
    assert table.get("job#a") == {PK: "job#a", "version": 2}
    table.delete_version("job#a", expected_version=2)
    assert table.get("job#a") is None
    with pytest.raises(ItemConflict):
        table.delete_version("job#a", expected_version=2)


def test_a_new_item_never_replaces_one_stored(table: ItemTable) -> None:
    table.put_new({PK: "run#us-east-1", "started_at": "first"})
    with pytest.raises(ItemConflict):
        table.put_new({PK: "run#us-east-1", "started_at": "second"})
    assert table.get("run#us-east-1") == {PK: "run#us-east-1", "started_at": "first"}


def test_unconditional_writes_replace_and_delete_says_whether_there_was_an_item(table: ItemTable) -> None:
    table.put({PK: "mute#a", "until": "1", "by": None})
    table.put({PK: "mute#a", "until": "2"})
    assert table.get("mute#a") == {PK: "mute#a", "until": "2"}  # an attribute that is None is not stored
    assert table.delete("mute#a") is True
    assert table.delete("mute#a") is False


def test_many_keys_are_read_in_batches_and_missing_ones_are_left_out(table: ItemTable) -> None:
    for index in range(0, 250, 2):
        table.put({PK: f"job#{index:03d}", "counters": {"done": index, "names": ["x", "y"]}})
    keys = [f"job#{index:03d}" for index in range(250)] + ["job#000"]  # more than one BatchGetItem, a duplicate
    items = {item[PK]: item for item in table.get_many(keys)}
    assert sorted(items) == [f"job#{index:03d}" for index in range(0, 250, 2)]
    assert items["job#248"]["counters"] == {"done": 248, "names": ["x", "y"]}


def test_an_index_partition_bigger_than_one_query_page_is_read_whole(table: ItemTable) -> None:
    # DynamoDB returns at most 1 MB a Query page: twelve items of 100 KB need two pages.
    for index in range(12):
        table.put({PK: f"job#{index:02d}", ACTIVE_INDEX_KEY: "us-east-1", "history": "x" * 100_000})
    table.put({PK: "job#elsewhere", ACTIVE_INDEX_KEY: "eu-west-1"})
    assert sorted(item[PK] for item in table.in_index("us-east-1")) == [f"job#{index:02d}" for index in range(12)]


def test_the_job_state_and_the_slack_ledger_conflict_with_the_one_conflict_type(resources: Resources) -> None:
    dynamodb = deployment.client("dynamodb")
    states, ledgers = StateStore(dynamodb, resources.table_name), LedgerStore(dynamodb, resources.table_name)
    state = JobState("us-east-1", "cats-v1", JobStatus.IN_PROGRESS, LabelCounters(), unchanged_since=NOW)
    saved = states.save(state, expected_version=None, now=NOW)
    states.save(saved, expected_version=saved.version, now=NOW)
    with pytest.raises(ItemConflict):
        states.save(saved, expected_version=saved.version, now=NOW)
    with pytest.raises(ItemConflict):
        states.forget(saved)
    ledger = ledgers.save(Ledger(stream="us-east-1#cats-v1"), NOW)
    ledgers.save(ledger, NOW)
    with pytest.raises(ItemConflict):
        ledgers.save(ledger, NOW)
    assert ItemConflict is ItemConflict and ItemConflict is ItemConflict
