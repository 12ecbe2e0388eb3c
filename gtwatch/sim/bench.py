"""`make bench`: what one watcher run costs, measured on the emulator, next to the naive design and the floor.

Writes docs/performance.md. Every figure is measured (requests counted at the client, per attempt, the same way
for both designs); only the floor is computed, from its definition, and the held-news night's figure for the code
before 0.3.0 is a recorded measurement of that code (NIGHT_BEFORE).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import time
import tracemalloc
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any
from unittest import mock

import boto3
from botocore.endpoint import Endpoint
from watcher import clock, composition, container
from watcher.adapters.job_logs import LOG_READS_PER_RUN
from watcher.domain.contract import (
    DEFAULT_KINDS,
    EVENT_TYPES,
    JOB_KINDS,
    KIND_LOG_GROUPS,
    POLL_CODE_MS,
    POLL_KIND_MS,
    POLL_PAIR_ASSUME_ROLE_MS,
    POLL_RUN_BUDGET_SECONDS,
    POLL_WORK_MAX_RECEIVE_COUNT,
    POLL_WORK_VISIBILITY_SECONDS,
    POLLER_TIMEOUT_SECONDS,
    STATE_CHANGE_DETAIL_TYPE,
    STATE_CHANGE_SOURCE,
    pairs_per_invocation,
)
from watcher.domain.env import Env
from watcher.domain.job import Scope
from watcher.domain.poll_work import Pair, plan_batches
from watcher.domain.ports import RunRecord
from watcher.handlers import event_handler, poller_handler
from watcher.settings import PollerSettings, settings
from watcher.usecases.watch import Run, RunReport, watch_job

from .emulator import deployment, email, labeling_jobs, sagemaker_jobs
from .emulator.deployment import FakeLambdaContext, Routing
from .replay import count_requests

START = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
HISTORY_SIZES = (100, 1_000, 10_000)
ACTIVE_SIZES = (50, 500)
STEADY_TICKS = 5
# Per steady tick, this share of the active jobs labels a little more (so the run has something to write).
MOVING_SHARE = 0.1
IMPORT_RUNS = 7
STEADY_HEADER = (
    "| history | active | floor | gtwatch SageMaker calls | naive SageMaker calls | gtwatch DynamoDB reads / writes "
    "| naive reads / writes | jobs changed | gtwatch ms | naive ms |\n|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|"
)
TERMINAL = ("Completed", "Failed", "Stopped")
# The held-news night: quiet hours from 22:00 to 07:00 holding every event on both channels, and jobs that finish
# one after another from 22:01, three minutes apart; the poller runs every 5 minutes from 21:00.
NIGHT_JOBS = 20
QUIET_NIGHT = {
    "start": "22:00",
    "end": "07:00",
    "timezone": "UTC",
    "hold": list(EVENT_TYPES),
    "channels": ["slack", "email"],
}
NIGHT_STARTS, NIGHT_ENDS = 13 * 60, 22 * 60  # minutes after START (09:00): 22:00 and 07:00 the next day


@dataclass
class TickCost:
    sagemaker: int
    reads: int
    writes: int
    publishes: int
    wall_ms: float

    @classmethod
    def measure(cls, run: Callable[[], object]) -> TickCost:
        with count_requests() as counts:
            started = time.perf_counter()
            run()
            wall_ms = (time.perf_counter() - started) * 1000
        return cls(
            sagemaker=counts.get("sagemaker", 0),
            reads=counts.get("dynamodb_reads", 0),
            writes=counts.get("dynamodb_writes", 0),
            publishes=counts.get("sns", 0),
            wall_ms=wall_ms,
        )


@dataclass
class SizeResult:
    history: int
    active: int
    baseline: TickCost
    steady: list[TickCost] = field(default_factory=list)
    changed_per_tick: int = 0

    def median(self, attribute: str) -> float:
        return float(statistics.median(getattr(tick, attribute) for tick in self.steady))

    @property
    def floor(self) -> int:
        """One page per 100 active jobs, plus the one listing that reveals new and finished jobs."""
        return math.ceil(self.active / 100) + 1


class Account:
    """An emulated account with history, on a clock the bench moves."""

    def __init__(self, history: int, active: int) -> None:
        self.history, self.active, self.minute = history, active, 0
        self.labeled = dict.fromkeys(self._active_names(), 0)

    @contextmanager
    def deployed(self, extra_env: dict[str, str] | None = None) -> Iterator[Any]:
        routing = Routing(slack_events=EVENT_TYPES, email_events=EVENT_TYPES)
        env = {"POWERTOOLS_LOG_LEVEL": "ERROR", Env.STALL_AFTER_MINUTES: "100000", **(extra_env or {})}
        with deployment.deployed(
            mode="inprocess", routing=routing, slack_webhook_url="http://127.0.0.1:9/x", handler_env=env
        ) as resources:
            clock.set_clock(self.now)
            labeling_jobs.set_clock(self.now)
            container.reset()
            try:
                self._populate()
                yield resources
            finally:
                clock.set_clock(None)
                labeling_jobs.set_clock(None)
                poller_handler.metrics.clear_metrics()

    def now(self) -> datetime:
        return START + timedelta(minutes=self.minute)

    def _active_names(self) -> list[str]:
        return [f"active-{index:04d}" for index in range(self.active)]

    def _populate(self) -> None:
        # Created days before the watcher starts: history, not news.
        long_ago = START - timedelta(days=30)
        for index in range(self.history):
            labeling_jobs.put_labeling_job(
                region=deployment.REGION,
                name=f"old-{index:05d}",
                status=TERMINAL[index % 3],
                counters={"TotalLabeled": 100, "HumanLabeled": 100},
                at=long_ago + timedelta(seconds=index),
            )
        for name in self._active_names():
            labeling_jobs.put_labeling_job(
                region=deployment.REGION, name=name, status="InProgress", counters={"Unlabeled": 1000}, at=long_ago
            )

    def advance(self, minutes: int, moving: int) -> None:
        """Time passes; `moving` active jobs label ten more objects each."""
        self.minute += minutes
        for name in self._active_names()[:moving]:
            self.labeled[name] += 10
            labeled = self.labeled[name]
            labeling_jobs.update_labeling_job(
                region=deployment.REGION,
                name=name,
                at=self.now(),
                counters={"TotalLabeled": labeled, "HumanLabeled": labeled, "Unlabeled": 1000 - labeled},
            )


def gtwatch_tick() -> None:
    poller_handler.lambda_handler({}, FakeLambdaContext("gtwatch-poller"))
    poller_handler.metrics.clear_metrics()


def naive_tick() -> None:
    """The design gtwatch avoids: list every job each run and read every job's state."""
    config = settings(PollerSettings)
    scope = Scope(config.home_region)
    run = Run.starting(clock.now(), seconds_left=60)
    watcher = composition.watcher(config, run, quiet=False)
    store, source = watcher.store, composition.job_source(scope)
    record = store.load_run(scope) or store.start_watching(scope, run.now)
    observed = {job.name: job for job in source.list_recent()}
    states = store.get_states(scope, observed)
    report = RunReport(region=scope.region)
    for name, job in observed.items():
        watch_job(watcher, record, states.get(name), name=name, observed=job, source=source, report=report)
    store.save_run(RunRecord(scope=scope, started_at=record.started_at, listed_at=run.now))


def measure_size(history: int, active: int, tick: Callable[[], None]) -> SizeResult:
    account = Account(history, active)
    with account.deployed():
        result = SizeResult(history=history, active=active, baseline=TickCost.measure(tick))
        moving = max(1, int(active * MOVING_SHARE))
        result.changed_per_tick = moving
        for _ in range(STEADY_TICKS):
            account.advance(5, moving)
            result.steady.append(TickCost.measure(tick))
    return result


