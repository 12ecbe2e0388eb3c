"""`gtwatch status`: how a deployed watcher is doing, read-only, for a person or (--json) a script.

It shows what the stack watches and where it sends it (its WatcherConfig output: the Slack routes, quiet hours, the
digest), each region's last successful run, the active jobs with progress, rate, ETA and stall state (the state
table, read as the poller reads it), the mutes in force, the notifications waiting in outboxes, the Slack queue and
its dead letters, and the state of each of the stack's alarms. It reads only: CloudFormation DescribeStacks
(ListStackResources for an older stack without the AlarmTopicArn output), DynamoDB GetItem and Query on the active
index, SQS GetQueueAttributes, CloudWatch GetMetricStatistics and DescribeAlarms.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, TextIO

import boto3
from watcher import clock
from watcher.adapters.aws import RETRY_CONFIG
from watcher.adapters.mute import MuteStore
from watcher.adapters.state_store import StateStore
from watcher.domain.contract import (
    EVENT_TYPES,
    OUTPUT_ALARM_TOPIC_ARN,
    OUTPUT_CONFIG,
    OUTPUT_DEAD_LETTER_QUEUE_URL,
    OUTPUT_SLACK_QUEUE_URL,
    OUTPUT_STATE_TABLE,
)
from watcher.domain.diff import WatchRules, progress, stall_due
from watcher.domain.formatting import duration, progress_text, rate_text, stall_text
from watcher.domain.job import KIND_NOUNS, JobKind, Scope
from watcher.domain.model import JobState, Notification, Progress, to_iso
from watcher.domain.mute_rules import Mute
from watcher.domain.ports import RunRecord
from watcher.domain.text import one_line

from gtwatch import __version__

from . import common
from .common import resolve_region, run_guarded, utc_minute
from .config import DigestSettings, QuietHoursSettings, WatcherConfig, load_local_config, parse_watcher_config
from .stack import StackInfo, read_stack, stack_alarm_names

if TYPE_CHECKING:
    from mypy_boto3_cloudwatch import CloudWatchClient
    from mypy_boto3_cloudwatch.type_defs import DescribeAlarmsOutputTypeDef
    from mypy_boto3_sqs import SQSClient

# CloudWatch's SQS metrics arrive every minute or so; a quarter of an hour finds the latest if SQS sends any.
QUEUE_METRIC_WINDOW = timedelta(minutes=15)
# A region whose last successful run is older than this many schedule periods is shown as late (the stack's
# PollerNotRunning alarm fires after three).
LATE_AFTER_PERIODS = 3
DESCRIBE_ALARMS_NAMES_LIMIT = 100
# The label column of "Watching": wide enough for "Quiet hours:".
CONFIG_WIDTH = 14


@dataclass(frozen=True)
class ActiveJob:
    """A job the watcher is watching now, as its state item says, with the watcher's own progress figures."""

    state: JobState
    progress: Progress
    # "stalled" (announced), "due" (the next run announces it), "finished" (only its notification is left),
    # "never" (its kind never stalls: a pipeline execution, or a kind stall_after_minutes leaves out),
    # or "no" (moving, waiting, or not long enough without progress).
    stall: str
    # The kind's minutes without progress before a stall (WatchRules.stall_after_for); None: it never stalls.
    stall_after_minutes: int | None

    @property
    def counts_objects(self) -> bool:
        """Whether the job has object counters and a labeling rate (only a labeling job has)."""
        return self.state.kind is JobKind.LABELING

    @property
    def secondary_status(self) -> str | None:
        """A training job's SecondaryStatus as last observed (its progress signal, with its log lines)."""
        if self.state.kind is not JobKind.TRAINING or not self.state.signal:
            return None
        return self.state.signal[0] or None

    def to_document(self, now: datetime, accounts: Accounts) -> dict[str, Any]:
        state = self.state
        account_id, alias = accounts.of(state.account)
        return {
            "account": account_id,
            "account_alias": alias,
            "region": state.region,
            "name": state.name,
            "kind": state.kind.value,
            "status": str(state.status),
            # A labeling job's objects; None for the other kinds, which count none.
            "counters": state.counters.to_api() if self.counts_objects else None,
            "progress": self.progress.to_document() if self.counts_objects else None,
            "secondary_status": self.secondary_status,
            "stall_after_minutes": self.stall_after_minutes,
            "unchanged_since": to_iso(state.unchanged_since),
            "minutes_without_change": _minutes(now - state.unchanged_since),
            "stall": self.stall,
            "stall_announced_at": None if state.stall_notified_at is None else to_iso(state.stall_notified_at),
            "outbox": [entry.notification.id for entry in state.outbox],
        }


