"""Plain-text pieces shared by every channel's message: headline, progress, rate and ETA."""

from __future__ import annotations

from datetime import datetime

from .model import EventType, Notification, Progress

HEADLINES = {
    EventType.COMPLETED: "completed",
    EventType.FAILED: "failed",
    EventType.STOPPED: "was stopped",
    EventType.STALLED: "is stalled",
    EventType.RESUMED: "is making progress again",
    EventType.TEST: "(TEST: gtwatch can reach this channel; no job changed)",
}


def headline(notification: Notification) -> str:
    return f"Labeling job {notification.job.name} {HEADLINES[notification.event_type]}"


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


def progress_text(progress: Progress) -> str:
    if progress.percent is None:
        return "no objects yet"
    return f"{progress.percent:.1f}% done ({progress.done:,} of {progress.total:,} objects)"


def labeled_text(progress: Progress) -> str:
    labeled = progress.done - progress.failed
    return f"{labeled:,} ({progress.human_labeled:,} by people, {progress.machine_labeled:,} by machine)"


def rate_text(progress: Progress, now: datetime) -> str | None:
    """Labeling rate and ETA, or None when there is not enough history to say."""
    if progress.rate_per_hour is None:
        return None
    text = f"{progress.rate_per_hour:,.0f} objects/hour recently"
    if progress.eta is not None:
        minutes_left = max(0, round((progress.eta - now).total_seconds() / 60))
        text += f"; ETA {clock_time(progress.eta)} (in about {duration(minutes_left)})"
    return text


def facts(notification: Notification) -> list[tuple[str, str | None]]:
    """Where the job stands, as (label, text) rows every channel shows; None where there is nothing to say."""
    job, progress = notification.job, notification.progress
    return [
        ("Status", job.status.value),
        ("Region", job.region),
        ("Progress", progress_text(progress)),
        ("Labeled", labeled_text(progress)),
        ("Failed objects", f"{progress.failed:,}"),
        ("Remaining", f"{job.counters.unlabeled:,}"),
        ("Rate", rate_text(progress, notification.occurred_at)),
        ("Stall", stall_text(progress)),
    ]


def stall_text(progress: Progress) -> str | None:
    if progress.minutes_since_progress is None:
        return None
    return f"no progress for {duration(progress.minutes_since_progress)}"