def measure_event_path() -> TickCost:
    """One state-change event for a job that just finished: what the fast path costs."""
    account = Account(history=1_000, active=50)
    with account.deployed():
        gtwatch_tick()
        account.advance(5, 0)
        labeling_jobs.update_labeling_job(
            region=deployment.REGION, name="active-0000", at=account.now(), status="Completed"
        )
        arn = labeling_jobs.describe_labeling_job(labeling_jobs.labeling_job_backend(), "active-0000")["LabelingJobArn"]
        event = {
            "source": STATE_CHANGE_SOURCE,
            "detail-type": STATE_CHANGE_DETAIL_TYPE,
            "resources": [arn],
            "detail": {"LabelingJobStatus": "Completed"},
        }
        return TickCost.measure(lambda: event_handler.lambda_handler(event, FakeLambdaContext("gtwatch-events")))


@dataclass
class NightCost:
    runs: int
    describes: int
    lists: int
    published_at_night: int
    published_at_release: int


# The same night measured once on 434bdc4, the code before 0.3.0's layers (measure_held_night with its imports
# adapted to the old flat modules), where a finished job whose news was held was described at every run. That code
# is gone, so the figure is recorded, not re-measured.
NIGHT_BEFORE = NightCost(runs=108, describes=2_034, lists=216, published_at_night=0, published_at_release=20)


def _counting_operations(counts: Counter[str], run: Callable[[], None]) -> None:
    """Run `run`, adding its SageMaker requests to `counts` by operation (DescribeLabelingJob, ListLabelingJobs).

    Wraps whatever counts requests already (count_requests), so both see every attempt."""
    original = Endpoint.create_request

    def counting(self: Endpoint, params: Any, operation_model: Any = None) -> Any:
        if operation_model is not None and operation_model.service_model.service_name == "sagemaker":
            counts[operation_model.name] += 1
        return original(self, params, operation_model)

    setattr(Endpoint, "create_request", counting)  # noqa: B010 - botocore's hook point
    try:
        run()
    finally:
        setattr(Endpoint, "create_request", original)  # noqa: B010


def measure_held_night() -> NightCost:
    """SageMaker calls through a night whose quiet hours hold the news of jobs that finished in the evening."""
    account = Account(history=100, active=NIGHT_JOBS)
    finishing = {NIGHT_STARTS + 1 + 3 * index: name for index, name in enumerate(account._active_names())}
    night: Counter[str] = Counter()
    published_at_night = released = 0
    with account.deployed({Env.QUIET_HOURS: json.dumps(QUIET_NIGHT)}):
        for minute in range(NIGHT_STARTS - 60, NIGHT_ENDS + 1, 5):
            account.minute = minute
            for finished in range(minute - 4, minute + 1):
                if finished in finishing:
                    labeling_jobs.update_labeling_job(
                        region=deployment.REGION,
                        name=finishing[finished],
                        at=START + timedelta(minutes=finished),
                        status="Completed",
                        counters={"TotalLabeled": 1000, "HumanLabeled": 1000, "Unlabeled": 0},
                    )
            counts: Counter[str] = Counter()
            cost = TickCost.measure(partial(_counting_operations, counts, gtwatch_tick))
            if minute == NIGHT_ENDS:
                released = cost.publishes  # 07:00: the window ends and the held news goes out
            elif minute >= NIGHT_STARTS:
                night.update(counts)
                published_at_night += cost.publishes
    return NightCost(
        runs=(NIGHT_ENDS - NIGHT_STARTS) // 5,
        describes=night["DescribeLabelingJob"],
        lists=night["ListLabelingJobs"],
        published_at_night=published_at_night,
        published_at_release=released,
    )


# --- every kind at once ----------------------------------------------------------------------------------------------

KIND_NAMES = ("labeling", "training", "processing", "transform", "tuning", "pipeline")
LOGGED_KINDS = ("training", "processing", "transform")
# Active and finished jobs of each kind in the kinds measurement.
KIND_ACTIVE = 100
KIND_HISTORY = 100
# An hour of 5-minute runs after the baseline: past the 30-minute stall rule of the kinds with logs, short of the
# 60 (labeling) and 120 (tuning) minutes of the kinds whose jobs here move at least every 50 minutes.
KIND_TICKS = 12
# The calls of a steady run are the medians of the first runs, before any stall (false or not) could be due.
KIND_STEADY_TICKS = 5
# The stack's default stall rules by kind (a pipeline execution never stalls).
KIND_STALL_AFTER = {"labeling": 60, "training": 30, "processing": 30, "transform": 30, "tuning": 120}
# SageMaker operations by the kind they watch, and what they are: a listing (List*, Search), a describe, or the steps
# of a pipeline execution.
KIND_OPERATIONS: dict[str, tuple[str, str]] = {
    "ListLabelingJobs": ("labeling", "list"),
    "DescribeLabelingJob": ("labeling", "describe"),
    "ListTrainingJobs": ("training", "list"),
    "DescribeTrainingJob": ("training", "describe"),
    "ListProcessingJobs": ("processing", "list"),
    "DescribeProcessingJob": ("processing", "describe"),
    "ListTransformJobs": ("transform", "list"),
    "DescribeTransformJob": ("transform", "describe"),
    "ListHyperParameterTuningJobs": ("tuning", "list"),
    "DescribeHyperParameterTuningJob": ("tuning", "describe"),
    "Search": ("pipeline", "list"),
    "DescribePipelineExecution": ("pipeline", "describe"),
    "ListPipelineExecutionSteps": ("pipeline", "steps"),
}
LOG_OPERATIONS = {"DescribeLogStreams": "streams", "GetLogEvents": "events"}
KIND_BY_LOG_GROUP = {group: kind for kind, group in KIND_LOG_GROUPS.items()}
CALL_COLUMNS = ("list", "describe", "steps", "streams", "events")
# The kinds measurement as recorded on the commit that added it (before any change to the log budget), so that a
# later run shows what a change did. Per kind: medians per steady run of (list, describe, steps, streams, events),
# the jobs whose log was read per run, and the jobs of the kind announced as stalled within the hour though every one
# of them wrote a log line before every run.
KINDS_RECORDED_COMMIT = "branch demo17, 2026-12-05, LOG_READS_PER_RUN = 60"
KINDS_RECORDED: dict[str, tuple[tuple[int, int, int, int, int], int, int]] = {
    "labeling": ((2, 0, 0, 0, 0), 0, 0),
    "training": ((2, 0, 0, 30, 30), 30, 70),
    "processing": ((2, 0, 0, 30, 30), 30, 70),
    "transform": ((2, 0, 0, 30, 30), 30, 70),
    "tuning": ((2, 0, 0, 0, 0), 0, 0),
    "pipeline": ((2, 0, 0, 0, 0), 0, 0),
}


@dataclass
class KindRun:
    """One run of the watcher with every kind: its requests by (kind, column), the jobs whose log it read by kind,
    DynamoDB and time."""

    calls: Counter[tuple[str, str]]
    logs_read: dict[str, set[str]]
    cost: TickCost


@dataclass
class KindsResult:
    baseline: KindRun
    runs: list[KindRun] = field(default_factory=list)
    # Stall notifications (emails) by kind over the hour; every job of a kind with logs wrote before every run.
    stalled: Counter[str] = field(default_factory=Counter)
    stalled_jobs: dict[str, set[str]] = field(default_factory=dict)

    @property
    def steady(self) -> list[KindRun]:
        return self.runs[:KIND_STEADY_TICKS]

    def median(self, kind: str, column: str) -> float:
        return float(statistics.median(run.calls[(kind, column)] for run in self.steady))

    def read_per_run(self, kind: str) -> float:
        return float(statistics.median(len(run.logs_read.get(kind, ())) for run in self.steady))

    def ever_read(self, kind: str) -> int:
        return len(set().union(*(run.logs_read.get(kind, set()) for run in self.runs)))

    def cost_median(self, attribute: str) -> float:
        return float(statistics.median(getattr(run.cost, attribute) for run in self.steady))


