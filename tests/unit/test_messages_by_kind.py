"""The messages a person reads about jobs of every kind after labeling (training, processing, transform, tuning,
pipeline executions): what each kind's Slack message (webhook, app root and replies) and email say, that hostile
text from the job stays escaped, and that the longest facts stay within Slack's limits."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from watcher.domain.email_message import SUBJECT_LIMIT, body, subject
from watcher.domain.formatting import KIND_DETAILS, KIND_FACTS
from watcher.domain.job import JobKind
from watcher.domain.kinds import (
    TUNING_COUNTERS,
    KindFacts,
    KindJob,
    PipelineFacts,
    PipelineStep,
    ProcessingFacts,
    TrainingFacts,
    TransformFacts,
    TuningFacts,
    console_url,
    log_url,
)
from watcher.domain.model import EventType, Notification, Progress
from watcher.domain.slack_message import payload, slack_length
from watcher.domain.slack_routes import Route
from watcher.usecases.slack_delivery import message_for

from gtwatch.sim.slack_endpoint import validate_payload
from tests.unit.test_slack_message import HOSTILE, all_text, fields_shown, texts

NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
REGION = "us-east-1"
CONSOLE = "https://us-east-1.console.aws.amazon.com/sagemaker/home?region=us-east-1"
KIND_EVENTS = [(kind, event) for kind in JobKind if kind is not JobKind.LABELING for event in EventType]
# The status each kind's job has when a notification of each type is sent about it.
ENDED_STATUSES = {EventType.COMPLETED: "Completed", EventType.FAILED: "Failed", EventType.STOPPED: "Stopped"}


def training_facts(**changes: Any) -> TrainingFacts:
    facts = TrainingFacts(
        secondary_status="Training",
        status_message="Training image download completed. Training in progress.",
        max_runtime_seconds=10 * 3600,
        started_at=NOW - timedelta(hours=2, minutes=50),
        final_metrics=(("validation:loss", 0.2345), ("train:loss", 0.1)),
        model_uri="s3://models/bert-3/output/model.tar.gz",
    )
    return replace(facts, **changes)


FACTS: dict[JobKind, KindFacts] = {
    JobKind.TRAINING: training_facts(),
    JobKind.PROCESSING: ProcessingFacts(output_uris=("s3://data/prep-9/train", "s3://data/prep-9/test")),
    JobKind.TRANSFORM: TransformFacts(output_uri="s3://data/score-2/", model_name="bert-3-model"),
    JobKind.TUNING: TuningFacts(
        counters=(
            ("Completed", 10),
            ("InProgress", 4),
            ("RetryableError", 1),
            ("NonRetryableError", 1),
            ("Stopped", 1),
        ),
        max_jobs=50,
        best_job="hpo-1-007-abc",
        best_metric="validation:accuracy",
        best_value=0.9312,
    ),
    JobKind.PIPELINE: PipelineFacts(
        pipeline="nightly",
        steps=(
            PipelineStep("Preprocess", "Succeeded"),
            PipelineStep("TrainModel", "Executing"),
        ),
    ),
}
NAMES = {
    JobKind.TRAINING: "bert-3",
    JobKind.PROCESSING: "prep-9",
    JobKind.TRANSFORM: "score-2",
    JobKind.TUNING: "hpo-1",
    JobKind.PIPELINE: "nightly-7",
}


def make_job(kind: JobKind, event_type: EventType = EventType.STALLED, **changes: Any) -> KindJob:
    status = ENDED_STATUSES.get(event_type, "Executing" if kind is JobKind.PIPELINE else "InProgress")
    if kind is JobKind.PIPELINE and status == "Completed":
        status = "Succeeded"
    job = KindJob(
        kind=kind,
        region=REGION,
        name=NAMES[kind],
        arn=f"arn:aws:sagemaker:{REGION}:123456789012:{kind.value}/{NAMES[kind]}",
        status=status,
        creation_time=NOW - timedelta(hours=3),
        last_modified_time=NOW - timedelta(minutes=5),
        facts=FACTS[kind],
        detailed=True,
    )
    return replace(job, **changes)


def make_notification(
    kind: JobKind, event_type: EventType = EventType.STALLED, *, minutes: int = 115, **changes: Any
) -> Notification:
    """A notification of `event_type` about a job of `kind`; other kinds' progress is zeros but for the minutes a
    stalled job has not moved."""
    stalled = event_type is EventType.STALLED
    return Notification(
        id=f"{REGION}:{kind.value}:{NAMES[kind]}:{event_type.value}",
        event_type=event_type,
        job=make_job(kind, event_type, **changes),
        occurred_at=NOW,
        progress=Progress(done=0, total=0, human_labeled=0, machine_labeled=0, failed=0,
                          minutes_since_progress=minutes if stalled else None),
    )  # fmt: skip


def failed_pipeline(**step: Any) -> PipelineFacts:
    failed = PipelineStep(
        **{
            "name": "TrainModel",
            "status": "Failed",
            "failure_reason": "ClientError: AlgorithmError: exit code 1",
            "job_kind": JobKind.TRAINING,
            "job_name": "pipelines-abc123-TrainModel-xyz",
            "job_arn": f"arn:aws:sagemaker:{REGION}:123456789012:training-job/pipelines-abc123-TrainModel-xyz",
        }
        | step
    )
    return PipelineFacts(pipeline="nightly", steps=(PipelineStep("Preprocess", "Succeeded"), failed))


def rows(text: str) -> dict[str, str]:
    """The email body's "Label: value" rows."""
    return dict(re.findall(r"^([A-Z][A-Za-z' ]+):\s+(.+)$", text, re.MULTILINE))


