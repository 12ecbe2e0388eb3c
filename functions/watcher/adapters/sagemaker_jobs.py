"""SageMaker adapter: list and describe labeling jobs, as LabelingJob values (the JobSource port for labeling jobs)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from watcher.domain.job import JobKind, Scope
from watcher.domain.model import ACTIVE_STATUSES, STEADY_STATUSES, AnyJob, JobStatus, LabelingJob

PAGE_SIZE = 100  # The API's maximum: fewest calls per job.


def list_filters(
    *,
    status: str | None = None,
    created_after: datetime | None = None,
    modified_after: datetime | None = None,
    name_contains: str | None = None,
) -> dict[str, Any]:
    """A ListXxxJobs paginator's parameters: the filters every kind's listing shares, pages of the API's maximum."""
    params: dict[str, Any] = {"PaginationConfig": {"PageSize": PAGE_SIZE}}
    if status is not None:
        params["StatusEquals"] = status
    if created_after is not None:
        params["CreationTimeAfter"] = created_after
    if modified_after is not None:
        params["LastModifiedTimeAfter"] = modified_after
    if name_contains:
        params["NameContains"] = name_contains
    return params


def list_jobs(
    sagemaker: Any,
    region: str,
    *,
    status: JobStatus | None = None,
    created_after: datetime | None = None,
    modified_after: datetime | None = None,
    name_contains: str | None = None,
) -> Iterator[LabelingJob]:
    """Every job matching the filters, newest pages fetched lazily with boto3's paginator."""
    params = list_filters(
        status=None if status is None else status.value,
        created_after=created_after,
        modified_after=modified_after,
        name_contains=name_contains,
    )
    for page in sagemaker.get_paginator("list_labeling_jobs").paginate(**params):
        for summary in page.get("LabelingJobSummaryList", []):
            yield LabelingJob.from_api(region, summary)


def describe_job(sagemaker: Any, region: str, name: str) -> LabelingJob | None:
    """The job's current details, or None when SageMaker does not know it."""
    try:
        response = sagemaker.describe_labeling_job(LabelingJobName=name)
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") in {"ResourceNotFound", "ResourceNotFoundException"}:
            return None
        raise
    return LabelingJob.from_api(region, response)


class LabelingJobSource:
    """The JobSource port (ports.py) for Ground Truth labeling jobs in one region."""

    def __init__(self, sagemaker: Any, region: str) -> None:
        self._sagemaker = sagemaker
        self._region = region

    @property
    def scope(self) -> Scope:
        return Scope(self._region, JobKind.LABELING)

    def list_active(self, *, name_contains: str | None, every_status: bool) -> Iterator[AnyJob]:
        for status in ACTIVE_STATUSES if every_status else STEADY_STATUSES:
            yield from list_jobs(self._sagemaker, self._region, status=status, name_contains=name_contains)

    def list_recent(
        self,
        *,
        created_after: datetime | None = None,
        modified_after: datetime | None = None,
        name_contains: str | None = None,
    ) -> Iterator[AnyJob]:
        return list_jobs(
            self._sagemaker,
            self._region,
            created_after=created_after,
            modified_after=modified_after,
            name_contains=name_contains,
        )

    def describe(self, name: str, arn: str | None = None) -> AnyJob | None:
        return describe_job(self._sagemaker, self._region, name)

    def newest_log_lines(self, names: Sequence[str]) -> dict[str, datetime | None]:
        return {}  # Labeling jobs write no log lines the watcher reads.