class KindsAccount(Account):
    """An account with KIND_ACTIVE jobs in progress and KIND_HISTORY finished ones of every kind. The active jobs of
    the kinds with logs write a line before every run; the labeling and tuning jobs move in turns, a tenth at each run
    (each at least every 50 minutes); a training job's SecondaryStatus stays Training, as in a long training."""

    def __init__(self) -> None:
        super().__init__(history=KIND_HISTORY, active=KIND_ACTIVE)
        self.ticks = 0

    @contextmanager
    def deployed(self, extra_env: dict[str, str] | None = None) -> Iterator[Any]:
        env = {
            Env.KINDS: ",".join(KIND_NAMES),
            Env.STALL_AFTER_MINUTES: json.dumps(KIND_STALL_AFTER),
            **(extra_env or {}),
        }
        with super().deployed(env) as resources:
            yield resources

    def _names(self, kind: str, prefix: str = "active") -> list[str]:
        count = KIND_ACTIVE if prefix == "active" else KIND_HISTORY
        return [f"{kind}-{prefix}-{index:04d}" for index in range(count)]

    def _populate(self) -> None:
        super()._populate()  # the labeling jobs
        long_ago = START - timedelta(days=30)
        for kind in KIND_NAMES[1:]:
            for index, name in enumerate(self._names(kind, "old")):
                at = long_ago + timedelta(seconds=index)
                if kind == "pipeline":
                    sagemaker_jobs.put_pipeline_execution(pipeline="nightly", name=name, at=at, status="Succeeded")
                else:
                    sagemaker_jobs.put_job(kind=kind, name=name, at=at, status="Completed")  # type: ignore[arg-type]
            # Each active job started at its own minute in the last two days: SageMaker lists the newest first.
            for index, name in enumerate(self._names(kind)):
                at = START - timedelta(days=2) + timedelta(minutes=index)
                if kind == "pipeline":
                    sagemaker_jobs.put_pipeline_execution(
                        pipeline="nightly",
                        name=name,
                        at=at,
                        steps=[sagemaker_jobs.PipelineStep(name="Train", status="Executing")],
                    )
                elif kind == "training":
                    sagemaker_jobs.put_job(kind="training", name=name, at=at, secondary_status="Training")
                elif kind == "tuning":
                    sagemaker_jobs.put_job(kind="tuning", name=name, at=at, max_jobs=100, counters=_tuning(0))
                else:
                    sagemaker_jobs.put_job(kind=kind, name=name, at=at)  # type: ignore[arg-type]
        self._write_logs()

    def _write_logs(self) -> None:
        for kind in LOGGED_KINDS:
            for name in self._names(kind):
                sagemaker_jobs.write_log_line(kind=kind, name=name, at=self.now() - timedelta(minutes=1))  # type: ignore[arg-type]

    def advance_kinds(self) -> None:
        """Five minutes pass: every job with logs writes a line; a tenth of the labeling and tuning jobs move."""
        self.minute += 5
        self.ticks += 1
        turn = [index for index in range(KIND_ACTIVE) if index % 10 == self.ticks % 10]
        for index in turn:
            name = self._active_names()[index]
            self.labeled[name] += 10
            labeled = self.labeled[name]
            labeling_jobs.update_labeling_job(
                region=deployment.REGION,
                name=name,
                at=self.now(),
                counters={"TotalLabeled": labeled, "HumanLabeled": labeled, "Unlabeled": 1000 - labeled},
            )
            sagemaker_jobs.update_job(
                kind="tuning", name=self._names("tuning")[index], at=self.now(), counters=_tuning(self.ticks)
            )
        self._write_logs()


def _tuning(done: int) -> dict[str, int]:
    return {"Completed": done, "InProgress": 4, "RetryableError": 0, "NonRetryableError": 0, "Stopped": 0}


def _counting_kind_calls(calls: Counter[tuple[str, str]], read: dict[str, set[str]], run: Callable[[], None]) -> None:
    """Run `run`, adding its SageMaker and CloudWatch Logs requests to `calls` by (kind, column) and the jobs whose
    log streams it asked for to `read` by kind. Wraps whatever counts requests already, so both see every attempt."""
    original = Endpoint.create_request

    def counting(self: Endpoint, params: Any, operation_model: Any = None) -> Any:
        if operation_model is not None:
            service, name = operation_model.service_model.service_name, operation_model.name
            if service == "sagemaker" and name in KIND_OPERATIONS:
                calls[KIND_OPERATIONS[name]] += 1
            elif service == "logs" and name in LOG_OPERATIONS:
                body = json.loads(params.get("body") or b"{}")
                kind = KIND_BY_LOG_GROUP.get(body.get("logGroupName", ""), "?")
                calls[(kind, LOG_OPERATIONS[name])] += 1
                if name == "DescribeLogStreams":
                    read.setdefault(kind, set()).add(body.get("logStreamNamePrefix", ""))
        return original(self, params, operation_model)

    setattr(Endpoint, "create_request", counting)  # noqa: B010 - botocore's hook point
    try:
        run()
    finally:
        setattr(Endpoint, "create_request", original)  # noqa: B010


def _kind_run(tick: Callable[[], None]) -> KindRun:
    calls: Counter[tuple[str, str]] = Counter()
    read: dict[str, set[str]] = {}
    cost = TickCost.measure(partial(_counting_kind_calls, calls, read, tick))
    return KindRun(calls=calls, logs_read=read, cost=cost)


def measure_kinds() -> KindsResult:
    """KIND_ACTIVE active jobs of every kind for an hour of 5-minute runs, on the stack's default stall rules."""
    account = KindsAccount()
    # The run's log budget as the poller reads it (GTWATCH_LOG_READS_PER_RUN), so a smaller one can be measured too.
    budget = mock.patch.dict(os.environ, {Env.LOG_READS_PER_RUN: str(LOG_READS_PER_RUN)})
    with budget, account.deployed():
        email.take()
        result = KindsResult(baseline=_kind_run(gtwatch_tick))
        for _ in range(KIND_TICKS):
            account.advance_kinds()
            result.runs.append(_kind_run(gtwatch_tick))
        for delivery in email.take():
            subject = delivery.subject or ""
            if "] Stalled: " not in subject:
                continue
            named = subject.split("] Stalled: ", 1)[1]
            kind = next((kind for kind in KIND_NAMES if named.lower().startswith(kind)), "labeling")
            result.stalled[kind] += 1
            result.stalled_jobs.setdefault(kind, set()).add(named)
    return result


def peak_memory_mib(history: int, active: int) -> float:
    account = Account(history, active)
    with account.deployed():
        gtwatch_tick()
        account.advance(5, max(1, int(active * MOVING_SHARE)))
        tracemalloc.start()
        try:
            gtwatch_tick()
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    return peak / 2**20


def import_ms(module: str) -> float:
    """Median cumulative import time of `module` in a fresh interpreter (python -X importtime)."""
    functions = str(Path(__file__).resolve().parents[2] / "functions")
    samples = []
    for _ in range(IMPORT_RUNS):
        completed = subprocess.run(
            [sys.executable, "-X", "importtime", "-c", f"import {module}"],
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "PYTHONPATH": functions},
        )
        line = [row for row in completed.stderr.splitlines() if row.rstrip().endswith(f"| {module}")][-1]
        samples.append(int(line.split("|")[1]) / 1000)
    return float(statistics.median(samples))


