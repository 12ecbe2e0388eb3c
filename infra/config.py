"""The deployment's settings, read from the `gtwatch` key of the CDK context and checked before anything is built."""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import cache, cached_property
from typing import TYPE_CHECKING, Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

import botocore
import botocore.session
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    Strict,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError
from watcher.domain.contract import DEFAULT_KINDS, KindName
from watcher.domain.env import Env
from watcher.domain.quiet import QuietHours, parse_quiet_hours, quiet_hours_to_json
from watcher.domain.slack_routes import Route, parse_routes, routes_to_json, validate_slack_channel
from watcher.domain.text import value_text
from watcher.domain.vocabulary import (
    CONTEXT_KEY,
    DEFAULT_STACK_NAME,
    EVENT_TYPES,
    NAME_PATTERN,
    NOTIFICATION_CHANNELS,
    REGION_PATTERN,
    Channel,
    EventName,
    SlackChoice,
    SlackMode,
    SlackNames,
    slack_mode_problems,
)

from gtwatch.ops.accounts import (
    ACCOUNTS_ALLOWED,
    Account,
    accounts_env,
    parse_accounts,
    parse_route_accounts,
    split_route_accounts,
    with_route_accounts,
)
from gtwatch.ops.kinds import (
    DEFAULT_STALL_AFTER_MINUTES,
    KINDS_ALLOWED,
    STALL_AFTER_ALLOWED,
    StallAfter,
    parse_kinds,
    parse_stall_after,
    split_route_kinds,
    stall_thresholds,
    unwatched_route_kinds,
    with_route_kinds,
)
from infra.requirements import powertools_version

if TYPE_CHECKING:
    # Only for hints: checking the settings alone should not start the jsii runtime.
    from constructs import IConstruct, Node

LOG_LEVELS: tuple[str, ...] = ("DEBUG", "INFO", "WARNING", "ERROR")

EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[^@\s.]+$"
# A Secrets Manager secret name (letters, digits and /_+=.@-) or a secret's ARN.
SECRETS_MANAGER_ID_PATTERN = r"^(arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:[0-9]{12}:secret:)?[A-Za-z0-9/_+=.@-]+$"
# A released Powertools version: AWS publishes one layer ARN per release under its public SSM parameters.
SEMANTIC_VERSION_PATTERN = r"^\d+\.\d+\.\d+$"
# The version in requirements.txt, so that the layer the functions run with is the one the tests ran with.
POWERTOOLS_LAYER_VERSION = powertools_version()
# A CloudFormation stack name (a letter, then letters, digits and hyphens, at most 128). It also names the topics,
# alarms, log groups, the created secret and the metric namespace, so two stacks in one region stay apart.
STACK_NAME_PATTERN = r"^[A-Za-z][A-Za-z0-9-]{0,127}$"
# SQS leaves a message received three times out of ApproximateAgeOfOldestMessage; before that, ordinary retries
# (the notifier's back-off of 1 and 2 minutes, or the 3-minute visibility timeout after a crash) keep a message the
# oldest for up to about 9 minutes. Below 10 minutes, they would look like lag.
MIN_SLACK_LAG_MINUTES = 10
# Lambda allows 4 KB for all of a function's environment variables; the routes (GTWATCH_SLACK_ROUTES) may take this
# much of it, the notifier's other variables (resource names, numbers) about 700 bytes.
MAX_ROUTES_JSON_BYTES = 3000
# A time of day on the 24-hour clock, as EventBridge Scheduler's cron takes its hour and minute.
CLOCK_PATTERN = r"^([01][0-9]|2[0-3]):[0-5][0-9]$"
# What STS takes as an external ID (AssumeRole's ExternalId: 2 to 1224 of these characters).
EXTERNAL_ID_PATTERN = r"^[A-Za-z0-9_+=,.@:/-]+$"
# An AWS Organizations organization id.
ORGANIZATION_ID_PATTERN = r"^o-[a-z0-9]{10,32}$"
# GTWATCH_ACCOUNTS goes to the poller, the event handler, the watch start and the digest, whose other variables take
# about 1 KB of Lambda's 4 KB; about 20 accounts of a few regions each fit (each spoke's entry carries its role ARN).
MAX_ACCOUNTS_JSON_BYTES = 2800
# The longest partition name: the size of GTWATCH_ACCOUNTS is checked as it would be there.
_LONGEST_PARTITION = "aws-us-gov"
LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR"]

