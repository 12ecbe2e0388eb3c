"""Scenario files for `gtwatch replay`: parsing and validation, with errors that name the field.

The format is docs/scenario-format.md, versions 1 and 2 and Version 3 (job kinds, accounts and regions). A scenario can
use Version 2 features that the replay does not support yet; `Scenario.v2_features()` lists them so the replay can
refuse them by name. The accounts are checked by the same rules as the stack's `accounts` (gtwatch.ops.accounts).
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, time, timedelta
from functools import cached_property
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar, Union
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import botocore.session
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    PlainValidator,
    Strict,
    Tag,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic.dataclasses import dataclass
from watcher.domain.contract import DEFAULT_KINDS, JOB_KINDS, STALLING_KINDS, KindName
from watcher.domain.job import LOG_KINDS
from watcher.domain.model import JobStatus
from watcher.domain.quiet import QuietHours, parse_quiet_hours
from watcher.domain.slack_routes import Route, parse_routes, validate_slack_channel, validate_slack_mention
from watcher.domain.text import value_text
from watcher.domain.vocabulary import (
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

from gtwatch.ops.accounts import Account as WatchedAccount
from gtwatch.ops.accounts import parse_accounts, parse_route_accounts

ALL_EVENTS = EVENT_TYPES
COUNTER_FIELDS = ("TotalLabeled", "HumanLabeled", "MachineLabeled", "FailedNonRetryableError", "Unlabeled")
# DescribeLabelingJob's FailureReason holds at most this many characters (botocore's SageMaker model).
FAILURE_REASON_MAX_LENGTH = 1024
# An OutputDatasetS3Uri holds at most this many characters (the model's S3Uri).
S3_URI_MAX_LENGTH = 1024
# CreateLabelingJob's HumanTaskConfig.WorkteamArn (the model's WorkteamArn): a pattern and at most 256 characters.
WORKTEAM_ARN_PATTERN = r"arn:aws[a-z\-]*:sagemaker:[a-z0-9\-]*:[0-9]{12}:workteam/.*"
WORKTEAM_ARN_MAX_LENGTH = 256
# Where a scenario's jobs live unless a step says otherwise (docs/scenario-format.md, Version 3): the home account,
# where the replay deploys the watcher (the emulator's default account), and its default region.
HOME_ACCOUNT = "123456789012"
HOME_REGION = "us-east-1"
DEFAULT_ACCOUNTS: tuple[WatchedAccount, ...] = (WatchedAccount(HOME_ACCOUNT, None, (HOME_REGION,)),)
# A job as SageMaker knows it: (account, region, kind, lowercased name); two kinds, accounts or regions may share names.
JobKey = tuple[str, str, str, str]
# The statuses each kind's API reports (DescribeTrainingJob... and DescribePipelineExecution); labeling's are JobStatus.
KIND_JOB_STATUSES = ("InProgress", "Completed", "Failed", "Stopping", "Stopped")
PIPELINE_STATUSES = ("Executing", "Succeeded", "Failed", "Stopping", "Stopped")
PIPELINE_STEP_STATUSES = ("Starting", "Executing", "Stopping", "Stopped", "Failed", "Succeeded")
# DescribeTrainingJob's SecondaryStatus values (botocore's SageMaker model).
SECONDARY_STATUSES = (
    "Starting",
    "LaunchingMLInstances",
    "PreparingTrainingStack",
    "Downloading",
    "DownloadingTrainingImage",
    "Training",
    "Uploading",
    "Stopping",
    "Stopped",
    "MaxRuntimeExceeded",
    "Completed",
    "Failed",
    "Interrupted",
    "MaxWaitTimeExceeded",
    "Updating",
    "Restarting",
    "Pending",
)


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


def sagemaker_regions() -> frozenset[str]:
    """The regions where SageMaker runs, in every partition, from the endpoint data botocore ships (no network)."""
    session = botocore.session.get_session()
    return frozenset(
        region
        for partition in session.get_available_partitions()
        for region in session.get_available_regions("sagemaker", partition_name=partition)
    )


def _account_id(value: str) -> str:
    if not re.fullmatch(r"[0-9]{12}", value):
        raise ValueError(
            f"{value_text(value)} is not a 12-digit account id: a step names its account by id, as output lines do "
            "(aliases are for routes)"
        )
    return value


def _region_name(value: str) -> str:
    if not re.fullmatch(REGION_PATTERN, value) or value not in sagemaker_regions():
        raise ValueError(f"{value_text(value)} is not a region where SageMaker runs, such as us-east-1")
    return value


Account = Annotated[str, Strict(), AfterValidator(_account_id)]
Region = Annotated[str, Strict(), AfterValidator(_region_name)]


class _Located(_Strict):
    """A step that names a job: by kind, account and region as well as name (default labeling, home, us-east-1)."""

    account: Account | None = None
    region: Region | None = None

    @property
    def place(self) -> tuple[str, str]:
        """(account, region) where the job lives: the home account and us-east-1 unless the step says otherwise."""
        return self.account or HOME_ACCOUNT, self.region or HOME_REGION


class CreateJob(_Located):
    """A labeling job's creation (the version 1 step)."""

    kind: Literal["labeling"] = "labeling"
    name: JobName
    status: JobStatus = JobStatus.INITIALIZING
    counters: Counters = Counters()
    failure_reason: FailureReason | None = None
    output: S3Uri | None = None
    workteam_arn: WorkteamArn | None = None