def render(
    ours: list[SizeResult],
    naive: list[SizeResult],
    event: TickCost,
    night: NightCost,
    imports: dict[str, float],
    memory: float,
    elapsed: float,
    kinds: KindsResult,
) -> str:
    rows = []
    for mine, theirs in zip(ours, naive, strict=True):
        calls = mine.median("sagemaker")
        rows.append(
            f"| {mine.history:,} | {mine.active} | {mine.floor} | {calls:.0f} ({calls / mine.floor:.2f}x floor) "
            f"| {theirs.median('sagemaker'):.0f} | {mine.median('reads'):.0f} / {mine.median('writes'):.0f} "
            f"| {theirs.median('reads'):.0f} / {theirs.median('writes'):.0f} | {mine.changed_per_tick} "
            f"| {mine.median('wall_ms'):.0f} | {theirs.median('wall_ms'):.0f} |"
        )
    baselines = [
        f"| {r.history:,} | {r.active} | {r.baseline.sagemaker} | {r.baseline.reads} / {r.baseline.writes} "
        f"| {r.baseline.wall_ms:.0f} |"
        for r in ours
    ]
    boto3_ms = imports["boto3"]
    import_rows = [f"| `{module}` | {value:.0f} | {value / boto3_ms:.2f}x |" for module, value in imports.items()]
    history_spread = {active: [r.median("sagemaker") for r in ours if r.active == active] for active in ACTIVE_SIZES}
    flat = ", ".join(
        f"{active} active: {min(calls):.0f} to {max(calls):.0f} calls" for active, calls in history_spread.items()
    )
    return f"""# Performance

Generated by `make bench` ({datetime.now(UTC):%Y-%m-%d}, {elapsed / 60:.1f} minutes on this machine). Every
number below is measured on the local emulator (moto with gtwatch's extension for every job kind, in-process):
requests are counted at the client, once per HTTP attempt, for gtwatch and for the naive design alike. Wall
times are the emulator's, useful for comparing designs, not as AWS latencies.

## A steady run (labeling jobs)

Each account has `history` finished labeling jobs (created a month earlier) and `active` jobs in progress; each steady
run follows 5 minutes after the previous one, and in between {MOVING_SHARE:.0%} of the active jobs label a few
more objects. Medians of {STEADY_TICKS} steady runs. The **floor** is one `ListLabelingJobs` page per 100 active
jobs plus the one listing that reveals new and finished jobs. The **naive** design lists every job on every run
and reads every job's state (`BatchGetItem`), then decides and writes exactly as gtwatch does.

{STEADY_HEADER}
{chr(10).join(rows)}

- SageMaker calls stay flat as history grows ({flat}).
- DynamoDB: reads are one `GetItem` (the run record), one `Query` of the sparse `active` index (a page per
  1 MB of active state), one `Query` of the region's mutes in the same index and, when new jobs appear, one
  `BatchGetItem`; never a scan. Writes are one per job that
  changed, plus one for the run record.

## The first run (silent baseline)

| history | active | SageMaker calls | DynamoDB reads / writes | ms |
|--:|--:|--:|--:|--:|
{chr(10).join(baselines)}

The baseline lists every active status once and remembers every active job (one write each).

## The event path

One "Labeling Job State Change" event for a job that just completed: {event.sagemaker} SageMaker call
(`DescribeLabelingJob`), {event.reads} DynamoDB reads, {event.writes} writes (state with the notification in its
outbox, then the outbox cleared), {event.publishes} SNS publish; {event.wall_ms:.0f} ms on the emulator.

## A night with held news

Quiet hours from 22:00 to 07:00 hold every event on both channels. {NIGHT_JOBS} jobs in progress finish one after
another from 22:01, three minutes apart, so all their news is held; the poller runs every 5 minutes. SageMaker calls
over the {night.runs} runs from 22:00 to 06:55, and the notifications published then and by the 07:00 run that
releases them:

| code | `DescribeLabelingJob` | `ListLabelingJobs` | published overnight | published at 07:00 |
|---|--:|--:|--:|--:|
| before 0.3.0 (434bdc4, recorded) | {night_row(NIGHT_BEFORE)} |
| this version | {night_row(night)} |

{night_note(night)}

{kinds_section(kinds)}
## Cold start

Cumulative import time (`python -X importtime`, median of {IMPORT_RUNS} fresh interpreters) of each handler module,
next to a bare `import boto3`. No client is created at import time; settings, the secrets provider and
slack_sdk load on first use.

| module | ms | vs boto3 |
|---|--:|--:|
{chr(10).join(import_rows)}

## Memory

Peak Python memory (tracemalloc) of one steady run with {HISTORY_SIZES[-1]:,} finished and {ACTIVE_SIZES[-1]}
active jobs: **{memory:.1f} MiB** (on top of the interpreter and imported modules).

## Cost model

From the measured counts, for a 5-minute schedule (8,640 runs a month) in one region, us-east-1 prices
(AWS pricing pages: Lambda $0.0000133334 per GB-second on arm64 and $0.20 per million requests; DynamoDB
on-demand $0.25 per million read and $1.25 per million write request units; SNS $0.50 per million publishes,
email $2 per 100,000; SQS $0.40 per million requests; KMS $1 per key and $0.03 per 10,000 requests; Secrets
Manager $0.40 per secret; CloudWatch $0.30 per custom metric, billed for the hours it is sent, $0.10 per standard
alarm, $3 per dashboard, $0.50 per GB of logs). Free tiers ignored. The default deployment: no dashboard, 8 alarms,
one custom metric sent every run (`PollSucceeded`; the three failure metrics are sent only when not zero), the
Slack trigger's long polling with 5 pollers (about 650,000 requests).

{cost_table(ours)}
"""


def night_row(night: NightCost) -> str:
    return f"{night.describes:,} | {night.lists:,} | {night.published_at_night} | {night.published_at_release}"


def night_note(night: NightCost) -> str:
    """What the describe count says: one describe per job as it ends, or one per held job at every run."""
    if night.describes <= NIGHT_JOBS:
        return (
            "Each job is described once, by the run that finds it finished; a finished job whose news is held is\n"
            "not described again, so its outbox waits for 07:00 at no SageMaker cost. Before, each held job was\n"
            "described at every run until its news went out."
        )
    return "A finished job whose news is held is described at every run until the news goes out."


def cost_table(ours: list[SizeResult]) -> str:
    """The monthly cost of the default deployment at 10 and 500 active jobs (docs/performance.md, docs/deploy.md)."""
    runs = 8_640
    rows = []
    for active in (10, 500):
        nearest = min((r for r in ours if r.history == 1_000), key=lambda r: abs(r.active - active))
        changed = max(1, int(active * MOVING_SHARE))
        reads = 2 + 1  # run record, active index query, a batch read now and then
        writes = changed + 1
        lambda_gb_s = runs * 0.25 * max(0.2, nearest.median("wall_ms") / 1000 * active / nearest.active)
        items = {
            "Lambda (256 MB, arm64)": lambda_gb_s * 0.0000133334 + runs * 3 / 1e6 * 0.20,
            # The Slack notifier's ledger (a read and about three writes per notification) adds under a cent.
            "DynamoDB on demand": runs * (reads * 0.25 + writes * 1.25) / 1e6,
            "SNS + email (≈ 3 notifications per active job a month)": active * 3 * (0.50 / 1e6 + 2 / 1e5),
            # The Slack trigger long-polls with 5 pollers (maximum concurrency is set, so Lambda does not drop to 2):
            # about 3 requests a minute each, some 650,000 a month.
            "SQS (Slack queue, long polling)": 650_000 * 0.40 / 1e6,
            "KMS (key + requests)": 1 + runs * 4 * 0.03 / 1e4,
            # The one Slack secret the stack creates (the webhook URL, or the bot token in app mode).
            "Secrets Manager (1 secret)": 0.40,
            # PollSucceeded every run (the three failure metrics only when not zero), 8 alarms, ~30 MB of logs.
            "CloudWatch (1 metric, 8 alarms, logs)": 1 * 0.30 + 8 * 0.10 + 0.02,
        }
        # The total of the rounded columns, so that the row adds up as a reader checks it.
        total = sum(round(value, 2) for value in items.values())
        lines = " | ".join(f"${value:,.2f}" for value in items.values())
        rows.append(f"| {active} | {lines} | **${total:,.2f}** |")
    header = " | ".join(["Lambda", "DynamoDB", "SNS + email", "SQS", "KMS", "Secrets Manager", "CloudWatch"])
    return (
        f"| active jobs | {header} | total |\n|--:|" + "--:|" * 8 + "\n" + "\n".join(rows) + "\n\n"
        "The KMS key, the alarms and the secret dominate; the watcher's own runs cost cents, and they follow the "
        "active jobs, not the account's history. `dashboard: true` adds $3.00."
    )


