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

import boto3
from botocore.endpoint import Endpoint
from watcher import clock, composition, container
from watcher.domain.contract import (
    DEFAULT_KINDS,
    EVENT_TYPES,
    JOB_KINDS,
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

from .emulator import deployment, labeling_jobs
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
number below is measured on the local emulator (moto with gtwatch's labeling-job extension, in-process):
requests are counted at the client, once per HTTP attempt, for gtwatch and for the naive design alike. Wall
times are the emulator's, useful for comparing designs, not as AWS latencies.

## A steady run

Each account has `history` finished jobs (created a month earlier) and `active` jobs in progress; each steady
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
    parser.add_argument("--pairs", action="store_true", help="only the fan-out's pairs; prints it, writes nothing")
    args = parser.parse_args(argv)
    if args.night:
        print(measure_held_night())
        return 0
    if args.pairs:
        print(fan_out_section([measure_pairs(pairs) for pairs in PAIR_SIZES]))
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
    text = render(ours, naive, event, night, imports, memory, time.perf_counter() - started) + fan_out_section(pairs)
    args.output.write_text(text, encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
