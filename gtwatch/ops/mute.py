"""`gtwatch mute`, `gtwatch unmute` and `gtwatch mute --list`: a person's "not now" for one job of one kind
(--kind, default labeling; a training job and a labeling job of the same name are two jobs, muted apart).

A mute is stored in the deployed stack's state table; the poller and the event handler drop the muted types of
notifications for that job until it ends (the digest shows the job as muted). Who muted is recorded: the caller's
AWS identity.

A job has one mute, the latest: muting it again replaces the earlier mute, and the command says so when that cuts a
mute short. A mute may name a job SageMaker does not know yet (muting tonight's batch in advance); the command asks
SageMaker (the kind's Describe action; Search for a pipeline execution's display name) and says so. It refuses a
region the stack does not watch, where a mute would be stored and never read.
"""

from __future__ import annotations

import argparse
import re
import sys
from datetime import datetime, timedelta
from typing import Any, TextIO

import boto3
from botocore.exceptions import BotoCoreError, ClientError
from watcher import clock
from watcher.adapters.aws import RETRY_CONFIG
from watcher.adapters.mute import MuteStore
from watcher.adapters.sagemaker_kinds import job_source
from watcher.domain.contract import EVENT_TYPES, JOB_KINDS, OUTPUT_CONFIG, OUTPUT_STATE_TABLE
from watcher.domain.job import KIND_NOUNS, JobKind, Scope
from watcher.domain.model import from_iso
from watcher.domain.mute_rules import Mute
from watcher.domain.vocabulary import NAME_PATTERN

from . import common
from .common import OpsError, known_region, resolve_region, run_guarded, utc_minute
from .config import load_local_config, parse_watcher_config
from .kinds import is_kind, not_a_kind
from .stack import StackInfo, read_stack

DEFAULT_FOR = timedelta(hours=4)
_DURATION = re.compile(r"(?:(?P<days>\d+)d)?(?:(?P<hours>\d+)h)?(?:(?P<minutes>\d+)m)?")


def parse_duration(text: str) -> timedelta:
    """4h, 90m, 1d12h: how long a mute lasts."""
    match = _DURATION.fullmatch(text.strip())
    if not match or not any(match.groupdict().values()):
        raise argparse.ArgumentTypeError(f"{text!r} is not a duration like 4h, 90m or 1d12h")
    parts = {name: int(value or 0) for name, value in match.groupdict().items()}
    duration = timedelta(**parts)
    if duration <= timedelta(0):
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive duration")
    return duration


def parse_until(text: str) -> datetime:
    """An ISO 8601 time with its zone, e.g. 2026-12-01T09:00Z or 2026-12-01T10:00+01:00."""
    try:
        return from_iso(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a time with its zone, like 2026-12-01T09:00Z or 2026-12-01T10:00+01:00"
        ) from None


def parse_events(text: str) -> frozenset[str]:
    events = [part.strip() for part in text.split(",") if part.strip()]
    unknown = [event for event in events if event not in EVENT_TYPES]
    if not events or unknown:
        raise argparse.ArgumentTypeError(f"{text!r}: use some of {', '.join(EVENT_TYPES)}")
    return frozenset(events)


def mute_job(
    store: MuteStore,
    *,
    region: str,
    name: str,
    until: datetime,
    events: frozenset[str],
    by: str,
    now: datetime,
    kind: JobKind = JobKind.LABELING,
    account: str | None = None,
) -> Mute:
    """Store a mute of the job `name` of `kind` in `region` of `account` (None: the home account)."""
    if not re.match(NAME_PATTERN, name):
        raise OpsError(f"{name!r} is not a job name (1 to 63 letters, digits or hyphens)")
    if until <= now:
        raise OpsError(f"the mute would end at {utc_minute(until)}, which is not in the future")
    mute = Mute(region=region, name=name, until=until, events=events, by=by, at=now, kind=kind, account=account)
    store.put(mute)
    return mute