_EVENTS = ", ".join(EVENT_TYPES)

# What each setting allows, said to the user when a value is refused: "<key>: <value> is not <allowed>".
_ALLOWED: dict[str, str] = {
    "schedule_minutes": "a whole number of minutes from 1 to 1440",
    "kinds": KINDS_ALLOWED,
    "stall_after_minutes": STALL_AFTER_ALLOWED,
    "stall_repeat_minutes": "a whole number of minutes, at least 5 (or null to announce a stall once)",
    "name_contains": (
        "1 to 63 letters, digits or hyphens, starting and ending with a letter or digit (or null for all jobs)"
    ),
    "slack_events": f"a non-empty list of event types from {_EVENTS}",
    "email_events": f"a non-empty list of event types from {_EVENTS}",
    "email_addresses": "a list of email addresses",
    "slack_webhook_secret_name": "the name or ARN of a Secrets Manager secret (or null to create one)",
    "regions": "a list of region names like us-east-1 (empty for the stack's region)",
    "log_level": f"one of {', '.join(LOG_LEVELS)}",
    "alarm_email_addresses": "a list of email addresses",
    "powertools_layer_version": (
        f"a released Powertools for AWS Lambda (Python) version like {POWERTOOLS_LAYER_VERSION} (default: the "
        "version requirements.txt pins)"
    ),
    "stack_name": "a letter, then up to 127 letters, digits or hyphens (a CloudFormation stack name)",
    "dashboard": "true or false",
    "tracing": "true or false",
    "slack_lag_alarm_minutes": f"a whole number of minutes from {MIN_SLACK_LAG_MINUTES} to 1440",
    "slack": "a mapping of Slack settings (mode, routes, token_secret_name)",
    "slack.mode": "webhook (the incoming webhook, for slack_events) or app (a Slack app's bot, for routes)",
    "slack.token_secret_name": (
        "the name or ARN of a Secrets Manager secret holding the bot token (or null to create one)"
    ),
    "digest": "a mapping of digest settings (at, timezone, channels, slack_channel), or null for no digest",
    "digest.at": "a time of day HH:MM on the 24-hour clock, like 08:30",
    "digest.timezone": "an IANA time zone name such as Europe/Berlin",
    "digest.channels": f"a non-empty list of channels from {', '.join(NOTIFICATION_CHANNELS)}",
    "digest.slack_channel": "a Slack channel like #labeling or C0123ABCD (or null)",
    "accounts": ACCOUNTS_ALLOWED,
    "spoke_external_id": (
        "an external ID of 2 to 1224 letters, digits or +=,.@:/-_ that the spokes' roles require (or null for none)"
    ),
    "organization_id": "an AWS Organizations id like o-a1b2c3d4e5 (or null)",
}
# What one item of a list setting allows.
_ALLOWED_ITEM: dict[str, str] = {
    "slack_events": f"one of {_EVENTS}",
    "email_events": f"one of {_EVENTS}",
    "email_addresses": "an email address like ops@example.com",
    "regions": "a region name like us-east-1",
    "alarm_email_addresses": "an email address like ops@example.com",
    "digest.channels": f"one of {', '.join(NOTIFICATION_CHANNELS)}",
}


@cache
def sagemaker_regions() -> frozenset[str]:
    """The regions where SageMaker runs, in every partition, from the endpoint data botocore ships (no network)."""
    session = botocore.session.get_session()
    return frozenset(
        region
        for partition in session.get_available_partitions()
        for region in session.get_available_regions("sagemaker", partition_name=partition)
    )


class ConfigError(ValueError):
    """The `gtwatch` context is invalid; the message names each bad key and what it allows."""


def _problem(message: str) -> PydanticCustomError:
    """A mistake whose message already names its key (`gtwatch.slack.routes[1].mention: ...`)."""
    return PydanticCustomError("gtwatch_named", "{message}", {"message": message})


def _no_duplicates(values: tuple[str, ...]) -> tuple[str, ...]:
    seen: set[str] = set()
    for value in values:
        if value in seen:
            raise PydanticCustomError("gtwatch", "{value} is listed twice", {"value": repr(value)})
        seen.add(value)
    return values


