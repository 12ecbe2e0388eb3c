"""Typed settings of each handler, read from the environment the stack sets; a bad value fails at cold start.

Each function's settings build on shared parts (WatchSettings: what every function that looks at jobs reads; the
list, URL and quiet-hours value types), name their variables through watcher.domain.env.Env, and hold the
Slack mode to the rules in watcher.domain.vocabulary. Each value is parsed once, when the settings are read: once per
container.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import replace
from datetime import timedelta
from functools import cached_property
from typing import Annotated, ClassVar, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainValidator,
    ValidationError,
    model_validator,
)

from watcher import container
from watcher.adapters.job_logs import LOG_READS_PER_RUN
from watcher.domain.accounts import Accounts, WatchedAccount
from watcher.domain.contract import (
    DEFAULT_KINDS,
    JOB_KINDS,
    SLACK_HTTP_TIMEOUT_SECONDS,
    SLACK_MAX_RETRY_AFTER_SECONDS,
    SPOKE_ROLE_NAME,
    STALLING_KINDS,
    pairs_per_invocation,
)
from watcher.domain.diff import WatchRules
from watcher.domain.env import LAMBDA_REGION, Env
from watcher.domain.job import JobKind, Scope, partition_of
from watcher.domain.quiet import QuietHours, parse_quiet_hours
from watcher.domain.slack_routes import Route, parse_routes, webhook_route
from watcher.domain.vocabulary import (
    EVENT_TYPES,
    NAME_PATTERN,
    NOTIFICATION_CHANNELS,
    REGION_PATTERN,
    Channel,
    SlackChoice,
    SlackMode,
    SlackNames,
    slack_mode_problems,
)

SLACK_API_URL = "https://slack.com/api/"


Settings = TypeVar("Settings", bound="_EnvSettings")


def comma_list(value: object) -> object:
    """An environment variable's "a, b,c" as ("a", "b", "c"); other values as they are."""
    if isinstance(value, str):
        return tuple(part.strip() for part in value.split(",") if part.strip())
    return value


def settings(model: type[Settings]) -> Settings:
    """The handler's settings, read once per container; a bad value fails the cold start naming the variable."""
    return container.keep(f"settings:{model.__name__}", model.from_env)


class SettingsError(ValueError):
    """A setting is missing or invalid; the message names the environment variable."""


class _EnvSettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    # Maps each field to the environment variable it is read from.
    ENV: ClassVar[Mapping[str, str]] = {}

    @classmethod
    def from_env(cls: type[Settings], environ: Mapping[str, str] | None = None) -> Settings:
        environ = os.environ if environ is None else environ
        raw = {name: environ[var] for name, var in cls.ENV.items() if environ.get(var, "") != ""}
        try:
            return cls(**raw)
        except ValidationError as error:
            problems = []
            for item in error.errors():
                if not item["loc"]:  # A rule across settings; its message names the variables itself.
                    problems.append(str(item["msg"]).removeprefix("Value error, "))
                    continue
                field_name = str(item["loc"][0])
                var = cls.ENV.get(field_name, field_name)
                if item["type"] == "missing":
                    problems.append(f"{var} is required")
                else:
                    problems.append(f"{var}: {item['msg']} (got {item.get('input')!r})")
            raise SettingsError("invalid settings: " + "; ".join(problems)) from None


def _known_events(value: tuple[str, ...]) -> tuple[str, ...]:
    for event in value:
        if event not in EVENT_TYPES:
            raise ValueError(f"{event!r} is not one of {', '.join(EVENT_TYPES)}")
    return value


def _regions(value: tuple[str, ...]) -> tuple[str, ...]:
    for region in value:
        if not re.match(REGION_PATTERN, region):
            raise ValueError(f"{region!r} is not a region name like us-east-1")
    if len(set(value)) != len(value):
        raise ValueError("a region is listed twice")
    return value


def _quiet_hours(value: object) -> QuietHours | None:
    """GTWATCH_QUIET_HOURS's JSON, parsed once when the settings are read."""
    if value is None or isinstance(value, QuietHours):
        return value
    if not isinstance(value, str):
        raise ValueError("expected the quiet hours as JSON text")
    try:
        return parse_quiet_hours(json.loads(value))
    except ValueError as error:  # json.JSONDecodeError is a ValueError
        raise ValueError(str(error)) from None


def _zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"{value!r} is not an IANA time zone name such as Europe/Berlin") from None
    return value


