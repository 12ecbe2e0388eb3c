"""Plain-text pieces shared by every channel's message: headline, the job's facts, times, rates and durations."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from watcher.domain.job import KIND_NOUNS, JobKind
from watcher.domain.kinds import KindJob
from watcher.domain.kinds import console_url as kind_console_url
from watcher.domain.model import (
    TERMINAL_EVENTS,
    AnyJob,
    EventType,
    LabelingJob,
    Notification,
    Progress,
    console_url,
)
from watcher.domain.text import one_line

HEADLINES = {
    EventType.COMPLETED: "completed",
    EventType.FAILED: "failed",
    EventType.STOPPED: "was stopped",
    EventType.STALLED: "is stalled",
    EventType.RESUMED: "is making progress again",
    EventType.TEST: "(TEST: gtwatch can reach this channel; no job changed)",
}
ENDING_EVENTS = frozenset(TERMINAL_EVENTS.values())


def headline(notification: Notification) -> str:
    job = notification.job.id
    return f"{KIND_NOUNS[job.kind]} {one_line(job.name)} {HEADLINES[notification.event_type]}"


def duration(minutes: int) -> str:
    if minutes < 60:
        return f"{minutes} min"
    hours, rest = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {rest} min" if rest else f"{hours} h"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h" if hours else f"{days} d"


def clock_time(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def clock_time_near(moment: datetime, now: datetime) -> str:
    """`moment` as a time of day when it is on the same (UTC) day as `now`, with its date otherwise."""
    return moment.strftime("%H:%M UTC") if moment.date() == now.date() else clock_time(moment)


def per_hour(rate: float) -> str:
    # Below ten an hour a whole number says too little ("0 objects/hour" for a job that does move).
    return f"{rate:,.1f} objects/hour" if rate < 10 else f"{rate:,.0f} objects/hour"


def progress_text(progress: Progress) -> str:
    if progress.percent is None:
        return "no objects yet"
    return f"{progress.percent:.1f}% done ({progress.done:,} of {progress.total:,} objects)"


def labeled_text(progress: Progress) -> str:
    labeled = progress.done - progress.failed
    return f"{labeled:,} ({progress.human_labeled:,} by people, {progress.machine_labeled:,} by machine)"


def rate_text(progress: Progress, now: datetime) -> str | None:
    """Labeling rate and ETA, "none" for a job that has not moved, or None when there is not enough history."""
    if progress.rate_per_hour is None:
        return None
    if progress.rate_per_hour == 0:
        return "none"
    text = f"{per_hour(progress.rate_per_hour)} recently"
    if progress.eta is not None:
        minutes_left = max(0, round((progress.eta - now).total_seconds() / 60))
        text += f"; ETA {clock_time(progress.eta)} (in about {duration(minutes_left)})"
    return text


def stall_text(progress: Progress) -> str | None:
    if progress.minutes_since_progress is None:
        return None
    return f"no progress for {duration(progress.minutes_since_progress)}"


def stalled_since_text(notification: Notification) -> str | None:
    """Since when a stalled job has not moved, for example "No progress since 10:05 UTC (1 h 5 min)"."""
    minutes = notification.progress.minutes_since_progress
    if minutes is None:
        return None
    since = notification.occurred_at - timedelta(minutes=minutes)
    return f"No progress since {clock_time_near(since, notification.occurred_at)} ({duration(minutes)})"


def ended_at(notification: Notification) -> datetime:
    """When the job ended: SageMaker's LastModifiedTime, which a change of status sets, if it is plausible;
    otherwise when the watcher saw the job ended."""
    job = notification.job
    if job.creation_time < job.last_modified_time <= notification.occurred_at:
        return job.last_modified_time
    return notification.occurred_at


def run_time(notification: Notification) -> timedelta:
    """How long the job ran, from its creation to its end."""
    return max(timedelta(0), ended_at(notification) - notification.job.creation_time)


def ran_for_text(notification: Notification) -> str:
    minutes = int(run_time(notification).total_seconds() // 60)
    return "under a minute" if minutes == 0 else duration(minutes)


def throughput_text(notification: Notification) -> str | None:
    """Objects finished per hour over the job's whole life, or None for a job that ran no measurable time."""
    hours = run_time(notification).total_seconds() / 3600
    if hours <= 0:
        return None
    return f"{per_hour(notification.progress.done / hours)} over its life"


