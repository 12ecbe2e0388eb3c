"""STS adapter: a boto3 session per watched spoke account, through the read-only role its spoke stack created.

The role is assumed once per container and its credentials refreshed by botocore before they expire (a
RefreshableCredentials on the session: advisory refresh 15 minutes, mandatory 10 minutes before expiry), so a run
pays one AssumeRole call per spoke an hour at most, not one per run. Calls then count against the spoke's own API
quotas. A role that cannot be assumed (deleted, denied, throttled) raises AccountUnreadable on the first call that
needs its credentials: the poll skips that account's scopes and names it; the others go on.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import boto3
import botocore.session
from botocore.credentials import RefreshableCredentials
from botocore.exceptions import BotoCoreError, ClientError

from watcher.domain.accounts import AccountUnreadable, WatchedAccount
from watcher.domain.job import Scope
from watcher.domain.model import AnyJob
from watcher.domain.ports import JobSource

if TYPE_CHECKING:
    from mypy_boto3_sts import STSClient

# How long the assumed role's credentials last (AssumeRole's default and the most role chaining allows).
SESSION_SECONDS = 3600
SESSION_NAME = "gtwatch"


def spoke_session(
    sts: STSClient, account: WatchedAccount, *, external_id: str | None, data_loader: Any | None = None
) -> boto3.session.Session:
    """A session whose credentials are the spoke role's, assumed when first needed and refreshed before expiry."""
    if account.role_arn is None:
        raise ValueError(f"account {account.id}: the home account is read with the functions' own role")
    role_arn = account.role_arn

    def assume() -> dict[str, str]:
        params: dict[str, Any] = {
            "RoleArn": role_arn,
            "RoleSessionName": SESSION_NAME,
            "DurationSeconds": SESSION_SECONDS,
        }
        if external_id:
            params["ExternalId"] = external_id
        try:
            credentials = sts.assume_role(**params)["Credentials"]
        except ClientError as error:
            raise AccountUnreadable(account, error.response.get("Error", {}).get("Code", "error")) from error
        except BotoCoreError as error:
            raise AccountUnreadable(account, type(error).__name__) from error
        expiry = credentials["Expiration"]
        return {
            "access_key": credentials["AccessKeyId"],
            "secret_key": credentials["SecretAccessKey"],
            "token": credentials["SessionToken"],
            "expiry_time": (expiry if isinstance(expiry, datetime) else datetime.fromisoformat(str(expiry)))
            .astimezone(UTC)
            .isoformat(),
        }

    core = botocore.session.get_session()
    if data_loader is not None:
        core.register_component("data_loader", data_loader)
    # Refreshable credentials on the botocore session: how botocore's own assume-role provider keeps them fresh.
    credentials = RefreshableCredentials.create_from_metadata(
        metadata=assume(), refresh_using=assume, method="sts-assume-role"
    )
    core._credentials = credentials  # type: ignore[attr-defined]
    return boto3.session.Session(botocore_session=core)


# What a spoke answers when the hub's credentials for it no longer work: the role's sessions were revoked, its trust
# changed, or the session expired. The account cannot be read until the role is assumed again.
DENIED_CODES = frozenset(
    {
        "AccessDenied",
        "AccessDeniedException",
        "ExpiredToken",
        "ExpiredTokenException",
        "InvalidClientTokenId",
        "UnrecognizedClientException",
    }
)


class InAccount:
    """A JobSource of one listed account: every job it answers with names its account (a spoke's id as its scope
    does; None for the home account), and the account's id and alias as people read them. For a spoke, an answer
    that its credentials are denied raises AccountUnreadable after `forget` drops them (the next run assumes the role
    again)."""

    def __init__(self, source: JobSource, account: WatchedAccount, forget: Callable[[], None] | None = None) -> None:
        self._source = source
        self._account = account
        self._forget = forget

    @property
    def scope(self) -> Scope:
        return self._source.scope

    def list_active(self, *, name_contains: str | None, every_status: bool) -> Iterator[AnyJob]:
        jobs = self._source.list_active(name_contains=name_contains, every_status=every_status)
        return map(self._stamp, self._guarded(jobs))

    def list_recent(
        self,
        *,
        created_after: datetime | None = None,
        modified_after: datetime | None = None,
        name_contains: str | None = None,
    ) -> Iterator[AnyJob]:
        jobs = self._source.list_recent(
            created_after=created_after, modified_after=modified_after, name_contains=name_contains
        )
        return map(self._stamp, self._guarded(jobs))

    def describe(self, name: str, arn: str | None = None) -> AnyJob | None:
        try:
            job = self._source.describe(name, arn)
        except ClientError as error:
            self._raise_if_denied(error)
            raise
        return None if job is None else self._stamp(job)

    def newest_log_lines(self, names: Sequence[str]) -> Mapping[str, datetime | None]:
        # A log read that fails leaves its jobs unread (job_logs); the next listing says whether the account is denied.
        return self._source.newest_log_lines(names)

    def _guarded(self, jobs: Iterator[AnyJob]) -> Iterator[AnyJob]:
        try:
            yield from jobs
        except ClientError as error:
            self._raise_if_denied(error)
            raise

    def _raise_if_denied(self, error: ClientError) -> None:
        """AccountUnreadable for a spoke whose credentials are denied, after forgetting them."""
        code = error.response.get("Error", {}).get("Code", "")
        if self._account.is_home or code not in DENIED_CODES:
            return
        if self._forget is not None:
            self._forget()
        raise AccountUnreadable(self._account, code) from error

    def _stamp(self, job: AnyJob) -> AnyJob:
        account = self._account
        return dataclasses.replace(
            job, account=account.scope_account, account_id=account.id, account_alias=account.alias
        )
