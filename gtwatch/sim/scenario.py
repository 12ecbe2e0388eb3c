"""Scenario files for `gtwatch replay`: parsing and validation, with errors that name the field.

The format is docs/scenario-format.md, versions 1 and 2. A scenario can use Version 2 features that the replay
does not support yet; `Scenario.v2_features()` lists them so the replay can refuse them by name.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, time, timedelta
from functools import cached_property
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PlainValidator,
    Strict,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic.dataclasses import dataclass
from watcher.domain.model import JobStatus
from watcher.domain.quiet import QuietHours, parse_quiet_hours
from watcher.domain.slack_routes import Route, parse_routes, validate_slack_channel, validate_slack_mention
from watcher.domain.text import value_text
from watcher.domain.vocabulary import (
    EVENT_TYPES,
    NAME_PATTERN,
    NOTIFICATION_CHANNELS,
    Channel,
    EventName,
    SlackChoice,
    SlackMode,
    SlackNames,
    slack_mode_problems,
)

ALL_EVENTS = EVENT_TYPES
COUNTER_FIELDS = ("TotalLabeled", "HumanLabeled", "MachineLabeled", "FailedNonRetryableError", "Unlabeled")
# DescribeLabelingJob's FailureReason holds at most this many characters (botocore's SageMaker model).
FAILURE_REASON_MAX_LENGTH = 1024
# An OutputDatasetS3Uri holds at most this many characters (the model's S3Uri).
S3_URI_MAX_LENGTH = 1024
# CreateLabelingJob's HumanTaskConfig.WorkteamArn (the model's WorkteamArn): a pattern and at most 256 characters.
WORKTEAM_ARN_PATTERN = r"arn:aws[a-z\-]*:sagemaker:[a-z0-9\-]*:[0-9]{12}:workteam/.*"
WORKTEAM_ARN_MAX_LENGTH = 256


# --- pure validators of Version 2 values -------------------------------------------------------------
# Standalone so that other configuration (the stack's routes) can check the same syntax: each returns the
# value when it is valid and raises ValueError saying what is expected when it is not.

_CLOCK_TIME = re.compile(r"([01][0-9]|2[0-3]):[0-5][0-9]")
_S3_URI = re.compile(r"s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]/.+", re.DOTALL)


def validate_clock_time(value: str) -> str:
    """A time of day, HH:MM on the 24-hour clock."""
    if not _CLOCK_TIME.fullmatch(value):
        raise ValueError(f"{value!r} is not a time of day: use HH:MM, 00:00 to 23:59")
    return value


def validate_timezone(value: str) -> str:
    """An IANA time zone name that this machine's zone database knows, such as Europe/Berlin."""
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"{value!r} is not an IANA time zone name such as Europe/Berlin") from None
    return value


def validate_s3_uri(value: str) -> str:
    """An S3 object URI, s3://bucket/key."""
    if len(value) > S3_URI_MAX_LENGTH or not _S3_URI.fullmatch(value):
        raise ValueError(f"{value!r} is not an S3 URI s3://bucket/key of at most {S3_URI_MAX_LENGTH} characters")
    return value


def validate_workteam_arn(value: str) -> str:
    """A work team's ARN as CreateLabelingJob takes it, so that a job the replay makes is one SageMaker could."""
    if len(value) > WORKTEAM_ARN_MAX_LENGTH or not re.fullmatch(WORKTEAM_ARN_PATTERN, value):
        raise ValueError(
            f"{value!r} is not a work team ARN SageMaker takes (at most {WORKTEAM_ARN_MAX_LENGTH} characters matching "
            f"{WORKTEAM_ARN_PATTERN}, e.g. arn:aws:sagemaker:us-east-1:123456789012:workteam/private-crowd/team)"
        )
    return value