class UpdateJob(_Located):
    """A labeling job's change (the version 1 step)."""

    kind: Literal["labeling"] = "labeling"
    name: JobName
    status: JobStatus | None = None
    counters: Counters | None = None
    failure_reason: FailureReason | None = None
    output: S3Uri | None = None


MetricName = Annotated[str, Field(min_length=1, max_length=255)]


def _metric_value(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{value_text(value)} is not a number (a JSON number such as 0.87)")
    return float(value)


MetricValue = Annotated[float, PlainValidator(_metric_value)]


class _KindChange(_Located):
    """A training, processing, transform or tuning job's creation or change: on create, a status left out is
    InProgress; on update, what is left out keeps its value."""

    name: JobName
    status: Literal["InProgress", "Completed", "Failed", "Stopping", "Stopped"] | None = None
    failure_reason: FailureReason | None = None


class TrainingChange(_KindChange):
    kind: Literal["training"]
    secondary_status: Literal[SECONDARY_STATUSES] | None = None  # type: ignore[valid-type]
    max_runtime_minutes: Annotated[Integer | None, Field(ge=1)] = None
    spot: Annotated[bool | None, Strict()] = None
    billable_minutes: NonNegative | None = None
    final_metrics: dict[MetricName, MetricValue] | None = None


class ProcessingChange(_KindChange):
    kind: Literal["processing"]
    exit_message: FailureReason | None = None  # ExitMessage: the same at most 1024 characters


class TransformChange(_KindChange):
    kind: Literal["transform"]


class TuningCounters(_Strict):
    """DescribeHyperParameterTuningJob's TrainingJobStatusCounters; one left out is 0."""

    Completed: NonNegative = 0
    InProgress: NonNegative = 0
    RetryableError: NonNegative = 0
    NonRetryableError: NonNegative = 0
    Stopped: NonNegative = 0

    def to_api(self) -> dict[str, int]:
        return self.model_dump()


class BestTrainingJob(_Strict):
    job: JobName
    metric: MetricName
    value: MetricValue


class TuningChange(_KindChange):
    kind: Literal["tuning"]
    counters: TuningCounters | None = None
    max_jobs: Annotated[Integer | None, Field(ge=1)] = None
    best: BestTrainingJob | None = None


class StepJob(_Strict):
    """A pipeline step's child job, known by its kind and name (in the execution's account and region)."""

    kind: Literal["training", "processing", "transform", "tuning"]
    name: JobName


class PipelineStepState(_Strict):
    name: Annotated[str, Field(pattern=r"^[A-Za-z0-9\-_]{1,64}$")]
    status: Literal[PIPELINE_STEP_STATUSES]  # type: ignore[valid-type]
    failure_reason: FailureReason | None = None
    job: StepJob | None = None


class PipelineChange(_Located):
    """A pipeline execution's start or change: `name` is its PipelineExecutionDisplayName, `pipeline` the pipeline's
    name (given on create), `steps` every step started so far. A status left out on create is Executing."""

    kind: Literal["pipeline"]
    name: JobName
    pipeline: Annotated[str | None, Field(pattern=r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,255}$")] = None
    status: Literal[PIPELINE_STATUSES] | None = None  # type: ignore[valid-type]
    failure_reason: FailureReason | None = None
    steps: tuple[PipelineStepState, ...] | None = None


def _kind_tag(raw: Any) -> str:
    """Which kind of job a create or update step is about: its `kind`, labeling when it has none."""
    kind = raw.get("kind", "labeling") if isinstance(raw, dict) else getattr(raw, "kind", "labeling")
    return kind if isinstance(kind, str) else value_text(kind)


KindCreate = Annotated[
    Union[  # noqa: UP007 - Tag annotations need the Union spelling
        Annotated[CreateJob, Tag("labeling")],
        Annotated[TrainingChange, Tag("training")],
        Annotated[ProcessingChange, Tag("processing")],
        Annotated[TransformChange, Tag("transform")],
        Annotated[TuningChange, Tag("tuning")],
        Annotated[PipelineChange, Tag("pipeline")],
    ],
    Discriminator(_kind_tag),
]
KindUpdate = Annotated[
    Union[  # noqa: UP007 - Tag annotations need the Union spelling
        Annotated[UpdateJob, Tag("labeling")],
        Annotated[TrainingChange, Tag("training")],
        Annotated[ProcessingChange, Tag("processing")],
        Annotated[TransformChange, Tag("transform")],
        Annotated[TuningChange, Tag("tuning")],
        Annotated[PipelineChange, Tag("pipeline")],
    ],
    Discriminator(_kind_tag),
]


class LogLine(_Located):
    """The job writes a line to its CloudWatch log stream at the step's minute (training, processing, transform)."""

    name: JobName
    kind: KindName = "labeling"


class StateChangeEvent(_Located):
    kind: KindName = "labeling"
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
    "logs": ("throttle",),
    "sts": ("access_denied",),
    "sns": ("error",),
    "dynamodb": ("error",),
    "slack": ("http_500", "http_429", "timeout", "lost_response"),
}


class Fault(_Located):
    target: Literal["sagemaker", "sns", "dynamodb", "slack", "logs", "sts"]
    mode: Literal["throttle", "error", "http_500", "http_429", "timeout", "lost_response", "access_denied"]
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
    """What `gtwatch mute` does: drop a job's notifications of `events` until `until_minute`. Version 3: the job is
    named by `kind` (default labeling), `account` and `region` (default the home account and us-east-1) as well."""

    name: JobName
    until_minute: Annotated[Integer, Field(ge=0)]
    events: Events = ALL_EVENTS
    kind: KindName = "labeling"
    account: Account | None = None
    region: Region | None = None

    @property
    def place(self) -> tuple[str, str]:
        return self.account or HOME_ACCOUNT, self.region or HOME_REGION


class Step(_Strict):
    at_minute: Annotated[Integer, Field(ge=0)]
    create: KindCreate | None = None
    update: KindUpdate | None = None
    log: LogLine | None = None
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

    @property
    def job_key(self) -> JobKey:
        """The job the step names as SageMaker knows it: (account, region, kind, lowercased name)."""
        action = getattr(self, self.action)
        place = getattr(action, "place", (HOME_ACCOUNT, HOME_REGION))
        return (*place, self.job_kind, (self.job_name or "").lower())

    @property
    def job_kind(self) -> KindName:
        """The kind of job the step names (labeling when it names none, as a step without `kind` does)."""
        kind = getattr(getattr(self, self.action), "kind", "labeling")
        return kind if kind in JOB_KINDS else "labeling"


_ACTIONS = ("create", "update", "log", "state_change_event", "fault", "mute")


# --- Version 2 configuration -------------------------------------------------------------------------


@dataclass(frozen=True, config=_V2)
class SlackRoute:
    """In app mode: notifications of `events`, for jobs whose name holds `name_contains`, go to `channel`."""

    channel: SlackChannel
    events: Events
    name_contains: Annotated[str | None, Field(pattern=NAME_PATTERN)] = None
    mention: SlackMention | None = None
    # Version 3: the kinds of job the route takes (every kind when left out). Not passed to the notifier yet (its
    # routes know no kinds until the watcher watches them): see to_config.
    kinds: Annotated[tuple[KindName, ...], AfterValidator(_listed_once_at_least_one)] | None = None
    # Version 3: the accounts (ids or aliases of config.accounts) whose jobs the route takes (every account when left
    # out); checked against config.accounts by Config.problems, passed to the notifier as ids (Config.route_accounts).
    accounts: tuple[str, ...] | None = None

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


def _stall_after(value: object) -> int | dict[str, int]:
    """A whole number of minutes (every kind that can stall) or an object by kind (a kind left out never stalls)."""
    if isinstance(value, int) and not isinstance(value, bool):
        if value < 1:
            raise ValueError(f"{value} is not a whole number of minutes of at least 1")
        return value
    if not isinstance(value, dict):
        raise ValueError(
            f"{value_text(value)} is neither a whole number of minutes nor an object by kind such as "
            '{"training": 30, "processing": 45}'
        )
    for kind, minutes in value.items():
        if kind not in JOB_KINDS:
            raise ValueError(f"{value_text(kind)} is not a job kind ({', '.join(JOB_KINDS)})")
        if kind not in STALLING_KINDS:
            raise ValueError(f"{kind}: a pipeline execution never stalls (its steps' jobs can, as jobs of their kind)")
        if isinstance(minutes, bool) or not isinstance(minutes, int) or minutes < 1:
            raise ValueError(f"{kind}: {value_text(minutes)} is not a whole number of minutes of at least 1")
    return dict(value)


StallAfter = Annotated[int | dict[str, int], PlainValidator(_stall_after)]


class Config(_Strict):
    stall_after_minutes: StallAfter = 60
    stall_repeat_minutes: Annotated[Integer | None, Field(ge=1)] = None
    name_contains: Annotated[str | None, Field(pattern=NAME_PATTERN)] = None
    slack_events: Annotated[EventList, AfterValidator(_listed_once)] = ALL_EVENTS
    email_events: Annotated[EventList, AfterValidator(_listed_once)] = ALL_EVENTS
    # Version 2
    slack: SlackConfig = SlackConfig()
    digest: DigestConfig | None = None
    quiet_hours: QuietHoursConfig | None = None
    # Version 3
    kinds: Annotated[tuple[KindName, ...], AfterValidator(_listed_once_at_least_one)] = DEFAULT_KINDS
    # As written: checked by the stack's rules (gtwatch.ops.accounts) in problems(), read through `watched_accounts`.
    accounts: Any = None

    @property
    def watched_accounts(self) -> tuple[WatchedAccount, ...]:
        """The listed accounts, the home account first (the default: the home account in us-east-1). Only for a
        scenario that parse() accepted."""
        if self.accounts is None:
            return DEFAULT_ACCOUNTS
        return parse_accounts(self.accounts, "config.accounts")

    def route_accounts(self) -> tuple[tuple[str, ...] | None, ...]:
        """Each Slack route's `accounts` as account ids (None: every account), as the notifier takes them."""
        return tuple(
            parse_route_accounts(
                None if route.accounts is None else list(route.accounts), "", self.watched_accounts, "config.accounts"
            )
            for route in self.slack.routes
        )

    def accounts_problems(self) -> list[str]:
        """config.accounts by the stack's rules, the replay's home account first, and each route's accounts."""
        if self.accounts is None:
            accounts = DEFAULT_ACCOUNTS
        else:
            try:
                accounts = parse_accounts(self.accounts, "config.accounts", known_regions=sagemaker_regions())
            except ValueError as error:
                return str(error).split("; ")
            if accounts[0].id != HOME_ACCOUNT:
                return [
                    f"config.accounts[0].id: {accounts[0].id!r}: the first account is the home account, where the "
                    f"replay deploys the watcher: {HOME_ACCOUNT}"
                ]
        problems = []
        for index, route in enumerate(self.slack.routes):
            try:
                parse_route_accounts(
                    list(route.accounts) if route.accounts is not None else None,
                    f"config.slack.routes[{index}].accounts",
                    accounts,
                    "config.accounts",
                )
            except ValueError as error:
                problems += str(error).split("; ")
        return problems

    def stall_after_setting(self) -> str:
        """stall_after_minutes as the stack passes it (GTWATCH_STALL_AFTER_MINUTES): a number, or JSON by kind."""
        if isinstance(self.stall_after_minutes, int):
            return str(self.stall_after_minutes)
        return json.dumps(self.stall_after_minutes, separators=(",", ":"))

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
        problems = slack_mode_problems(choice, _SLACK_NAMES) + self.accounts_problems()
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
        # (account, region, kind, lowercased job name) -> index of the step that created it: a job is known by all four.
        created: dict[JobKey, int] = {}
        pipelines: dict[JobKey, str | None] = {}  # an execution -> its pipeline
        accounts = self.config.watched_accounts if not self.config.accounts_problems() else None
        # The order the replay applies steps in; SageMaker job names are unique whatever their case.
        for index in sorted(range(len(self.steps)), key=lambda i: self.steps[i].at_minute):
            step = self.steps[index]
            where = f"steps[{index}].{step.action}"
            name, key = step.job_name, step.job_key
            if step.action == "create" and name is not None:
                if key in created:
                    problems.append(f"{where}.name: {name!r} is already created by steps[{created[key]}]")
                else:
                    created[key] = index
            elif name is not None and key not in created and step.action != "mute":
                # A mute may name a job that does not exist yet: muting tonight's batch in advance.
                problems.append(f"{where}.name: {name!r} is not {_a_job(key)} created by an earlier step")
            problems += _kind_problems(step, where, created, pipelines)
            if step.fault is not None and accounts is not None:
                problems += _fault_problems(step.fault, where, accounts)
            until = step.mute.until_minute if step.mute else step.fault.until_minute if step.fault else None
            if until is not None and until <= step.at_minute:
                problems.append(f"{where}.until_minute: {until} is not after the step's at_minute ({step.at_minute})")
        return sorted(problems, key=_step_index)


def _a_job(key: JobKey) -> str:
    account, region, kind, _ = key
    noun = "a job" if kind == "labeling" else "a pipeline execution" if kind == "pipeline" else f"a {kind} job"
    if (account, region) == (HOME_ACCOUNT, HOME_REGION):
        return noun
    return f"{noun} in account {account}, {region},"


def _fault_problems(fault: Fault, where: str, accounts: tuple[WatchedAccount, ...]) -> list[str]:
    """Where a fault strikes: `sts` names a spoke (or every spoke) and no region; `sagemaker` and `logs` may name a
    listed account and one of its regions; the other targets are the hub's own and name neither."""
    spokes = {account.id: account for account in accounts[1:]}
    if fault.target == "sts":
        if fault.region is not None:
            return [f"{where}.region: an sts fault names an account, not a region (the role is the account's)"]
        if fault.account == accounts[0].id:
            return [f"{where}.account: {fault.account!r} is the home account: an sts fault names a spoke"]
        if fault.account is not None and fault.account not in spokes:
            return [f"{where}.account: {fault.account!r} is not a spoke listed in config.accounts"]
        if not spokes:
            return [f"{where}.target: an sts fault needs a spoke: config.accounts lists only the home account"]
        return []
    if fault.target not in ("sagemaker", "logs"):
        named = "account" if fault.account is not None else "region" if fault.region is not None else None
        if named is not None:
            return [f"{where}.{named}: {fault.target!r} faults are the hub's own: they name no account or region"]
        return []
    listed = {account.id: account for account in accounts}
    if fault.account is not None and fault.account not in listed:
        return [f"{where}.account: {fault.account!r} is not listed in config.accounts"]
    if fault.region is not None:
        regions = {region for account in accounts for region in account.regions}
        if fault.account is not None:
            regions = set(listed[fault.account].regions)
        if fault.region not in regions:
            return [f"{where}.region: {fault.region!r} is not a region config.accounts lists for that account"]
    return []


def _kind_problems(
    step: Step, where: str, created: dict[JobKey, int], pipelines: dict[JobKey, str | None]
) -> list[str]:
    """Version 3's rules of a step that a field alone cannot say (docs/scenario-format.md, "could be read two ways")."""
    problems = []
    if step.log is not None and step.log.kind not in LOG_KINDS:
        if "kind" in step.log.model_fields_set:
            problems.append(
                f"{where}.kind: {step.log.kind!r} jobs write no log lines: a log step is for training, processing "
                "and transform jobs"
            )
        else:
            problems.append(
                f"{where}.kind: a log step without kind names a labeling job, which writes no log lines: give kind "
                "training, processing or transform"
            )
    change = step.create if step.create is not None else step.update
    if isinstance(change, PipelineChange):
        key = step.job_key
        if step.create is not None:
            if change.pipeline is None:
                problems.append(f"{where}.pipeline: give the name of the pipeline this execution runs")
            pipelines.setdefault(key, change.pipeline)
        elif change.pipeline is not None and key in pipelines and pipelines[key] != change.pipeline:
            problems.append(
                f"{where}.pipeline: {change.pipeline!r} is not the pipeline {change.name!r} runs ({pipelines[key]!r})"
            )
        for position, state in enumerate(change.steps or ()):
            child = state.job
            child_key = (*step.job_key[:2], child.kind, child.name.lower()) if child is not None else None
            if child is not None and child_key is not None and child_key not in created:
                problems.append(
                    f"{where}.steps[{position}].job.name: {child.name!r} is not {_a_job(child_key)} created by an "
                    "earlier step"
                )
    return problems


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
    where, previous = "", None
    for part in item["loc"]:
        if isinstance(part, int):
            where += f"[{part}]"
        elif previous in ("create", "update") and part in JOB_KINDS:
            pass  # the kind's model, which a create or update step picks by its `kind`: not a field
        elif not str(part).startswith(("function-after", "function-before", "function-plain")):
            where += f".{part}" if where else str(part)
        previous = part
    message = str(item["msg"]).removeprefix("Value error, ")
    if item["type"] == "union_tag_invalid":
        where += ".kind"
        message = f"{value_text(item['ctx']['tag'])} is not a job kind ({', '.join(JOB_KINDS)})"
    if item["type"] == "int_type":
        message = f"{value_text(item['input'])} is not an integer (a JSON number such as 5)"
    if item["type"] in ("extra_forbidden", "unexpected_keyword_argument"):  # models and dataclasses say it apart
        message = "is not a known field"
    return f"{where or 'scenario'}: {message}"