# --- Fan-out: how many (account, region) pairs one poller invocation can read ---------------------------------------

# A steady run over `pairs` (account, region) pairs of the default kinds, PAIR_ACTIVE jobs in progress in each, a tenth
# of them moving between runs. The emulator holds one account, so the pairs are regions of it: a pair's run is the
# same calls whichever account it is in (a spoke's adds its AssumeRole, once per container and hour).
PAIR_ACTIVE = 20
# Up to every SageMaker region of the partition (34): the emulator's one account has no more pairs to give.
PAIR_SIZES = (1, 5, 20, 34)
# A month of 5-minute runs.
RUNS_PER_MONTH = 8_640


@dataclass(frozen=True)
class PairsRecord:
    """A steady run over `pairs` pairs as measure_pairs measured it: median wall time and requests."""

    pairs: int
    wall_ms: float
    sagemaker: int
    reads: int
    writes: int


# measure_pairs as recorded on 2026-12-05 (2 shared cores, medians of 5 steady runs), from which the fan-out's
# threshold was set (watcher.domain.contract.POLL_CODE_MS: about 50 ms of the code's own time per pair).
PAIRS_RECORDED = (
    PairsRecord(pairs=1, wall_ms=40, sagemaker=2, reads=3, writes=3),
    PairsRecord(pairs=5, wall_ms=203, sagemaker=10, reads=15, writes=15),
    PairsRecord(pairs=20, wall_ms=928, sagemaker=40, reads=60, writes=60),
    PairsRecord(pairs=34, wall_ms=1_754, sagemaker=68, reads=102, writes=102),
)


@dataclass
class PairsCost:
    pairs: int
    steady: list[TickCost] = field(default_factory=list)

    def median(self, attribute: str) -> float:
        return float(statistics.median(getattr(tick, attribute) for tick in self.steady))

    def per_pair(self, attribute: str) -> float:
        return self.median(attribute) / self.pairs


def pair_regions(pairs: int) -> tuple[str, ...]:
    """`pairs` SageMaker regions of the aws partition, the emulator's own first."""
    regions = boto3.session.Session().get_available_regions("sagemaker")
    others = sorted(region for region in regions if region != deployment.REGION)
    return (deployment.REGION, *others)[:pairs]


def measure_pairs(pairs: int, active: int = PAIR_ACTIVE) -> PairsCost:
    regions = pair_regions(pairs)
    account = Account(history=0, active=active)
    result = PairsCost(pairs=len(regions))
    with account.deployed({Env.REGIONS: ",".join(regions)}):
        for region in regions[1:]:
            for name in account._active_names():
                labeling_jobs.put_labeling_job(
                    region=region, name=name, status="InProgress", counters={"Unlabeled": 1000}, at=START
                )
        gtwatch_tick()  # the baseline
        moving = max(1, int(active * MOVING_SHARE))
        for _ in range(STEADY_TICKS):
            account.advance(5, moving)
            for region in regions[1:]:
                for name in account._active_names()[:moving]:
                    labeled = account.labeled[name]
                    labeling_jobs.update_labeling_job(
                        region=region,
                        name=name,
                        at=account.now(),
                        counters={"TotalLabeled": labeled, "HumanLabeled": labeled, "Unlabeled": 1000 - labeled},
                    )
            result.steady.append(TickCost.measure(gtwatch_tick))
    return result


# --- Many accounts: 100 (account, region) pairs, each spoke read through its role --------------------------------

# 25 accounts (the home account and 24 spokes) in 4 regions each, ACCOUNT_PAIR_ACTIVE labeling jobs in progress in
# every pair, as the replay deploys them: each spoke's reader role created in its own account of the emulator and
# GTWATCH_ACCOUNTS as the stack writes it.
MANY_ACCOUNTS = 25
MANY_REGIONS = ("us-east-1", "us-west-2", "eu-west-1", "ap-southeast-2")
ACCOUNT_PAIR_ACTIVE = 20
# A spoke's id: 12 digits, distinct from the emulator's own (home) account.
SPOKE_IDS = tuple(f"{index:012d}" for index in range(100_000_000_001, 100_000_000_001 + MANY_ACCOUNTS - 1))


@dataclass
class AccountsCost:
    """Steady runs over every pair of MANY_ACCOUNTS accounts in MANY_REGIONS: requests by service, wall time; the
    first run (which assumes every spoke's role) apart."""

    accounts: int
    pairs: int
    accounts_json_bytes: int
    derived_json_bytes: int
    first: dict[str, int] = field(default_factory=dict)
    first_ms: float = 0.0
    steady: list[dict[str, int]] = field(default_factory=list)
    steady_ms: list[float] = field(default_factory=list)

    def median(self, service: str) -> float:
        return float(statistics.median(run.get(service, 0) for run in self.steady))

    @property
    def median_ms(self) -> float:
        return float(statistics.median(self.steady_ms))


def measure_accounts(accounts: int = MANY_ACCOUNTS, regions: tuple[str, ...] = MANY_REGIONS) -> AccountsCost:
    """A steady run of the poller over accounts x regions pairs, every spoke read through its role (inline: the
    emulator deploys no poll-work queue, so one invocation reads every pair, as one poll worker reads its batch)."""
    from gtwatch.ops.accounts import Account as ConfigAccount
    from gtwatch.ops.accounts import accounts_env

    from .emulator.accounts import PARTITION, create_spoke_role

    listed = [ConfigAccount(deployment.ACCOUNT_ID, "home", regions)]
    listed += [
        ConfigAccount(spoke, f"team-{index:02d}", regions) for index, spoke in enumerate(SPOKE_IDS[: accounts - 1])
    ]
    accounts_json = accounts_env(listed, PARTITION)
    # As the stack's config checks it: in the longest partition's ARNs, and without the spokes' role ARNs (which the
    # hub can derive from each id and SPOKE_ROLE_NAME).
    longest = accounts_env(listed, "aws-us-gov")
    derived = json.dumps(
        [{key: value for key, value in entry.items() if key != "role_arn"} for entry in json.loads(longest)],
        separators=(",", ":"),
    )
    env: dict[str, str] = {Env.ACCOUNTS: accounts_json, Env.REGIONS: ",".join(regions)}
    bench = Account(history=0, active=0)
    names = [f"active-{index:04d}" for index in range(ACCOUNT_PAIR_ACTIVE)]
    labeled = dict.fromkeys(names, 0)
    result = AccountsCost(
        accounts=accounts,
        pairs=accounts * len(regions),
        accounts_json_bytes=len(longest.encode()),
        derived_json_bytes=len(derived.encode()),
    )
    with bench.deployed(env):
        for account in listed[1:]:
            create_spoke_role(account.id)
        for account in listed:
            for region in regions:
                for name in names:
                    labeling_jobs.put_labeling_job(
                        region=region,
                        account_id=account.id,
                        name=name,
                        status="InProgress",
                        counters={"Unlabeled": 1000},
                        at=START - timedelta(days=1),
                    )
        container.reset()  # a cold container: the first run assumes every spoke's role
        with count_requests() as counts:
            started = time.perf_counter()
            gtwatch_tick()
            result.first_ms = (time.perf_counter() - started) * 1000
        result.first = dict(counts)
        moving = names[: max(1, int(ACCOUNT_PAIR_ACTIVE * MOVING_SHARE))]
        for _ in range(STEADY_TICKS):
            bench.minute += 5
            for name in moving:
                labeled[name] += 10
            for account in listed:
                for region in regions:
                    for name in moving:
                        labeling_jobs.update_labeling_job(
                            region=region,
                            account_id=account.id,
                            name=name,
                            at=bench.now(),
                            counters={
                                "TotalLabeled": labeled[name],
                                "HumanLabeled": labeled[name],
                                "Unlabeled": 1000 - labeled[name],
                            },
                        )
            with count_requests() as counts:
                started = time.perf_counter()
                gtwatch_tick()
                result.steady_ms.append((time.perf_counter() - started) * 1000)
            result.steady.append(dict(counts))
    return result


