"""`gtwatch check` and `gtwatch test-notify`: the watcher against a real account, with your own AWS credentials.

`check` is one read-only look with the watcher's own logic: which labeling jobs a deployment would watch and which
notifications it would send now. It calls SageMaker's ListLabelingJobs; no DynamoDB or SNS. In Slack app mode it also
looks up each route's mention in the workspace with the bot's token (mentions.py), pinging no one.
`test-notify` publishes one clearly marked test notification through a deployed topic, so Slack (the webhook's channel,
or in app mode every route's channel) and every confirmed email subscription show it (test notifications pass every
channel's filter and every route).

Both use boto3's usual credential chain (AWS_PROFILE, ~/.aws/config ...) and find the region as the AWS CLI and the
CDK CLI do (AWS_REGION, then AWS_DEFAULT_REGION, then the profile's). They honour AWS_ENDPOINT_URL, which is how
the tests point them at the local emulator. Without flags they take the regions, the name filter and the stack name
from ./cdk.json, as the deployment does.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, TextIO

import boto3
from watcher import clock
from watcher.adapters.aws import RETRY_CONFIG
from watcher.adapters.publisher import publish
from watcher.adapters.sagemaker_jobs import list_jobs
from watcher.domain import email_message
from watcher.domain.contract import OUTPUT_TOPIC_ARN
from watcher.domain.diff import WatchRules, decide, progress
from watcher.domain.formatting import progress_text
from watcher.domain.model import (
    ACTIVE_STATUSES,
    EventType,
    JobStatus,
    LabelCounters,
    LabelingJob,
    Notification,
    Progress,
    to_iso,
)
from watcher.domain.slack_routes import parse_routes

from . import common, mentions

# OpsError and run_guarded are re-exported: other commands imported them from here before the split.
from .common import OpsError as OpsError
from .common import default_region, known_region, resolve_region
from .common import run_guarded as run_guarded
from .config import Loaded, load_local_config
from .kinds import split_route_kinds, unwatched_route_kinds
from .stack import read_stack

if TYPE_CHECKING:
    from mypy_boto3_sagemaker import SageMakerClient

DEFAULT_SINCE_HOURS = 24.0
TOPIC_OUTPUT = OUTPUT_TOPIC_ARN
TEST_JOB_NAME = "gtwatch-test-notification"
_TOPIC_ARN = re.compile(r"^arn:(?P<partition>aws[a-z-]*):sns:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):[\w.-]{1,256}$")
# Listed in lifecycle order, finished ones last, so that a job moving on between two calls shows its later status.
_TERMINAL_ORDER = (JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.STOPPED)


def add_commands(subparsers: Any) -> None:
    """Register `check` and `test-notify` on the `gtwatch` parser's subparsers; each sets `func(args) -> int`."""
    check_cmd = subparsers.add_parser(
        "check",
        help="show the jobs gtwatch would watch and the notifications it would send now (read-only)",
        description="One read-only run of the watcher's logic with your AWS credentials: lists labeling jobs "
        "(ListLabelingJobs) and prints what a deployment would watch and announce. Stalls need the "
        "watcher's own history, so they are not shown. In Slack app mode (cdk.json) it also looks up each route's "
        "mention with the bot token (users.info, usergroups.list), pinging no one, and exits 2 if one would ping "
        "no one.",
    )
    check_cmd.add_argument(
        "--region",
        action="append",
        dest="regions",
        metavar="REGION",
        help="a region to look in; repeat for several (default: cdk.json's regions, else your configured region)",
    )
    check_cmd.add_argument(
        "--name-contains",
        help="only jobs whose name contains this (default: cdk.json's name_contains; '' for every job)",
    )
    check_cmd.add_argument(
        "--since-hours",
        type=_positive_hours,
        default=DEFAULT_SINCE_HOURS,
        help="show jobs that finished in this many past hours, with the message a running deployment sent "
        f"(default: {DEFAULT_SINCE_HOURS:g})",
    )
    check_cmd.add_argument(
        "--stack-name",
        help="in Slack app mode, the stack whose bot token secret looks up the routes' mentions "
        "(default: cdk.json's stack_name; not needed when cdk.json names token_secret_name)",
    )
    check_cmd.set_defaults(func=run_check)

    notify_cmd = subparsers.add_parser(
        "test-notify",
        help="send a test notification through the deployed topic to Slack and email",
        description="Publishes one notification marked TEST through the deployed gtwatch topic. Every channel "
        "receives test notifications, whatever events it is configured for: the Slack webhook, or in app mode "
        "every route's Slack channel, and every confirmed email subscription.",
    )
    target = notify_cmd.add_mutually_exclusive_group()
    target.add_argument("--topic-arn", help="the gtwatch topic (the stack's TopicArn output)")
    target.add_argument(
        "--stack-name", help="read the topic from this stack's TopicArn output (default: cdk.json's stack_name)"
    )
    notify_cmd.add_argument("--region", help="the stack's region, with --stack-name (default: your configured region)")
    notify_cmd.set_defaults(func=run_test_notify)