class ScenarioError(ValueError):
    """The scenario file is not valid; the message names the field."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# JSON numbers only: "5", 5.0 and true are not minutes or counts (pydantic's lax mode would take them).
Integer = Annotated[int, Strict()]
NonNegative = Annotated[Integer, Field(ge=0)]


class Counters(_Strict):
    TotalLabeled: NonNegative = 0
    HumanLabeled: NonNegative = 0
    MachineLabeled: NonNegative = 0
    FailedNonRetryableError: NonNegative = 0
    Unlabeled: NonNegative = 0

    def to_api(self) -> dict[str, int]:
        return self.model_dump()


JobName = Annotated[str, Field(pattern=NAME_PATTERN)]


def validate_failure_reason(value: object) -> str:
    """Any text SageMaker could return, lone surrogates included (pydantic's own str type refuses those): the
    hostile-text scenarios need them to reach the watcher as they would from the API."""
    if not isinstance(value, str):
        raise ValueError("Input should be a valid string")
    if len(value) > FAILURE_REASON_MAX_LENGTH:
        raise ValueError(f"String should have at most {FAILURE_REASON_MAX_LENGTH} characters")
    return value


FailureReason = Annotated[str, PlainValidator(validate_failure_reason)]
S3Uri = Annotated[str, AfterValidator(validate_s3_uri)]
WorkteamArn = Annotated[str, AfterValidator(validate_workteam_arn)]


class CreateJob(_Strict):
    name: JobName
    status: JobStatus = JobStatus.INITIALIZING
    counters: Counters = Counters()
    failure_reason: FailureReason | None = None
    output: S3Uri | None = None
    workteam_arn: WorkteamArn | None = None


class UpdateJob(_Strict):
    name: JobName
    status: JobStatus | None = None
    counters: Counters | None = None
    failure_reason: FailureReason | None = None
    output: S3Uri | None = None


class StateChangeEvent(_Strict):
    name: JobName | None = None
    arn: str | None = None
    duplicate: Annotated[Integer, Field(ge=1, le=100)] = 1

    @model_validator(mode="after")
    def _one_target(self) -> StateChangeEvent:
        if (self.name is None) == (self.arn is None):
            raise ValueError("give exactly one of name or arn")
        return self


_FAULT_MODES = {
    "sagemaker": ("throttle",),
    "sns": ("error",),
    "dynamodb": ("error",),
    "slack": ("http_500", "http_429", "timeout", "lost_response"),
}


class Fault(_Strict):
    target: Literal["sagemaker", "sns", "dynamodb", "slack"]
    mode: Literal["throttle", "error", "http_500", "http_429", "timeout", "lost_response"]
    # Exactly one of the two; a fault with neither fails the next call only (count 1, as in version 1).
    count: Annotated[Integer | None, Field(ge=1, le=1000)] = None
    until_minute: Annotated[Integer | None, Field(ge=0)] = None

    @model_validator(mode="before")
    @classmethod
    def _one_call_by_default(cls, raw: Any) -> Any:
        if isinstance(raw, dict) and raw.get("count") is None and raw.get("until_minute") is None:
            return {**raw, "count": 1}
        return raw

    @model_validator(mode="after")
    def _mode_fits_target(self) -> Fault:
        allowed = _FAULT_MODES[self.target]
        if self.mode not in allowed:
            raise ValueError(
                f"mode {self.mode!r} does not apply to target {self.target!r} (allowed: {', '.join(sorted(allowed))})"
            )
        if self.count is not None and self.until_minute is not None:
            raise ValueError("give count (the next calls fail) or until_minute (an outage), not both")
        return self


EventList = tuple[EventName, ...]
_Listed = TypeVar("_Listed", bound=tuple[str, ...])


def _listed_once(value: _Listed) -> _Listed:
    repeated = sorted({item for item in value if value.count(item) > 1})
    if repeated:
        raise ValueError(f"{', '.join(map(repr, repeated))} is listed twice")
    return value


def _listed_once_at_least_one(value: _Listed) -> _Listed:
    if not value:
        raise ValueError("list at least one")
    return _listed_once(value)


Events = Annotated[EventList, AfterValidator(_listed_once_at_least_one)]
ChannelList = Annotated[tuple[Channel, ...], AfterValidator(_listed_once_at_least_one)]
SlackChannel = Annotated[str, AfterValidator(validate_slack_channel)]
SlackMention = Annotated[str, AfterValidator(validate_slack_mention)]
ClockTime = Annotated[str, AfterValidator(validate_clock_time)]
TimeZoneName = Annotated[str, AfterValidator(validate_timezone)]
_V2 = ConfigDict(extra="forbid")


@dataclass(frozen=True, config=_V2)
class MuteJob:
    """What `gtwatch mute` does: drop a job's notifications of `events` until `until_minute`."""

    name: JobName
    until_minute: Annotated[Integer, Field(ge=0)]
    events: Events = ALL_EVENTS


class Step(_Strict):
    at_minute: Annotated[Integer, Field(ge=0)]
    create: CreateJob | None = None
    update: UpdateJob | None = None
    state_change_event: StateChangeEvent | None = None
    fault: Fault | None = None
    mute: MuteJob | None = None

    @model_validator(mode="after")
    def _one_action(self) -> Step:
        actions = [name for name in _ACTIONS if getattr(self, name) is not None]
        if len(actions) != 1:
            raise ValueError(f"a step holds exactly one of {', '.join(_ACTIONS)}")
        return self

    @property
    def action(self) -> str:
        return next(name for name in _ACTIONS if getattr(self, name) is not None)

    @property
    def job_name(self) -> str | None:
        """The job the step names, if it names one."""
        action = getattr(self, self.action)
        name = getattr(action, "name", None)
        return name if isinstance(name, str) else None


_ACTIONS = ("create", "update", "state_change_event", "fault", "mute")


# --- Version 2 configuration -------------------------------------------------------------------------


@dataclass(frozen=True, config=_V2)
class SlackRoute:
    """In app mode: notifications of `events`, for jobs whose name holds `name_contains`, go to `channel`."""

    channel: SlackChannel
    events: Events
    name_contains: Annotated[str | None, Field(pattern=NAME_PATTERN)] = None
    mention: SlackMention | None = None

    def matches(self, event_type: str, job_name: str, kind: str = "labeling") -> bool:
        """Whether the notifier's route takes this notification: the product's own rule, never a copy of it."""
        route = Route(self.channel, frozenset(self.events), self.name_contains, self.mention)
        return route.takes(event_type, job_name, kind)

    def to_config(self) -> dict[str, Any]:
        """The route as the stack's config and the notifier's GTWATCH_SLACK_ROUTES write it."""
        optional = {"name_contains": self.name_contains, "mention": self.mention}
        return {
            "channel": self.channel,
            "events": list(self.events),
            **{key: value for key, value in optional.items() if value is not None},
        }


@dataclass(frozen=True, config=_V2)
class SlackConfig:
    mode: SlackMode = "webhook"
    routes: tuple[SlackRoute, ...] = ()


@dataclass(frozen=True, config=_V2)
class DigestConfig:
    """A daily summary at `at` local time in `timezone`."""

    at: ClockTime
    timezone: TimeZoneName
    channels: ChannelList = NOTIFICATION_CHANNELS
    slack_channel: SlackChannel | None = None

    @property
    def local_time(self) -> time:
        return time.fromisoformat(self.at)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


@dataclass(frozen=True, config=_V2)
class QuietHoursConfig:
    """A daily window in `timezone` (it may span midnight) in which `hold` notifications wait for its end."""

    start: ClockTime
    end: ClockTime
    timezone: TimeZoneName
    hold: Events
    channels: ChannelList = NOTIFICATION_CHANNELS

    @field_validator("end")
    @classmethod
    def _not_empty(cls, end: str, info: ValidationInfo) -> str:
        if end == info.data.get("start"):
            raise ValueError("the window is empty: end is the same time as start")
        return end

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @cached_property
    def rule(self) -> QuietHours:
        """The product's quiet hours for this window: the replay and the demo never compute the window themselves."""
        return parse_quiet_hours(
            {
                "start": self.start,
                "end": self.end,
                "timezone": self.timezone,
                "hold": list(self.hold),
                "channels": list(self.channels),
            }
        )

    def holds(self, local: time) -> bool:
        """Whether a local time of day falls inside the window (start included, end excluded)."""
        return self.rule.covers(local)

    def inside(self, moment: datetime) -> bool:
        """Whether a moment is inside the window: its local time is (daylight saving included)."""
        return self.rule.inside(moment)


# How a scenario spells the settings the Slack-mode rules are about (it has no secrets).
_SLACK_NAMES = SlackNames(
    mode="config.slack.mode",
    routes="config.slack.routes",
    slack_events="config.slack_events",
    digest_channels="config.digest.channels",
    digest_slack_channel="config.digest.slack_channel",
)


class Config(_Strict):
    stall_after_minutes: Annotated[Integer, Field(ge=1)] = 60
    stall_repeat_minutes: Annotated[Integer | None, Field(ge=1)] = None
    name_contains: Annotated[str | None, Field(pattern=NAME_PATTERN)] = None
    slack_events: Annotated[EventList, AfterValidator(_listed_once)] = ALL_EVENTS
    email_events: Annotated[EventList, AfterValidator(_listed_once)] = ALL_EVENTS
    # Version 2
    slack: SlackConfig = SlackConfig()
    digest: DigestConfig | None = None
    quiet_hours: QuietHoursConfig | None = None

    def problems(self) -> list[str]:
        """What the fields are each valid for but do not make sense together, each naming its field."""
        digest = self.digest
        choice = SlackChoice(
            mode=self.slack.mode,
            routes=bool(self.slack.routes),
            slack_events="slack_events" in self.model_fields_set,
            digest_channels=None if digest is None else digest.channels,
            digest_slack_channel=digest is not None and digest.slack_channel is not None,
        )
        problems = slack_mode_problems(choice, _SLACK_NAMES)
        if self.slack.routes:
            # The rules across routes (one route per channel) are the notifier's own: a scenario it would refuse
            # at every start is refused here.
            try:
                parse_routes([route.to_config() for route in self.slack.routes], where="config.slack.routes")
            except ValueError as error:
                problems.append(str(error))
        return problems


class Scenario(_Strict):
    start: datetime
    tick_minutes: Annotated[Integer, Field(ge=1, le=1440)] = 5
    duration_minutes: Annotated[Integer | None, Field(ge=0, le=60 * 24 * 30)] = None
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

    def v2_features(self) -> list[str]:
        """The Version 2 features this scenario uses, as field paths ("config.digest", "steps[3].mute").

        A replay that does not support one yet refuses the scenario naming it. Slack settings that only
        restate version 1 (`"mode": "webhook"`) are not listed.
        """
        features = []
        if self.config.slack.mode != "webhook":
            features.append("config.slack.mode")
        if self.config.slack.routes:
            features.append("config.slack.routes")
        if self.config.digest is not None:
            features.append("config.digest")
        if self.config.quiet_hours is not None:
            features.append("config.quiet_hours")
        for index, step in enumerate(self.steps):
            if step.mute is not None:
                features.append(f"steps[{index}].mute")
            if step.fault is not None and step.fault.until_minute is not None:
                features.append(f"steps[{index}].fault.until_minute")
            if step.fault is not None and step.fault.mode == "lost_response":
                features.append(f"steps[{index}].fault.mode")
        return features

    def problems(self) -> list[str]:
        """What each field allows but the scenario as a whole cannot do, each naming its field."""
        return self.config.problems() + self._step_problems()

    def _step_problems(self) -> list[str]:
        problems = []
        created: dict[str, int] = {}  # lowercased job name -> index of the step that created it
        # The order the replay applies steps in; SageMaker job names are unique whatever their case.
        for index in sorted(range(len(self.steps)), key=lambda i: self.steps[i].at_minute):
            step = self.steps[index]
            where = f"steps[{index}].{step.action}"
            name = step.job_name
            if step.action == "create" and name is not None:
                if name.lower() in created:
                    problems.append(f"{where}.name: {name!r} is already created by steps[{created[name.lower()]}]")
                else:
                    created[name.lower()] = index
            elif name is not None and name.lower() not in created and step.action != "mute":
                # A mute may name a job that does not exist yet: muting tonight's batch in advance.
                problems.append(f"{where}.name: {name!r} is not a job created by an earlier step")
            until = step.mute.until_minute if step.mute else step.fault.until_minute if step.fault else None
            if until is not None and until <= step.at_minute:
                problems.append(f"{where}.until_minute: {until} is not after the step's at_minute ({step.at_minute})")
        return sorted(problems, key=_step_index)


def _step_index(problem: str) -> int:
    return int(problem.removeprefix("steps[").split("]", 1)[0])


def parse(raw: Any) -> Scenario:
    try:
        scenario = Scenario.model_validate(raw)
    except ValidationError as error:
        raise ScenarioError("; ".join(_describe(item) for item in error.errors())) from None
    if problems := scenario.problems():
        raise ScenarioError("; ".join(problems))
    return scenario


def load(path: Path) -> Scenario:
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ScenarioError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise ScenarioError(f"{path}: is a directory; give a scenario file (see docs/scenario-format.md)") from None
    except UnicodeDecodeError as error:
        raise ScenarioError(f"{path}: not UTF-8 text ({error.reason} at byte {error.start})") from None
    except OSError as error:
        raise ScenarioError(f"{path}: cannot read it ({error.strerror})") from None
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
    if item["type"] == "int_type":
        message = f"{value_text(item['input'])} is not an integer (a JSON number such as 5)"
    if item["type"] in ("extra_forbidden", "unexpected_keyword_argument"):  # models and dataclasses say it apart
        message = "is not a known field"
    return f"{where or 'scenario'}: {message}"
