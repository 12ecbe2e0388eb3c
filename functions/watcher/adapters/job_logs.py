"""CloudWatch Logs adapter: the newest log line of a job of a kind with logs (training, processing, transform), read
within a budget per run. A fault here never fails a run or a job: the job's log time is then unknown (None).

SageMaker writes a job's lines to its kind's log group (contract.KIND_LOG_GROUPS), one stream per instance (and, for
a transform job, one more per instance for its data log), each named `<job>/...`. The newest line of a job is the
newest of its streams' last events. A stream's `lastEventTimestamp` is not used for that time: CloudWatch Logs updates
it "on an eventual consistency basis. It typically updates in less than an hour from ingestion" (CloudWatch Logs API
Reference, LogStream), far too late for a stall rule of 30 minutes. It only orders the streams worth reading first.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools import Logger

from watcher.domain.contract import KIND_LOG_GROUPS
from watcher.domain.job import LOG_KINDS, JobKind

logger = Logger(child=True)

# Log reads (DescribeLogStreams and GetLogEvents calls) per kind and region per run. A single-instance job costs two,
# so a run reads the logs of about 50 active jobs of a kind. The watch asks for them round the running jobs, from
# where the last run stopped (usecases/poll.py), so the jobs left out this run are read at the next; a job that keeps
# writing is read at least once per stall window while a kind and region has up to about
# stall_after / schedule * 50 running jobs (300 at the defaults). Bounded because CloudWatch Logs throttles
# these reads per account and region across every caller (DescribeLogStreams is documented at 5 transactions per
# second), and the poller's run is bounded (contract.POLLER_TIMEOUT_SECONDS) across all its regions and kinds.
LOG_READS_PER_RUN = 100
# Streams read per job: one per instance, newest first. A job on more instances is judged by the newest few; its
# instances write together, so the newest line of a few is, in practice, the newest line.
STREAMS_PER_JOB = 4
# One DescribeLogStreams page (its maximum); streams past the first page (more than 50 instances) are not read.
STREAM_PAGE = 50
_NOT_FOUND = "ResourceNotFoundException"


class JobLogs:
    """One run's log reads for one kind in one region. `last_log_at` answers None when the job has written no line
    yet, or when its logs could not be read (the budget is spent, or CloudWatch Logs throttled or failed: after the
    first fault the run reads no more, rather than pressing a service that is already refusing)."""

    def __init__(self, logs: Any, kind: JobKind, *, budget: int = LOG_READS_PER_RUN) -> None:
        if kind not in LOG_KINDS:
            raise ValueError(f"kind: {kind.value!r} writes no log lines the watcher reads")
        self._logs = logs
        self._group = KIND_LOG_GROUPS[kind.value]
        self._budget = budget
        self._fault: str | None = None
        # Jobs whose log time is unknown this run (not read: budget spent, throttled or failed).
        self.unread = 0
        # Whether the last job asked for could not be read (its log time is unknown, not "no line yet").
        self.unread_last = False

    @property
    def fault(self) -> str | None:
        """Why CloudWatch Logs could not be read this run (the error code), if it could not."""
        return self._fault

    def last_log_at(self, name: str) -> datetime | None:
        unread = self.unread
        try:
            if self._fault is not None or self._budget < 2:
                self.unread += 1
                return None
            try:
                return self._newest_line(name)
            except Exception as error:  # A logs fault must never fail the run or the job.
                self._fault = _error_code(error)
                self.unread += 1
                return None
        finally:
            self.unread_last = self.unread > unread

    def log_unread(self, scope: object) -> None:
        """One warning per run when some jobs' logs could not be read."""
        if self.unread:
            logger.warning(
                "CloudWatch Logs could not be read for some jobs this run; their log lines neither start nor end a "
                "stall until they can be read",
                extra={"scope": str(scope), "jobs": self.unread, "reason": self._fault or "log read budget spent"},
            )

    def _newest_line(self, name: str) -> datetime | None:
        streams = self._streams(name)
        if streams is None:
            return None
        if len(streams) > self._budget:
            self.unread += 1
            return None
        newest: int | None = None
        for stream in streams:
            self._budget -= 1
            try:
                events = self._logs.get_log_events(
                    logGroupName=self._group, logStreamName=stream, startFromHead=False, limit=1
                ).get("events", [])
            except Exception as error:
                if _error_code(error) == _NOT_FOUND:
                    continue  # The stream is gone (its retention expired): no line of it counts.
                raise
            stamps = [event["timestamp"] for event in events if isinstance(event.get("timestamp"), int)]
            if stamps and (newest is None or max(stamps) > newest):
                newest = max(stamps)
        return datetime.fromtimestamp(newest / 1000, UTC) if newest is not None else None

    def _streams(self, name: str) -> list[str] | None:
        """The job's streams worth reading, newest first; None when the job has none (or its kind's log group does not
        exist yet: no job of the kind has written a line in this region)."""
        self._budget -= 1
        try:
            page = self._logs.describe_log_streams(
                logGroupName=self._group, logStreamNamePrefix=f"{name}/", limit=STREAM_PAGE
            )
        except Exception as error:
            if _error_code(error) == _NOT_FOUND:
                return None
            raise
        streams = [stream for stream in page.get("logStreams", []) if stream.get("logStreamName")]
        if not streams:
            return None
        streams.sort(key=_recency, reverse=True)
        return [stream["logStreamName"] for stream in streams[:STREAMS_PER_JOB]]


def _recency(stream: Mapping[str, Any]) -> int:
    """A hint only (see the module's docstring): the stream's last event as CloudWatch Logs last recorded it, or its
    creation."""
    hints = [stream.get(key) for key in ("lastEventTimestamp", "lastIngestionTime", "creationTime")]
    return max((hint for hint in hints if isinstance(hint, int)), default=0)


def _error_code(error: Exception) -> str:
    response = getattr(error, "response", None)
    if isinstance(response, Mapping):
        code = response.get("Error", {}).get("Code")
        if isinstance(code, str) and code:
            return code
    return type(error).__name__