class SlackConfig(BaseModel):
    """How notifications reach Slack: the incoming webhook (`webhook`, the default: every notification of the
    `slack_events` types, to the webhook's channel) or a Slack app (`app`: each route's channel gets its events)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    mode: SlackMode = "webhook"
    # As written in cdk.json (a list of {channel, events, name_contains?, mention?}); checked by the notifier's own
    # parse_routes, so that routes that synthesize are routes the notifier starts with.
    routes: Any = None
    token_secret_name: Annotated[str | None, Field(pattern=SECRETS_MANAGER_ID_PATTERN, max_length=2048)] = None

    @field_validator("routes")
    @classmethod
    def _check_routes(cls, raw: Any) -> Any:
        if raw is not None:
            where = f"{CONTEXT_KEY}.slack.routes"
            try:
                # A route's `kinds` is checked here (which kinds are watched: GtwatchConfig), the rest by the notifier.
                routes, _ = split_route_kinds(raw, where)
                parse_routes(routes, where=where)
            except ValueError as error:
                raise _problem(str(error)) from None
        return raw

    @cached_property
    def _routes_and_kinds(self) -> tuple[tuple[Route, ...], tuple[tuple[KindName, ...] | None, ...]]:
        if self.routes is None:
            return (), ()
        routes, kinds = split_route_kinds(self.routes, f"{CONTEXT_KEY}.slack.routes")
        return parse_routes(routes), kinds

    @property
    def parsed_routes(self) -> tuple[Route, ...]:
        """The routes as the notifier reads them (none in webhook mode); parsed once."""
        return self._routes_and_kinds[0]

    @property
    def route_kinds(self) -> tuple[tuple[KindName, ...] | None, ...]:
        """Each route's `kinds` (None: the route takes every watched kind), in the routes' order."""
        return self._routes_and_kinds[1]

    @property
    def routes_json(self) -> str:
        """The routes as the notifier's GTWATCH_SLACK_ROUTES: compact, events and kinds in the contract's order; a
        route narrowed by kinds carries `"kinds": [...]`."""
        return with_route_kinds(routes_to_json(self.parsed_routes), self.route_kinds)


# Files in some zone databases that name no place: the machine's own zone, a POSIX default, a placeholder.
NOT_TIME_ZONES = frozenset({"localtime", "posixrules", "Factory"})


@cache
def _time_zone_names() -> frozenset[str]:
    return frozenset(available_timezones()) - NOT_TIME_ZONES


def _check_time_zone(name: str) -> str:
    """An IANA zone name this machine's database knows: EventBridge Scheduler and the functions read it again."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(name) from None
    if name not in _time_zone_names():
        raise ValueError(name)
    return name


class DigestConfig(BaseModel):
    """A summary of the day, sent every day at `at` in `timezone` to `channels`: by email through the topic, and to
    Slack directly (the webhook's channel, or `slack_channel` in app mode)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    at: Annotated[str, Strict(), Field(pattern=CLOCK_PATTERN)]
    timezone: Annotated[str, Strict()]
    channels: Annotated[tuple[Channel, ...], Field(min_length=1)] = NOTIFICATION_CHANNELS
    slack_channel: Annotated[str | None, Strict()] = None

    @field_validator("timezone")
    @classmethod
    def _check_timezone(cls, name: str) -> str:
        return _check_time_zone(name)

    @field_validator("channels")
    @classmethod
    def _check_channels(cls, values: tuple[str, ...]) -> tuple[str, ...]:
        return _no_duplicates(values)

    @field_validator("slack_channel")
    @classmethod
    def _check_slack_channel(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                validate_slack_channel(value)
            except ValueError as error:
                raise _problem(f"{CONTEXT_KEY}.digest.slack_channel: {error}") from None
        return value

    @property
    def cron_expression(self) -> str:
        """EventBridge Scheduler's cron (minutes hours day-of-month month day-of-week year): every day at `at`."""
        hour, minute = (int(part) for part in self.at.split(":"))
        return f"cron({minute} {hour} * * ? *)"

    def to_document(self) -> dict[str, Any]:
        return {
            "at": self.at,
            "timezone": self.timezone,
            "channels": [channel for channel in NOTIFICATION_CHANNELS if channel in self.channels],
            "slack_channel": self.slack_channel,
        }


