"""What the watcher does at its AWS boundaries: times in UTC, console links per partition, DynamoDB's unprocessed
keys retried with back-off."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from watcher.adapters.dynamo_items import BATCH_GET_BASE_DELAY, BATCH_GET_MAX_DELAY, BATCH_GET_ROUNDS, ItemReadError
from watcher.adapters.state_store import StateStore
from watcher.domain.job import Scope
from watcher.domain.model import LabelingJob, console_url


@pytest.mark.parametrize(
    ("region", "host"),
    [
        ("us-east-1", "https://us-east-1.console.aws.amazon.com/"),
        ("eu-central-1", "https://eu-central-1.console.aws.amazon.com/"),
        ("us-gov-west-1", "https://console.amazonaws-us-gov.com/"),
        ("cn-north-1", "https://console.amazonaws.cn/"),
    ],
)
def test_console_links_go_to_the_console_of_the_jobs_partition(region: str, host: str) -> None:
    url = console_url(region, "cats-v1")
    assert url.startswith(host)
    assert url.endswith(f"?region={region}#/labeling-jobs/details/cats-v1")


def test_times_from_boto3_in_the_machines_zone_become_utc() -> None:
    # botocore parses timestamps into the local zone (tzlocal); ten o'clock UTC read on a machine at UTC-5.
    new_york = timezone(timedelta(hours=-5))
    raw = {
        "LabelingJobName": "cats-v1",
        "LabelingJobArn": "arn:aws:sagemaker:us-east-1:123456789012:labeling-job/cats-v1",
        "LabelingJobStatus": "InProgress",
        "CreationTime": datetime(2026, 1, 5, 5, 0, tzinfo=new_york),
        "LastModifiedTime": datetime(2026, 1, 5, 5, 30, tzinfo=new_york),
    }
    job = LabelingJob.from_api("us-east-1", raw)
    assert job.creation_time == datetime(2026, 1, 5, 10, 0, tzinfo=UTC)
    assert job.creation_time.tzinfo is UTC and job.last_modified_time.tzinfo is UTC


class ThrottledTable:
    """A DynamoDB client whose BatchGetItem leaves every key unprocessed `busy` times, then answers."""

    def __init__(self, busy: int) -> None:
        self.busy, self.calls = busy, 0

    def batch_get_item(self, RequestItems: dict[str, Any]) -> dict[str, Any]:
        self.calls += 1
        if self.calls <= self.busy:
            return {"Responses": {}, "UnprocessedKeys": RequestItems}
        return {"Responses": {"state": []}, "UnprocessedKeys": {}}


def test_unprocessed_keys_are_asked_for_again_after_a_growing_jittered_wait() -> None:
    table, waits = ThrottledTable(busy=3), list[float]()
    store = StateStore(table, "state", sleep=waits.append)  # type: ignore[arg-type]
    assert store.get_states(Scope("us-east-1"), ["cats-v1"]) == {}
    assert table.calls == 4 and len(waits) == 3
    ceilings = [min(BATCH_GET_MAX_DELAY, BATCH_GET_BASE_DELAY * 2**round_) for round_ in (1, 2, 3)]
    assert all(0 <= wait <= ceiling for wait, ceiling in zip(waits, ceilings, strict=True))
    assert ceilings == sorted(ceilings) and ceilings[0] < ceilings[-1]  # the wait grows


def test_keys_still_unprocessed_after_the_last_round_fail_the_read() -> None:
    table = ThrottledTable(busy=BATCH_GET_ROUNDS)
    store = StateStore(table, "state", sleep=lambda seconds: None)  # type: ignore[arg-type]
    with pytest.raises(ItemReadError):
        store.get_states(Scope("us-east-1"), ["cats-v1"])