@dataclass(frozen=True)
class QueueDepth:
    url: str
    waiting: int
    in_flight: int
    # From CloudWatch's ApproximateAgeOfOldestMessage; None when CloudWatch has no recent data point.
    oldest_age_seconds: float | None

    def to_document(self) -> dict[str, Any]:
        return {
            "url": self.url,
            "waiting": self.waiting,
            "in_flight": self.in_flight,
            "oldest_age_seconds": self.oldest_age_seconds,
        }


@dataclass(frozen=True)
class AlarmState:
    name: str
    state: str
    since: datetime | None
    reason: str | None

    def to_document(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "state": self.state,
            "since": None if self.since is None else to_iso(self.since),
            "reason": self.reason,
        }


@dataclass(frozen=True)
class Accounts:
    """The accounts a stack lists (its WatcherConfig output's `accounts`, the home account first), to name things by."""

    listed: tuple[dict[str, Any], ...]

    def of(self, account: str | None) -> tuple[str | None, str | None]:
        """The (id, alias) of a scope's account (None: the home account); (None, None) when none are listed."""
        if not self.listed:
            return account, None
        account_id = account or str(self.listed[0].get("id"))
        alias = next((item.get("alias") for item in self.listed if item.get("id") == account_id), None)
        return account_id, alias

    def label(self, account: str | None) -> str | None:
        """As people read it: the alias, else the id; None when the stack lists no accounts and this is its own."""
        account_id, alias = self.of(account)
        return alias or account_id


@dataclass
class StatusReport:
    stack: StackInfo
    now: datetime
    config: WatcherConfig | None
    regions: tuple[str, ...]
    runs: dict[str, RunRecord | None] = field(default_factory=dict)
    # The scope each of `runs` is of, by the same label.
    scopes: dict[str, Scope] = field(default_factory=dict)
    jobs: list[ActiveJob] = field(default_factory=list)
    slack_queue: QueueDepth | None = None
    dead_letters: QueueDepth | None = None
    alarms: list[AlarmState] = field(default_factory=list)
    mutes: list[Mute] = field(default_factory=list)  # In force at `now`, soonest to end first.

    @property
    def outbox(self) -> list[Notification]:
        """Every notification decided but not yet accepted by SNS, oldest first."""
        waiting = [entry.notification for job in self.jobs for entry in job.state.outbox]
        return sorted(waiting, key=lambda notification: notification.occurred_at)

    def is_late(self, run: RunRecord | None) -> bool:
        schedule = timedelta(minutes=(self.config.schedule_minutes if self.config else 5) * LATE_AFTER_PERIODS)
        return run is None or run.listed_at is None or self.now - run.listed_at > schedule

    def to_document(self) -> dict[str, Any]:
        outbox = self.outbox
        return {
            "stack": {"name": self.stack.name, "region": self.stack.region, "status": self.stack.status},
            "generated_at": to_iso(self.now),
            "gtwatch_version": __version__,
            "config": None if self.config is None else self.config.model_dump(mode="json"),
            "regions": [self._run_document(region) for region in self.runs],
            "jobs": [job.to_document(self.now, self.accounts) for job in self.jobs],
            "outbox": {
                "count": len(outbox),
                "oldest_age_seconds": _seconds(self.now - outbox[0].occurred_at) if outbox else None,
                "notifications": [
                    {
                        "id": notification.id,
                        "account": self.accounts.of(notification.job.account)[0],
                        "event_type": notification.event_type.value,
                        "kind": notification.job.id.kind.value,
                        "region": notification.job.region,
                        "job": notification.job.name,
                        "occurred_at": to_iso(notification.occurred_at),
                    }
                    for notification in outbox
                ],
            },
            "slack_queue": None if self.slack_queue is None else self.slack_queue.to_document(),
            "dead_letters": None if self.dead_letters is None else self.dead_letters.to_document(),
            "alarms": [alarm.to_document() for alarm in self.alarms],
            "mutes": [
                {
                    "account": self.accounts.of(mute.account)[0],
                    "account_alias": self.accounts.of(mute.account)[1],
                    "region": mute.region,
                    "kind": mute.kind.value,
                    "job": mute.name,
                    "events": sorted(mute.events, key=EVENT_TYPES.index),
                    "until": to_iso(mute.until),
                    "by": mute.by or None,
                    "at": None if mute.at is None else to_iso(mute.at),
                }
                for mute in self.mutes
            ],
        }

    @property
    def accounts(self) -> Accounts:
        return Accounts(self.config.accounts if self.config else ())

    def _run_document(self, region: str) -> dict[str, Any]:
        run = self.runs.get(region)
        listed_at = None if run is None else run.listed_at
        scope = self.scopes.get(region)
        account_id, alias = self.accounts.of(scope.account if scope else None)
        return {
            # The scope as status names it ("us-east-1", "us-east-1 training", "vision eu-central-1 training").
            "region": region,
            "kind": None if scope is None else scope.kind.value,
            # The listed account's id and alias; both None for a stack that lists no accounts.
            "account": account_id,
            "account_alias": alias,
            "watching_since": None if run is None else to_iso(run.started_at),
            "last_successful_run": None if listed_at is None else to_iso(listed_at),
            "last_successful_run_age_seconds": None if listed_at is None else _seconds(self.now - listed_at),
            "late": self.is_late(run),
            "unreadable": None if run is None else run.unreadable,
            "unreadable_since": None if run is None or run.unreadable_since is None else to_iso(run.unreadable_since),
        }