# How cdk.json spells the settings the Slack-mode rules are about.
_SLACK_NAMES = SlackNames(
    mode=f"{CONTEXT_KEY}.slack.mode",
    routes=f"{CONTEXT_KEY}.slack.routes",
    slack_events=f"{CONTEXT_KEY}.slack_events",
    webhook_secret=f"{CONTEXT_KEY}.slack_webhook_secret_name",
    token_secret=f"{CONTEXT_KEY}.slack.token_secret_name",
    digest_channels=f"{CONTEXT_KEY}.digest.channels",
    digest_slack_channel=f"{CONTEXT_KEY}.digest.slack_channel",
)


class GtwatchConfig(BaseModel):
    """What a deployment watches and whom it tells. Every key is optional; the defaults watch everything."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    # Strict: cdk.json is JSON, so "5" or true where a number belongs is a mistake worth reporting.
    schedule_minutes: Annotated[int, Strict(), Field(ge=1, le=1440)] = 5
    # The SageMaker job kinds watched; checked by gtwatch.ops.kinds, as the operator commands check them.
    kinds: tuple[KindName, ...] = DEFAULT_KINDS
    # A number for every kind that can stall, or minutes by kind (a kind left out never stalls).
    stall_after_minutes: int | dict[KindName, int] = DEFAULT_STALL_AFTER_MINUTES
    stall_repeat_minutes: Annotated[int | None, Strict(), Field(ge=5)] = None
    name_contains: Annotated[str | None, Field(pattern=NAME_PATTERN)] = None
    slack_events: Annotated[tuple[EventName, ...], Field(min_length=1)] = EVENT_TYPES
    email_events: Annotated[tuple[EventName, ...], Field(min_length=1)] = EVENT_TYPES
    email_addresses: tuple[Annotated[str, Field(pattern=EMAIL_PATTERN)], ...] = ()
    slack_webhook_secret_name: Annotated[str | None, Field(pattern=SECRETS_MANAGER_ID_PATTERN, max_length=2048)] = None
    regions: tuple[Annotated[str, Field(pattern=REGION_PATTERN)], ...] = ()
    log_level: LogLevel = "INFO"
    alarm_email_addresses: tuple[Annotated[str, Field(pattern=EMAIL_PATTERN)], ...] = ()
    powertools_layer_version: Annotated[str, Strict(), Field(pattern=SEMANTIC_VERSION_PATTERN)] = (
        POWERTOOLS_LAYER_VERSION
    )
    stack_name: Annotated[str, Strict(), Field(pattern=STACK_NAME_PATTERN)] = DEFAULT_STACK_NAME
    # A CloudWatch dashboard costs $3 a month beyond an account's first three; the alarms do the watching.
    dashboard: Annotated[bool, Strict()] = False
    # Active X-Ray tracing of the three functions; off by default, since the handlers record no segments of their own.
    tracing: Annotated[bool, Strict()] = False
    # The Slack queue's oldest message older than this raises the slack-lag alarm.
    slack_lag_alarm_minutes: Annotated[int, Strict(), Field(ge=MIN_SLACK_LAG_MINUTES, le=1440)] = 30
    # Webhook mode (the default) or a Slack app with routes; see SlackConfig.
    slack: SlackConfig = SlackConfig()
    # As written in cdk.json ({start, end, timezone, hold, channels?}); checked by the watcher's own
    # parse_quiet_hours, so that quiet hours that synthesize are quiet hours the poller starts with.
    quiet_hours: Any = None
    # A daily summary (see DigestConfig); none by default.
    digest: DigestConfig | None = None
    # The accounts watched, the home account (where the hub is deployed, in its first region) first; checked by
    # gtwatch.ops.accounts. None: the home account alone, in `regions`.
    accounts: Any = None
    # Required by every spoke's role of the hub that assumes it (sts:ExternalId); none by default.
    spoke_external_id: Annotated[
        str | None, Strict(), Field(pattern=EXTERNAL_ID_PATTERN, min_length=2, max_length=1224)
    ] = None
    # The organization of the accounts: the spokes' roles and the hub's event bus also require it (aws:PrincipalOrgID).
    organization_id: Annotated[str | None, Strict(), Field(pattern=ORGANIZATION_ID_PATTERN)] = None

    @field_validator("accounts")
    @classmethod
    def _check_accounts(cls, raw: Any) -> Any:
        if raw is not None:
            try:
                parse_accounts(raw, f"{CONTEXT_KEY}.accounts", known_regions=sagemaker_regions())
            except ValueError as error:
                raise _problem(str(error)) from None
        return raw

    @cached_property
    def parsed_accounts(self) -> tuple[Account, ...]:
        """The listed accounts, the home account first; none when `accounts` is not configured."""
        return () if self.accounts is None else parse_accounts(self.accounts, f"{CONTEXT_KEY}.accounts")

    @property
    def home_account(self) -> Account | None:
        return self.parsed_accounts[0] if self.parsed_accounts else None

    @property
    def spokes(self) -> tuple[Account, ...]:
        """The accounts read through a spoke's role: every listed account but the home one."""
        return self.parsed_accounts[1:]

    @property
    def home_regions(self) -> tuple[str, ...]:
        """The regions watched in the home account (empty: the stack's region)."""
        home = self.home_account
        return self.regions if home is None else home.regions

    @property
    def hub_region(self) -> str | None:
        """Where the hub is deployed when `accounts` is configured: the home account's first region."""
        home = self.home_account
        return None if home is None else home.regions[0]

    def accounts_env(self, partition: str) -> str | None:
        """GTWATCH_ACCOUNTS for the watching functions (None without `accounts`)."""
        return None if self.home_account is None else accounts_env(self.parsed_accounts, partition)

    @cached_property
    def route_accounts(self) -> tuple[tuple[str, ...] | None, ...]:
        """Each route's `accounts` as account ids (None: every account), in the routes' order."""
        if not self.slack_app or self.slack.routes is None:
            return ()
        _, written = split_route_accounts(self.slack.routes)
        where = f"{CONTEXT_KEY}.slack.routes"
        return tuple(
            parse_route_accounts(raw, f"{where}[{index}].accounts", self.parsed_accounts, f"{CONTEXT_KEY}.accounts")
            for index, raw in enumerate(written)
        )

    @property
    def slack_routes_json(self) -> str:
        """The notifier's GTWATCH_SLACK_ROUTES: the routes with their kinds and their accounts (as ids)."""
        return with_route_accounts(self.slack.routes_json, self.route_accounts)

    @field_validator("kinds", mode="before")
    @classmethod
    def _check_kinds(cls, raw: Any) -> tuple[KindName, ...]:
        try:
            return parse_kinds(raw, f"{CONTEXT_KEY}.kinds")
        except ValueError as error:
            raise _problem(str(error)) from None

    @field_validator("stall_after_minutes", mode="before")
    @classmethod
    def _check_stall_after_minutes(cls, raw: Any, info: ValidationInfo) -> StallAfter:
        # `kinds` comes first: absent from info.data when it was refused (its own message says why).
        kinds = info.data.get("kinds")
        try:
            return parse_stall_after(
                raw, f"{CONTEXT_KEY}.stall_after_minutes", kinds=kinds, kinds_where=f"{CONTEXT_KEY}.kinds"
            )
        except ValueError as error:
            raise _problem(str(error)) from None

    @property
    def stall_thresholds(self) -> dict[KindName, int | None]:
        """Each watched kind's minutes without progress before a stall; None: it never stalls."""
        return stall_thresholds(self.kinds, self.stall_after_minutes)

    @field_validator("quiet_hours")
    @classmethod
    def _check_quiet_hours(cls, raw: Any) -> Any:
        if raw is not None:
            try:
                quiet = parse_quiet_hours(raw, where=f"{CONTEXT_KEY}.quiet_hours")
            except ValueError as error:
                raise _problem(str(error)) from None
            if quiet.zone.key not in _time_zone_names():
                raise _problem(
                    f"{CONTEXT_KEY}.quiet_hours.timezone: {quiet.zone.key!r} is not {_ALLOWED['digest.timezone']}"
                )
        return raw

    @cached_property
    def parsed_quiet_hours(self) -> QuietHours | None:
        return None if self.quiet_hours is None else parse_quiet_hours(self.quiet_hours)

    @property
    def quiet_hours_json(self) -> str | None:
        """The quiet hours as the poller's and the event handler's GTWATCH_QUIET_HOURS (compact, canonical order)."""
        quiet = self.parsed_quiet_hours
        return None if quiet is None else quiet_hours_to_json(quiet)

    @property
    def slack_app(self) -> bool:
        return self.slack.mode == "app"

    @property
    def events_to_slack(self) -> tuple[str, ...]:
        """The event types that reach Slack at all: `slack_events`, or in app mode those of some route."""
        if not self.slack_app:
            return tuple(self.slack_events)
        routed = {event for route in self.slack.parsed_routes for event in route.events}
        return tuple(event for event in EVENT_TYPES if event in routed)

    def effective(self, home_region: str) -> dict[str, Any]:
        """What the watcher watches and sends, as `gtwatch status` reads it from the WatcherConfig output."""
        return {
            "regions": list(self.home_regions) or [home_region],
            "kinds": list(self.kinds),
            "name_contains": self.name_contains,
            "slack_events": list(self.events_to_slack),
            "email_events": list(self.email_events),
            # As configured (a number, as before kinds, or minutes by kind), and resolved for every watched kind.
            "stall_after_minutes": self.stall_after_minutes,
            "stall_after_minutes_by_kind": self.stall_thresholds,
            "stall_repeat_minutes": self.stall_repeat_minutes,
            "schedule_minutes": self.schedule_minutes,
            "slack": {
                "mode": self.slack.mode,
                "routes": json.loads(self.slack_routes_json) if self.slack_app else None,
            },
            "quiet_hours": None if self.quiet_hours_json is None else json.loads(self.quiet_hours_json),
            "digest": None if self.digest is None else self.digest.to_document(),
        } | self._effective_accounts()

    def _effective_accounts(self) -> dict[str, Any]:
        if self.home_account is None:
            return {}
        return {
            "accounts": [
                {"id": account.id, "alias": account.alias, "regions": list(account.regions)}
                for account in self.parsed_accounts
            ]
        }

    @model_validator(mode="after")
    def _slack_settings_fit_the_mode(self) -> GtwatchConfig:
        slack, digest = self.slack, self.digest
        choice = SlackChoice(
            mode=slack.mode,
            routes=slack.routes is not None,
            slack_events="slack_events" in self.model_fields_set,
            webhook_secret=self.slack_webhook_secret_name is not None,
            token_secret=slack.token_secret_name is not None,
            digest_channels=None if digest is None else digest.channels,
            digest_slack_channel=digest is not None and digest.slack_channel is not None,
        )
        problems = slack_mode_problems(choice, _SLACK_NAMES)
        problems += unwatched_route_kinds(
            slack.route_kinds, self.kinds, f"{CONTEXT_KEY}.slack.routes", f"{CONTEXT_KEY}.kinds"
        )
        problems += self._accounts_problems()
        if problems:
            raise _problem("; ".join(problems))
        size = len(self.slack_routes_json.encode()) if self.slack_app and slack.routes is not None else 0
        if size > MAX_ROUTES_JSON_BYTES:
            problems.append(
                f"{CONTEXT_KEY}.slack.routes: {size} bytes as the notifier's {Env.SLACK_ROUTES}, over "
                f"{MAX_ROUTES_JSON_BYTES} (Lambda allows 4 KB for all of a function's environment variables); "
                "use fewer routes"
            )
        if problems:
            raise _problem("; ".join(problems))
        return self

    def _accounts_problems(self) -> list[str]:
        problems: list[str] = []
        if self.accounts is not None and self.regions:
            problems.append(
                f"{CONTEXT_KEY}.regions: not read when {CONTEXT_KEY}.accounts is set; list the home account's regions "
                f"in {CONTEXT_KEY}.accounts[0].regions"
            )
        try:
            self.route_accounts  # noqa: B018 - parsed here to be checked
        except ValueError as error:
            problems.append(str(error))
        accounts = self.accounts_env(_LONGEST_PARTITION)
        if accounts is not None and len(accounts.encode()) > MAX_ACCOUNTS_JSON_BYTES:
            problems.append(
                f"{CONTEXT_KEY}.accounts: {len(accounts.encode())} bytes as the watching functions' {Env.ACCOUNTS}, "
                f"over {MAX_ACCOUNTS_JSON_BYTES} (Lambda allows 4 KB for all of a function's environment variables); "
                "list fewer accounts or shorter aliases"
            )
        for name in ("spoke_external_id", "organization_id"):
            if getattr(self, name) is not None and not self.spokes:
                problems.append(
                    f"{CONTEXT_KEY}.{name}: only for spokes, and {CONTEXT_KEY}.accounts lists no account but the home "
                    "one; leave it out or list the accounts to watch"
                )
        return problems

    @field_validator("slack_events", "email_events", "email_addresses", "regions", "alarm_email_addresses")
    @classmethod
    def _check_no_duplicates(cls, values: tuple[str, ...]) -> tuple[str, ...]:
        return _no_duplicates(values)

    @field_validator("regions")
    @classmethod
    def _check_regions_exist(cls, values: tuple[str, ...]) -> tuple[str, ...]:
        # A well-formed name of no region (us-east-7) would synthesize, deploy, and fail every run.
        problems = [
            f"{CONTEXT_KEY}.regions[{index}]: {region!r} is not a region where SageMaker runs (as botocore "
            f"{botocore.__version__} knows them; a region newer than that needs a newer boto3)"
            for index, region in enumerate(values)
            if region not in sagemaker_regions()
        ]
        if problems:
            raise _problem("; ".join(problems))
        return values