def notes_shown(message: dict[str, Any]) -> dict[str, str]:
    """The quoted sections (failure reason, exit message, step failure reason) as {label: text}."""
    found = {}
    for text in texts(message):
        match = re.fullmatch(r"\*([^*\n]+)\*\n> (.*)", text, re.DOTALL)
        if match:
            found[match[1]] = match[2]
    return found


def details_shown(message: dict[str, Any]) -> dict[str, str]:
    """The details section's "*Label:* text" rows as {label: text}."""
    return dict(re.findall(r"^\*([^*\n]+):\* (.*)$", "\n".join(texts(message)), re.MULTILINE))


def links_shown(message: dict[str, Any]) -> dict[str, str]:
    """The links under the headline as {text: url}."""
    title = message["blocks"][0]["text"]["text"]
    return {text: url for url, text in re.findall(r"<(https://[^|<>]+)\|([^<>]+)>", title)}


# Headlines -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "event_type", "headline", "email_subject"),
    [
        (JobKind.TRAINING, EventType.FAILED, "Training job bert-3 failed", "Failed: Training job bert-3"),
        (
            JobKind.PROCESSING,
            EventType.COMPLETED,
            "Processing job prep-9 completed",
            "Completed: Processing job prep-9",
        ),
        (JobKind.TRANSFORM, EventType.STOPPED, "Transform job score-2 was stopped", "Stopped: Transform job score-2"),
        (JobKind.TUNING, EventType.STALLED, "Tuning job hpo-1 is stalled", "Stalled: Tuning job hpo-1"),
        (
            JobKind.PIPELINE,
            EventType.FAILED,
            "Pipeline execution nightly-7 failed",
            "Failed: Pipeline execution nightly-7",
        ),
    ],
)
def test_each_kind_is_named_by_its_noun_in_every_channel(
    kind: JobKind, event_type: EventType, headline: str, email_subject: str
) -> None:
    notification = make_notification(kind, event_type)

    message = payload(notification)

    assert message["blocks"][0]["text"]["text"].split("\n")[0].endswith(f"*{headline}*")
    assert message["text"].startswith(f"{headline} ({REGION}): ")
    assert body(notification).splitlines()[0] == f"{headline}."
    assert subject(notification) == f"[gtwatch] {email_subject} ({REGION})"


def test_a_labeling_jobs_email_subject_still_names_the_job_alone() -> None:
    from tests.unit.test_slack_message import make_notification as labeling_notification

    assert subject(labeling_notification(EventType.FAILED)) == "[gtwatch] Failed: cats-vs-dogs-7 (us-east-1)"


