"""`gtwatch check` and `gtwatch test-notify`: the watcher against a real account, with your own AWS credentials.

`check` is one read-only look with the watcher's own logic: which jobs of each kind the deployment watches (cdk.json's
`kinds`, or --kind) it would watch, and which notifications it would send now. It reads SageMaker through the watcher's
own job sources, with List, Describe and Search actions only (no CloudWatch Logs: the log lines that tell a training,
processing or transform job's stall are the poller's to read); no DynamoDB or SNS. In Slack app mode it also
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
import os
import re
import sys
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, TextIO

import boto3
from botocore.exceptions import BotoCoreError, ClientError
from watcher import clock
from watcher.adapters.accounts import InAccount
from watcher.adapters.aws import RETRY_CONFIG
from watcher.adapters.publisher import publish
from watcher.adapters.sagemaker_kinds import job_source
from watcher.domain import email_message
from watcher.domain.accounts import AccountUnreadable, WatchedAccount
from watcher.domain.contract import JOB_KINDS, OUTPUT_TOPIC_ARN
from watcher.domain.diff import WatchRules, decide, progress
from watcher.domain.formatting import progress_text, tuning_progress_text
from watcher.domain.job import LOG_KINDS, JobKind, Scope
from watcher.domain.kinds import KindJob, PipelineFacts, TrainingFacts, TuningFacts
from watcher.domain.model import (
    AnyJob,
    EventType,
    JobStatus,
    LabelCounters,
    LabelingJob,
    Notification,
    Progress,
    to_iso,
)
from watcher.domain.ports import JobSource
from watcher.domain.slack_routes import parse_routes
from watcher.domain.text import clean

from . import common, mentions
from .accounts import Account, spoke_role_arn

# OpsError and run_guarded are re-exported: other commands imported them from here before the split.
from .common import OpsError as OpsError
from .common import default_region, known_region, resolve_region
from .common import run_guarded as run_guarded
from .config import Loaded, load_local_config
from .kinds import is_kind, not_a_kind, split_route_kinds, unwatched_route_kinds
from .stack import read_stack

DEFAULT_SINCE_HOURS = 24.0
TOPIC_OUTPUT = OUTPUT_TOPIC_ARN
TEST_JOB_NAME = "gtwatch-test-notification"
_TOPIC_ARN = re.compile(r"^arn:(?P<partition>aws[a-z-]*):sns:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):[\w.-]{1,256}$")


def add_commands(subparsers: Any) -> None:
    """Register `check` and `test-notify` on the `gtwatch` parser's subparsers; each sets `func(args) -> int`."""
    check_cmd = subparsers.add_parser(
        "check",
        help="show the jobs gtwatch would watch and the notifications it would send now (read-only)",
        description="One read-only run of the watcher's logic with your AWS credentials: lists the jobs of each "
        "kind the deployment watches (SageMaker's List, Describe and Search actions only) and prints what it would "
        "watch and announce. Stalls need the watcher's own history (and, for training, processing and transform "
        "jobs, their log lines), so they are not shown. In Slack app mode (cdk.json) it also looks up each route's "
        "mention with the bot token (users.info, usergroups.list), pinging no one, and exits 2 if one would ping "
        "no one. With accounts in cdk.json it looks at every listed account, each with credentials of that account "
        "(--profile-for, else yours when they are of it, else an AWS profile named after its alias or id, else the "
        "spoke's reader role, which usually trusts only the hub); an account it cannot read is named with how to "
        "give access, the others are read all the same, and it exits 1 only if none could be read.",
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
        "--kind",
        action="append",
        dest="kinds",
        metavar="KIND",
        help=f"a kind of job to look at ({', '.join(JOB_KINDS)}); repeat for several (default: cdk.json's kinds, "
        "else labeling)",
    )
    check_cmd.add_argument(
        "--profile-for",
        action="append",
        dest="profiles",
        default=[],
        metavar="ACCOUNT=PROFILE",
        help="with accounts in cdk.json: read the listed account ACCOUNT (its id or alias) with the AWS profile "
        "PROFILE; repeat for several (default: your credentials in their own account, else a profile named after "
        "the account's alias or id, else the spoke's reader role)",
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
    job: AnyJob
    # A labeling job's counters as the watcher reads them; None for the other kinds, which count no objects.
    progress: Progress | None


@dataclass(frozen=True)
class AccountLook:
    """One listed account as check looked at it: its regions, and why it could not be read (None: it was read)."""

    account: WatchedAccount
    regions: tuple[str, ...]
    unreadable: str | None = None


@dataclass
class CheckReport:
    regions: tuple[str, ...]
    since: datetime
    kinds: tuple[JobKind, ...] = (JobKind.LABELING,)
    # With `accounts` in cdk.json, each listed account in their order (the rows then name their account); else empty.
    accounts: list[AccountLook] = field(default_factory=list)
    jobs: list[WatchedJob] = field(default_factory=list)
    # What a deployment would send now: nothing, since its first run is the silent baseline. Kept as a list so that
    # the report says it in so many words.
    notifications: list[Notification] = field(default_factory=list)
    # How the jobs that ended since `since` were (or would have been) announced by a deployment running then.
    ended: list[Notification] = field(default_factory=list)

    def count(self, kind: JobKind) -> int:
        return sum(watched.job.id.kind is kind for watched in self.jobs)


def check(
    session: boto3.session.Session,
    regions: Sequence[str],
    *,
    name_contains: str | None,
    since: datetime,
    now: datetime,
    kinds: Sequence[JobKind] = (JobKind.LABELING,),
    account: WatchedAccount | None = None,
) -> CheckReport:
    """The jobs of `kinds` a deployment would watch and the notifications it would owe, decided by the watcher's diff.

    Every job is seen as a new deployment's first run sees it, the baseline: an active job is watched from now on,
    and a job that already ended stays silent. Its terminal notification is kept aside (`ended`) to show how it reads.
    Jobs are read through the watcher's own sources (sagemaker_kinds.job_source) without a CloudWatch Logs client:
    List, Describe and Search calls only. `account`: the listed account `session` reads, which each job then names.
    """
    rules = WatchRules(name_contains=name_contains)
    ordered = tuple(kind for kind in JobKind if kind in kinds)
    report = CheckReport(regions=tuple(regions), since=since, kinds=ordered)
    for region in regions:
        sagemaker = session.client("sagemaker", region_name=region, config=RETRY_CONFIG)
        for kind in ordered:
            if account is None:
                source: JobSource = job_source(sagemaker, None, Scope(region, kind))
            else:
                source = InAccount(job_source(sagemaker, None, Scope(region, kind, account.scope_account)), account)
            for job in _observe(source, name_contains=name_contains, since=since):
                decision = decide(None, job, now, rules, baseline=True)
                if decision.state is None:
                    continue  # Outside the name filter (the listing already applies it; decide() is the rule).
                counted = progress(decision.state, job.counters, now, rules) if isinstance(job, LabelingJob) else None
                report.jobs.append(WatchedJob(job, counted))
                report.notifications.extend(decision.notifications)
                if job.status_class.is_terminal:
                    report.ended.extend(_ending(source, job, now, rules))
    return report


def check_accounts(
    session: boto3.session.Session,
    accounts: Sequence[Account],
    *,
    regions: Sequence[str] = (),
    profiles: Mapping[str, str] | None = None,
    name_contains: str | None,
    since: datetime,
    now: datetime,
    kinds: Sequence[JobKind] = (JobKind.LABELING,),
) -> CheckReport:
    """check() of every listed account (the home account first) in its regions (or `regions`, when given), each read
    with credentials of that account (_reader). An account that cannot be read is noted in `accounts`, not raised:
    the others are read all the same. `profiles`: an AWS profile by account id (--profile-for)."""
    profiles = profiles or {}
    identity = session.client("sts", region_name=accounts[0].regions[0], config=RETRY_CONFIG).get_caller_identity()
    caller, partition = identity["Account"], identity["Arn"].split(":")[1]
    ordered = tuple(kind for kind in JobKind if kind in kinds)
    report = CheckReport(regions=(), since=since, kinds=ordered)
    for index, listed in enumerate(accounts):
        account = WatchedAccount(
            id=listed.id,
            regions=tuple(regions) or listed.regions,
            alias=listed.alias,
            role_arn=None if index == 0 else spoke_role_arn(listed.id, partition),
        )
        why: str | None = None
        try:
            reader = _reader(session, account, caller=caller, profile=profiles.get(listed.id))
            part = check(
                reader,
                account.regions,
                name_contains=name_contains,
                since=since,
                now=now,
                kinds=ordered,
                account=account,
            )
        except _Unreadable as problem:
            why = str(problem)
        except AccountUnreadable as error:
            why = str(_Unreadable(f"its credentials were refused ({error.reason})", account))
        except (ClientError, BotoCoreError) as error:
            why = str(_Unreadable(f"reading it failed ({_error_code(error)})", account))
        if why is not None:
            report.accounts.append(AccountLook(account, account.regions, why))
            continue
        report.accounts.append(AccountLook(account, account.regions))
        report.jobs += part.jobs
        report.notifications += part.notifications
        report.ended += part.ended
    report.regions = tuple(dict.fromkeys(region for look in report.accounts for region in look.regions))
    return report


class _Unreadable(Exception):
    """Why one listed account cannot be read, and how to give check access to it, in one line."""

    def __init__(self, why: str, account: WatchedAccount) -> None:
        name = account.alias or account.id
        super().__init__(
            f"Account {_account_text(account)} cannot be read: {why}. To check it, pass --profile-for {name}=PROFILE "
            f"or add an AWS profile named {name!r} (~/.aws/config) whose credentials are of {account.id} and allowed "
            "SageMaker's List, Describe and Search actions (docs/deploy.md, Checking every account)"
        )


def _account_text(account: WatchedAccount) -> str:
    return f"{account.alias} ({account.id})" if account.alias else account.id


def _error_code(error: ClientError | BotoCoreError) -> str:
    if isinstance(error, ClientError):
        return str(error.response.get("Error", {}).get("Code", "error"))
    return type(error).__name__


def profile_session(name: str) -> boto3.session.Session:
    """A session of the AWS profile `name` (the tests replace it to watch every call made)."""
    return boto3.session.Session(profile_name=name, region_name=os.environ.get("AWS_REGION") or None)


def _reader(
    session: boto3.session.Session, account: WatchedAccount, *, caller: str, profile: str | None
) -> boto3.session.Session:
    """A session of `account`: the profile given for it; else your own, if it is of that account; else an AWS profile
    named after its alias or id; else, for a spoke, its reader role assumed with your credentials. _Unreadable says
    why none works."""
    if profile is not None:
        return _profile_of(profile, account, given=True)
    if caller == account.id:
        return session
    available = set(session.available_profiles)
    named = next((name for name in (account.alias, account.id) if name is not None and name in available), None)
    if named is not None:
        return _profile_of(named, account, given=False)
    yours = f"your credentials are of account {caller}"
    if account.role_arn is None:
        raise _Unreadable(f"{yours}, and no AWS profile is named after it", account)
    sts = session.client("sts", region_name=account.regions[0], config=RETRY_CONFIG)
    try:
        credentials = sts.assume_role(RoleArn=account.role_arn, RoleSessionName="gtwatch-check")["Credentials"]
    except (ClientError, BotoCoreError) as error:
        raise _Unreadable(
            f"{yours}, and assuming its reader role {account.role_arn} was refused ({_error_code(error)}; the role "
            "trusts the hub's roles only)",
            account,
        ) from None
    return boto3.session.Session(
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
    )


def _profile_of(name: str, account: WatchedAccount, *, given: bool) -> boto3.session.Session:
    """The session of AWS profile `name`, checked to be of `account` (GetCallerIdentity, which needs no permission)."""
    what = f"--profile-for {account.alias or account.id}={name}" if given else f"AWS profile {name!r}"
    reader = profile_session(name)
    try:
        identity = reader.client("sts", region_name=account.regions[0], config=RETRY_CONFIG).get_caller_identity()
    except (ClientError, BotoCoreError) as error:
        raise _Unreadable(f"the credentials of {what} were refused ({_error_code(error)})", account) from None
    if identity["Account"] != account.id:
        raise _Unreadable(f"{what} is of account {identity['Account']}, not {account.id}", account)
    return reader


def parse_profiles(given: Sequence[str], accounts: Sequence[Account], available: Sequence[str]) -> dict[str, str]:
    """--profile-for ACCOUNT=PROFILE, each naming a listed account (id or alias) and a known AWS profile: by id."""
    by_name = {name: account.id for account in accounts for name in (account.id, account.alias) if name is not None}
    listed = ", ".join(account.name for account in accounts)
    profiles: dict[str, str] = {}
    for item in given:
        name, equals, profile = item.partition("=")
        if not equals or not name or not profile:
            raise OpsError(f"--profile-for: {item!r} is not ACCOUNT=PROFILE, like research=research-readonly")
        if not accounts:
            raise OpsError(f"--profile-for: {name!r}: cdk.json lists no accounts (context.gtwatch.accounts)")
        if name not in by_name:
            raise OpsError(f"--profile-for: {name!r} is not a listed account (cdk.json's accounts list {listed})")
        if profile not in available:
            raise OpsError(f"--profile-for: {profile!r} is not an AWS profile (~/.aws/config, ~/.aws/credentials)")
        if by_name[name] in profiles:
            raise OpsError(f"--profile-for: account {name!r} is given a profile twice")
        profiles[by_name[name]] = profile
    return profiles


def _observe(source: JobSource, *, name_contains: str | None, since: datetime) -> Iterator[AnyJob]:
    """Each active job, and each job that changed (so each that finished) since `since`, once, in its latest listed
    state: listed last, a job that moved on between the two listings shows its later status."""
    observed: dict[str, AnyJob] = {}
    for job in source.list_active(name_contains=name_contains, every_status=True):
        observed[job.name] = job
    # LastModifiedTimeAfter, which the watcher itself never relies on (counters do not move it), is right here:
    # reaching a terminal status does move it, and it keeps a one-off look from paging through all history.
    for job in source.list_recent(modified_after=since, name_contains=name_contains):
        if job.name in observed or job.status_class.is_terminal:
            observed[job.name] = job
    yield from sorted(observed.values(), key=lambda job: (job.creation_time, job.name))


def _ending(source: JobSource, job: AnyJob, now: datetime, rules: WatchRules) -> tuple[Notification, ...]:
    """The terminal notification a deployment running when `job` ended sent. As the watch does, a list summary that
    says too little to tell people (a training job's metrics, a pipeline's failed step) is described first."""
    if not job.detailed:
        job = source.describe(job.name, job.arn) or job
    return decide(None, job, now, rules).notifications


def print_check(report: CheckReport, *, name_contains: str | None, out: TextIO) -> None:
    if report.accounts:
        scope = "; ".join(
            f"{look.account.alias or look.account.id}: {', '.join(look.regions)}" for look in report.accounts
        )
    else:
        scope = ", ".join(report.regions)
    if name_contains:
        scope += f"; names containing {name_contains!r}"
    print(f"gtwatch check ({scope}; finished since {to_iso(report.since)})", file=out)
    print("", file=out)
    unread = [look for look in report.accounts if look.unreadable is not None]
    for look in unread:
        print(look.unreadable, file=out)
    if unread:
        print("", file=out)
    kinds = [kind.value for kind in report.kinds]
    if not report.jobs:
        print(f"No {' or '.join(', '.join(kinds).rsplit(', ', 1))} jobs to watch.", file=out)
    else:
        counts = ", ".join(f"{kind.value} {report.count(kind)}" for kind in report.kinds)
        print(f"{len(report.jobs)} job(s) gtwatch would watch ({counts}):", file=out)
        rows: list[tuple[str, ...]] = [("ACCOUNT", "KIND", "REGION", "STATUS", "PROGRESS", "JOB")]
        rows += [
            (
                clean(w.job.account_alias or w.job.account_id or ""),
                w.job.id.kind.value,
                w.job.region,
                w.job.status,
                _progress_column(w),
                clean(w.job.name),
            )
            for w in report.jobs
        ]
        if not report.accounts:
            rows = [row[1:] for row in rows]  # One account: no column to name it.
        widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]) - 1)]
        for row in rows:
            columns = "  ".join(f"{text:<{width}}" for text, width in zip(row, widths, strict=False))
            print(f"  {columns}  {row[-1]}", file=out)
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
    logged = [kind.value for kind in report.kinds if kind in LOG_KINDS]
    if logged:
        print(
            f"The stalls of {' and '.join(', '.join(logged).rsplit(', ', 1))} jobs also need the poller's reads of "
            "their CloudWatch log lines, which gtwatch check does not make.",
            file=out,
        )
    if JobKind.PIPELINE in report.kinds:
        print("A pipeline execution never stalls (its steps' jobs can, as jobs of their own kind).", file=out)