def facts(notification: Notification) -> list[tuple[str, str | None]]:
    """Where the job stands, as (label, text) rows every channel shows; None where there is nothing to say. Each
    kind of job has its own facts (KIND_FACTS)."""
    return KIND_FACTS[notification.job.kind](notification)


def details(job: AnyJob) -> list[tuple[str, str | None]]:
    """What the job reads and writes, below its facts: each kind has its own (KIND_DETAILS)."""
    if isinstance(job, LabelingJob):
        return labeling_details(job)
    return KIND_DETAILS[job.kind](job)


def labeling_facts(notification: Notification) -> list[tuple[str, str | None]]:
    """A labeling job's facts: its objects (done, labeled by whom, failed, remaining) and its labeling rate.

    A job that ended says when and after how long instead of what remains and how fast it went lately; a stalled
    job says since when it has not moved, and no rate or ETA.
    """
    job, progress = notification.job, notification.progress
    rows: list[tuple[str, str | None]] = [
        ("Status", job.status),
        ("Region", one_line(job.id.region)),
        ("Progress", progress_text(progress)),
        ("Labeled", labeled_text(progress)),
        ("Failed objects", f"{progress.failed:,}"),
    ]
    if notification.event_type in ENDING_EVENTS:
        return [
            *rows,
            ("Ended", clock_time(ended_at(notification))),
            ("Ran for", ran_for_text(notification)),
            ("Throughput", throughput_text(notification) if notification.event_type is EventType.COMPLETED else None),
        ]
    stalled = notification.event_type is EventType.STALLED
    return [
        *rows,
        ("Remaining", f"{progress.total - progress.done:,}"),
        # A stall notice decided before the rate rule in diff.progress may still wait in an outbox.
        ("Rate", "none" if stalled else rate_text(progress, notification.occurred_at)),
        ("Stalled", stalled_since_text(notification) if stalled else None),
    ]


def labeling_details(job: LabelingJob) -> list[tuple[str, str | None]]:
    """A labeling job's output manifest, active-learning model, input and work team."""
    return [
        ("Output", job.output_uri),
        ("Model", job.active_learning_model_arn),
        ("Input", job.input_manifest_uri or job.input_sns_topic_arn),
        ("Work team", work_team_name(job.workteam_arn) if job.workteam_arn else None),
    ]


# The kinds' facts and details (job.JobKind); a labeling job's details are labeling_details.
KIND_FACTS: dict[JobKind, Callable[[Notification], list[tuple[str, str | None]]]] = {JobKind.LABELING: labeling_facts}
KIND_DETAILS: dict[JobKind, Callable[[KindJob], list[tuple[str, str | None]]]] = {}


def console_link(job: AnyJob) -> str:
    """The job's console URL, built from its cleaned name and region: a lone surrogate cannot be URL-quoted."""
    if isinstance(job, LabelingJob):
        return console_url(one_line(job.region), one_line(job.name))
    return kind_console_url(job.kind, one_line(job.region), one_line(job.name))


def work_team_name(arn: str) -> str:
    """The work team's name from its ARN (`...:workteam/private-crowd/my-team` is "my-team")."""
    resource = arn.split(":", 5)[-1]
    kind, _, path = resource.partition("/")
    crowd, _, name = path.partition("/")
    if kind != "workteam" or not name:
        return arn
    return "Amazon Mechanical Turk" if crowd == "public-crowd" else name
