"""The job seam (domain/job.py): what the diff knows of a job is its kind, identity, status class and progress
signal; labeling jobs are the first kind behind it."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from watcher.adapters.sagemaker_jobs import LabelingJobSource
from watcher.domain.diff import WatchRules, decide
from watcher.domain.job import Job, JobId, JobKind, ProgressSignal, StatusClass
from watcher.domain.model import DERIVED, EventType, JobState, JobStatus, LabelCounters, LabelingJob

T0 = datetime(2026, 12, 4, 8, 0, tzinfo=UTC)
RULES = WatchRules(stall_after=timedelta(minutes=60))


def labeling(status: JobStatus = JobStatus.IN_PROGRESS, labeled: int = 0, unlabeled: int = 100) -> LabelingJob:
    return LabelingJob(
        region="eu-west-1",
        name="cats-v1",
        arn="arn:aws:sagemaker:eu-west-1:123456789012:labeling-job/cats-v1",
        status=status,
        counters=LabelCounters(total_labeled=labeled, human_labeled=labeled, unlabeled=unlabeled),
        creation_time=T0,
        last_modified_time=T0,
    )


def test_a_labeling_job_is_of_the_labeling_kind_and_identified_by_kind_region_and_name() -> None:
    job: Job = labeling()
    assert job.id == JobId(JobKind.LABELING, "eu-west-1", "cats-v1")
    assert job.id.account is None
    assert job.status == "InProgress"


@pytest.mark.parametrize(
    ("status", "status_class"),
    [
        (JobStatus.INITIALIZING, StatusClass.ACTIVE),
        (JobStatus.IN_PROGRESS, StatusClass.ACTIVE),
        (JobStatus.STOPPING, StatusClass.STOPPING),
        (JobStatus.COMPLETED, StatusClass.COMPLETED),
        (JobStatus.FAILED, StatusClass.FAILED),
        (JobStatus.STOPPED, StatusClass.STOPPED),
    ],
)
def test_each_sagemaker_status_has_its_status_class(status: JobStatus, status_class: StatusClass) -> None:
    assert labeling(status).status_class is status_class
    assert status_class.is_terminal is (status in {JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.STOPPED})
    assert status.is_terminal is status_class.is_terminal


def test_the_labeling_signal_is_its_counters_while_it_labels() -> None:
    assert labeling(labeled=3).progress_signal == labeling(labeled=3).progress_signal
    assert labeling(labeled=3).progress_signal != labeling(labeled=4).progress_signal
    assert labeling(labeled=3).progress_signal == LabelCounters(total_labeled=3, human_labeled=3, unlabeled=100)


@pytest.mark.parametrize("status", [JobStatus.INITIALIZING, JobStatus.STOPPING])
def test_outside_in_progress_counters_are_no_signal(status: JobStatus) -> None:
    assert labeling(status, labeled=3).progress_signal is None
    assert labeling(status, labeled=3).progress_signal == labeling(status, labeled=9).progress_signal


def test_a_labeling_job_with_nothing_to_label_waits() -> None:
    assert labeling(unlabeled=0).waiting
    assert not labeling(unlabeled=1).waiting
    assert not labeling(JobStatus.INITIALIZING, unlabeled=0).waiting


def test_a_state_read_back_derives_the_signal_the_diff_remembered() -> None:
    state = decide(None, labeling(labeled=3), T0, RULES).state
    assert state is not None and state.observed_signal == labeling(labeled=3).progress_signal
    read_back = replace(state, observed_signal=DERIVED)
    assert read_back == state
    assert read_back.progress_signal == state.progress_signal
    assert read_back.id == JobId(JobKind.LABELING, "eu-west-1", "cats-v1")


@dataclass(frozen=True)
class LogLineJob(LabelingJob):
    """A stand-in for a kind to come (a training job moves by its log lines, not by counters): the diff must stall
    and resume it by its own progress signal, and never look at the counters, which stay the same here."""

    lines: int = 0

    @property
    def progress_signal(self) -> ProgressSignal:
        return self.lines

    @property
    def waiting(self) -> bool:
        return False


def log_job(lines: int, status: JobStatus = JobStatus.IN_PROGRESS) -> LogLineJob:
    base = labeling(status, unlabeled=0)  # A labeling job with these counters would wait, never stall.
    return LogLineJob(**{**base.__dict__, "lines": lines})


class Ticks:
    def __init__(self) -> None:
        self.state: JobState | None = None

    def see(self, job: LabelingJob, minute: int) -> list[EventType]:
        decision = decide(self.state, job, T0 + timedelta(minutes=minute), RULES, baseline=self.state is None)
        self.state = decision.state
        return [notification.event_type for notification in decision.notifications]


def test_a_kind_with_its_own_signal_stalls_and_resumes_through_the_same_decide() -> None:
    ticks = Ticks()
    assert ticks.see(log_job(lines=10), 0) == []
    assert ticks.see(log_job(lines=10), 59) == []
    assert ticks.see(log_job(lines=10), 60) == [EventType.STALLED]
    assert ticks.see(log_job(lines=10), 90) == []
    assert ticks.see(log_job(lines=11), 95) == [EventType.RESUMED]
    assert ticks.see(log_job(lines=12), 160) == []  # moved at 95: no stall until 155 without a new line
    assert ticks.see(log_job(lines=12), 220) == [EventType.STALLED]
    assert ticks.see(log_job(lines=12, status=JobStatus.COMPLETED), 230) == [EventType.COMPLETED]


def test_the_same_counters_would_never_stall_a_labeling_job() -> None:
    ticks = Ticks()
    assert [ticks.see(labeling(unlabeled=0), minute) for minute in (0, 60, 120)] == [[], [], []]


class RecordingSageMaker:
    """Answers ListLabelingJobs with one page per status asked, recording the StatusEquals of each call."""

    def __init__(self) -> None:
        self.statuses: list[str] = []

    def get_paginator(self, operation: str) -> RecordingSageMaker:
        assert operation == "list_labeling_jobs"
        return self

    def paginate(self, **params: Any) -> list[dict[str, Any]]:
        self.statuses.append(params["StatusEquals"])
        summary = {
            "LabelingJobName": f"job-{params['StatusEquals'].lower()}",
            "LabelingJobArn": "arn:aws:sagemaker:eu-west-1:123456789012:labeling-job/x",
            "LabelingJobStatus": params["StatusEquals"],
            "CreationTime": T0,
        }
        return [{"LabelingJobSummaryList": [summary]}]


@pytest.mark.parametrize(
    ("every_status", "statuses"),
    [(False, ["InProgress"]), (True, ["Initializing", "InProgress", "Stopping"])],
)
def test_the_labeling_source_owns_which_statuses_a_run_lists(every_status: bool, statuses: list[str]) -> None:
    sagemaker = RecordingSageMaker()
    jobs = list(LabelingJobSource(sagemaker, "eu-west-1").list_active(name_contains=None, every_status=every_status))
    assert sagemaker.statuses == statuses
    assert [job.status for job in jobs] == statuses
    assert {job.kind for job in jobs} == {JobKind.LABELING}