# --- gathering -------------------------------------------------------------------------------------------


def gather(session: boto3.session.Session, stack: StackInfo, now: datetime) -> StatusReport:
    """Everything `gtwatch status` shows, read from the stack's resources as of `now`."""
    config = parse_watcher_config(stack.outputs[OUTPUT_CONFIG]) if OUTPUT_CONFIG in stack.outputs else None
    regions = (config.regions if config else ()) or (stack.region,)
    report = StatusReport(stack=stack, now=now, config=config, regions=tuple(regions))
    rules = config.rules if config else WatchRules()

    dynamodb = session.client("dynamodb", region_name=stack.region, config=RETRY_CONFIG)
    store = StateStore(dynamodb, stack.output(OUTPUT_STATE_TABLE))
    mutes = MuteStore(dynamodb, stack.output(OUTPUT_STATE_TABLE))
    for account, region in _watched(config, report.regions):
        # Every kind the table may hold (a kind no longer configured still shows what it remembers).
        for kind in JobKind:
            scope = Scope(region, kind, account)
            record = store.load_run(scope)
            if kind is JobKind.LABELING or record is not None:
                label = _scope_label(scope, report.accounts)
                report.runs[label] = record
                report.scopes[label] = scope
            for state in sorted(store.active_states(scope).values(), key=lambda state: state.name):
                report.jobs.append(_active_job(state, now, rules))
            report.mutes.extend(mute for mute in mutes.in_scope(scope).values() if mute.until > now)
    report.mutes.sort(key=lambda mute: (mute.until, mute.region, mute.name, list(JobKind).index(mute.kind)))

    sqs = session.client("sqs", region_name=stack.region, config=RETRY_CONFIG)
    cloudwatch = session.client("cloudwatch", region_name=stack.region, config=RETRY_CONFIG)
    if OUTPUT_SLACK_QUEUE_URL in stack.outputs:
        report.slack_queue = _queue_depth(sqs, cloudwatch, stack.outputs[OUTPUT_SLACK_QUEUE_URL], now)
    if OUTPUT_DEAD_LETTER_QUEUE_URL in stack.outputs:
        report.dead_letters = _queue_depth(sqs, cloudwatch, stack.outputs[OUTPUT_DEAD_LETTER_QUEUE_URL], now)
    report.alarms = _alarms(session, cloudwatch, stack)
    return report