@pytest.mark.parametrize("kind", [kind for kind in JobKind if kind is not JobKind.LABELING])
def test_every_kind_has_its_facts_and_details(kind: JobKind) -> None:
    assert kind in KIND_FACTS and kind in KIND_DETAILS


# Training --------------------------------------------------------------------------------------------------------


def failed_training(**facts: Any) -> Notification:
    ended: dict[str, Any] = {
        "secondary_status": "Failed",
        "status_message": "Training job failed. Reason: AlgorithmError",
        "training_seconds": 7800,
        "billable_seconds": 3276,
        "spot": True,
    }
    return make_notification(
        JobKind.TRAINING,
        EventType.FAILED,
        facts=training_facts(**(ended | facts)),
        failure_reason="AlgorithmError: ExecuteUserScriptError: exit code 1",
    )


def test_a_failed_training_job_says_its_status_time_billing_metrics_model_and_links_to_its_logs() -> None:
    message = payload(failed_training())

    assert fields_shown(message) == {
        "Status": "Failed",
        "Region": "us-east-1",
        "Secondary status": "Failed",
        "Status message": "Training job failed. Reason: AlgorithmError",
        "Run time": "Ran 2 h 10 min of 10 h max",
        "Billable": "54 min (spot: saved 58%)",
        "Ended": "2026-12-04 11:55 UTC",
    }
    assert notes_shown(message) == {"Failure reason": "AlgorithmError: ExecuteUserScriptError: exit code 1"}
    assert details_shown(message) == {
        "Final metrics": "train:loss = 0.1, validation:loss = 0.2345",
        "Model": "s3://models/bert-3/output/model.tar.gz",
    }
    assert links_shown(message) == {
        "View in SageMaker console": f"{CONSOLE}#/jobs/bert-3",
        "View logs in CloudWatch": log_url(JobKind.TRAINING, REGION, "bert-3"),
    }
    assert message["text"] == (
        "Training job bert-3 failed (us-east-1): AlgorithmError: ExecuteUserScriptError: exit code 1"
    )


def test_a_failed_training_jobs_email_reads_as_its_slack_message_does() -> None:
    assert body(failed_training()) == (
        "Training job bert-3 failed.\n"
        "\n"
        "Status:           Failed\n"
        "Region:           us-east-1\n"
        "Secondary status: Failed\n"
        "Status message:   Training job failed. Reason: AlgorithmError\n"
        "Run time:         Ran 2 h 10 min of 10 h max\n"
        "Billable:         54 min (spot: saved 58%)\n"
        "Ended:            2026-12-04 11:55 UTC\n"
        "Failure reason:   AlgorithmError: ExecuteUserScriptError: exit code 1\n"
        "Final metrics:    train:loss = 0.1, validation:loss = 0.2345\n"
        "Model:            s3://models/bert-3/output/model.tar.gz\n"
        "Created:          2026-12-04 09:00 UTC\n"
        f"Console:          {CONSOLE}#/jobs/bert-3\n"
        f"Logs:             {log_url(JobKind.TRAINING, REGION, 'bert-3')}\n"
        "\n"
        "Sent by gtwatch at 2026-12-04 12:00 UTC.\n"
        "ref: us-east-1:training:bert-3:failed\n"
    )


def test_billing_without_spot_gives_the_time_billed_alone() -> None:
    shown = fields_shown(payload(failed_training(spot=False, billable_seconds=9000)))

    assert shown["Billable"] == "2 h 30 min"


def test_a_completed_training_job_without_training_time_is_timed_from_its_start_to_its_end() -> None:
    # Started 09:10, ended 11:55 (LastModifiedTime); no maximum known.
    notification = make_notification(
        JobKind.TRAINING, EventType.COMPLETED, facts=training_facts(max_runtime_seconds=None)
    )

    shown = fields_shown(payload(notification))

    assert shown["Run time"] == "Ran 2 h 45 min"
    assert "Billable" not in shown
    assert payload(notification)["text"] == "Training job bert-3 completed (us-east-1): Ran 2 h 45 min"