# measure_accounts as recorded on 2026-12-05 (branch demo18, 2 cores shared with other work): 25 accounts x 4 regions,
# 20 labeling jobs in progress per pair, medians of 5 steady runs.
ACCOUNTS_RECORDED = {
    "pairs": 100,
    "steady_sagemaker": 200,
    "steady_sts": 0,
    "steady_reads": 300,
    "steady_writes": 300,
    "first_sts": 24,
    "steady_ms": 14_552,
    "accounts_json_bytes": 4_351,
    "derived_json_bytes": 2_623,
}


def accounts_section(result: AccountsCost) -> str:
    """docs/performance.md's section for 100 (account, region) pairs read through the spokes' roles."""
    from infra.config import MAX_ACCOUNTS_JSON_BYTES

    pairs, spokes = result.pairs, result.accounts - 1
    sagemaker, sts = result.median("sagemaker"), result.median("sts")
    reads, writes = result.median("dynamodb_reads"), result.median("dynamodb_writes")
    per_invocation = pairs_per_invocation(DEFAULT_KINDS)
    batches = plan_batches(
        tuple(
            Pair(f"{index // len(MANY_REGIONS):012d}", MANY_REGIONS[index % len(MANY_REGIONS)])
            for index in range(pairs)
        ),
        per_invocation,
    )
    sizes = ", ".join(str(len(batch.pairs)) for batch in batches)
    pair_ms = POLL_PAIR_ASSUME_ROLE_MS + POLL_KIND_MS
    per_pair_month = (
        RUNS_PER_MONTH * 0.25 * pair_ms / 1000 * 0.0000133334
        + RUNS_PER_MONTH * (reads / pairs * 0.25 + writes / pairs * 1.25) / 1e6
        + RUNS_PER_MONTH * 400 / 1e9 * 0.50
    )
    fits = result.accounts_json_bytes <= MAX_ACCOUNTS_JSON_BYTES
    derived_fits = result.derived_json_bytes <= MAX_ACCOUNTS_JSON_BYTES
    first = result.first
    first_row = (
        f"| first (cold container) | {first.get('sagemaker', 0)} | {first.get('sts', 0)} "
        f"| {first.get('dynamodb_reads', 0)} / {first.get('dynamodb_writes', 0)} | {result.first_ms:,.0f} |"
    )
    pair_row = (
        f"| steady, a pair | {sagemaker / pairs:.0f} (floor 2) | {sts / pairs:.0f} "
        f"| {reads / pairs:.0f} / {writes / pairs:.0f} | {result.median_ms / pairs:.0f} |"
    )
    assumed = first.get("sts", 0)
    cap_note = (
        "So the cap allows 100 pairs only once the role ARNs are derived, not written."
        if derived_fits and not fits
        else ""
    )
    return f"""
## Many accounts: {pairs} account-regions through the spokes' roles

{result.accounts} accounts (the home account and {spokes} spokes) in {len(MANY_REGIONS)} regions each
({", ".join(MANY_REGIONS)}): {pairs} (account, region) pairs, {ACCOUNT_PAIR_ACTIVE} labeling jobs in progress in each
({pairs * ACCOUNT_PAIR_ACTIVE:,} in all) and {max(1, int(ACCOUNT_PAIR_ACTIVE * MOVING_SHARE))} of them moving
between runs. Deployed as the replay deploys accounts: each spoke's reader role created in its own account of the
emulator, `GTWATCH_ACCOUNTS` as the stack writes it, every spoke read through `AssumeRole` of its role. The emulator
deploys no poll-work queue, so one invocation reads every pair; a deployment fans out (below), and its poll workers
make the same calls between them. Medians of {STEADY_TICKS} steady runs after a first run in a cold container:

| run | SageMaker calls | `AssumeRole` | DynamoDB reads / writes | ms (emulator) |
|---|--:|--:|--:|--:|
{first_row}
| steady | {sagemaker:.0f} | {sts:.0f} | {reads:.0f} / {writes:.0f} | {result.median_ms:,.0f} |
{pair_row}

- **At the floor**: {sagemaker / pairs:.0f} SageMaker listings a pair (one page of the {ACCOUNT_PAIR_ACTIVE} active
  jobs, one of the recent ones), in every spoke as in the home account. The first run is the silent baseline (it
  lists every active status once and remembers every job) and assumes each spoke's role once: **{assumed}
  `AssumeRole` calls, one per spoke**; the steady runs reuse the container's credentials (refreshed before they
  expire, about once an hour), so a steady run makes {sts:.0f}.
- **Run time**: {result.median_ms / 1000:.1f} s for the {pairs} pairs here, about {result.median_ms / pairs:.0f} ms
  a pair of the emulator's own work on a shared core. On AWS a pair mostly waits on the services: at the slow
  latencies of the fan-out section, {pair_ms} ms a pair, {pairs * pair_ms / 1000:.0f} s for all {pairs}: one invocation
  has {POLL_RUN_BUDGET_SECONDS} s of its {POLLER_TIMEOUT_SECONDS} s timeout for them.
- **It fans out**: {pairs} pairs are more than `contract.pairs_per_invocation` allows for the default kind
  ({per_invocation}), so the poller sends {len(batches)} poll-work messages ({sizes} pairs, an account's regions
  together) and {len(batches)} poll workers read them in parallel, the longest about
  {max(len(batch.pairs) for batch in batches) * pair_ms / 1000:.0f} s at those latencies.
- **Cost of an extra account-region** (default kind, 5-minute schedule, the fan-out section's prices): about
  **${per_pair_month:.2f} a month** (Lambda at {pair_ms} ms a pair, {reads / pairs:.0f} DynamoDB reads and
  {writes / pairs:.0f} writes a run, its "Run done" log line). `AssumeRole` is free and made once an hour per spoke,
  not per region; SageMaker's List calls are free.
- **`GTWATCH_ACCOUNTS` for {result.accounts} accounts**: {result.accounts_json_bytes:,} bytes with each spoke's
  role ARN (as in the `aws-us-gov` partition, the longest), {"within" if fits else "over"} the stack's cap of
  {MAX_ACCOUNTS_JSON_BYTES:,} bytes (`infra/config.py`; Lambda allows 4 KB for all of a function's environment
  variables); {result.derived_json_bytes:,} bytes with the role ARNs left out (each derived from the account's id and
  `SPOKE_ROLE_NAME`), {"within" if derived_fits else "over"} it. {cap_note}

{accounts_recorded_note(result)}
"""


def accounts_recorded_note(result: AccountsCost) -> str:
    """How this run compares with ACCOUNTS_RECORDED (the calls and sizes exactly; the time is the machine's)."""
    now = {
        "pairs": result.pairs,
        "steady_sagemaker": round(result.median("sagemaker")),
        "steady_sts": round(result.median("sts")),
        "steady_reads": round(result.median("dynamodb_reads")),
        "steady_writes": round(result.median("dynamodb_writes")),
        "first_sts": result.first.get("sts", 0),
        "accounts_json_bytes": result.accounts_json_bytes,
        "derived_json_bytes": result.derived_json_bytes,
    }
    changed = [
        f"{key} {ACCOUNTS_RECORDED[key]} -> {value}" for key, value in now.items() if ACCOUNTS_RECORDED[key] != value
    ]
    recorded_ms = ACCOUNTS_RECORDED["steady_ms"]
    if not changed:
        return (
            "The calls and sizes are the ones recorded when this measurement was added\n(ACCOUNTS_RECORDED, "
            f"2026-12-05; a steady run took {recorded_ms:,} ms then)."
        )
    return "Since the figures recorded when this measurement was added (ACCOUNTS_RECORDED, 2026-12-05): " + "; ".join(
        changed
    )


