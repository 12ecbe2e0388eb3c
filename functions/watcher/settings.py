"""Typed settings of each handler, read from the environment the stack sets; a bad value fails at cold start."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from datetime import timedelta
from typing import Annotated, ClassVar, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from . import container
from .diff import WatchRules

NAME_PATTERN = r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$"
REGION_PATTERN = r"^[a-z]{2}(-[a-z]+)+-\d$"


Settings = TypeVar("Settings", bound="_EnvSettings")


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
                field_name = str(item["loc"][0]) if item["loc"] else "?"
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

    @field_validator("regions", mode="before")
    @classmethod
    def _split_regions(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split(",") if part.strip())
        return value

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
        "webhook_secret": "GTWATCH_SLACK_WEBHOOK_SECRET",
        "idempotency_table_name": "GTWATCH_IDEMPOTENCY_TABLE_NAME",
        "timeout_seconds": "GTWATCH_SLACK_TIMEOUT_SECONDS",
        "secret_max_age_seconds": "GTWATCH_SECRET_MAX_AGE_SECONDS",
    }

    webhook_secret: Annotated[str, Field(min_length=1)]
    idempotency_table_name: Annotated[str, Field(min_length=3)]
    timeout_seconds: Annotated[float, Field(gt=0, le=30)] = 5.0
    secret_max_age_seconds: Annotated[int, Field(ge=0)] = 300
