"""In-memory JobSource (watcher/domain/ports.py): jobs of one kind by name, counting what the watcher asks."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime

from watcher.domain.job import KIND_ACTIVE_STATUSES, KIND_STEADY_STATUSES, LOG_KINDS, JobKind, Scope
from watcher.domain.model import AnyJob
from watcher.domain.ports import JobSource


class InMemoryJobSource:
    def __init__(self, region: str = "us-east-1", kind: JobKind = JobKind.LABELING) -> None:
        self._scope = Scope(region, kind)
        self.jobs: dict[str, AnyJob] = {}
        self.describes: list[str] = []
        # The time of each job's newest log line (kinds with logs); a job absent here has written none.
        self.log_lines: dict[str, datetime] = {}
        # Jobs whose logs cannot be read (as if CloudWatch Logs throttled them).
        self.unreadable_logs: set[str] = set()
        self.log_reads: list[str] = []
        # At most this many jobs' logs read per run (as the CloudWatch Logs adapter's budget); None: every job's.
        self.log_budget: int | None = None

    @property
    def scope(self) -> Scope:
        return self._scope

    def put(self, job: AnyJob) -> None:
        self.jobs[job.name] = job

    def list_active(self, *, name_contains: str | None, every_status: bool) -> Iterator[AnyJob]:
        kind = self._scope.kind
        statuses = KIND_ACTIVE_STATUSES[kind] if every_status else KIND_STEADY_STATUSES[kind]
        jobs = [job for job in self.jobs.values() if _named(job, name_contains)]
        return iter([job for status in statuses for job in jobs if job.status == status])

    def list_recent(
        self,
        *,
        created_after: datetime | None = None,
        modified_after: datetime | None = None,
        name_contains: str | None = None,
    ) -> Iterator[AnyJob]:
        return iter(
            [
                job
                for job in self.jobs.values()
                if (created_after is None or job.creation_time > created_after)
                and (modified_after is None or job.last_modified_time > modified_after)
                and _named(job, name_contains)
            ]
        )

    def newest_log_lines(self, names: Sequence[str]) -> dict[str, datetime | None]:
        if self._scope.kind not in LOG_KINDS:
            return {}
        read = list(names)[: self.log_budget]
        self.log_reads.extend(read)
        return {name: self.log_lines.get(name) for name in read if name not in self.unreadable_logs}

    def describe(self, name: str, arn: str | None = None) -> AnyJob | None:
        self.describes.append(name)
        return next((job for job in self.jobs.values() if job.name.lower() == name.lower()), None)


def _named(job: AnyJob, name_contains: str | None) -> bool:
    return not name_contains or name_contains.lower() in job.name.lower()


class WrappedSource:
    """A JobSource that passes every call to `source`; a variant overrides what it changes."""

    def __init__(self, source: JobSource) -> None:
        self.source = source

    @property
    def scope(self) -> Scope:
        return self.source.scope

    def list_active(self, *, name_contains: str | None, every_status: bool) -> Iterator[AnyJob]:
        return self.source.list_active(name_contains=name_contains, every_status=every_status)

    def list_recent(
        self,
        *,
        created_after: datetime | None = None,
        modified_after: datetime | None = None,
        name_contains: str | None = None,
    ) -> Iterator[AnyJob]:
        return self.source.list_recent(
            created_after=created_after, modified_after=modified_after, name_contains=name_contains
        )

    def describe(self, name: str, arn: str | None = None) -> AnyJob | None:
        return self.source.describe(name, arn)

    def newest_log_lines(self, names: Sequence[str]) -> Mapping[str, datetime | None]:
        return self.source.newest_log_lines(names)


class ThrottledListing(WrappedSource):
    """A JobSource whose listings fail while `throttled` (SageMaker throttling every list call); describe works."""

    def __init__(self, source: JobSource) -> None:
        super().__init__(source)
        self.throttled = True

    def list_active(self, *, name_contains: str | None, every_status: bool) -> Iterator[AnyJob]:
        self._check()
        return super().list_active(name_contains=name_contains, every_status=every_status)

    def list_recent(
        self,
        *,
        created_after: datetime | None = None,
        modified_after: datetime | None = None,
        name_contains: str | None = None,
    ) -> Iterator[AnyJob]:
        self._check()
        return super().list_recent(
            created_after=created_after, modified_after=modified_after, name_contains=name_contains
        )

    def _check(self) -> None:
        if self.throttled:
            raise RuntimeError("ThrottlingException")


class CountingDescribes(WrappedSource):
    """Wraps a JobSource: counts the jobs it is asked to describe, by name."""

    def __init__(self, source: JobSource, describes: list[str]) -> None:
        super().__init__(source)
        self.describes = describes

    def describe(self, name: str, arn: str | None = None) -> AnyJob | None:
        self.describes.append(name)
        return self.source.describe(name, arn)
