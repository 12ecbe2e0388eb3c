"""What every operator command shares: the AWS session, the user-facing error, and exit codes for what goes wrong."""

from __future__ import annotations

import difflib
import os
from collections.abc import Callable
from datetime import UTC, datetime
from functools import cache
from typing import TextIO

import boto3
import botocore
import botocore.session
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError, NoRegionError


class OpsError(Exception):
    """A problem the user can fix (credentials, region, arguments); printed without a traceback."""


def make_session() -> boto3.session.Session:
    """The session every command uses (the tests replace it to watch every call made)."""
    return boto3.session.Session(region_name=os.environ.get("AWS_REGION") or None)


def default_region(session: boto3.session.Session) -> str:
    """The region as the AWS CLI and the CDK CLI find it: AWS_REGION, then AWS_DEFAULT_REGION, then the profile's.

    boto3 alone reads AWS_DEFAULT_REGION and the profile only, so `cdk deploy` and gtwatch could otherwise target
    different regions from the same shell.
    """
    region = os.environ.get("AWS_REGION") or session.region_name
    if not region:
        raise OpsError(
            "no region: pass --region, or set AWS_REGION (or AWS_DEFAULT_REGION), or a region in your AWS profile "
            "(~/.aws/config, AWS_PROFILE)"
        )
    return known_region(str(region), _region_source(session))


def resolve_region(session: boto3.session.Session, given: str | None, flag: str) -> str:
    """The region a flag gives (checked), else the configured one (default_region)."""
    return known_region(given, flag) if given else default_region(session)


def known_region(region: str, where: str) -> str:
    """`region` if botocore's partition data knows it; else one line naming where it came from and what is close."""
    regions = _known_regions()
    if region in regions:
        return region
    close = difflib.get_close_matches(region, sorted(regions), n=3)
    hint = (
        f"; did you mean {' or '.join(close)}?"
        if close
        else f"; known regions include {', '.join(sorted(regions)[:5])} ..."
    )
    raise OpsError(
        f"{where}: {region!r} is not an AWS region that botocore {botocore.__version__} knows{hint} "
        "(a region newer than botocore needs an upgrade)"
    )


@cache
def _known_regions() -> frozenset[str]:
    """Every region of every partition (aws, aws-cn, aws-us-gov, ...) in botocore's endpoint data."""
    endpoints = botocore.session.get_session().get_data("endpoints")
    return frozenset(region for partition in endpoints["partitions"] for region in partition["regions"])


def _region_source(session: boto3.session.Session) -> str:
    if os.environ.get("AWS_REGION"):
        return "AWS_REGION"
    if os.environ.get("AWS_DEFAULT_REGION"):
        return "AWS_DEFAULT_REGION"
    return f"the region of AWS profile {session.profile_name!r}"


def utc_minute(moment: datetime) -> str:
    """A time for people: converted to UTC first, so a machine in another time zone prints the same."""
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def run_guarded(command: Callable[[], None], err: TextIO) -> int:
    """Run a command against AWS, turning what goes wrong into a message and an exit code (2: yours, 1: AWS's)."""
    try:
        command()
    except OpsError as error:
        print(f"gtwatch: {error}", file=err)
        return 2
    except (NoCredentialsError, NoRegionError) as error:
        print(f"gtwatch: {error} (configure AWS credentials and a region as for the AWS CLI)", file=err)
        return 2
    except ClientError as error:
        details = error.response.get("Error", {})
        print(f"gtwatch: AWS refused: {details.get('Code', '?')}: {details.get('Message', error)}", file=err)
        return 1
    except BotoCoreError as error:
        print(f"gtwatch: {type(error).__name__}: {error}", file=err)
        return 1
    return 0