def _positive_hours(text: str) -> float:
    try:
        hours = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of hours") from None
    if not hours > 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive number of hours")
    return hours


# --- check -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class WatchedJob:
    job: LabelingJob
    progress: Progress


@dataclass
class CheckReport:
    regions: tuple[str, ...]
    since: datetime
    jobs: list[WatchedJob] = field(default_factory=list)
    # What a deployment would send now: nothing, since its first run is the silent baseline. Kept as a list so that
    # the report says it in so many words.
    notifications: list[Notification] = field(default_factory=list)
    # How the jobs that ended since `since` were (or would have been) announced by a deployment running then.
    ended: list[Notification] = field(default_factory=list)


def check(
    session: boto3.session.Session,
    regions: Sequence[str],
    *,
    name_contains: str | None,
    since: datetime,
    now: datetime,
) -> CheckReport:
    """The jobs a deployment would watch and the notifications it would owe, decided by the watcher's diff.

    Every job is seen as a new deployment's first run sees it, the baseline: an active job is watched from now on,
    and a job that already ended stays silent. Its terminal notification is kept aside (`ended`) to show how it reads.
    """
    rules = WatchRules(name_contains=name_contains)
    report = CheckReport(regions=tuple(regions), since=since)
    for region in regions:
        sagemaker = session.client("sagemaker", region_name=region, config=RETRY_CONFIG)
        for job in _observe(sagemaker, region, name_contains=name_contains, since=since):
            decision = decide(None, job, now, rules, baseline=True)
            if decision.state is None:
                continue  # Outside the name filter (the listing already applies it; decide() is the rule).
            report.jobs.append(WatchedJob(job, progress(decision.state, job.counters, now, rules)))
            report.notifications.extend(decision.notifications)
            if job.status.is_terminal:
                report.ended.extend(decide(None, job, now, rules).notifications)
    return report


def _observe(
    sagemaker: SageMakerClient, region: str, *, name_contains: str | None, since: datetime
) -> Iterator[LabelingJob]:
    """Each active job, and each job that finished since `since`, once, in its latest listed state."""
    observed: dict[str, LabelingJob] = {}
    for status in ACTIVE_STATUSES:
        for job in list_jobs(sagemaker, region, status=status, name_contains=name_contains):
            observed[job.name] = job
    for status in _TERMINAL_ORDER:
        # LastModifiedTimeAfter, which the watcher itself never relies on (counters do not move it), is right here:
        # reaching a terminal status does move it, and it keeps a one-off look from paging through all history.
        for job in list_jobs(sagemaker, region, status=status, modified_after=since, name_contains=name_contains):
            observed[job.name] = job
    yield from sorted(observed.values(), key=lambda job: (job.creation_time, job.name))