def _kinds(value: tuple[str, ...]) -> tuple[JobKind, ...]:
    kinds = []
    for name in value:
        if name not in JOB_KINDS:
            raise ValueError(f"{name!r} is not a job kind; the kinds are {', '.join(JOB_KINDS)}")
        kinds.append(JobKind(name))
    if len(set(kinds)) != len(kinds):
        raise ValueError("a kind is listed twice")
    return tuple(kinds)


def _stall_after(value: object) -> object:
    """GTWATCH_STALL_AFTER_MINUTES: a whole number (every kind that can stall) or a JSON object by kind."""
    if isinstance(value, str) and value.lstrip().startswith("{"):
        try:
            parsed = json.loads(value)
        except ValueError as error:
            raise ValueError(f"not JSON: {error}") from None
        for name in parsed:
            if name not in STALLING_KINDS:
                raise ValueError(f"{name!r} is not a job kind that can stall; those are {', '.join(STALLING_KINDS)}")
        return parsed
    return value


def _accounts(value: object) -> Accounts | None:
    """GTWATCH_ACCOUNTS: JSON, [{"id", "alias"?, "regions", "role_arn"?}], the home account first (no role_arn). A
    spoke's role_arn defaults to its reader role (contract.SPOKE_ROLE_NAME) in the home region's partition."""
    if value is None or isinstance(value, Accounts):
        return value
    if not isinstance(value, str):
        raise ValueError("expected the accounts as JSON text")
    try:
        raw = json.loads(value)
    except ValueError as error:
        raise ValueError(f"not JSON: {error}") from None
    if not isinstance(raw, list) or not raw:
        raise ValueError("expected a non-empty list of accounts")
    accounts = []
    for position, entry in enumerate(raw):
        where = f"[{position}]"
        if not isinstance(entry, dict) or not re.fullmatch(r"\d{12}", str(entry.get("id", ""))):
            raise ValueError(f"{where}.id: a 12-digit account id is required")
        regions = entry.get("regions")
        if not isinstance(regions, list) or not regions:
            raise ValueError(f"{where}.regions: a non-empty list of regions is required")
        _regions(tuple(regions))
        role_arn = entry.get("role_arn")
        if position == 0 and role_arn is not None:
            raise ValueError(f"{where}.role_arn: the home account has none")
        if position > 0 and role_arn is None:
            role_arn = f"arn:{partition_of(regions[0])}:iam::{entry['id']}:role/{SPOKE_ROLE_NAME}"
        if role_arn is not None and not re.fullmatch(r"arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]+", role_arn):
            raise ValueError(f"{where}.role_arn: {role_arn!r} is not an IAM role ARN")
        accounts.append(
            WatchedAccount(id=entry["id"], regions=tuple(regions), alias=entry.get("alias"), role_arn=role_arn)
        )
    if len({account.id for account in accounts}) != len(accounts):
        raise ValueError("an account is listed twice")
    return Accounts(tuple(accounts))


# The values of list variables ("a, b,c"), checked item by item; a URL the settings call.
AccountList = Annotated[Accounts | None, PlainValidator(_accounts)]
KindList = Annotated[tuple[JobKind, ...], BeforeValidator(comma_list), AfterValidator(_kinds)]
StallAfter = Annotated[
    Annotated[int, Field(ge=1)] | dict[str, Annotated[int, Field(ge=1)]], BeforeValidator(_stall_after)
]
EventList = Annotated[tuple[str, ...], BeforeValidator(comma_list), AfterValidator(_known_events)]
RegionList = Annotated[tuple[str, ...], BeforeValidator(comma_list), AfterValidator(_regions)]
ChannelList = Annotated[tuple[Channel, ...], BeforeValidator(comma_list)]
QuietHoursSetting = Annotated[QuietHours | None, PlainValidator(_quiet_hours)]
Url = Annotated[str, Field(pattern=r"^https?://")]


