"""Plain-text pieces shared by every channel's message: headline, the job's facts, times, rates and durations."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeVar

from watcher.domain.job import KIND_NOUNS, LOG_KINDS, JobKind, StatusClass
from watcher.domain.kinds import (
    KindFacts,
    KindJob,
    PipelineFacts,
    PipelineStep,
    ProcessingFacts,
    TrainingFacts,
    TransformFacts,
    TuningFacts,
    log_url,
)
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
# A training job's final metrics shown (sorted by name); the rest are counted.
METRICS_SHOWN = 10
# What a stalled job has not done since its clock started, by kind (job.JobKind: each kind's progress signal). A
# job being stopped of any kind has only its status to change.
STALL_SIGNALS = {
    JobKind.LABELING: "No progress",
    JobKind.TRAINING: "No new log line and no status change",
    JobKind.PROCESSING: "No new log line",
    JobKind.TRANSFORM: "No new log line",
    JobKind.TUNING: "No change in its training jobs",
    JobKind.PIPELINE: "No progress",
}
STOPPING_SIGNAL = "Still stopping: no status change"

# (label, text) rows of a message; a row whose text is None or empty is not shown.
Rows = list[tuple[str, str | None]]
F = TypeVar("F", bound=KindFacts)


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
    """Since when a stalled job has not moved, and what did not move: "No progress since 10:05 UTC (1 h 5 min)" for
    a labeling job, "No new log line and no status change since 10:05 UTC (1 h 5 min)" for a training job."""
    minutes = notification.progress.minutes_since_progress
    if minutes is None:
        return None
    job = notification.job
    since = notification.occurred_at - timedelta(minutes=minutes)
    stopping = job.kind is not JobKind.LABELING and job.status_class is StatusClass.STOPPING
    signal = STOPPING_SIGNAL if stopping else STALL_SIGNALS[job.kind]
    return f"{signal} since {clock_time_near(since, notification.occurred_at)} ({duration(minutes)})"


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


def facts(notification: Notification) -> Rows:
    """Where the job stands, as (label, text) rows every channel shows; None where there is nothing to say. Each
    kind of job has its own facts (KIND_FACTS)."""
    return KIND_FACTS[notification.job.kind](notification)


def details(job: AnyJob) -> Rows:
    """What the job reads and writes, below its facts: each kind has its own (KIND_DETAILS)."""
    if isinstance(job, LabelingJob):
        return labeling_details(job)
    return KIND_DETAILS[job.kind](job)


def labeling_facts(notification: Notification) -> Rows:
    """A labeling job's facts: its objects (done, labeled by whom, failed, remaining) and its labeling rate.

    A job that ended says when and after how long instead of what remains and how fast it went lately; a stalled
    job says since when it has not moved, and no rate or ETA.
    """
    job, progress = notification.job, notification.progress
    rows: Rows = [
        ("Status", job.status),
        ("Region", one_line(job.id.region)),
        ("Account", account_text(job)),
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


def labeling_details(job: LabelingJob) -> Rows:
    """A labeling job's output manifest, active-learning model, input and work team."""
    return [
        ("Output", job.output_uri),
        ("Model", job.active_learning_model_arn),
        ("Input", job.input_manifest_uri or job.input_sns_topic_arn),
        ("Work team", work_team_name(job.workteam_arn) if job.workteam_arn else None),
    ]


def kind_facts(notification: Notification, middle: Rows, *, ran_for: bool = True) -> Rows:
    """The facts every kind after labeling shows around its own (`middle`): its status and region first; when it
    ended, when and (`ran_for`) after how long; when it is stalled, since when and by which signal."""
    job = notification.job
    rows: Rows = [("Status", job.status), ("Region", one_line(job.id.region)), ("Account", account_text(job)), *middle]
    if notification.event_type in ENDING_EVENTS:
        rows += [("Ended", clock_time(ended_at(notification)))]
        rows += [("Ran for", ran_for_text(notification))] if ran_for else []
    if notification.event_type is EventType.STALLED:
        rows += [("Stalled", stalled_since_text(notification))]
    return rows


def training_facts(notification: Notification) -> Rows:
    """A training job's secondary status and its newest status message, how long it trained out of its maximum,
    and, once it ended, the time billed (and what managed spot training saved)."""
    facts = facts_of(notification.job, TrainingFacts)
    return kind_facts(
        notification,
        [
            ("Secondary status", facts.secondary_status),
            ("Status message", facts.status_message),
            ("Run time", training_time_text(notification, facts)),
            ("Billable", billable_text(facts) if notification.event_type in ENDING_EVENTS else None),
        ],
        ran_for=False,
    )


def status_facts(notification: Notification) -> Rows:
    """The facts of a processing or transform job: its status and times (its outputs are details)."""
    return kind_facts(notification, [])


