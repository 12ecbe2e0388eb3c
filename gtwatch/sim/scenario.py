"""Scenario files for `gtwatch replay`: parsing and validation, with errors that name the field."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from watcher.model import EventType, JobStatus
from watcher.settings import NAME_PATTERN

ALL_EVENTS = tuple(event.value for event in EventType if event is not EventType.TEST)
COUNTER_FIELDS = ("TotalLabeled", "HumanLabeled", "MachineLabeled", "FailedNonRetryableError", "Unlabeled")


class ScenarioError(ValueError):
    """The scenario file is not valid; the message names the field."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


NonNegative = Annotated[int, Field(ge=0)]


class Counters(_Strict):
    TotalLabeled: NonNegative = 0
    HumanLabeled: NonNegative = 0
    MachineLabeled: NonNegative = 0
    FailedNonRetryableError: NonNegative = 0
    Unlabeled: NonNegative = 0

    def to_api(self) -> dict[str, int]:
        return self.model_dump()


JobName = Annotated[str, Field(pattern=NAME_PATTERN)]


class CreateJob(_Strict):
    name: JobName
    status: JobStatus = JobStatus.INITIALIZING
    counters: Counters = Counters()
    failure_reason: str | None = None
    output: str | None = None
    workteam_arn: str | None = None


class UpdateJob(_Strict):
    name: JobName
    status: JobStatus | None = None
    counters: Counters | None = None
    failure_reason: str | None = None
    output: str | None = None


class StateChangeEvent(_Strict):
    name: JobName | None = None
    arn: str | None = None
    duplicate: Annotated[int, Field(ge=1, le=100)] = 1

    @model_validator(mode="after")
    def _one_target(self) -> StateChangeEvent:
        if (self.name is None) == (self.arn is None):
            raise ValueError("give exactly one of name or arn")
        return self


class Fault(_Strict):
    target: Literal["sagemaker", "sns", "dynamodb", "slack"]
    mode: Literal["throttle", "error", "http_500", "http_429", "timeout"]
    count: Annotated[int, Field(ge=1, le=1000)] = 1

    @model_validator(mode="after")
    def _mode_fits_target(self) -> Fault:
        allowed = {
            "sagemaker": {"throttle"},
            "sns": {"error"},
            "dynamodb": {"error"},
            "slack": {"http_500", "http_429", "timeout"},
        }[self.target]
        if self.mode not in allowed:
            raise ValueError(
                f"mode {self.mode!r} does not apply to target {self.target!r} (allowed: {sorted(allowed)})"
            )
        return self


class Step(_Strict):
    at_minute: Annotated[int, Field(ge=0)]
    create: CreateJob | None = None
    update: UpdateJob | None = None
    state_change_event: StateChangeEvent | None = None
    fault: Fault | None = None

    @model_validator(mode="after")
    def _one_action(self) -> Step:
        actions = [name for name in ("create", "update", "state_change_event", "fault") if getattr(self, name)]
        if len(actions) != 1:
            raise ValueError("a step holds exactly one of create, update, state_change_event, fault")
        return self

    @property
    def action(self) -> str:
        return next(name for name in ("create", "update", "state_change_event", "fault") if getattr(self, name))


EventList = tuple[Literal["completed", "failed", "stopped", "stalled", "resumed"], ...]


class Config(_Strict):
    stall_after_minutes: Annotated[int, Field(ge=1)] = 60
    stall_repeat_minutes: Annotated[int | None, Field(ge=1)] = None
    name_contains: Annotated[str | None, Field(pattern=NAME_PATTERN)] = None
    slack_events: EventList = ALL_EVENTS  # type: ignore[assignment]
    email_events: EventList = ALL_EVENTS  # type: ignore[assignment]

    @field_validator("slack_events", "email_events")
    @classmethod
    def _no_repeats(cls, value: EventList) -> EventList:
        if len(set(value)) != len(value):
            raise ValueError("an event type is listed twice")
        return value


class Scenario(_Strict):
    start: datetime
    tick_minutes: Annotated[int, Field(ge=1, le=1440)] = 5
    duration_minutes: Annotated[int | None, Field(ge=0, le=60 * 24 * 30)] = None
    config: Config = Config()
    steps: tuple[Step, ...] = ()

    @field_validator("start")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("start needs a time zone, e.g. 2026-01-05T09:00:00Z")
        return value.astimezone(UTC)

    @property
    def duration(self) -> int:
        if self.duration_minutes is not None:
            return self.duration_minutes
        return max((step.at_minute for step in self.steps), default=0) + 120

    def moment(self, minute: int) -> datetime:
        return self.start + timedelta(minutes=minute)

    def ordered_steps(self) -> list[Step]:
        """Steps by minute; steps at the same minute keep their file order."""
        return sorted(self.steps, key=lambda step: step.at_minute)


def parse(raw: Any) -> Scenario:
    try:
        return Scenario.model_validate(raw)
    except ValidationError as error:
        raise ScenarioError("; ".join(_describe(item) for item in error.errors())) from None


def load(path: Path) -> Scenario:
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ScenarioError(f"{path}: no such file") from None
    except json.JSONDecodeError as error:
        raise ScenarioError(f"{path}: not valid JSON ({error})") from None
    return parse(raw)


def _describe(item: Any) -> str:
    where = ""
    for part in item["loc"]:
        if isinstance(part, int):
            where += f"[{part}]"
        elif not str(part).startswith(("function-after", "function-before")):
            where += f".{part}" if where else str(part)
    message = str(item["msg"]).removeprefix("Value error, ")
    if item["type"] == "extra_forbidden":
        message = "is not a known field"
    return f"{where or 'scenario'}: {message}"