def add_commands(subparsers: Any) -> None:
    mute_cmd = subparsers.add_parser(
        "mute",
        help="stop notifications about one job for a while (or --list the mutes)",
        description="Drops the named types of notifications for one job of one kind (--kind), on every channel, "
        "until the mute ends. The digest shows the job as muted.",
    )
    mute_cmd.add_argument("job", nargs="?", help="the job's name (a pipeline execution's display name)")
    span = mute_cmd.add_mutually_exclusive_group()
    span.add_argument("--for", dest="duration", type=parse_duration, help="how long, e.g. 4h, 90m, 1d (default 4h)")
    span.add_argument("--until", type=parse_until, help="until when, e.g. 2026-12-01T09:00Z")
    mute_cmd.add_argument("--events", type=parse_events, help="which types (default: all five)")
    mute_cmd.add_argument("--list", action="store_true", help="list the mutes in force instead")
    unmute_cmd = subparsers.add_parser("unmute", help="end a job's mute now")
    unmute_cmd.add_argument("job", help="the job's name (a pipeline execution's display name)")
    for command in (mute_cmd, unmute_cmd):
        command.add_argument("--stack-name", help="the gtwatch stack (default: cdk.json's stack_name, else Gtwatch)")
        command.add_argument("--region", help="the stack's region (default: your configured region)")
        command.add_argument(
            "--kind",
            default=JobKind.LABELING.value,
            metavar="KIND",
            help=f"the job's kind: {', '.join(JOB_KINDS)} (default labeling)",
        )
        command.add_argument(
            "--job-region", help="the job's region, when it is not the stack's (one of the regions the stack watches)"
        )
        command.add_argument(
            "--account", help="the job's account (id or alias of a listed account), when it is not the home account"
        )
    mute_cmd.set_defaults(func=run_mute)
    unmute_cmd.set_defaults(func=run_unmute)


def _store(session: boto3.session.Session, stack: StackInfo) -> MuteStore:
    dynamodb = session.client("dynamodb", region_name=stack.region, config=RETRY_CONFIG)
    return MuteStore(dynamodb, stack.output(OUTPUT_STATE_TABLE))


def _stack(session: boto3.session.Session, args: argparse.Namespace) -> StackInfo:
    stack_name = args.stack_name or load_local_config().config.stack_name
    return read_stack(session, stack_name, resolve_region(session, args.region, "--region"))


def _job_account(stack: StackInfo, args: argparse.Namespace) -> tuple[str | None, tuple[str, ...] | None]:
    """The job's account as scopes name it (None: the home account; else a spoke's id, from --account's id or
    alias) and the regions the stack watches there (None: the home account's, checked by _job_region)."""
    given = getattr(args, "account", None)
    if not given:
        return None, None
    accounts = parse_watcher_config(stack.outputs[OUTPUT_CONFIG]).accounts if OUTPUT_CONFIG in stack.outputs else ()
    match = next((a for a in accounts if given in (a.get("id"), a.get("alias"))), None)
    if match is None:
        listed = ", ".join(a.get("alias") or a.get("id", "?") for a in accounts) or "none but its own"
        raise OpsError(f"--account: stack {stack.name} does not watch {given!r}; it watches {listed}")
    if match is accounts[0]:
        return None, None
    return str(match["id"]), tuple(match.get("regions") or ())


def _job_region(stack: StackInfo, args: argparse.Namespace, spoke_regions: tuple[str, ...] | None = None) -> str:
    """The job's region (--job-region, else the stack's), refused when the stack does not watch it: a mute there
    would be stored and never read."""
    region = known_region(args.job_region, "--job-region") if args.job_region else stack.region
    if spoke_regions is not None:
        if region in spoke_regions:
            return region
        raise OpsError(f"--job-region: {args.account} is watched in {', '.join(spoke_regions)}, not {region}")
    if OUTPUT_CONFIG not in stack.outputs:
        return region  # An older stack does not say which regions it watches.
    watched = parse_watcher_config(stack.outputs[OUTPUT_CONFIG]).regions or (stack.region,)
    if region in watched:
        return region
    if args.job_region:
        raise OpsError(f"--job-region: stack {stack.name} does not watch {region}; it watches {', '.join(watched)}")
    raise OpsError(
        f"stack {stack.name} does not watch its own region {region}; it watches {', '.join(watched)}: name the "
        "job's region with --job-region"
    )


def _kind(given: str) -> JobKind:
    """--kind, checked as cdk.json's kinds are (one line naming the flag, and the kind meant for a near miss)."""
    if not is_kind(given):
        raise OpsError(f"--kind: {not_a_kind(given)}")
    return JobKind(given)


def _list_extras(args: argparse.Namespace) -> list[str]:
    """What was given with --list that --list does not take."""
    extras = [f"the job {args.job!r}"] if args.job else []
    extras += [
        flag
        for flag, value in (("--for", args.duration), ("--until", args.until), ("--events", args.events))
        if value is not None
    ]
    return extras


def _known_job_notice(session: boto3.session.Session, scope: Scope, name: str) -> str | None:
    """A line for the person when SageMaker does not know the job (yet), or could not be asked; None when it does."""
    region = scope.region
    sagemaker = session.client("sagemaker", region_name=region, config=RETRY_CONFIG)
    source = job_source(sagemaker, None, scope)
    try:
        if source.describe(name) is not None:
            return None
    except (ClientError, BotoCoreError) as error:  # The mute is stored by now; only the check failed.
        code = (
            error.response.get("Error", {}).get("Code", "?") if isinstance(error, ClientError) else type(error).__name__
        )
        return f"Could not check that a {_noun(scope.kind)} named {name} exists in {region} ({code}); the mute applies "
        "either way."
    return f"No {_noun(scope.kind)} named {name} is known in {region} yet; the mute applies when it appears."


