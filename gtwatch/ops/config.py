"""The gtwatch settings the operator commands start from: cdk.json's `gtwatch` context, and the deployed stack's
WatcherConfig output.

cdk.json is read here with the standard library and pydantic, not through infra/ (the CDK is a development
dependency, and the operator commands need only the runtime's). Only the keys the commands use are read; `cdk
synth` remains the one full check of the file. The kinds and their stall thresholds are checked by the same rules
as at `cdk synth` (gtwatch.ops.kinds, which infra/ uses too).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, Strict, ValidationError, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError
from watcher.domain.contract import DEFAULT_KINDS, KindName
from watcher.domain.diff import WatchRules
from watcher.domain.job import JobKind
from watcher.domain.text import value_text
from watcher.domain.vocabulary import (
    CONTEXT_KEY,
    DEFAULT_STACK_NAME,
    EVENT_TYPES,
    NOTIFICATION_CHANNELS,
    EventName,
    SlackMode,
)

from .accounts import Account, parse_accounts
from .common import OpsError
from .kinds import DEFAULT_STALL_AFTER_MINUTES, StallAfter, parse_kinds, parse_stall_after, stall_thresholds

CDK_JSON = "cdk.json"

_Model = TypeVar("_Model", bound=BaseModel)


class LocalSlack(BaseModel):
    """cdk.json's `slack`: app mode's routes and the secret of its bot token (`gtwatch check` looks up mentions)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    mode: SlackMode = "webhook"
    routes: Any = None  # checked by watcher.domain.slack_routes.parse_routes where it is used, as `cdk synth` checks it
    token_secret_name: Annotated[str | None, Strict()] = None


class LocalConfig(BaseModel):
    """What the commands take from cdk.json when no flag says otherwise."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    stack_name: Annotated[str, Strict(), Field(min_length=1)] = DEFAULT_STACK_NAME
    regions: tuple[Annotated[str, Strict()], ...] = ()
    name_contains: Annotated[str | None, Strict()] = None
    slack: LocalSlack = LocalSlack()
    # What `gtwatch emulator` deploys with; `cdk synth` checks them fully.
    slack_events: tuple[EventName, ...] = EVENT_TYPES
    email_events: tuple[EventName, ...] = EVENT_TYPES
    # Checked as `cdk synth` checks them (gtwatch.ops.kinds); `kinds` first, as the thresholds name watched kinds.
    kinds: tuple[KindName, ...] = DEFAULT_KINDS
    stall_after_minutes: int | dict[KindName, int] = DEFAULT_STALL_AFTER_MINUTES
    stall_repeat_minutes: Annotated[int | None, Strict(), Field(ge=1)] = None
    # Checked as `cdk synth` checks them (gtwatch.ops.accounts); empty: the home account alone, in `regions`.
    accounts: tuple[Account, ...] = ()

    @field_validator("accounts", mode="before")
    @classmethod
    def _check_accounts(cls, raw: Any) -> tuple[Account, ...]:
        if raw is None:
            return ()
        try:
            return parse_accounts(raw, "accounts")
        except ValueError as error:
            raise _named(error) from None

    @field_validator("kinds", mode="before")
    @classmethod
    def _check_kinds(cls, raw: Any) -> tuple[KindName, ...]:
        try:
            return parse_kinds(raw, "kinds")
        except ValueError as error:
            raise _named(error) from None

    @field_validator("stall_after_minutes", mode="before")
    @classmethod
    def _check_stall_after_minutes(cls, raw: Any, info: ValidationInfo) -> StallAfter:
        try:
            return parse_stall_after(raw, "stall_after_minutes", kinds=info.data.get("kinds"))
        except ValueError as error:
            raise _named(error) from None

    @property
    def stall_thresholds(self) -> dict[KindName, int | None]:
        """Each watched kind's minutes without progress before a stall; None: it never stalls."""
        return stall_thresholds(self.kinds, self.stall_after_minutes)


class RouteSettings(BaseModel):
    """One Slack route of an app-mode stack: `channel` gets `events` for jobs whose name holds `name_contains`, of
    `kinds` (None: every watched kind)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    channel: str
    events: tuple[str, ...]
    name_contains: str | None = None
    mention: str | None = None
    kinds: tuple[str, ...] | None = None


class SlackSettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    # Any text: a stack deployed by a newer gtwatch may have a mode this one does not know (it shows it as it is).
    mode: str = "webhook"
    routes: tuple[RouteSettings, ...] | None = None  # App mode only.


class QuietHoursSettings(BaseModel):
    """A daily window, local time in `timezone`, in which `hold` notifications wait for its end on `channels`."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    start: str
    end: str
    timezone: str
    hold: tuple[str, ...]
    channels: tuple[str, ...] = NOTIFICATION_CHANNELS