def _path(loc: tuple[int | str, ...]) -> str:
    text = CONTEXT_KEY
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else f".{part}"
    return text


def _describe(error: Mapping[str, Any]) -> str:
    loc = tuple(error["loc"])
    where = _path(loc)
    if error["type"] == "gtwatch_named":
        return str(error["msg"])
    if error["type"] == "extra_forbidden":
        nested: dict[Any, type[BaseModel]] = {"slack": SlackConfig, "digest": DigestConfig}
        model = nested.get(loc[0], GtwatchConfig) if len(loc) > 1 else GtwatchConfig
        return f"{where}: unknown key; the keys are {', '.join(model.model_fields)}"
    if error["type"] == "gtwatch":
        return f"{where}: {error['msg']}"
    key = ".".join(str(part) for part in loc if isinstance(part, str))
    if error["type"] == "missing":
        return f"{where}: required: {_ALLOWED[key]}"
    is_item = isinstance(loc[-1], int) and key in _ALLOWED_ITEM
    allowed = _ALLOWED_ITEM[key] if is_item else _ALLOWED[key]
    return f"{where}: {value_text(error['input'])} is not {allowed}"


def parse_config(raw: Mapping[str, Any] | str | None) -> GtwatchConfig:
    """The settings in `raw` (the context value: a mapping, its JSON text, or None for all defaults)."""
    if raw is None:
        raw = {}
    if isinstance(raw, str):
        # `cdk synth -c gtwatch='{...}'` passes the value as text.
        try:
            raw = json.loads(raw)
        except json.JSONDecodeError as error:
            raise ConfigError(f"the {CONTEXT_KEY} context value is not valid JSON ({error})") from None
    if not isinstance(raw, Mapping):
        # No "gtwatch:" first: the app prints every ConfigError after its own "gtwatch: ".
        raise ConfigError(
            f"the {CONTEXT_KEY} settings must be a mapping (an object of settings in cdk.json's context), got "
            f"{value_text(raw)}"
        )
    try:
        return GtwatchConfig.model_validate(dict(raw))
    except ValidationError as error:
        problems = [_describe(item) for item in error.errors()]
        raise ConfigError("invalid gtwatch configuration: " + "; ".join(problems)) from None


def load_config(app_or_node: IConstruct | Node) -> GtwatchConfig:
    """The settings in the CDK context of `app_or_node` (an App, any construct, or a construct's node)."""
    node = app_or_node.node if hasattr(app_or_node, "node") else app_or_node
    # `cdk deploy -c gtwatch.schedule_minutes=10` makes a context key of its own, which nothing would read: refused,
    # rather than deploying without the setting the person asked for.
    stray = sorted(key for key in node.get_all_context() if key.startswith(f"{CONTEXT_KEY}."))
    if stray:
        raise ConfigError(
            f"{', '.join(stray)}: not read: the settings are the one context value {CONTEXT_KEY}; set "
            f"{'them' if len(stray) > 1 else 'it'} in cdk.json under context.{CONTEXT_KEY} (or pass the whole object, "
            f"-c {CONTEXT_KEY}='{{...}}', which replaces cdk.json's)"
        )
    return parse_config(node.try_get_context(CONTEXT_KEY))