def _progress_column(watched: WatchedJob) -> str:
    """Where the job stands, in its kind's terms: a labeling job's objects, a training job's secondary status, a
    tuning job's training jobs; "-" where the kind says nothing more than its status."""
    job = watched.job
    if watched.progress is not None:
        return progress_text(watched.progress)
    if not isinstance(job, KindJob):
        return "-"
    facts = job.facts
    if isinstance(facts, TrainingFacts) and facts.secondary_status and facts.secondary_status != job.status:
        return f"secondary status {clean(facts.secondary_status)}"  # Not when it repeats the status ("Failed").
    if isinstance(facts, TuningFacts):
        return tuning_progress_text(facts)
    if isinstance(facts, PipelineFacts) and facts.pipeline:
        return f"pipeline {clean(facts.pipeline)}"
    return "-"


def _print_messages(notifications: Sequence[Notification], out: TextIO) -> None:
    for notification in notifications:
        print("", file=out)
        print(f"--- {email_message.subject(notification)}", file=out)
        print(email_message.body(notification), end="", file=out)


def run_check(args: argparse.Namespace, *, out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> int:
    def command() -> None:
        session = common.make_session()
        local = load_local_config()
        accounts = local.config.accounts
        if args.regions:
            regions = [known_region(region, "--region") for region in args.regions]
        elif accounts:
            regions = []  # Each account's own, checked where cdk.json lists them.
            for index, account in enumerate(accounts):
                for at, region in enumerate(account.regions):
                    known_region(region, f"{local.path}: accounts[{index}].regions[{at}]")
        else:
            regions = [known_region(region, f"{local.path}: regions") for region in local.config.regions]
        regions = list(dict.fromkeys(regions))
        if not regions and not accounts:
            regions = [default_region(session)]
        name_contains = local.config.name_contains if args.name_contains is None else args.name_contains or None
        kinds = _kinds(args.kinds) if args.kinds else tuple(JobKind(kind) for kind in local.config.kinds)
        profiles = parse_profiles(args.profiles, accounts, session.available_profiles) if args.profiles else {}
        now = clock.now()
        since = now - timedelta(hours=args.since_hours)
        if accounts:
            report = check_accounts(
                session,
                accounts,
                regions=regions,
                profiles=profiles,
                name_contains=name_contains,
                since=since,
                now=now,
                kinds=kinds,
            )
        else:
            report = check(session, regions, name_contains=name_contains, since=since, now=now, kinds=kinds)
        print_check(report, name_contains=name_contains, out=out)
        if local.path is not None:
            taken = [
                what
                for what, from_file in (
                    ("accounts" if accounts else "regions", accounts or not args.regions),
                    ("kinds", not args.kinds and "kinds" in local.config.model_fields_set),
                    ("name filter", args.name_contains is None),
                )
                if from_file
            ]
            if taken:
                named = " and ".join(", ".join(taken).rsplit(", ", 1)).capitalize()
                print(f"({named} not given as flags come from {local.path}.)", file=out)
        if local.config.slack.mode == "app":
            check_slack_mentions(session, local, stack_name_or_default(args.stack_name), out=out)
        if report.accounts and all(look.unreadable is not None for look in report.accounts):
            raise _NothingRead("no listed account could be read (each is named above with how to give access)")

    try:
        return run_guarded(command, err)
    except _NothingRead as error:
        print(f"gtwatch: {error}", file=err)
        return 1


class _NothingRead(Exception):
    """Every listed account was unreadable: exit 1, as when AWS refuses a command."""


def _kinds(given: Sequence[str]) -> tuple[JobKind, ...]:
    """--kind, each checked as cdk.json's kinds are; OpsError names --kind and the kind it does not know."""
    unknown = [kind for kind in given if not is_kind(kind)]
    if unknown:
        raise OpsError(f"--kind: {not_a_kind(unknown[0])}")
    return tuple(JobKind(kind) for kind in dict.fromkeys(given))


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