class DigestSettings(BaseModel):
    """A summary every day at `at` local time in `timezone`, to `channels` (in app mode, Slack's is `slack_channel`)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    at: str
    timezone: str
    channels: tuple[str, ...]
    slack_channel: str | None = None


class WatcherConfig(BaseModel):
    """The effective configuration a stack was deployed with (its WatcherConfig output)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    regions: tuple[str, ...] = ()
    # The listed accounts ({id, alias, regions}), the home account first; empty for a stack of one account.
    accounts: tuple[dict[str, Any], ...] = ()
    # Text, not KindName: a stack deployed by a newer gtwatch may watch a kind this one does not know (shown as is).
    # A stack deployed before kinds watched labeling jobs only.
    kinds: tuple[str, ...] = DEFAULT_KINDS
    name_contains: str | None = None
    slack_events: tuple[str, ...] = EVENT_TYPES
    email_events: tuple[str, ...] = EVENT_TYPES
    # As configured: a number, or minutes by kind.
    stall_after_minutes: int | dict[str, int] = DEFAULT_STALL_AFTER_MINUTES
    # Each watched kind's threshold, None for one that never stalls (absent from a stack deployed before kinds).
    stall_after_minutes_by_kind: dict[str, int | None] | None = None
    stall_repeat_minutes: int | None = None
    schedule_minutes: int = 5
    # None: the stack was deployed by a gtwatch older than Slack app mode, quiet hours and the digest.
    slack: SlackSettings | None = None
    quiet_hours: QuietHoursSettings | None = None
    digest: DigestSettings | None = None

    @property
    def stall_thresholds(self) -> dict[str, int | None]:
        """Each watched kind's minutes without progress before a stall; None: it never stalls."""
        if self.stall_after_minutes_by_kind is not None:
            return {kind: self.stall_after_minutes_by_kind.get(kind) for kind in self.kinds}
        # A stack deployed before kinds: labeling jobs, stalling after the one number.
        if isinstance(self.stall_after_minutes, dict):
            return {kind: self.stall_after_minutes.get(kind) for kind in self.kinds}
        return {kind: self.stall_after_minutes if kind != "pipeline" else None for kind in self.kinds}

    def stalls(self, kind: str) -> bool:
        return self.stall_thresholds.get(kind) is not None

    @property
    def rules(self) -> WatchRules:
        """The stall and filter rules as the poller applies them, kind by kind."""
        repeat = self.stall_repeat_minutes
        return WatchRules(
            stall_after=timedelta(minutes=DEFAULT_STALL_AFTER_MINUTES),
            stall_repeat=None if repeat is None else timedelta(minutes=repeat),
            name_contains=self.name_contains,
            stall_after_by_kind={
                JobKind(kind): timedelta(minutes=minutes)
                for kind, minutes in self.stall_thresholds.items()
                if minutes is not None
            },
        )


@dataclass(frozen=True)
class Loaded:
    config: LocalConfig
    path: Path | None  # None: no cdk.json here, the defaults apply.


def load_local_config(directory: Path | None = None) -> Loaded:
    """The `gtwatch` context of ./cdk.json (the file the CDK CLI reads too), or the defaults when there is none."""
    path = (directory or Path.cwd()) / CDK_JSON
    if not path.is_file():
        return Loaded(LocalConfig(), None)
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise OpsError(f"{path}: cannot read it as JSON ({error})") from None
    context = document.get("context", {}) if isinstance(document, dict) else None
    raw = context.get(CONTEXT_KEY) if isinstance(context, dict) else None
    if raw is None:
        return Loaded(LocalConfig(), path)
    return Loaded(_validate(LocalConfig, raw, f"{path}: context.{CONTEXT_KEY}"), path)


def parse_watcher_config(text: str) -> WatcherConfig:
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as error:
        raise OpsError(f"the stack's WatcherConfig output is not JSON ({error})") from None
    return _validate(WatcherConfig, raw, "the stack's WatcherConfig output")


def _validate(model: type[_Model], raw: Any, where: str) -> _Model:
    if not isinstance(raw, dict):
        raise OpsError(f"{where}: expected an object, got {value_text(raw)}")
    try:
        return model.model_validate(raw)
    except ValidationError as error:
        problems = "; ".join(
            str(item["msg"])
            if item["type"] == _NAMED
            else f"{_field(item['loc'])}: {value_text(item['input'])} is not valid ({item['msg']})"
            for item in error.errors()
        )
        raise OpsError(f"{where}: {problems}") from None


# A mistake whose message already names its key (`kinds[1]: 'trainng' is not a job kind; ...`).
_NAMED = "gtwatch_named"


def _named(error: ValueError) -> PydanticCustomError:
    return PydanticCustomError(_NAMED, "{message}", {"message": str(error)})


def _field(loc: tuple[int | str, ...]) -> str:
    """A field's path as the file writes it: regions[0], not regions.0."""
    return "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in loc).removeprefix(".")