def print_check(report: CheckReport, *, name_contains: str | None, out: TextIO) -> None:
    scope = ", ".join(report.regions)
    if name_contains:
        scope += f"; names containing {name_contains!r}"
    print(f"gtwatch check ({scope}; finished since {to_iso(report.since)})", file=out)
    print("", file=out)
    if not report.jobs:
        print("No labeling jobs to watch.", file=out)
    else:
        print(f"{len(report.jobs)} job(s) gtwatch would watch:", file=out)
        rows = [("REGION", "STATUS", "PROGRESS", "JOB")]
        rows += [(w.job.region, w.job.status.value, progress_text(w.progress), w.job.name) for w in report.jobs]
        widths = [max(len(row[column]) for row in rows) for column in range(3)]
        for region, status, done, name in rows:
            print(f"  {region:<{widths[0]}}  {status:<{widths[1]}}  {done:<{widths[2]}}  {name}", file=out)
    print("", file=out)
    if not report.notifications:
        print("No notification would be sent now.", file=out)
    else:
        print(f"{len(report.notifications)} notification(s) gtwatch would send now:", file=out)
        _print_messages(report.notifications, out)
    if report.ended:
        print("", file=out)
        print(
            f"{len(report.ended)} job(s) ended since {to_iso(report.since)}. A new deployment never announces them "
            "(its first run is a silent baseline); a deployment running when they ended would have sent:",
            file=out,
        )
        _print_messages(report.ended, out)
    print("", file=out)
    print(
        "Stalls are not shown: the watcher measures them against its own earlier runs (stall_after_minutes).",
        file=out,
    )


def _print_messages(notifications: Sequence[Notification], out: TextIO) -> None:
    for notification in notifications:
        print("", file=out)
        print(f"--- {email_message.subject(notification)}", file=out)
        print(email_message.body(notification), end="", file=out)