def test_a_stalled_training_job_says_since_when_no_log_line_and_no_status_change_came() -> None:
    notification = make_notification(JobKind.TRAINING, EventType.STALLED, minutes=115)

    message = payload(notification)

    assert fields_shown(message) == {
        "Status": "InProgress",
        "Region": "us-east-1",
        "Secondary status": "Training",
        "Status message": "Training image download completed. Training in progress.",
        "Run time": "Running 2 h 50 min of 10 h max",
        "Stalled": "No new log line and no status change since 10:05 UTC (1 h 55 min)",
    }
    assert message["text"] == (
        "Training job bert-3 is stalled (us-east-1): No new log line and no status change since 10:05 UTC (1 h 55 min)"
    )
    assert rows(body(notification))["Stalled"] == "No new log line and no status change since 10:05 UTC (1 h 55 min)"
    assert "View logs in CloudWatch" in links_shown(message)


def test_a_resumed_training_job_gives_its_secondary_status_in_the_fallback_text() -> None:
    message = payload(make_notification(JobKind.TRAINING, EventType.RESUMED))

    assert message["text"] == "Training job bert-3 is making progress again (us-east-1): Training"


def test_at_most_ten_final_metrics_are_shown_sorted_by_name_with_how_many_more() -> None:
    metrics = tuple((f"metric-{index:02d}", index / 3) for index in reversed(range(50)))
    notification = make_notification(JobKind.TRAINING, EventType.COMPLETED, facts=training_facts(final_metrics=metrics))

    shown = details_shown(payload(notification))["Final metrics"]

    assert shown == (
        "metric-00 = 0, metric-01 = 0.333333, metric-02 = 0.666667, metric-03 = 1, metric-04 = 1.33333, "
        "metric-05 = 1.66667, metric-06 = 2, metric-07 = 2.33333, metric-08 = 2.66667, metric-09 = 3 (and 40 more)"
    )
    assert rows(body(notification))["Final metrics"] == shown


def test_a_stopping_job_that_does_not_stop_says_its_status_has_not_changed() -> None:
    notification = make_notification(JobKind.PROCESSING, EventType.STALLED, status="Stopping", minutes=30)

    assert fields_shown(payload(notification))["Stalled"] == "Still stopping: no status change since 11:30 UTC (30 min)"


# Processing and transform ----------------------------------------------------------------------------------------


def test_a_failed_processing_job_quotes_its_exit_message_and_shows_its_outputs_and_logs() -> None:
    notification = make_notification(
        JobKind.PROCESSING,
        EventType.FAILED,
        facts=ProcessingFacts(
            exit_message="Traceback: KeyError 'label'", output_uris=("s3://data/prep-9/train", "s3://data/prep-9/test")
        ),
        failure_reason="AlgorithmError: See job logs for more information",
    )

    message = payload(notification)

    assert fields_shown(message) == {
        "Status": "Failed",
        "Region": "us-east-1",
        "Ended": "2026-12-04 11:55 UTC",
        "Ran for": "2 h 55 min",
    }
    assert notes_shown(message) == {
        "Failure reason": "AlgorithmError: See job logs for more information",
        "Exit message": "Traceback: KeyError 'label'",
    }
    assert details_shown(message) == {"Output": "s3://data/prep-9/train, s3://data/prep-9/test"}
    assert links_shown(message) == {
        "View in SageMaker console": f"{CONSOLE}#/processing-jobs/prep-9",
        "View logs in CloudWatch": log_url(JobKind.PROCESSING, REGION, "prep-9"),
    }
    email = rows(body(notification))
    assert email["Exit message"] == "Traceback: KeyError 'label'"
    assert email["Logs"] == log_url(JobKind.PROCESSING, REGION, "prep-9")


def test_a_stalled_processing_job_says_since_when_no_log_line_came() -> None:
    message = payload(make_notification(JobKind.PROCESSING, EventType.STALLED, minutes=45))

    assert fields_shown(message)["Stalled"] == "No new log line since 11:15 UTC (45 min)"