def _noun(kind: JobKind) -> str:
    """How the notices name a job of `kind`: "job" for labeling (as before kinds), "training job", "pipeline
    execution"."""
    if kind is JobKind.LABELING:
        return "job"
    return KIND_NOUNS[kind].lower()


def _replaced_notice(earlier: Mute | None, mute: Mute, now: datetime) -> str | None:
    """A line for the person when the new mute replaces one still in force (a job has one mute: the latest)."""
    if earlier is None or earlier.until <= now:
        return None
    before = f"{_types(earlier.events)} until {utc_minute(earlier.until)}"
    if earlier.until > mute.until:
        return (
            f"This replaces a longer mute ({before}): the job is muted until {utc_minute(mute.until)} now, "
            f"not {utc_minute(earlier.until)}."
        )
    return f"This replaces the earlier mute ({before})."


def _types(events: frozenset[str]) -> str:
    return ", ".join(sorted(events, key=EVENT_TYPES.index))


def _who(session: boto3.session.Session) -> str:
    try:
        return str(session.client("sts", config=RETRY_CONFIG).get_caller_identity()["Arn"])
    except Exception:  # Recording who muted is a courtesy; the mute itself must not fail for it.
        return "unknown"


def run_mute(args: argparse.Namespace, *, out: TextIO | None = None, err: TextIO | None = None) -> int:
    out, err = out or sys.stdout, err or sys.stderr  # read now: the caller may have redirected them

    def command() -> None:
        if args.list and (extras := _list_extras(args)):
            raise OpsError(f"--list takes no job, --for, --until or --events; drop {', '.join(extras)}")
        if not args.list and not args.job:
            raise OpsError("name the job to mute, or use --list")
        kind = _kind(args.kind)
        session = common.make_session()
        stack = _stack(session, args)
        store = _store(session, stack)
        account, spoke_regions = _job_account(stack, args)
        region = _job_region(stack, args, spoke_regions)
        scope = Scope(region, kind, account)
        now = clock.now()
        if args.list:
            print_mutes(store, region, now, out, account)
            return
        until = args.until or now + (args.duration or DEFAULT_FOR)
        events = args.events or frozenset(EVENT_TYPES)
        earlier = store.for_job(scope, args.job)
        mute = mute_job(
            store,
            region=region,
            name=args.job,
            until=until,
            events=events,
            by=_who(session),
            now=now,
            kind=kind,
            account=account,
        )
        print(f"Muted {_named(mute)}: {_types(mute.events)} until {utc_minute(mute.until)}.", file=out)
        # A spoke's jobs are read through its role, which the person's credentials need not reach: not checked.
        known = _known_job_notice(session, scope, mute.name) if account is None else None
        for notice in (_replaced_notice(earlier, mute, now), known):
            if notice is not None:
                print(notice, file=out)

    return run_guarded(command, err)


def run_unmute(args: argparse.Namespace, *, out: TextIO | None = None, err: TextIO | None = None) -> int:
    out, err = out or sys.stdout, err or sys.stderr  # read now: the caller may have redirected them

    def command() -> None:
        kind = _kind(args.kind)
        session = common.make_session()
        stack = _stack(session, args)
        account, spoke_regions = _job_account(stack, args)
        scope = Scope(_job_region(stack, args, spoke_regions), kind, account)
        where = _where(scope)
        if _store(session, stack).delete(scope, args.job):
            print(f"Unmuted {args.job} ({where}).", file=out)
        else:
            print(f"{args.job} ({where}) was not muted.", file=out)

    return run_guarded(command, err)


def print_mutes(store: MuteStore, region: str, now: datetime, out: TextIO, account: str | None = None) -> None:
    every = (mute for kind in JobKind for mute in store.in_scope(Scope(region, kind, account)).values())
    mutes = sorted((m for m in every if m.until > now), key=lambda m: m.until)
    if not mutes:
        print(f"No job is muted in {region}.", file=out)
        return
    for mute in mutes:
        by = f" by {mute.by}" if mute.by else ""
        print(f"{_named(mute)}: {_types(mute.events)} until {utc_minute(mute.until)}{by}", file=out)


def _where(scope: Scope) -> str:
    """A job's region, its kind unless labeling and its account unless the home one: "us-east-1", "training,
    us-east-1", "training, 111111111111 us-east-1"."""
    where = scope.region if scope.account is None else f"{scope.account} {scope.region}"
    return where if scope.kind is JobKind.LABELING else f"{scope.kind.value}, {where}"


def _named(mute: Mute) -> str:
    return f"{mute.name} ({_where(mute.scope)})"