def _active_job(state: JobState, now: datetime, rules: WatchRules) -> ActiveJob:
    threshold = rules.stall_after_for(state.kind)
    return ActiveJob(
        state=state,
        progress=progress(state, state.counters, now, rules),
        stall=_stall(state, now, rules),
        stall_after_minutes=None if threshold is None else _minutes(threshold),
    )


def _stall(state: JobState, now: datetime, rules: WatchRules) -> str:
    if state.status_class.is_terminal:
        return "finished"
    if state.stall_notified_at is not None:
        return "stalled"
    if rules.stall_after_for(state.kind) is None:
        return "never"
    # Whether a run now would announce a stall, by the watcher's own rule (diff.stall_due).
    return "due" if stall_due(state, now, rules) else "no"


def _queue_depth(sqs: SQSClient, cloudwatch: CloudWatchClient, url: str, now: datetime) -> QueueDepth:
    attributes = sqs.get_queue_attributes(
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    )["Attributes"]
    waiting = int(attributes.get("ApproximateNumberOfMessages", 0))
    in_flight = int(attributes.get("ApproximateNumberOfMessagesNotVisible", 0))
    return QueueDepth(url, waiting, in_flight, _oldest_age(cloudwatch, url.rstrip("/").rsplit("/", 1)[-1], now))


def _oldest_age(cloudwatch: CloudWatchClient, queue_name: str, now: datetime) -> float | None:
    datapoints = cloudwatch.get_metric_statistics(
        Namespace="AWS/SQS",
        MetricName="ApproximateAgeOfOldestMessage",
        Dimensions=[{"Name": "QueueName", "Value": queue_name}],
        StartTime=now - QUEUE_METRIC_WINDOW,
        EndTime=now,
        Period=60,
        Statistics=["Maximum"],
    ).get("Datapoints", [])
    if not datapoints:
        return None
    latest = max(datapoints, key=lambda point: point["Timestamp"])
    return float(latest["Maximum"])


def _alarms(session: boto3.session.Session, cloudwatch: CloudWatchClient, stack: StackInfo) -> list[AlarmState]:
    """The stack's alarms: every alarm that notifies its alarm topic, or else the alarms among its resources."""
    pages: Iterable[DescribeAlarmsOutputTypeDef]
    if OUTPUT_ALARM_TOPIC_ARN in stack.outputs:
        topic = stack.outputs[OUTPUT_ALARM_TOPIC_ARN]
        pages = cloudwatch.get_paginator("describe_alarms").paginate(ActionPrefix=topic)
    else:
        names = stack_alarm_names(session, stack)
        pages = [
            cloudwatch.describe_alarms(AlarmNames=names[start : start + DESCRIBE_ALARMS_NAMES_LIMIT])
            for start in range(0, len(names), DESCRIBE_ALARMS_NAMES_LIMIT)
        ]
    alarms = [
        AlarmState(
            name=alarm["AlarmName"],
            state=alarm.get("StateValue", "?"),
            since=alarm["StateUpdatedTimestamp"].astimezone(UTC) if alarm.get("StateUpdatedTimestamp") else None,
            reason=alarm.get("StateReason"),
        )
        for page in pages
        for alarm in (*page.get("MetricAlarms", []), *page.get("CompositeAlarms", []))
    ]
    return sorted(alarms, key=lambda alarm: alarm.name)


# --- printing --------------------------------------------------------------------------------------------


def print_status(report: StatusReport, out: TextIO) -> None:
    now, stack = report.now, report.stack
    state = f", {stack.status}" if stack.status else ""
    print(f"gtwatch status: stack {stack.name} in {stack.region}{state}, as of {utc_minute(now)}", file=out)
    print(f"(shown by gtwatch {__version__})", file=out)
    _print_config(report, out)
    _print_runs(report, out)
    _print_jobs(report, out)
    _print_mutes(report, out)
    _print_deliveries(report, out)
    _print_alarms(report, out)