def test_a_completed_transform_job_shows_its_output_model_and_logs() -> None:
    notification = make_notification(JobKind.TRANSFORM, EventType.COMPLETED)

    message = payload(notification)

    assert fields_shown(message) == {
        "Status": "Completed",
        "Region": "us-east-1",
        "Ended": "2026-12-04 11:55 UTC",
        "Ran for": "2 h 55 min",
    }
    assert details_shown(message) == {"Output": "s3://data/score-2/", "Model": "bert-3-model"}
    assert links_shown(message)["View logs in CloudWatch"] == log_url(JobKind.TRANSFORM, REGION, "score-2")
    assert message["text"] == "Transform job score-2 completed (us-east-1): Ran 2 h 55 min"
    assert rows(body(notification))["Console"] == f"{CONSOLE}#/transform-jobs/score-2"


# Tuning ----------------------------------------------------------------------------------------------------------


def test_a_tuning_job_counts_its_training_jobs_out_of_its_maximum_and_names_its_best() -> None:
    notification = make_notification(JobKind.TUNING, EventType.COMPLETED)

    message = payload(notification)

    assert fields_shown(message) == {
        "Status": "Completed",
        "Region": "us-east-1",
        "Progress": "12 of 50 training jobs done",
        "In progress": "4",
        "Failed": "2 (1 can be retried)",
        "Best job": "hpo-1-007-abc (validation:accuracy = 0.9312)",
        "Ended": "2026-12-04 11:55 UTC",
        "Ran for": "2 h 55 min",
    }
    assert links_shown(message) == {"View in SageMaker console": f"{CONSOLE}#/hyper-tuning-jobs/hpo-1"}
    assert message["text"] == "Tuning job hpo-1 completed (us-east-1): 12 of 50 training jobs done after 2 h 55 min"
    assert rows(body(notification))["Progress"] == "12 of 50 training jobs done"


def test_a_stalled_tuning_job_says_since_when_its_training_jobs_have_not_changed() -> None:
    message = payload(make_notification(JobKind.TUNING, EventType.STALLED, minutes=130))

    assert fields_shown(message)["Stalled"] == "No change in its training jobs since 09:50 UTC (2 h 10 min)"


# Pipeline --------------------------------------------------------------------------------------------------------


def test_a_failed_pipeline_execution_names_its_failed_step_its_reason_and_links_its_job() -> None:
    notification = make_notification(
        JobKind.PIPELINE,
        EventType.FAILED,
        facts=failed_pipeline(),
        failure_reason="Step failure: One or multiple steps failed.",
    )

    message = payload(notification)

    assert fields_shown(message) == {
        "Status": "Failed",
        "Region": "us-east-1",
        "Pipeline": "nightly",
        "Failed step": "TrainModel",
        "Step's job": "Training job pipelines-abc123-TrainModel-xyz",
        "Ended": "2026-12-04 11:55 UTC",
        "Ran for": "2 h 55 min",
    }
    assert notes_shown(message) == {
        "Failure reason": "Step failure: One or multiple steps failed.",
        "Step failure reason": "ClientError: AlgorithmError: exit code 1",
    }
    child = console_url(JobKind.TRAINING, REGION, "pipelines-abc123-TrainModel-xyz")
    assert links_shown(message) == {
        "View in SageMaker console": f"{CONSOLE}#/pipelines",
        "View training job pipelines-abc123-TrainModel-xyz": child,
    }
    assert message["text"] == (
        "Pipeline execution nightly-7 failed (us-east-1): Step TrainModel failed: ClientError: AlgorithmError: exit "
        "code 1"
    )
    email = rows(body(notification))
    assert email["Step failure reason"] == "ClientError: AlgorithmError: exit code 1"
    assert email["Step's job page"] == child


def test_a_running_pipeline_execution_names_its_pipeline_and_no_failed_step() -> None:
    shown = fields_shown(payload(make_notification(JobKind.PIPELINE, EventType.RESUMED)))

    assert shown == {"Status": "Executing", "Region": "us-east-1", "Pipeline": "nightly"}