def run_check(args: argparse.Namespace, *, out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> int:
    def command() -> None:
        session = common.make_session()
        local = load_local_config()
        if args.regions:
            regions = [known_region(region, "--region") for region in args.regions]
        else:
            regions = [known_region(region, f"{local.path}: regions") for region in local.config.regions]
        regions = list(dict.fromkeys(regions)) or [default_region(session)]
        name_contains = local.config.name_contains if args.name_contains is None else args.name_contains or None
        now = clock.now()
        since = now - timedelta(hours=args.since_hours)
        report = check(session, regions, name_contains=name_contains, since=since, now=now)
        print_check(report, name_contains=name_contains, out=out)
        if local.path is not None and (not args.regions or args.name_contains is None):
            print(f"(Regions and name filter not given as flags come from {local.path}.)", file=out)
        others = [kind for kind in local.config.kinds if kind != "labeling"]
        if others:
            print(f"(gtwatch check lists labeling jobs only; {local.path} also watches {', '.join(others)}.)", file=out)
        if local.config.slack.mode == "app":
            check_slack_mentions(session, local, stack_name_or_default(args.stack_name), out=out)

    return run_guarded(command, err)


def check_slack_mentions(session: boto3.session.Session, local: Loaded, stack_name: str, *, out: TextIO) -> None:
    """Each route's mention (cdk.json's routes) looked up with the bot token; OpsError if one would ping no one or
    none could be looked up."""
    slack = local.config.slack
    where = f"{local.path}: context.gtwatch.slack.routes"
    try:
        # A route's `kinds` narrows what it takes, not whom it mentions: checked as `cdk synth` does, then left out.
        without_kinds, route_kinds = split_route_kinds(slack.routes, where)
        routes = parse_routes(without_kinds, where=where)
    except ValueError as error:
        raise OpsError(str(error)) from None
    unwatched = unwatched_route_kinds(route_kinds, local.config.kinds, where, f"{local.path}: context.gtwatch.kinds")
    if unwatched:
        raise OpsError("; ".join(unwatched))
    region = default_region(session)
    secret_name = mentions.bot_token_secret(session, slack.token_secret_name, stack_name, region)
    print("", file=out)
    checks = mentions.check_mentions(routes, mentions.slack_app(session, secret_name, region))
    print(f"Slack mentions, looked up with the bot token in {secret_name} (nobody is pinged):", file=out)
    if not checks:
        print("  No route has a mention.", file=out)
    channels = max((len(item.channel) for item in checks), default=0)
    marks = max((len(item.mention) for item in checks), default=0)
    for item in checks:
        verdict = "ok" if item.known else "PINGS NO ONE"
        print(f"  {item.channel:<{channels}}  {item.mention:<{marks}}  {verdict}: {item.says}", file=out)
    unknown = [item for item in checks if not item.known]
    if unknown:
        named = ", ".join(f"{item.channel} {item.mention}" for item in unknown)
        raise OpsError(
            f"{len(unknown)} route mention(s) would ping no one ({named}): correct the id in cdk.json and deploy "
            "(docs/slack.md, Mentions)"
        )


# --- test-notify -----------------------------------------------------------------------------------------


def make_test_notification(topic_arn: str, now: datetime) -> Notification:
    """A notification of type TEST about a made-up job, in the topic's region and account; unique per send."""
    match = _TOPIC_ARN.match(topic_arn)
    if match is None:
        raise OpsError(f"{topic_arn!r} is not an SNS topic ARN")
    region = match["region"]
    job = LabelingJob(
        region=region,
        name=TEST_JOB_NAME,
        arn=f"arn:{match['partition']}:sagemaker:{region}:{match['account']}:labeling-job/{TEST_JOB_NAME}",
        status=JobStatus.IN_PROGRESS,
        counters=LabelCounters(),
        creation_time=now,
        last_modified_time=now,
    )
    # No stream and sequence 0: the Slack notifier posts it on its own, outside any job's order and thread.
    return Notification(
        # A notification of its own each time (its id names the moment it was sent), posted outside any job's ledger.
        id=f"{region}:{TEST_JOB_NAME}:{EventType.TEST.value}:{to_iso(now)}",
        event_type=EventType.TEST,
        job=job,
        occurred_at=now,
        progress=Progress(done=0, total=0, human_labeled=0, machine_labeled=0, failed=0),
    )


def send_test_notification(session: boto3.session.Session, topic_arn: str, now: datetime) -> tuple[Notification, str]:
    notification = make_test_notification(topic_arn, now)
    sns = session.client("sns", region_name=notification.job.region, config=RETRY_CONFIG)
    return notification, publish(sns, topic_arn, notification)


def topic_of_stack(session: boto3.session.Session, stack_name: str, region: str | None) -> str:
    return stack_output(session, stack_name, region, TOPIC_OUTPUT)


def stack_output(session: boto3.session.Session, stack_name: str, region: str | None, key: str) -> str:
    """One output of a deployed gtwatch stack, read with CloudFormation DescribeStacks."""
    return read_stack(session, stack_name, resolve_region(session, region, "--region")).output(key)


def stack_name_or_default(given: str | None) -> str:
    """The stack a command works on: --stack-name, else cdk.json's stack_name, else the CDK app's default."""
    return given or load_local_config().config.stack_name


def run_test_notify(args: argparse.Namespace, *, out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> int:
    def command() -> None:
        session = common.make_session()
        topic_arn = args.topic_arn or topic_of_stack(session, stack_name_or_default(args.stack_name), args.region)
        notification, message_id = send_test_notification(session, topic_arn, clock.now())
        print(f"Sent a test notification to {topic_arn} (SNS message {message_id}).", file=out)
        print(f"Subject: {email_message.subject(notification)}", file=out)
        print(
            "Slack (the webhook's channel, or in app mode every route's channel) and every confirmed email "
            "subscription should show it within a minute. If Slack stays quiet, look at the Slack notifier's log: "
            "not_in_channel or channel_not_found means the bot is not in a route's channel, invalid_auth or "
            "token_revoked a token to replace (docs/slack.md).",
            file=out,
        )

    return run_guarded(command, err)