def _print_config(report: StatusReport, out: TextIO) -> None:
    print("", file=out)
    print("Watching", file=out)
    config = report.config
    if config is None:
        print(f"  (the stack has no {OUTPUT_CONFIG} output: deployed by an older gtwatch. Shown: the stack's", file=out)
        print("  region, with the default stall rules; redeploy to see the configuration here.)", file=out)
        _config_row(out, "Regions", ", ".join(report.regions))
        return
    if config.accounts:
        _config_row(out, "Accounts", _accounts_text(config))
    else:
        _config_row(out, "Regions", ", ".join(report.regions) + ("" if config.regions else " (the stack's region)"))
    _config_row(out, "Kinds", _kinds_text(config))
    _config_row(out, "Jobs", f"names containing {config.name_contains!r}" if config.name_contains else "every job")
    _print_slack(config, out)
    _config_row(out, "Email", ", ".join(config.email_events) or "nothing")
    older = "unknown (deployed by an older gtwatch)"
    _config_row(out, "Quiet hours", older if config.slack is None else _quiet_hours_text(config.quiet_hours))
    _config_row(out, "Digest", older if config.slack is None else _digest_text(config.digest))
    repeat = config.stall_repeat_minutes
    again = f"again every {duration(repeat)}" if repeat else "once per stall"
    _config_row(out, "Schedule", f"every {duration(config.schedule_minutes)}")
    _config_row(out, "Stalls", _stalls_text(config, again))


def _accounts_text(config: WatcherConfig) -> str:
    """Each listed account and its regions: "research (111111111111): us-east-1; vision (333333333333): eu-west-1"."""
    return "; ".join(
        f"{item['alias']} ({item.get('id')})" + f": {', '.join(item.get('regions', ()))}"
        if item.get("alias")
        else f"{item.get('id')}: {', '.join(item.get('regions', ()))}"
        for item in config.accounts
    )


def _kinds_text(config: WatcherConfig) -> str:
    """Each watched kind with its stall threshold: "labeling (stall after 1 h), pipeline (never stalls)"."""
    return ", ".join(
        f"{kind} (never stalls)" if minutes is None else f"{kind} (stall after {duration(minutes)})"
        for kind, minutes in config.stall_thresholds.items()
    )


def _stalls_text(config: WatcherConfig, again: str) -> str:
    thresholds = {minutes for minutes in config.stall_thresholds.values() if minutes is not None}
    if not thresholds:
        return "never: no watched kind stalls"
    if len(thresholds) == 1:
        return f"after {duration(thresholds.pop())} without progress, announced {again}"
    return f"after each kind's time without progress (see Kinds), announced {again}"


def _config_row(out: TextIO, label: str, text: str) -> None:
    _row(out, label, text, width=CONFIG_WIDTH)


def _print_slack(config: WatcherConfig, out: TextIO) -> None:
    slack = config.slack
    if slack is None or slack.mode != "app":
        _config_row(out, "Slack", ", ".join(config.slack_events) or "nothing")
        return
    routes = slack.routes or ()
    _config_row(out, "Slack", f"app mode, {len(routes)} route(s); a notification goes to every route that takes it")
    for route in routes:
        text = ", ".join(route.events)
        if route.kinds:
            text += f"; {', '.join(route.kinds)} only"
        if route.name_contains:
            text += f"; names containing {route.name_contains!r}"
        if route.mention:
            text += f"; mentions {route.mention}"
        print(f"    {route.channel}: {text}", file=out)


def _quiet_hours_text(quiet: QuietHoursSettings | None) -> str:
    if quiet is None:
        return "none"
    return (
        f"{quiet.start} to {quiet.end} {quiet.timezone}: {', '.join(quiet.hold)} wait for the end on "
        f"{' and '.join(quiet.channels)}; other types go at once"
    )


def _digest_text(digest: DigestSettings | None) -> str:
    if digest is None:
        return "none"
    channels = [
        f"slack ({digest.slack_channel})" if channel == "slack" and digest.slack_channel else channel
        for channel in digest.channels
    ]
    return f"every day at {digest.at} {digest.timezone}, to {' and '.join(channels)}"


def _watched(config: WatcherConfig | None, regions: tuple[str, ...]) -> list[tuple[str | None, str]]:
    """Each (account, region) a stack watches, the home account's first (None, as scopes name it)."""
    if config is None or not config.accounts:
        return [(None, region) for region in regions]
    home, *spokes = config.accounts
    return [(None, region) for region in home["regions"]] + [
        (spoke["id"], region) for spoke in spokes for region in spoke["regions"]
    ]