class WatchSettings(_EnvSettings):
    """What every function that looks at jobs reads: their table, the topic, the regions, the schedule and the
    stall rules."""

    ENV: ClassVar[Mapping[str, str]] = {
        "table_name": Env.TABLE_NAME,
        "topic_arn": Env.TOPIC_ARN,
        "regions": Env.REGIONS,
        "kinds": Env.KINDS,
        "accounts": Env.ACCOUNTS,
        "stall_after_minutes": Env.STALL_AFTER_MINUTES,
        "stall_repeat_minutes": Env.STALL_REPEAT_MINUTES,
        "schedule_minutes": Env.SCHEDULE_MINUTES,
        "home_region": LAMBDA_REGION,
    }

    table_name: Annotated[str, Field(min_length=3)]
    topic_arn: Annotated[str, Field(pattern=r"^arn:aws[a-z-]*:sns:")]
    home_region: Annotated[str, Field(pattern=REGION_PATTERN)]
    regions: RegionList = ()
    kinds: KindList = tuple(JobKind(kind) for kind in DEFAULT_KINDS)
    accounts: AccountList = None
    stall_after_minutes: StallAfter = 60
    stall_repeat_minutes: Annotated[int | None, Field(ge=1)] = None
    schedule_minutes: Annotated[int, Field(ge=1, le=1440)] = 5

    @property
    def watched_regions(self) -> tuple[str, ...]:
        return self.regions or (self.home_region,)

    @property
    def watched_kinds(self) -> tuple[JobKind, ...]:
        return self.kinds

    @property
    def watched_accounts(self) -> Accounts:
        """The home account (GTWATCH_ACCOUNTS' first, else this one, watching GTWATCH_REGIONS) and the spokes."""
        if self.accounts is not None:
            return self.accounts
        return Accounts((WatchedAccount(id="", regions=self.watched_regions),))

    @property
    def watched_scopes(self) -> tuple[Scope, ...]:
        """Each watched kind in each watched region of each watched account: what a run lists."""
        return self.watched_accounts.scopes(self.kinds)

    @property
    def rules(self) -> WatchRules:
        """The stall rules (a job's progress, as the digest reports it too)."""
        by_kind = self.stall_after_minutes
        return WatchRules(
            stall_after=timedelta(minutes=by_kind if isinstance(by_kind, int) else 60),
            stall_repeat=None if self.stall_repeat_minutes is None else timedelta(minutes=self.stall_repeat_minutes),
            stall_after_by_kind=None
            if isinstance(by_kind, int)
            else {JobKind(kind): timedelta(minutes=minutes) for kind, minutes in by_kind.items()},
        )


class PollerSettings(WatchSettings):
    """The poller's, the event handler's and the watch start's: what to watch and when to hold news."""

    ENV: ClassVar[Mapping[str, str]] = {
        **WatchSettings.ENV,
        "name_contains": Env.NAME_CONTAINS,
        "quiet_hours": Env.QUIET_HOURS,
        "email_events": Env.EMAIL_EVENTS,
        "log_reads_per_run": Env.LOG_READS_PER_RUN,
        "spoke_external_id": Env.SPOKE_EXTERNAL_ID,
    }

    name_contains: Annotated[str | None, Field(pattern=NAME_PATTERN)] = None
    quiet_hours: QuietHoursSetting = None
    # What the email subscriptions take: a notification releases the job's held email only if it goes by email.
    email_events: EventList = EVENT_TYPES
    # CloudWatch Logs calls a run may make per kind and region (job_logs.LOG_READS_PER_RUN by default): raise it
    # with the account's CloudWatch Logs quotas (DescribeLogStreams: 5 per second by default).
    log_reads_per_run: Annotated[int, Field(ge=2, le=10_000)] = LOG_READS_PER_RUN
    # The external ID the spokes' roles require when the hub assumes them (none by default).
    spoke_external_id: Annotated[str | None, Field(min_length=2, max_length=1224)] = None

    @property
    def rules(self) -> WatchRules:
        """The watch rules both the poller and the event handler apply: the stall rules and the name filter."""
        return replace(super().rules, name_contains=self.name_contains)


class PollPlanSettings(PollerSettings):
    """The scheduled poller's: the watch's settings, and when a run fans out to the poll workers (more watched
    (account, region) pairs than one invocation reads, and a poll-work queue to send the batches to)."""

    ENV: ClassVar[Mapping[str, str]] = {
        **PollerSettings.ENV,
        "batch_pairs": Env.POLL_BATCH_PAIRS,
        "work_queue_url": Env.POLL_WORK_QUEUE_URL,
    }

    batch_pairs: Annotated[int | None, Field(ge=1)] = None
    work_queue_url: Url | None = None

    @property
    def pairs_per_invocation(self) -> int:
        """GTWATCH_POLL_BATCH_PAIRS, else what the watched kinds allow (contract.pairs_per_invocation)."""
        if self.batch_pairs is not None:
            return self.batch_pairs
        return pairs_per_invocation(tuple(kind.value for kind in self.kinds))


# How the notifier's environment spells the settings the Slack-mode rules are about.
_SLACK_NAMES = SlackNames(
    mode=Env.SLACK_MODE,
    routes=Env.SLACK_ROUTES,
    slack_events=Env.SLACK_EVENTS,
    webhook_secret=Env.SLACK_WEBHOOK_SECRET,
    token_secret=Env.SLACK_TOKEN_SECRET,
)


