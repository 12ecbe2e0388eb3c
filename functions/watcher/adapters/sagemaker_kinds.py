"""SageMaker adapters for the job kinds after labeling: training, processing, transform and tuning jobs (their List and
Describe actions) and pipeline executions (Search, DescribePipelineExecution, ListPipelineExecutionSteps), as KindJob
values. One JobSource (ports.py) per kind and region; `job_source` builds the one for any kind.

Every listing is bounded: SageMaker filters by status after it fetches a page and by LastModifiedTimeAfter in a way
that can answer empty pages that still carry a NextToken, so a listing stops after MAX_PAGES pages and says so.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools import Logger
from botocore.exceptions import ClientError

from watcher.adapters.job_logs import LOG_READS_PER_RUN, JobLogs
from watcher.adapters.sagemaker_jobs import PAGE_SIZE, LabelingJobSource, list_filters
from watcher.domain import kinds
from watcher.domain.job import KIND_ACTIVE_STATUSES, KIND_STEADY_STATUSES, LOG_KINDS, JobKind, Scope
from watcher.domain.kinds import KindJob
from watcher.domain.ports import JobSource

logger = Logger(child=True)

# Pages per listing: 2,000 jobs of one kind in one status (or one window) in one region. Far beyond any real listing;
# what it stops is a listing that never ends.
MAX_PAGES = 20
# Steps of one pipeline execution: 20 pages of 100.
MAX_STEP_PAGES = 20


@dataclass(frozen=True)
class KindApi:
    """How SageMaker lists and describes the jobs of one kind (all four share the filters of ListLabelingJobs)."""

    list_method: str
    summaries: str
    describe_method: str
    name_parameter: str
    build: Callable[..., KindJob]


KIND_APIS: dict[JobKind, KindApi] = {
    JobKind.TRAINING: KindApi(
        "list_training_jobs", "TrainingJobSummaries", "describe_training_job", "TrainingJobName", kinds.training_job
    ),
    JobKind.PROCESSING: KindApi(
        "list_processing_jobs",
        "ProcessingJobSummaries",
        "describe_processing_job",
        "ProcessingJobName",
        kinds.processing_job,
    ),
    JobKind.TRANSFORM: KindApi(
        "list_transform_jobs",
        "TransformJobSummaries",
        "describe_transform_job",
        "TransformJobName",
        kinds.transform_job,
    ),
    JobKind.TUNING: KindApi(
        "list_hyper_parameter_tuning_jobs",
        "HyperParameterTuningJobSummaries",
        "describe_hyper_parameter_tuning_job",
        "HyperParameterTuningJobName",
        kinds.tuning_job,
    ),
}


def job_source(sagemaker: Any, logs: Any, scope: Scope, *, log_budget: int = LOG_READS_PER_RUN) -> JobSource:
    """The JobSource of the scope's kind in its region (`logs`, a CloudWatch Logs client, is read for the kinds with
    logs only)."""
    if scope.kind is JobKind.LABELING:
        return LabelingJobSource(sagemaker, scope.region)
    if scope.kind is JobKind.PIPELINE:
        return PipelineExecutionSource(sagemaker, scope)
    return KindJobSource(sagemaker, logs if scope.kind in LOG_KINDS else None, scope, log_budget=log_budget)


class KindJobSource:
    """The JobSource port for training, processing, transform or tuning jobs in one region. `list_active` reads the
    newest log line of each InProgress job of a kind with logs (job_logs.JobLogs, one budget per call)."""

    def __init__(self, sagemaker: Any, logs: Any | None, scope: Scope, *, log_budget: int = LOG_READS_PER_RUN) -> None:
        if scope.kind not in KIND_APIS:
            raise ValueError(f"kind: {scope.kind.value!r} is not listed by ListXxxJobs")
        self._sagemaker = sagemaker
        self._logs = logs
        self._scope = scope
        self._api = KIND_APIS[scope.kind]
        self._log_budget = log_budget

    @property
    def scope(self) -> Scope:
        return self._scope

    def list_active(self, *, name_contains: str | None, every_status: bool) -> Iterator[KindJob]:
        statuses = KIND_ACTIVE_STATUSES if every_status else KIND_STEADY_STATUSES
        for status in statuses[self._scope.kind]:
            yield from self._list(status=status, name_contains=name_contains)

    def newest_log_lines(self, names: Sequence[str]) -> dict[str, datetime | None]:
        if self._logs is None or not names:
            return {}
        reader = JobLogs(self._logs, self._scope.kind, budget=self._log_budget)
        read: dict[str, datetime | None] = {}
        for name in names:
            newest = reader.last_log_at(name)
            if newest is not None or not reader.unread_last:
                read[name] = newest
        reader.log_unread(self._scope)
        return read

    def list_recent(
        self,
        *,
        created_after: datetime | None = None,
        modified_after: datetime | None = None,
        name_contains: str | None = None,
    ) -> Iterator[KindJob]:
        return self._list(created_after=created_after, modified_after=modified_after, name_contains=name_contains)

    def describe(self, name: str, arn: str | None = None) -> KindJob | None:
        try:
            response = getattr(self._sagemaker, self._api.describe_method)(**{self._api.name_parameter: name})
        except ClientError as error:
            if is_not_found(error):
                return None
            raise
        return self._api.build(self._scope.region, response, detailed=True)

    def _list(
        self,
        *,
        status: str | None = None,
        created_after: datetime | None = None,
        modified_after: datetime | None = None,
        name_contains: str | None = None,
    ) -> Iterator[KindJob]:
        params = list_filters(
            status=status, created_after=created_after, modified_after=modified_after, name_contains=name_contains
        )
        pages = self._sagemaker.get_paginator(self._api.list_method).paginate(**params)
        for page in bounded(pages, MAX_PAGES, what=self._api.list_method, scope=self._scope):
            for summary in page.get(self._api.summaries, []):
                yield self._api.build(self._scope.region, summary, detailed=False)


class PipelineExecutionSource:
    """The JobSource port for pipeline executions in one region. SageMaker lists a pipeline's executions only by
    pipeline (ListPipelineExecutions), so the region's executions are found with Search, newest change first; an
    execution is known by its display name and described by its ARN."""

    def __init__(self, sagemaker: Any, scope: Scope) -> None:
        if scope.kind is not JobKind.PIPELINE:
            raise ValueError(f"kind: {scope.kind.value!r} is not a pipeline execution")
        self._sagemaker = sagemaker
        self._scope = scope

    @property
    def scope(self) -> Scope:
        return self._scope

    def list_active(self, *, name_contains: str | None, every_status: bool) -> Iterator[KindJob]:
        statuses = KIND_ACTIVE_STATUSES if every_status else KIND_STEADY_STATUSES
        for status in statuses[JobKind.PIPELINE]:
            yield from self._search([_filter("PipelineExecutionStatus", "Equals", status)], name_contains=name_contains)

    def list_recent(
        self,
        *,
        created_after: datetime | None = None,
        modified_after: datetime | None = None,
        name_contains: str | None = None,
    ) -> Iterator[KindJob]:
        filters = []
        if created_after is not None:
            filters.append(_filter("CreationTime", "GreaterThan", search_time(created_after)))
        if modified_after is not None:
            filters.append(_filter("LastModifiedTime", "GreaterThan", search_time(modified_after)))
        return self._search(filters, name_contains=name_contains)

    def newest_log_lines(self, names: Sequence[str]) -> dict[str, datetime | None]:
        return {}  # A pipeline execution writes no log of its own; its steps' jobs do, as jobs of their kind.

    def describe(self, name: str, arn: str | None = None) -> KindJob | None:
        """The execution with its steps; found by display name (the newest changed of that name) when no ARN is
        given."""
        if arn is None:
            found = next(self._search([_filter("PipelineExecutionDisplayName", "Equals", name)], max_pages=1), None)
            if found is None:
                return None
            arn = found.arn
        try:
            execution = self._sagemaker.describe_pipeline_execution(PipelineExecutionArn=arn)
            pages = self._sagemaker.get_paginator("list_pipeline_execution_steps").paginate(
                PipelineExecutionArn=arn, SortOrder="Ascending", PaginationConfig={"PageSize": PAGE_SIZE}
            )
            steps = [
                step
                for page in bounded(pages, MAX_STEP_PAGES, what="list_pipeline_execution_steps", scope=self._scope)
                for step in page.get("PipelineExecutionSteps", [])
            ]
        except ClientError as error:
            if is_not_found(error):
                return None
            raise
        return kinds.pipeline_execution(self._scope.region, execution, steps=steps)

    def _search(
        self, filters: list[dict[str, str]], *, name_contains: str | None = None, max_pages: int = MAX_PAGES
    ) -> Iterator[KindJob]:
        if name_contains:
            filters = [*filters, _filter("PipelineExecutionDisplayName", "Contains", name_contains)]
        params: dict[str, Any] = {
            "Resource": "PipelineExecution",
            "SortBy": "LastModifiedTime",
            "SortOrder": "Descending",
            "PaginationConfig": {"PageSize": PAGE_SIZE},
        }
        if filters:
            params["SearchExpression"] = {"Filters": filters, "Operator": "And"}
        pages = self._sagemaker.get_paginator("search").paginate(**params)
        for page in bounded(pages, max_pages, what="search", scope=self._scope, quiet=max_pages == 1):
            for record in page.get("Results", []):
                execution = record.get("PipelineExecution")
                if execution and execution.get("PipelineExecutionArn") and execution.get("PipelineExecutionStatus"):
                    yield kinds.pipeline_execution(self._scope.region, execution)


def bounded(pages: Any, max_pages: int, *, what: str, scope: Scope, quiet: bool = False) -> Iterator[Mapping[str, Any]]:
    """At most `max_pages` pages of a listing; logs when the listing had more (the jobs on them are not seen this
    run: a job already watched is still described by name)."""
    for count, page in enumerate(pages, start=1):
        yield page
        if count >= max_pages:
            if page.get("NextToken") and not quiet:
                logger.warning(
                    "Stopped a SageMaker listing after its maximum number of pages; jobs beyond it are not seen "
                    "this run",
                    extra={"scope": str(scope), "action": what, "pages": max_pages},
                )
            return


def is_not_found(error: ClientError) -> bool:
    """Whether SageMaker does not know the job: ResourceNotFound, or the ValidationException its Describe actions
    answer for an unknown name ("Requested resource not found")."""
    details = error.response.get("Error", {})
    code = details.get("Code", "")
    message = str(details.get("Message", "")).lower()
    if code in {"ResourceNotFound", "ResourceNotFoundException"}:
        return True
    return code in {"ValidationException", "ValidationError"} and any(
        words in message for words in ("not found", "could not find", "does not exist")
    )


def search_time(moment: datetime) -> str:
    """A time as Search's filters take it: ISO 8601, `YYYY-mm-dd'T'HH:MM:SS`, in UTC. Cut to the second (down), so
    the filter "after" keeps every job of that second."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")


def _filter(name: str, operator: str, value: str) -> dict[str, str]:
    return {"Name": name, "Operator": operator, "Value": value}