def _scope_label(scope: Scope, accounts: Accounts) -> str:
    """A scope as status names it: "us-east-1", "us-east-1 training"; with accounts listed, every scope (the home
    account's too) after its account's alias or id: "research us-east-1", "vision eu-central-1 training"."""
    label = accounts.label(scope.account)
    return str(scope) if label is None else f"{label} {Scope(scope.region, scope.kind)}"


def _print_runs(report: StatusReport, out: TextIO) -> None:
    print("", file=out)
    print("Last successful run", file=out)
    for region, run in report.runs.items():
        if run is not None and run.unreadable is not None:
            since = utc_minute(run.unreadable_since) if run.unreadable_since else "?"
            last = f"last read {utc_minute(run.listed_at)}" if run.listed_at else "never read yet"
            text = (
                f"CANNOT BE READ since {since} ({run.unreadable}: the hub cannot assume its reader role, or its "
                f"sessions are refused); {last}"
            )
        elif run is None:
            text = "never: no run has reached this region yet"
        elif run.listed_at is None:
            text = f"none yet: watching since {utc_minute(run.started_at)}; the first (baseline) run has not completed"
        else:
            text = f"{utc_minute(run.listed_at)} ({_age(report.now - run.listed_at)} ago)"
            if report.is_late(run):
                text += "  LATE: is the poller running? (see the alarms below)"
        _row(out, region, text)


def _print_jobs(report: StatusReport, out: TextIO) -> None:
    print("", file=out)
    if not report.jobs:
        print("Active jobs: none", file=out)
        return
    print(f"Active jobs: {len(report.jobs)}", file=out)
    for job in report.jobs:
        state = job.state
        where = _where(state.kind, state.region, report.accounts.label(state.account))
        print(f"  {state.name} ({where}): {state.status}", file=out)
        if job.secondary_status:
            _row(out, "Secondary", one_line(job.secondary_status), indent=4)
        if job.counts_objects:
            _row(out, "Progress", progress_text(job.progress), indent=4)
        if job.counts_objects and not state.status_class.is_terminal:
            _row(out, "Rate", rate_text(job.progress, report.now) or "not enough history yet", indent=4)
        _row(out, "Stall", _stall_line(job, report.now), indent=4)


def _print_mutes(report: StatusReport, out: TextIO) -> None:
    print("", file=out)
    if not report.mutes:
        print("Mutes in force: none", file=out)
        return
    print(f"Mutes in force: {len(report.mutes)}", file=out)
    for mute in report.mutes:
        events = ", ".join(sorted(mute.events, key=EVENT_TYPES.index))
        by = f" by {mute.by}" if mute.by else ""
        where = _where(mute.kind, mute.region, report.accounts.label(mute.account))
        print(f"  {mute.name} ({where}): {events} until {utc_minute(mute.until)}{by}", file=out)


def _where(kind: JobKind, region: str, account: str | None = None) -> str:
    """A job's account (when the stack lists accounts), its kind unless labeling, and its region: "training,
    us-east-1", "us-east-1" (as gtwatch mute says), "vision, training, eu-central-1"."""
    where = region if kind is JobKind.LABELING else f"{kind.value}, {region}"
    return where if account is None else f"{account}, {where}"


def _stall_line(job: ActiveJob, now: datetime) -> str:
    state = job.state
    unchanged = f"last change {_age(now - state.unchanged_since)} ago"
    if job.stall == "stalled" and state.stall_notified_at is not None:
        return f"STALLED, {stall_text(job.progress)} (announced {utc_minute(state.stall_notified_at)})"
    if job.stall == "due":
        return f"due: {unchanged}; the next run announces a stall"
    if job.stall == "finished":
        return "finished; its notification waits in the outbox"
    if job.stall == "never" and state.kind is JobKind.PIPELINE:
        return f"never: a pipeline execution never stalls ({unchanged})"
    if job.stall == "never":
        return f"never: stall_after_minutes leaves {state.kind.value} out ({unchanged})"
    return f"no ({unchanged})"