class SlackSettings(_EnvSettings):
    """The Slack notifier's: the mode and its secret, where notifications go, its queues and time budget."""

    ENV: ClassVar[Mapping[str, str]] = {
        "mode": Env.SLACK_MODE,
        "webhook_secret": Env.SLACK_WEBHOOK_SECRET,
        "token_secret": Env.SLACK_TOKEN_SECRET,
        "slack_events": Env.SLACK_EVENTS,
        "routes_json": Env.SLACK_ROUTES,
        "table_name": Env.TABLE_NAME,
        "queue_url": Env.SLACK_QUEUE_URL,
        "dead_letter_queue_url": Env.SLACK_DEAD_LETTER_QUEUE_URL,
        "api_url": Env.SLACK_API_URL,
        "timeout_seconds": Env.SLACK_TIMEOUT_SECONDS,
        "max_retry_after_seconds": Env.SLACK_MAX_RETRY_AFTER_SECONDS,
        "secret_max_age_seconds": Env.SECRET_MAX_AGE_SECONDS,
        "lag_alarm_seconds": Env.SLACK_LAG_ALARM_SECONDS,
    }

    mode: SlackMode = "webhook"
    webhook_secret: Annotated[str | None, Field(min_length=1)] = None
    token_secret: Annotated[str | None, Field(min_length=1)] = None
    slack_events: EventList = EVENT_TYPES
    routes_json: str | None = None
    table_name: Annotated[str, Field(min_length=3)]
    queue_url: Url | None = None
    dead_letter_queue_url: Url
    api_url: Url = SLACK_API_URL
    timeout_seconds: Annotated[float, Field(gt=0, le=30)] = float(SLACK_HTTP_TIMEOUT_SECONDS)
    max_retry_after_seconds: Annotated[int, Field(ge=0, le=60)] = SLACK_MAX_RETRY_AFTER_SECONDS
    secret_max_age_seconds: Annotated[int, Field(ge=0)] = 300
    # A notification Slack has not taken for this long fails the invocation, so that the notifier-errors alarm says
    # delivery lags (a Slack outage, or an earlier message of the job stuck), while the message is kept.
    lag_alarm_seconds: Annotated[int, Field(ge=60)] = 1800

    @model_validator(mode="after")
    def _fits_the_mode(self) -> SlackSettings:
        choice = SlackChoice(
            mode=self.mode,
            routes=self.routes_json is not None,
            slack_events="slack_events" in self.model_fields_set,
            webhook_secret=self.webhook_secret is not None,
            token_secret=self.token_secret is not None,
            secrets_required=True,
        )
        if problems := slack_mode_problems(choice, _SLACK_NAMES):
            raise ValueError("; ".join(problems))
        if self.mode == "app":
            self.routes  # noqa: B018 - parsed (and kept) now, so that bad routes fail the cold start
        return self

    @cached_property
    def routes(self) -> tuple[Route, ...]:
        """Where notifications go: the routes (app mode), or the one webhook for `slack_events`; parsed once."""
        if self.mode == "app" and self.routes_json is not None:
            try:
                return parse_routes(json.loads(self.routes_json), where=Env.SLACK_ROUTES)
            except ValueError as error:  # json.JSONDecodeError is a ValueError
                raise ValueError(str(error)) from None
        return (webhook_route(self.slack_events),)


class DigestSettings(WatchSettings):
    """The daily digest's: the watcher's, plus where the digest goes. It publishes to the topic for each channel (the
    Slack notifier delivers the Slack one), so it needs no Slack secret; it reads the Slack queues' depths only."""

    ENV: ClassVar[Mapping[str, str]] = {
        **WatchSettings.ENV,
        "channels": Env.DIGEST_CHANNELS,
        "slack_channel": Env.DIGEST_SLACK_CHANNEL,
        "timezone": Env.DIGEST_TIMEZONE,
        "queue_url": Env.SLACK_QUEUE_URL,
        "dead_letter_queue_url": Env.SLACK_DEAD_LETTER_QUEUE_URL,
    }

    channels: ChannelList = NOTIFICATION_CHANNELS
    slack_channel: Annotated[str | None, Field(min_length=1)] = None
    timezone: Annotated[str, AfterValidator(_zone)] = "UTC"
    queue_url: Url | None = None
    dead_letter_queue_url: Url | None = None