def fan_out_section(measured: list[PairsCost]) -> str:
    """docs/performance.md's last section: a steady run per (account, region) pair, the fan-out's threshold and what
    each extra pair costs a month."""
    rows = "\n".join(
        f"| {r.pairs} | {r.median('wall_ms'):.0f} | {r.per_pair('wall_ms'):.0f} | {r.median('sagemaker'):.0f} "
        f"({r.per_pair('sagemaker'):.0f} a pair; floor {math.ceil(PAIR_ACTIVE / 100) + 1}) "
        f"| {r.median('reads'):.0f} / {r.median('writes'):.0f} |"
        for r in measured
    )
    default = pairs_per_invocation(DEFAULT_KINDS)
    pair_ms = POLL_PAIR_ASSUME_ROLE_MS + POLL_KIND_MS
    per_pair = {
        # The modelled time, billed: the function waits on AWS, and waiting is billed too.
        "Lambda (256 MB)": RUNS_PER_MONTH * 0.25 * pair_ms / 1000 * 0.0000133334,
        "DynamoDB": RUNS_PER_MONTH * (3 * 0.25 + 3 * 1.25) / 1e6,
        # Its "Run done" line, about 400 bytes a run.
        "CloudWatch Logs": RUNS_PER_MONTH * 400 / 1e9 * 0.50,
    }
    total = sum(per_pair.values())
    hundred = plan_batches(tuple(Pair(f"{index:012d}", "us-east-1") for index in range(100)), default)
    sizes = ", ".join(str(len(batch.pairs)) for batch in hundred)
    slowest = max(len(batch.pairs) for batch in hundred) * pair_ms / 1000
    costs = ", ".join(f"{name} ${value:.3f}" for name, value in per_pair.items())
    return f"""
## Fan-out: how many account-regions one run reads

A steady run over n (account, region) pairs of the default kind, {PAIR_ACTIVE} labeling jobs in progress in each
and {max(1, int(PAIR_ACTIVE * MOVING_SHARE))} of them moving between runs (medians of {STEADY_TICKS} runs; the
emulator holds one account, so the pairs are its regions: a spoke's pair makes the same calls, plus an `AssumeRole`
once per container and hour):

| pairs | ms | ms a pair | SageMaker calls | DynamoDB reads / writes |
|--:|--:|--:|--:|--:|
{rows}

Calls grow with the pairs and stay at the floor in each: two listings a pair (one page of the
{PAIR_ACTIVE} active jobs, one of the recent ones), three reads (run record, active jobs, mutes) and a write per
changed job plus the run record. The time a pair takes on AWS is mostly waiting, so the threshold comes from
latencies, taken at their slow end: two SageMaker listings at 300 ms (100-300 ms is usual), six DynamoDB requests
at 15 ms, the code's own time ({POLL_CODE_MS} ms: about 50 ms a pair measured here on one core, moto's own work
included, times 1769/256 for a 256 MB function's share of a vCPU), and a cold `AssumeRole` (200 ms) for every pair
as if each were an account of its own: {pair_ms} ms a pair. A kind with logs adds a log read per running job,
which CloudWatch Logs throttles (`DescribeLogStreams`, 5 per second per account and region): {PAIR_ACTIVE} jobs add
6 s a pair.

One invocation reads as many pairs as fit half the {POLLER_TIMEOUT_SECONDS} s timeout ({POLL_RUN_BUDGET_SECONDS} s):
**{default} pairs** of the default kind, {pairs_per_invocation(("training",))} of training jobs alone,
{pairs_per_invocation(JOB_KINDS)} with every kind. A deployment that watches more pairs gets the poll-work queue and
the poll workers: the poller sends one message per batch (the fewest batches of at most that many pairs, as even as
can be, an account's regions together) and returns; each worker polls its batch with the poller's code. With 100
pairs of the default kind: {len(hundred)} batches ({sizes} pairs), the longest about {slowest:.0f} s at the slow
latencies above, in parallel. A failed batch is offered again after {POLL_WORK_VISIBILITY_SECONDS // 60} minutes
(six worker timeouts) and dead-lettered after
{POLL_WORK_MAX_RECEIVE_COUNT} receives (the poll-work-dead-letters alarm); the next scheduled runs plan every pair
anyway. `PollSucceeded` stays one per successful run: each batch that read everything adds its share (1/n of a run
cut into n), so poller-not-running still means "no run read every pair" for 3 schedule periods.

What an extra account-region of the default kind costs a month (5-minute schedule, the prices above):
{costs};
about **${total:.2f}**. SageMaker, STS and EventBridge's rule-to-bus forwarding of a spoke's few events cost nothing
or fractions of a cent. The fan-out itself adds an alarm ($0.10) and its queue's long polling by Lambda
(about $0.26), only in a deployment large enough to need it.

Not verified offline: the AWS latencies above (assumed, from the services' usual figures), Lambda's CPU share at
256 MB, and how long a cold start and the SQS trigger add (seconds).
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="gtwatch-bench", description=__doc__)
    parser.add_argument("--output", type=Path, default=Path("docs/performance.md"))
    parser.add_argument("--quick", action="store_true", help="small sizes only (a smoke run)")
    parser.add_argument("--night", action="store_true", help="only the held-news night; prints it, writes nothing")
    parser.add_argument("--kinds", action="store_true", help="only every kind at once; prints it, writes nothing")
    parser.add_argument("--pairs", action="store_true", help="only the fan-out's pairs; prints it, writes nothing")
    parser.add_argument(
        "--accounts", action="store_true", help="only 100 pairs across 25 accounts; prints it, writes nothing"
    )
    args = parser.parse_args(argv)
    if args.night:
        print(measure_held_night())
        return 0
    if args.kinds:
        print(kinds_section(measure_kinds()))
        return 0
    if args.pairs:
        print(fan_out_section([measure_pairs(pairs) for pairs in PAIR_SIZES]))
        return 0
    if args.accounts:
        print(accounts_section(measure_accounts()))
        return 0
    started = time.perf_counter()
    histories = (100, 1_000) if args.quick else HISTORY_SIZES
    sizes = [(history, active) for active in ACTIVE_SIZES for history in histories]
    ours, naive = [], []
    for history, active in sizes:
        print(f"measuring {history:,} finished + {active} active ...", file=sys.stderr, flush=True)
        ours.append(measure_size(history, active, gtwatch_tick))
        naive.append(measure_size(history, active, naive_tick))
    event = measure_event_path()
    night = measure_held_night()
    print("measuring every kind at once ...", file=sys.stderr, flush=True)
    kinds = measure_kinds()
    memory = peak_memory_mib(histories[-1], ACTIVE_SIZES[-1])
    imports = {
        module: import_ms(module)
        for module in (
            "boto3",
            "watcher.handlers.poller_handler",
            "watcher.handlers.event_handler",
            "watcher.handlers.slack_handler",
            "watcher.handlers.digest_handler",
        )
    }
    pairs = [measure_pairs(size) for size in (PAIR_SIZES[:2] if args.quick else PAIR_SIZES)]
    text = render(ours, naive, event, night, imports, memory, time.perf_counter() - started, kinds)
    text += fan_out_section(pairs)
    print("measuring 100 account-regions across 25 accounts ...", file=sys.stderr, flush=True)
    text += accounts_section(measure_accounts())
    args.output.write_text(text, encoding="utf-8")
    print(text)
    return 0


def kinds_section(result: KindsResult) -> str:
    """docs/performance.md's section for every kind at once: calls per run by kind next to the floor, the log reads and
    what the log budget leaves unread, and the month's cost at that load."""
    rows, unread_rows = [], []
    for kind in KIND_NAMES:
        calls = [result.median(kind, column) for column in CALL_COLUMNS]
        floor = math.ceil(KIND_ACTIVE / 100) + 1
        shown = " | ".join(f"{value:.0f}" for value in calls)
        rows.append(f"| {kind} | {KIND_ACTIVE} | {floor} | {shown} |")
        if kind in LOGGED_KINDS:
            read, ever = result.read_per_run(kind), result.ever_read(kind)
            unread_rows.append(
                f"| {kind} | {read:.0f} | {KIND_ACTIVE - read:.0f} | {KIND_ACTIVE - ever} | {result.stalled[kind]} |"
            )
    sagemaker = sum(result.median(kind, column) for kind in KIND_NAMES for column in ("list", "describe", "steps"))
    logs = sum(result.median(kind, column) for kind in LOGGED_KINDS for column in ("streams", "events"))
    wall_ms = result.cost_median("wall_ms")
    reads, writes = result.cost_median("reads"), result.cost_median("writes")
    other_stalls = sum(result.stalled[kind] for kind in KIND_NAMES if kind not in LOGGED_KINDS)
    describe_streams = sum(result.median(kind, "streams") for kind in LOGGED_KINDS)
    return f"""## Every kind at once

{KIND_ACTIVE} jobs in progress of each kind ({KIND_ACTIVE * (len(KIND_NAMES) - 1)} training, processing, transform
and tuning jobs and pipeline executions, plus {KIND_ACTIVE} labeling jobs) and {KIND_HISTORY} finished ones of each,
watched in one region with the stack's default stall rules (labeling 60 minutes; training, processing and transform
30; tuning 120; a pipeline execution never stalls). Before every run, 5 minutes apart, every job of a kind with logs
writes a line, and a tenth of the labeling and tuning jobs move (each at least every 50 minutes); a training job's
SecondaryStatus stays `Training`, as in a long training. Calls are medians of the first {KIND_STEADY_TICKS} steady
runs (before any stall could be due); log reads and stalls are over the hour of {KIND_TICKS} runs after the
baseline. The **floor** of a kind is one listing page per 100 active jobs plus the one listing of the recent window.

| kind | active | floor | List / Search | Describe | ListPipelineExecutionSteps | DescribeLogStreams | GetLogEvents |
|---|--:|--:|--:|--:|--:|--:|--:|
{chr(10).join(rows)}

Per run: **{sagemaker:.0f} SageMaker calls** (every kind at its floor: no job changed status, so none is described;
a labeling or tuning job's counters come with the listing), **{logs:.0f} CloudWatch Logs calls**, {reads:.0f}
DynamoDB reads and {writes:.0f} writes (one per job that moved, and a job whose new log line is read moved),
{wall_ms:,.0f} ms on the emulator.

### The log budget reads every job in turn

A run makes at most {LOG_READS_PER_RUN} CloudWatch Logs calls per kind and region (`GTWATCH_LOG_READS_PER_RUN`,
default `LOG_READS_PER_RUN` in `functions/watcher/adapters/job_logs.py`); a job on one instance costs two
(`DescribeLogStreams`, then `GetLogEvents`), so a run reads the logs of {LOG_READS_PER_RUN // 2} jobs of a kind. It
reads on from where the last run stopped, round the running jobs in name order (a cursor in the scope's run
record), so every job is read in turn:

| kind | logs read per run | jobs with no log time per run | never read in the hour | announced stalled in the hour |
|---|--:|--:|--:|--:|
{chr(10).join(unread_rows)}

Every one of these jobs wrote a line before every run, so a stall announced here would be false: a job read at least
once per stall window (30 minutes: {KIND_ACTIVE} jobs read {LOG_READS_PER_RUN // 2} a run take
{math.ceil(KIND_ACTIVE / max(1, LOG_READS_PER_RUN // 2))} runs) is never announced while it writes. The other kinds
announced {other_stalls} stalls. A kind and region keeps this up to about stall_after / schedule *
{LOG_READS_PER_RUN // 2} running jobs; beyond, raise `GTWATCH_LOG_READS_PER_RUN` with the account's CloudWatch Logs
quotas. (The first version read the listing's first {60 // 2} jobs at every run: 70 of 100 such jobs of each kind
were announced stalled within the hour, all falsely; `KINDS_RECORDED` below keeps that measurement.)

The emulator does not throttle; AWS does. `DescribeLogStreams` has "a limit of five transactions per second" per
account and region (CloudWatch Logs API Reference), shared with every other caller there, so the
{describe_streams:.0f} of a run at this load take at least {describe_streams / 5:.0f} seconds in AWS: the run time
below is the emulator's, and the real one is bound by that quota.

{kinds_recorded_note(result)}

### Cost per month at this load

A 5-minute schedule (8,640 runs a month), us-east-1 prices:

| item | per run | per month | cost |
|---|--:|--:|--:|
{kinds_cost_rows(sagemaker, logs, wall_ms, reads, writes)}

SageMaker bills instances and storage, not its API: the List, Describe and Search calls are free. CloudWatch's
pricing page bills API requests under its metrics ($0.01 per 1,000 after a free million a month; `GetMetricData` and
two others always), and bills Logs by data ingested, stored and scanned and by Live Tail minutes; it lists no charge
per `GetLogEvents` or `DescribeLogStreams` request. The last row is what the log reads would cost if they were billed
as metric API requests: an upper bound, not a charge. Lambda is billed at the measured run time, which is the
emulator's and only an estimate of AWS's; every gtwatch function has 256 MB (arm64, `infra/function.py`), and 128 MB
would halve that line. DynamoDB request units assume state items under 1 KB (a bigger item costs a write unit per KB).
"""


