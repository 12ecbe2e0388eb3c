"""`gtwatch mute`, `gtwatch unmute` and `gtwatch mute --list`: a person's "not now" for one labeling job.

A mute is stored in the deployed stack's state table; the poller and the event handler drop the muted types of
notifications for that job until it ends (the digest shows the job as muted). Who muted is recorded: the caller's
AWS identity.
"""

from __future__ import annotations

import argparse
import re
import sys
from datetime import datetime, timedelta
from typing import Any, TextIO

import boto3
from watcher import clock
from watcher.aws import RETRY_CONFIG
from watcher.contract import EVENT_TYPES, OUTPUT_STATE_TABLE
from watcher.model import from_iso
from watcher.mute import Mute, MuteStore
from watcher.settings import NAME_PATTERN

from . import common
from .common import OpsError, default_region, run_guarded, utc_minute
from .config import load_local_config
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
    store: MuteStore, *, region: str, name: str, until: datetime, events: frozenset[str], by: str, now: datetime
) -> Mute:
    if not re.match(NAME_PATTERN, name):
        raise OpsError(f"{name!r} is not a labeling job name (1 to 63 letters, digits or hyphens)")
    if until <= now:
        raise OpsError(f"the mute would end at {utc_minute(until)}, which is not in the future")
    mute = Mute(region=region, name=name, until=until, events=events, by=by, at=now)
    store.put(mute)
    return mute


def add_commands(subparsers: Any) -> None:
    mute_cmd = subparsers.add_parser(
        "mute",
        help="stop notifications about one job for a while (or --list the mutes)",
        description="Drops the named types of notifications for one labeling job, on every channel, until the "
        "mute ends. The digest shows the job as muted.",
    )
    mute_cmd.add_argument("job", nargs="?", help="the labeling job's name")
    span = mute_cmd.add_mutually_exclusive_group()
    span.add_argument("--for", dest="duration", type=parse_duration, help="how long, e.g. 4h, 90m, 1d (default 4h)")
    span.add_argument("--until", type=parse_until, help="until when, e.g. 2026-12-01T09:00Z")
    mute_cmd.add_argument(
        "--events", type=parse_events, default=frozenset(EVENT_TYPES), help="which types (default: all five)"
    )
    mute_cmd.add_argument("--list", action="store_true", help="list the mutes in force instead")
    unmute_cmd = subparsers.add_parser("unmute", help="end a job's mute now")
    unmute_cmd.add_argument("job", help="the labeling job's name")
    for command in (mute_cmd, unmute_cmd):
        command.add_argument("--stack-name", help="the gtwatch stack (default: cdk.json's stack_name, else Gtwatch)")
        command.add_argument("--region", help="the stack's region (default: your configured region)")
        command.add_argument("--job-region", help="the job's region, when it is not the stack's")
    mute_cmd.set_defaults(func=run_mute)
    unmute_cmd.set_defaults(func=run_unmute)


def _store(session: boto3.session.Session, stack: StackInfo) -> MuteStore:
    dynamodb = session.client("dynamodb", region_name=stack.region, config=RETRY_CONFIG)
    return MuteStore(dynamodb, stack.output(OUTPUT_STATE_TABLE))


def _stack(session: boto3.session.Session, args: argparse.Namespace) -> StackInfo:
    stack_name = args.stack_name or load_local_config().config.stack_name
    return read_stack(session, stack_name, args.region or default_region(session))


def _who(session: boto3.session.Session) -> str:
    try:
        return str(session.client("sts", config=RETRY_CONFIG).get_caller_identity()["Arn"])
    except Exception:  # Recording who muted is a courtesy; the mute itself must not fail for it.
        return "unknown"


def run_mute(args: argparse.Namespace, *, out: TextIO | None = None, err: TextIO | None = None) -> int:
    out, err = out or sys.stdout, err or sys.stderr  # read now: the caller may have redirected them

    def command() -> None:
        session = common.make_session()
        stack = _stack(session, args)
        store = _store(session, stack)
        region = args.job_region or stack.region
        now = clock.now()
        if args.list:
            print_mutes(store, region, now, out)
            return
        if not args.job:
            raise OpsError("name the job to mute, or use --list")
        until = args.until or now + (args.duration or DEFAULT_FOR)
        mute = mute_job(store, region=region, name=args.job, until=until, events=args.events, by=_who(session), now=now)
        kinds = ", ".join(sorted(mute.events, key=EVENT_TYPES.index))
        print(f"Muted {mute.name} ({mute.region}): {kinds} until {utc_minute(mute.until)}.", file=out)

    return run_guarded(command, err)


def run_unmute(args: argparse.Namespace, *, out: TextIO | None = None, err: TextIO | None = None) -> int:
    out, err = out or sys.stdout, err or sys.stderr  # read now: the caller may have redirected them

    def command() -> None:
        session = common.make_session()
        stack = _stack(session, args)
        region = args.job_region or stack.region
        if _store(session, stack).delete(region, args.job):
            print(f"Unmuted {args.job} ({region}).", file=out)
        else:
            print(f"{args.job} ({region}) was not muted.", file=out)

    return run_guarded(command, err)


def print_mutes(store: MuteStore, region: str, now: datetime, out: TextIO) -> None:
    mutes = sorted((m for m in store.in_region(region).values() if m.until > now), key=lambda m: m.until)
    if not mutes:
        print(f"No job is muted in {region}.", file=out)
        return
    for mute in mutes:
        kinds = ", ".join(sorted(mute.events, key=EVENT_TYPES.index))
        by = f" by {mute.by}" if mute.by else ""
        print(f"{mute.name} ({mute.region}): {kinds} until {utc_minute(mute.until)}{by}", file=out)
