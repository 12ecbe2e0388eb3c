"""What every operator command shares: the AWS session, the user-facing error, and exit codes for what goes wrong."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import TextIO

import boto3
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError, NoRegionError


class OpsError(Exception):
    """A problem the user can fix (credentials, region, arguments); printed without a traceback."""


def make_session() -> boto3.session.Session:
    """The session every command uses (the tests replace it to watch every call made)."""
    return boto3.session.Session()


def default_region(session: boto3.session.Session) -> str:
    if not session.region_name:
        raise OpsError(
            "no region: pass --region, or set AWS_DEFAULT_REGION, or a region in your AWS profile (~/.aws/config, "
            "AWS_PROFILE): boto3 reads no other variable for it"
        )
    return str(session.region_name)


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