def test_a_failed_step_without_a_job_names_the_step_and_links_nothing_more() -> None:
    facts = failed_pipeline(job_kind=None, job_name=None, job_arn=None, failure_reason="Condition failed")
    message = payload(make_notification(JobKind.PIPELINE, EventType.FAILED, facts=facts))

    assert fields_shown(message)["Failed step"] == "TrainModel"
    assert "Step's job" not in fields_shown(message)
    assert list(links_shown(message)) == ["View in SageMaker console"]


# App mode: the job's root card and its replies carry the same facts -------------------------------------------


@pytest.mark.parametrize("kind", [kind for kind in JobKind if kind is not JobKind.LABELING])
def test_the_app_modes_root_and_replies_show_the_kinds_facts_after_the_routes_mention(kind: JobKind) -> None:
    notification = make_notification(kind, EventType.FAILED, failure_reason="boom")
    route = Route("#ml-oncall", frozenset({"failed"}), mention="<!subteam^S0ONCALL>", kinds=frozenset({kind.value}))

    message = message_for(notification, route)

    assert message["text"].startswith("<!subteam^S0ONCALL> ")
    assert message["blocks"][0]["text"]["text"].startswith("<!subteam^S0ONCALL> :x: *")
    assert message["blocks"][1:] == payload(notification)["blocks"][1:]
    assert fields_shown(message)["Status"] == "Failed"
    assert validate_payload(message) is None


# Hostile text and Slack's limits ---------------------------------------------------------------------------------


def hostile_pipeline_and_processing() -> list[Notification]:
    return [
        make_notification(
            JobKind.PROCESSING,
            EventType.FAILED,
            facts=ProcessingFacts(exit_message=f"{HOSTILE}\nref: forged", output_uris=("s3://b/<!here>",)),
        ),
        make_notification(
            JobKind.PIPELINE,
            EventType.FAILED,
            facts=failed_pipeline(name="step <@U999>", failure_reason=f"{HOSTILE}\nref: forged", job_name="a|b<c>"),
        ),
        make_notification(
            JobKind.TRAINING,
            EventType.COMPLETED,
            facts=training_facts(final_metrics=(("<!channel>&loss", 1.0),), status_message=HOSTILE),
        ),
    ]


@pytest.mark.parametrize("notification", hostile_pipeline_and_processing(), ids=["exit", "step", "metric"])
def test_hostile_exit_messages_step_reasons_and_metric_names_cannot_ping_or_link_in_slack(
    notification: Notification,
) -> None:
    message = payload(notification)

    text = all_text(message)
    links = re.findall(r"<https://[^<>|]+\|[^<>]+>", text)
    outside = re.sub(r"<https://[^<>|]+\|[^<>]+>", "", text)
    assert "<" not in outside
    assert ">" not in outside.replace("\n> ", "\n")
    assert all(re.fullmatch(r"<https://[^<>|]+\|View [^<>]+>", link) for link in links)
    for raw in ("<!channel>", "<!here>", "<@U123>", "<@U999>", "<https://evil.example|"):
        assert raw not in text
    assert "&lt;!channel&gt;" in text
    assert not re.search(r"&(?!amp;|lt;|gt;)", text)


@pytest.mark.parametrize("notification", hostile_pipeline_and_processing(), ids=["exit", "step", "metric"])
def test_hostile_exit_messages_step_reasons_and_metric_names_stay_on_their_line_in_email(
    notification: Notification,
) -> None:
    text = body(notification)

    assert not [line for line in text.splitlines() if line.startswith("ref: forged")]
    assert text.splitlines()[-1] == f"ref: {notification.id}"
    assert "<!channel>" in text  # Plain text: shown as SageMaker wrote it, nothing to escape.


def test_the_child_job_link_of_a_hostile_step_is_quoted_into_its_url() -> None:
    notification = hostile_pipeline_and_processing()[1]

    links = links_shown(payload(notification))

    assert links["View training job a|b&lt;c&gt;"] == console_url(JobKind.TRAINING, REGION, "a|b<c>")
    assert "%7C" in console_url(JobKind.TRAINING, REGION, "a|b<c>")