def _print_deliveries(report: StatusReport, out: TextIO) -> None:
    print("", file=out)
    outbox = report.outbox
    if not outbox:
        _row(out, "Outboxes", "empty: every notification decided was accepted by SNS", indent=0, width=14)
    else:
        oldest = outbox[0]
        _row(
            out,
            "Outboxes",
            f"{len(outbox)} notification(s) waiting, oldest {_age(report.now - oldest.occurred_at)} "
            f"({oldest.event_type.value}: {_job_named(oldest)} in {oldest.job.region}); the next run sends them",
            indent=0,
            width=14,
        )
    _row(out, "Slack queue", _queue_line(report.slack_queue, "queue"), indent=0, width=14)
    dead = report.dead_letters
    text = _queue_line(dead, "dead-letter queue")
    if dead is not None and dead.waiting + dead.in_flight:
        text += f"; gtwatch redrive --stack-name {report.stack.name} --dry-run lists them"
    _row(out, "Dead letters", text, indent=0, width=14)


def _job_named(notification: Notification) -> str:
    """A job as a notification's subject names it: alone for labeling, "training job bert-3" otherwise."""
    kind = notification.job.id.kind
    return notification.job.name if kind is JobKind.LABELING else f"{KIND_NOUNS[kind].lower()} {notification.job.name}"


def _queue_line(queue: QueueDepth | None, what: str) -> str:
    if queue is None:
        return f"unknown (the stack has no {what} output)"
    text = f"{queue.waiting} waiting, {queue.in_flight} in flight"
    if queue.waiting + queue.in_flight == 0:
        return text
    if queue.oldest_age_seconds is None:
        return text + "; oldest: unknown (no recent CloudWatch data)"
    return text + f"; oldest {_age(timedelta(seconds=queue.oldest_age_seconds))}"


def _print_alarms(report: StatusReport, out: TextIO) -> None:
    print("", file=out)
    if not report.alarms:
        print("Alarms: none found for this stack", file=out)
        return
    firing = sum(alarm.state == "ALARM" for alarm in report.alarms)
    print(f"Alarms: {len(report.alarms)}, {firing} in ALARM", file=out)
    width = max(len(alarm.state) for alarm in report.alarms)
    name_width = max(len(alarm.name) for alarm in report.alarms)
    for alarm in report.alarms:
        since = f"since {utc_minute(alarm.since)}" if alarm.since else ""
        line = f"  {alarm.state:<{width}}  {alarm.name:<{name_width}}  {since}".rstrip()
        if alarm.state == "ALARM" and alarm.reason:
            line += f": {alarm.reason}"
        print(line, file=out)


def _row(out: TextIO, label: str, text: str, *, indent: int = 2, width: int = 12) -> None:
    print(f"{' ' * indent}{label + ':':<{width - 1}} {text}", file=out)  # At least one space, however long the label.


def _age(elapsed: timedelta) -> str:
    return "under a minute" if elapsed < timedelta(minutes=1) else duration(_minutes(elapsed))


def _minutes(elapsed: timedelta) -> int:
    return max(0, int(elapsed.total_seconds() // 60))


def _seconds(elapsed: timedelta) -> int:
    return max(0, int(elapsed.total_seconds()))


# --- command ---------------------------------------------------------------------------------------------


def add_command(subparsers: Any) -> None:
    command = subparsers.add_parser(
        "status",
        help="show what a deployed gtwatch watches, its last runs, active jobs, queues and alarms (read-only)",
        description="Reads the deployed stack (outputs, state table, queues, alarms) and shows how the watcher is "
        "doing. Times are UTC.",
    )
    command.add_argument("--stack-name", help="the gtwatch stack (default: cdk.json's stack_name, else Gtwatch)")
    command.add_argument("--region", help="the stack's region (default: your configured region)")
    command.add_argument("--json", action="store_true", help="print one JSON document instead, for scripts")
    command.set_defaults(func=run_status)


def run_status(args: argparse.Namespace, *, out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> int:
    def command() -> None:
        session = common.make_session()
        stack_name = args.stack_name or load_local_config().config.stack_name
        stack = read_stack(session, stack_name, resolve_region(session, args.region, "--region"))
        show(gather(session, stack, clock.now()), as_json=args.json, out=out)

    return run_guarded(command, err)


def show(report: StatusReport, *, as_json: bool, out: TextIO) -> None:
    if as_json:
        print(json.dumps(report.to_document(), indent=2), file=out)
    else:
        print_status(report, out)
