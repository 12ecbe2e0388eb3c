"""Typed settings of each handler, read from the environment the stack sets; a bad value fails at cold start."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from datetime import timedelta
from typing import Annotated, ClassVar, Literal, TypeVar
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from . import container
from .contract import EVENT_TYPES, SLACK_HTTP_TIMEOUT_SECONDS, SLACK_MAX_RETRY_AFTER_SECONDS
from .diff import WatchRules
from .quiet import QuietHours, parse_quiet_hours
from .slack_routes import Route, parse_routes, webhook_route

SLACK_API_URL = "https://slack.com/api/"

NAME_PATTERN = r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$"
REGION_PATTERN = r"^[a-z]{2}(-[a-z]+)+-\d$"


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


class PollerSettings(_EnvSettings):
    ENV: ClassVar[Mapping[str, str]] = {
        "table_name": "GTWATCH_TABLE_NAME",
        "topic_arn": "GTWATCH_TOPIC_ARN",
        "regions": "GTWATCH_REGIONS",
        "name_contains": "GTWATCH_NAME_CONTAINS",
        "stall_after_minutes": "GTWATCH_STALL_AFTER_MINUTES",
        "stall_repeat_minutes": "GTWATCH_STALL_REPEAT_MINUTES",
        "schedule_minutes": "GTWATCH_SCHEDULE_MINUTES",
        "quiet_hours_json": "GTWATCH_QUIET_HOURS",
        "email_events": "GTWATCH_EMAIL_EVENTS",
        "home_region": "AWS_REGION",
    }

    table_name: Annotated[str, Field(min_length=3)]
    topic_arn: Annotated[str, Field(pattern=r"^arn:aws[a-z-]*:sns:")]
    home_region: Annotated[str, Field(pattern=REGION_PATTERN)]
    regions: tuple[str, ...] = ()
    name_contains: Annotated[str | None, Field(pattern=NAME_PATTERN)] = None
    stall_after_minutes: Annotated[int, Field(ge=1)] = 60
    stall_repeat_minutes: Annotated[int | None, Field(ge=1)] = None
    schedule_minutes: Annotated[int, Field(ge=1, le=1440)] = 5
    quiet_hours_json: str | None = None
    # What the email subscriptions take: a notification releases the job's held email only if it goes by email.
    email_events: tuple[str, ...] = EVENT_TYPES

    _split_email_events = field_validator("email_events", mode="before")(comma_list)

    @field_validator("email_events")
    @classmethod
    def _known_email_events(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for event in value:
            if event not in EVENT_TYPES:
                raise ValueError(f"{event!r} is not one of {', '.join(EVENT_TYPES)}")
        return value

    @field_validator("quiet_hours_json")
    @classmethod
    def _check_quiet_hours(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                parse_quiet_hours(json.loads(value))
            except ValueError as error:  # json.JSONDecodeError is a ValueError
                raise ValueError(str(error)) from None
        return value

    @property
    def quiet_hours(self) -> QuietHours | None:
        return None if self.quiet_hours_json is None else parse_quiet_hours(json.loads(self.quiet_hours_json))

    _split_regions = field_validator("regions", mode="before")(comma_list)

    @field_validator("regions")
    @classmethod
    def _check_regions(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for region in value:
            if not re.match(REGION_PATTERN, region):
                raise ValueError(f"{region!r} is not a region name like us-east-1")
        if len(set(value)) != len(value):
            raise ValueError("a region is listed twice")
        return value

    @property
    def watched_regions(self) -> tuple[str, ...]:
        return self.regions or (self.home_region,)

    @property
    def rules(self) -> WatchRules:
        """The watch rules both the poller and the event handler apply."""
        return WatchRules(
            stall_after=timedelta(minutes=self.stall_after_minutes),
            stall_repeat=None if self.stall_repeat_minutes is None else timedelta(minutes=self.stall_repeat_minutes),
            name_contains=self.name_contains,
        )


class SlackSettings(_EnvSettings):
    ENV: ClassVar[Mapping[str, str]] = {
        "mode": "GTWATCH_SLACK_MODE",
        "webhook_secret": "GTWATCH_SLACK_WEBHOOK_SECRET",
        "token_secret": "GTWATCH_SLACK_TOKEN_SECRET",
        "slack_events": "GTWATCH_SLACK_EVENTS",
        "routes_json": "GTWATCH_SLACK_ROUTES",
        "table_name": "GTWATCH_TABLE_NAME",
        "queue_url": "GTWATCH_SLACK_QUEUE_URL",
        "dead_letter_queue_url": "GTWATCH_SLACK_DEAD_LETTER_QUEUE_URL",
        "api_url": "GTWATCH_SLACK_API_URL",
        "timeout_seconds": "GTWATCH_SLACK_TIMEOUT_SECONDS",
        "max_retry_after_seconds": "GTWATCH_SLACK_MAX_RETRY_AFTER_SECONDS",
        "secret_max_age_seconds": "GTWATCH_SECRET_MAX_AGE_SECONDS",
        "lag_alarm_seconds": "GTWATCH_SLACK_LAG_ALARM_SECONDS",
    }

    mode: Literal["webhook", "app"] = "webhook"
    webhook_secret: Annotated[str | None, Field(min_length=1)] = None
    token_secret: Annotated[str | None, Field(min_length=1)] = None
    slack_events: tuple[str, ...] = EVENT_TYPES
    routes_json: str | None = None
    table_name: Annotated[str, Field(min_length=3)]
    queue_url: Annotated[str | None, Field(pattern=r"^https?://")] = None
    dead_letter_queue_url: Annotated[str, Field(pattern=r"^https?://")]
    api_url: Annotated[str, Field(pattern=r"^https?://")] = SLACK_API_URL
    timeout_seconds: Annotated[float, Field(gt=0, le=30)] = float(SLACK_HTTP_TIMEOUT_SECONDS)
    max_retry_after_seconds: Annotated[int, Field(ge=0, le=60)] = SLACK_MAX_RETRY_AFTER_SECONDS
    secret_max_age_seconds: Annotated[int, Field(ge=0)] = 300
    # A notification Slack has not taken for this long fails the invocation, so that the notifier-errors alarm says
    # delivery lags (a Slack outage, or an earlier message of the job stuck), while the message is kept.
    lag_alarm_seconds: Annotated[int, Field(ge=60)] = 1800

    _split_events = field_validator("slack_events", mode="before")(comma_list)

    @field_validator("slack_events")
    @classmethod
    def _known_events(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for event in value:
            if event not in EVENT_TYPES:
                raise ValueError(f"{event!r} is not one of {', '.join(EVENT_TYPES)}")
        return value

    @model_validator(mode="after")
    def _mode_has_what_it_needs(self) -> SlackSettings:
        if self.mode == "webhook" and self.webhook_secret is None:
            raise ValueError("GTWATCH_SLACK_WEBHOOK_SECRET is required in webhook mode")
        if self.mode == "app":
            if self.token_secret is None:
                raise ValueError("GTWATCH_SLACK_TOKEN_SECRET is required in app mode")
            if self.routes_json is None:
                raise ValueError("GTWATCH_SLACK_ROUTES is required in app mode")
            try:
                parse_routes(json.loads(self.routes_json), where="GTWATCH_SLACK_ROUTES")
            except ValueError as error:  # json.JSONDecodeError is a ValueError
                raise ValueError(str(error)) from None
        return self

    @property
    def routes(self) -> tuple[Route, ...]:
        """Where notifications go: the routes (app mode), or the one webhook for `slack_events`."""
        if self.mode == "app" and self.routes_json is not None:
            return parse_routes(json.loads(self.routes_json), where="GTWATCH_SLACK_ROUTES")
        return (webhook_route(self.slack_events),)


class DigestSettings(PollerSettings):
    """The daily digest's settings: the watcher's, plus where the digest goes. It publishes to the topic for each
    channel (the Slack notifier delivers the Slack one), so it needs no Slack secret."""

    ENV: ClassVar[Mapping[str, str]] = {
        **PollerSettings.ENV,
        "channels": "GTWATCH_DIGEST_CHANNELS",
        "slack_channel": "GTWATCH_DIGEST_SLACK_CHANNEL",
        "timezone": "GTWATCH_DIGEST_TIMEZONE",
        "queue_url": "GTWATCH_SLACK_QUEUE_URL",
        "dead_letter_queue_url": "GTWATCH_SLACK_DEAD_LETTER_QUEUE_URL",
    }

    channels: tuple[Literal["slack", "email"], ...] = ("slack", "email")
    slack_channel: Annotated[str | None, Field(min_length=1)] = None
    timezone: str = "UTC"
    queue_url: str | None = None
    dead_letter_queue_url: str | None = None

    _split_channels = field_validator("channels", mode="before")(comma_list)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        ZoneInfo(value)  # raises for an unknown zone: the cold start fails naming the variable
        return value