def tuning_facts(notification: Notification) -> Rows:
    """A tuning job's training jobs: how many are done out of its maximum, running, failed; and its best so far."""
    facts = facts_of(notification.job, TuningFacts)
    retryable = facts.count("RetryableError")
    failed = facts.count("NonRetryableError") + retryable
    return kind_facts(
        notification,
        [
            ("Progress", tuning_progress_text(facts)),
            ("In progress", f"{facts.count('InProgress'):,}"),
            ("Failed", f"{failed:,}" + (f" ({retryable:,} can be retried)" if retryable else "")),
            ("Best job", best_job_text(facts)),
        ],
    )


def pipeline_facts(notification: Notification) -> Rows:
    """A pipeline execution's pipeline and, when a step failed, which one and the job it ran (its reason is a
    note, the job's page a link)."""
    facts = facts_of(notification.job, PipelineFacts)
    step = facts.failed_step
    return kind_facts(
        notification,
        [
            ("Pipeline", facts.pipeline),
            ("Failed step", step.name if step else None),
            ("Step's job", step_job_text(step) if step else None),
        ],
    )


def training_details(job: KindJob) -> Rows:
    facts = facts_of(job, TrainingFacts)
    return [("Final metrics", metrics_text(facts.final_metrics)), ("Model", facts.model_uri)]


def processing_details(job: KindJob) -> Rows:
    facts = facts_of(job, ProcessingFacts)
    return [("Output", ", ".join(facts.output_uris) or None)]


def transform_details(job: KindJob) -> Rows:
    facts = facts_of(job, TransformFacts)
    return [("Output", facts.output_uri), ("Model", facts.model_name)]


def no_details(job: KindJob) -> Rows:
    return []


# The kinds' facts and details (job.JobKind); a labeling job's details are labeling_details.
KIND_FACTS: dict[JobKind, Callable[[Notification], Rows]] = {
    JobKind.LABELING: labeling_facts,
    JobKind.TRAINING: training_facts,
    JobKind.PROCESSING: status_facts,
    JobKind.TRANSFORM: status_facts,
    JobKind.TUNING: tuning_facts,
    JobKind.PIPELINE: pipeline_facts,
}
KIND_DETAILS: dict[JobKind, Callable[[KindJob], Rows]] = {
    JobKind.TRAINING: training_details,
    JobKind.PROCESSING: processing_details,
    JobKind.TRANSFORM: transform_details,
    JobKind.TUNING: no_details,
    JobKind.PIPELINE: no_details,
}


def notes(notification: Notification) -> Rows:
    """Free text from the service, each quoted on its own: why the job failed, and what else its kind says in its
    own words (a processing job's exit message, a pipeline's failed step's reason)."""
    job = notification.job
    rows: Rows = [("Failure reason", job.failure_reason)]
    if isinstance(job, KindJob) and isinstance(job.facts, ProcessingFacts):
        rows.append(("Exit message", job.facts.exit_message))
    if isinstance(job, KindJob) and isinstance(job.facts, PipelineFacts) and job.facts.failed_step:
        rows.append(("Step failure reason", job.facts.failed_step.failure_reason))
    return rows


@dataclass(frozen=True)
class Link:
    """A page about the job: `label` names it in an email's rows, `text` is what a Slack link shows."""

    label: str
    text: str
    url: str


def links(job: AnyJob) -> list[Link]:
    """The job's page in the console; its logs for the kinds that write them; a failed pipeline step's job."""
    found = [Link("Console", "View in SageMaker console", console_link(job))]
    if isinstance(job, KindJob) and job.kind in LOG_KINDS:
        found.append(
            Link("Logs", "View logs in CloudWatch", log_url(job.kind, one_line(job.region), one_line(job.name)))
        )
    step = job.facts.failed_step if isinstance(job, KindJob) and isinstance(job.facts, PipelineFacts) else None
    if step and step.job_kind and step.job_name:
        url = kind_console_url(step.job_kind, one_line(job.region), one_line(step.job_name))
        found.append(Link("Step's job page", f"View {step_job_text(step, lower=True)}", url))
    return found


def summary(notification: Notification) -> str:
    """The one thing to know about a job, after its headline (a phone's notification): how far it got, and when it
    ended, after how long; the reason it failed; since when it is stalled."""
    job, event_type = notification.job, notification.event_type
    if event_type is EventType.FAILED and (reason := failure_text(job)):
        return reason
    if event_type is EventType.STALLED and (since := stalled_since_text(notification)):
        return since
    if isinstance(job, LabelingJob):
        objects = progress_text(notification.progress)
        return f"{objects} after {ran_for_text(notification)}" if event_type in ENDING_EVENTS else objects
    if isinstance(job.facts, TrainingFacts):
        if event_type in ENDING_EVENTS:
            return training_time_text(notification, job.facts) or f"Ran {ran_for_text(notification)}"
        return job.facts.secondary_status or job.status
    how_far = tuning_progress_text(job.facts) if isinstance(job.facts, TuningFacts) else None
    if event_type in ENDING_EVENTS:
        return f"{how_far} after {ran_for_text(notification)}" if how_far else f"Ran {ran_for_text(notification)}"
    return how_far or job.status