def longest(kind: JobKind) -> KindFacts:
    """The longest facts a job of `kind` can carry."""
    huge = "é<🐱&" * 2500  # 10,000 characters, each needing escaping or two UTF-16 units
    if kind is JobKind.TRAINING:
        return training_facts(
            secondary_status=huge,
            status_message=huge,
            final_metrics=tuple((f"{huge}-{index}", float(index)) for index in range(50)),
            model_uri=huge,
            training_seconds=10**9,
            billable_seconds=10**9,
            spot=True,
        )
    if kind is JobKind.PROCESSING:
        return ProcessingFacts(exit_message=huge, output_uris=tuple(f"{huge}{index}" for index in range(10)))
    if kind is JobKind.TRANSFORM:
        return TransformFacts(output_uri=huge, model_name=huge)
    if kind is JobKind.TUNING:
        return TuningFacts(
            counters=tuple((name, 10**9) for name in TUNING_COUNTERS),
            max_jobs=10**9,
            best_job=huge,
            best_metric=huge,
            best_value=1e300,
        )
    return PipelineFacts(
        pipeline=huge,
        steps=tuple(
            PipelineStep(huge, "Failed", huge, JobKind.TRAINING, huge + str(index), huge) for index in range(50)
        ),
    )


@pytest.mark.parametrize(("kind", "event_type"), KIND_EVENTS)
def test_the_longest_facts_of_every_kind_stay_within_slacks_limits(kind: JobKind, event_type: EventType) -> None:
    huge = "é<🐱&" * 2500
    notification = make_notification(
        kind, event_type, facts=longest(kind), failure_reason=huge, name="n" * 63, region="us-east-1"
    )

    message = payload(notification)

    assert validate_payload(message) is None
    assert len(message["blocks"]) <= 50
    assert all(slack_length(text) <= 3000 for text in texts(message))
    fields = message["blocks"][1]["fields"]
    assert 0 < len(fields) <= 10
    assert all(slack_length(field["text"]) <= 2000 for field in fields)
    assert slack_length(message["text"]) <= 600
    assert not re.search(r"&(?!amp;|lt;|gt;)", all_text(message))
    assert len(subject(notification)) <= SUBJECT_LIMIT
    # Well below the undocumented total of block text at which Slack refuses a message (msg_blocks_too_long).
    assert sum(slack_length(text) for text in texts(message)) <= 8000


def test_a_long_text_takes_only_the_room_the_short_facts_beside_it_leave() -> None:
    notification = make_notification(
        JobKind.TRAINING, EventType.STALLED, facts=training_facts(status_message="x" * 9000)
    )

    shown = fields_shown(payload(notification))

    assert shown["Status"] == "InProgress"
    assert shown["Stalled"] == "No new log line and no status change since 10:05 UTC (1 h 55 min)"
    assert shown["Run time"] == "Running 2 h 50 min of 10 h max"
    assert shown["Status message"].endswith("x…")
    assert 1500 < len(shown["Status message"]) < 2000


@pytest.mark.parametrize(("kind", "event_type"), KIND_EVENTS)
def test_every_kinds_message_passes_slacks_checks_and_links_its_console_page(
    kind: JobKind, event_type: EventType
) -> None:
    notification = make_notification(
        kind, event_type, failure_reason="boom" if event_type is EventType.FAILED else None
    )

    message = payload(notification)

    assert validate_payload(message) is None
    assert links_shown(message)["View in SageMaker console"] == console_url(kind, REGION, NAMES[kind])
    assert rows(body(notification))["Console"] == console_url(kind, REGION, NAMES[kind])
    assert "objects" not in all_text(message)  # a labeling job's words, not another kind's


@pytest.mark.parametrize("kind", [kind for kind in JobKind if kind is not JobKind.LABELING])
def test_the_metadata_names_the_jobs_kind_and_region_for_machines(kind: JobKind) -> None:
    notification = make_notification(kind, EventType.FAILED)

    assert payload(notification)["metadata"]["event_payload"] == {
        "notification_id": f"us-east-1:{kind.value}:{NAMES[kind]}:failed",
        "job": NAMES[kind],
        "kind": kind.value,
        "region": "us-east-1",
        "event": "failed",
        "status": "Failed",
    }