def kinds_cost_rows(sagemaker: float, logs: float, wall_ms: float, reads: float, writes: float) -> str:
    runs = 8_640
    gb_seconds = runs * 0.25 * wall_ms / 1000
    items = [
        ("SageMaker List / Describe / Search", f"{sagemaker:.0f} calls", f"{sagemaker * runs:,.0f} calls", 0.0),
        ("CloudWatch Logs reads", f"{logs:.0f} calls", f"{logs * runs:,.0f} calls", 0.0),
        ("Lambda (256 MB, arm64)", f"{wall_ms / 1000:.1f} s", f"{gb_seconds:,.0f} GB-s", gb_seconds * 0.0000133334),
        ("Lambda requests", "1", f"{runs:,}", runs * 0.20 / 1e6),
        ("DynamoDB reads", f"{reads:.0f}", f"{reads * runs:,.0f}", reads * runs * 0.25 / 1e6),
        ("DynamoDB writes", f"{writes:.0f}", f"{writes * runs:,.0f}", writes * runs * 1.25 / 1e6),
    ]
    rows = [f"| {name} | {run} | {month} | ${cost:,.2f} |" for name, run, month, cost in items]
    total = sum(round(cost, 2) for *_, cost in items)
    rows.append(f"| **total** | | | **${total:,.2f}** |")
    upper = max(0.0, logs * runs - 1e6) * 0.01 / 1000
    rows.append(f"| (log reads if billed as metric API requests) | | | (${upper:,.2f}) |")
    return "\n".join(rows)


def kinds_recorded_note(result: KindsResult) -> str:
    """How this run compares with the figures recorded when the measurement was added (KINDS_RECORDED)."""
    if not KINDS_RECORDED:
        return ""
    changed = []
    for kind, (calls, read, stalled) in KINDS_RECORDED.items():
        now = tuple(round(result.median(kind, column)) for column in CALL_COLUMNS)
        now_read = round(result.read_per_run(kind))
        if (now, now_read, result.stalled[kind]) != (calls, read, stalled):
            changed.append(
                f"{kind}: calls {calls} -> {now}, logs read {read} -> {now_read}, stalls {stalled} -> "
                f"{result.stalled[kind]}"
            )
    if not changed:
        return f"These figures are the ones recorded when this measurement was added ({KINDS_RECORDED_COMMIT})."
    return f"Since the figures recorded when this measurement was added ({KINDS_RECORDED_COMMIT}): " + "; ".join(
        changed
    )


if __name__ == "__main__":
    sys.exit(main())