def failure_text(job: AnyJob) -> str | None:
    """Why the job failed, in one line: for a pipeline, its failed step's reason when it gives one (the execution's
    own is mostly "Step failure: One or multiple steps failed."); otherwise the job's failure reason."""
    step = job.facts.failed_step if isinstance(job, KindJob) and isinstance(job.facts, PipelineFacts) else None
    if step and step.failure_reason:
        return f"Step {step.name} failed: {step.failure_reason}"
    return job.failure_reason


def facts_of(job: AnyJob, kind: type[F]) -> F:
    """The job's facts of the given kind; empty ones when the job is of another kind (never shown then)."""
    return job.facts if isinstance(job, KindJob) and isinstance(job.facts, kind) else kind()


def seconds_text(seconds: float) -> str:
    return "under a minute" if seconds < 60 else duration(int(seconds // 60))


def training_time_text(notification: Notification, facts: TrainingFacts) -> str | None:
    """How long the job has trained, out of its maximum: "Ran 2 h 10 min of 10 h max" once it ended (SageMaker's
    training time when it says), "Running 1 h 5 min of 10 h max" before."""
    job = notification.job
    start = facts.started_at or job.creation_time
    ending = notification.event_type in ENDING_EVENTS
    end = ended_at(notification) if ending else notification.occurred_at
    seconds = facts.training_seconds if ending and facts.training_seconds is not None else (end - start).total_seconds()
    if seconds < 0:
        return None
    text = f"{'Ran' if ending else 'Running'} {seconds_text(seconds)}"
    if facts.max_runtime_seconds:
        text += f" of {seconds_text(facts.max_runtime_seconds)} max"
    return text


def billable_text(facts: TrainingFacts) -> str | None:
    """The time billed, and what managed spot training saved: "2 h 30 min (spot: saved 58%)"."""
    if facts.billable_seconds is None:
        return None
    savings = facts.spot_savings_percent
    spot = f" (spot: saved {savings:.0f}%)" if savings is not None else ""
    return seconds_text(facts.billable_seconds) + spot


def metrics_text(metrics: tuple[tuple[str, float], ...]) -> str | None:
    """Final metrics as "name = value", sorted by name, at most METRICS_SHOWN of them, saying how many more."""
    if not metrics:
        return None
    ordered = sorted(metrics, key=lambda metric: metric[0])
    shown = ", ".join(f"{one_line(name)} = {value:.6g}" for name, value in ordered[:METRICS_SHOWN])
    more = len(ordered) - METRICS_SHOWN
    return shown + (f" (and {more} more)" if more > 0 else "")


def tuning_progress_text(facts: TuningFacts) -> str:
    """How many training jobs are done (completed, failed for good, or stopped) out of the job's maximum: "12 of 50
    training jobs done"."""
    out_of = f" of {facts.max_jobs:,}" if facts.max_jobs else ""
    return f"{facts.finished:,}{out_of} training jobs done"


def best_job_text(facts: TuningFacts) -> str | None:
    """The best training job so far, with its objective metric: "hpo-1-007 (validation:accuracy = 0.9312)"."""
    if not facts.best_job:
        return None
    if facts.best_metric is None or facts.best_value is None:
        return facts.best_job
    return f"{facts.best_job} ({facts.best_metric} = {facts.best_value:.6g})"


def step_job_text(step: PipelineStep, *, lower: bool = False) -> str | None:
    """The job a pipeline step ran, as messages name a job: "Training job bert-3" ("training job bert-3")."""
    if not (step.job_kind and step.job_name):
        return None
    noun = KIND_NOUNS[step.job_kind]
    return f"{noun.lower() if lower else noun} {one_line(step.job_name)}"


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


def account_text(job: AnyJob) -> str | None:
    """The job's account as people read it, "research (111111111111)"; None when the deployment lists no accounts."""
    if job.account_id is None:
        return None
    return f"{one_line(job.account_alias)} ({job.account_id})" if job.account_alias else job.account_id


def where(job: AnyJob) -> str:
    """Where the job runs, short: "us-east-1", or with its account "research, us-east-1"."""
    region = one_line(job.region)
    if job.account_id is None:
        return region
    return f"{one_line(job.account_alias) if job.account_alias else job.account_id}, {region}"
