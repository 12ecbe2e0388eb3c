"""The Slack message a person sees for each notification: content, escaping of job text, and Slack's limits."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from watcher.domain.model import EventType, JobStatus, LabelCounters, LabelingJob, Notification, Progress
from watcher.domain.slack_message import escape, escaped_within, payload, slack_length

from gtwatch.sim.slack_endpoint import validate_payload

NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
HOSTILE = "<!channel> & <@U123> see <https://evil.example|click here>"


def make_notification(event_type: EventType = EventType.COMPLETED, **job_changes: Any) -> Notification:
    status = {
        EventType.COMPLETED: JobStatus.COMPLETED,
        EventType.FAILED: JobStatus.FAILED,
        EventType.STOPPED: JobStatus.STOPPED,
    }.get(event_type, JobStatus.IN_PROGRESS)
    job = LabelingJob(
        region="us-east-1",
        name="cats-vs-dogs-7",
        arn="arn:aws:sagemaker:us-east-1:123456789012:labeling-job/cats-vs-dogs-7",
        status=status,
        counters=LabelCounters(
            total_labeled=750, human_labeled=500, machine_labeled=250, failed_non_retryable_error=10, unlabeled=240
        ),
        creation_time=NOW - timedelta(hours=5),
        last_modified_time=NOW,
        output_uri="s3://bucket/output/cats-vs-dogs-7/manifests/output/output.manifest",
        workteam_arn="arn:aws:sagemaker:us-east-1:123456789012:workteam/private-crowd/cats",
        input_manifest_uri="s3://bucket/input/cats.manifest",
    )
    job = replace(job, **job_changes)
    progress = Progress(
        done=760,
        total=1000,
        human_labeled=500,
        machine_labeled=250,
        failed=10,
        rate_per_hour=120.0,
        eta=NOW + timedelta(hours=2),
        minutes_since_progress=95 if event_type is EventType.STALLED else None,
    )
    return Notification(id="n-0001", event_type=event_type, job=job, occurred_at=NOW, progress=progress)


def texts(message: dict[str, Any]) -> list[str]:
    """Every text object in the message's blocks, in order."""
    found: list[str] = []
    for block in message["blocks"]:
        if "text" in block:
            found.append(block["text"]["text"])
        found += [field["text"] for field in block.get("fields", [])]
        found += [element["text"] for element in block.get("elements", []) if "text" in element]
    return found


def all_text(message: dict[str, Any]) -> str:
    return "\n".join([message["text"], *texts(message)])


def failure_reason_text(message: dict[str, Any]) -> str:
    [text] = [text for text in texts(message) if text.startswith("*Failure reason*")]
    return text


@pytest.mark.parametrize(
    ("event_type", "emoji"),
    [
        (EventType.COMPLETED, ":white_check_mark:"),
        (EventType.FAILED, ":x:"),
        (EventType.STOPPED, ":octagonal_sign:"),
        (EventType.STALLED, ":hourglass:"),
        (EventType.RESUMED, ":arrow_forward:"),
    ],
)
def test_title_shows_the_event_emoji_and_the_job_name(event_type: EventType, emoji: str) -> None:
    message = payload(make_notification(event_type))

    title = message["blocks"][0]["text"]["text"]
    assert title.startswith(emoji)
    assert "cats-vs-dogs-7" in title
    assert "cats-vs-dogs-7" in message["text"]


def fields_shown(message: dict[str, Any]) -> dict[str, str]:
    """The facts section as {label: text}."""
    fields = message["blocks"][1]["fields"]
    assert len(fields) <= 10
    return {field["text"].split("\n")[0].strip("*"): field["text"].split("\n", 1)[1] for field in fields}


def test_a_running_job_shows_status_region_progress_labeled_failed_remaining_and_rate() -> None:
    shown = fields_shown(payload(make_notification(EventType.RESUMED)))

    assert shown == {
        "Status": "InProgress",
        "Region": "us-east-1",
        "Progress": "76.0% done (760 of 1,000 objects)",
        "Labeled": "750 (500 by people, 250 by machine)",
        "Failed objects": "10",
        "Remaining": "240",
        "Rate": "120 objects/hour recently; ETA 2024-05-01 14:00 UTC (in about 2 h)",
    }


def test_a_stalled_job_shows_since_when_it_has_not_moved_and_no_rate_or_eta() -> None:
    message = payload(make_notification(EventType.STALLED))

    assert ":hourglass:" in message["blocks"][0]["text"]["text"]
    shown = fields_shown(message)
    assert shown["Stalled"] == "No progress since 10:25 UTC (1 h 35 min)"
    assert shown["Rate"] == "none"
    assert shown["Remaining"] == "240"
    assert "ETA" not in all_text(message)
    assert "objects/hour" not in all_text(message)


def test_output_work_team_input_console_link_and_context_are_shown() -> None:
    notification = make_notification(EventType.COMPLETED)

    message = payload(notification)

    text = all_text(message)
    assert "*Output:* s3://bucket/output/cats-vs-dogs-7/manifests/output/output.manifest" in text
    assert "*Work team:* cats\n" in text + "\n"
    assert "workteam/" not in text
    assert "*Input:* s3://bucket/input/cats.manifest" in text
    assert f"<{notification.job.console_url}|View in SageMaker console>" in text
    context = message["blocks"][-1]
    assert context["type"] == "context"
    assert (
        context["elements"][0]["text"] == "Job created 2024-05-01 07:00 UTC · sent by gtwatch at 2024-05-01 12:00 UTC"
    )


def test_failure_reason_is_quoted_in_its_own_section() -> None:
    message = payload(make_notification(EventType.FAILED, failure_reason="ClientError: no\nmanifest found"))

    assert failure_reason_text(message) == "*Failure reason*\n> ClientError: no manifest found"


def test_failure_reason_cannot_mention_anyone_or_make_a_link() -> None:
    message = payload(make_notification(EventType.FAILED, failure_reason=HOSTILE))

    reason = failure_reason_text(message)
    assert "<!channel>" not in reason
    assert "<@U123>" not in reason
    assert "<https://evil.example|" not in reason
    assert reason.endswith("&lt;!channel&gt; &amp; &lt;@U123&gt; see &lt;https://evil.example|click here&gt;")


def test_job_text_is_escaped_everywhere_it_appears() -> None:
    notification = make_notification(
        EventType.FAILED,
        name="a<b>&c",
        failure_reason=HOSTILE,
        output_uri="s3://bucket/<!here>&out",
        workteam_arn="arn:aws:sagemaker:x:1:workteam/<@U999>",
        active_learning_model_arn="arn:<!everyone>",
        input_sns_topic_arn="arn:aws:sns:x:1:<#C123>",
        input_manifest_uri=None,
    )
    notification = replace(notification, id="id-<!channel>")

    message = payload(notification)

    text = all_text(message)
    # The only < and > left are the console link this module writes itself.
    assert re.sub(r"<https://[^<>|]+\|View in SageMaker console>", "", text).count("<") == 0
    assert re.sub(r"<https://[^<>|]+\|View in SageMaker console>", "", text).replace("\n> ", "\n").count(">") == 0
    for raw in ("<!channel>", "<!here>", "<@U999>", "<!everyone>", "<#C123>", "<b>"):
        assert raw not in text
    assert "a&lt;b&gt;&amp;c" in message["text"]
    assert "&amp;out" in text
    assert "id-" not in text  # The id is for machines: it is in the metadata, unchanged, and nowhere in the text.
    assert message["metadata"]["event_payload"]["notification_id"] == "id-<!channel>"


def test_every_mrkdwn_text_is_verbatim() -> None:
    message = payload(make_notification(EventType.FAILED, failure_reason="see #general or https://x.example"))

    mrkdwn: list[dict[str, Any]] = []
    for block in message["blocks"]:
        mrkdwn += [block["text"]] if "text" in block else []
        mrkdwn += block.get("fields", []) + block.get("elements", [])
    assert mrkdwn
    assert all(obj["type"] == "mrkdwn" and obj["verbatim"] is True for obj in mrkdwn)


def test_non_ascii_text_passes_through_intact() -> None:
    reason = "Ungültiges Manifest: 数据集 «chats» 🐱 ñ"
    message = payload(make_notification(EventType.FAILED, failure_reason=reason))

    assert failure_reason_text(message).endswith(reason)
    assert json.loads(json.dumps(message, ensure_ascii=False))["blocks"] == message["blocks"]
    assert reason in json.dumps(message, ensure_ascii=False)


def test_a_long_failure_reason_is_cut_within_the_section_limit_without_breaking_an_escape() -> None:
    for offset in range(6):
        reason = "x" * offset + "<&>" * 2000
        message = payload(make_notification(EventType.FAILED, failure_reason=reason))

        text = failure_reason_text(message)
        assert slack_length(text) <= 3000
        assert text.endswith("…")
        quoted = text.removeprefix("*Failure reason*\n> ")
        assert re.fullmatch(r"x*(&lt;|&amp;|&gt;)*…", quoted), quoted[-12:]


def test_long_texts_everywhere_stay_within_every_limit() -> None:
    long = "é<🐱&" * 2000
    notification = make_notification(
        EventType.FAILED,
        failure_reason=long,
        output_uri=long,
        workteam_arn=long,
        active_learning_model_arn=long,
        input_manifest_uri=long,
        region="us-east-1" + "&" * 3000,
    )
    notification = replace(notification, id=long)

    message = payload(notification)

    assert validate_payload(message) is None
    assert all(slack_length(text) <= 3000 for text in texts(message))
    assert all(slack_length(field["text"]) <= 2000 for field in message["blocks"][1]["fields"])
    assert not re.search(r"&(?!amp;|lt;|gt;)", all_text(message))


@pytest.mark.parametrize("event_type", list(EventType))
def test_every_message_passes_slacks_checks(event_type: EventType) -> None:
    message = payload(make_notification(event_type, failure_reason="boom" if event_type is EventType.FAILED else None))

    assert validate_payload(message) is None
    assert len(message["blocks"]) <= 50


def test_escape_and_truncate_helpers() -> None:
    assert escape("a & <b> c") == "a &amp; &lt;b&gt; c"
    assert escaped_within("short & sweet", 100) == "short &amp; sweet"
    assert escaped_within("ab&", 6) == "ab…"
    assert escaped_within("🐱🐱🐱", 4) == "🐱…"


# Messages people act on ------------------------------------------------------------------------------------


@pytest.mark.parametrize("event_type", [EventType.COMPLETED, EventType.FAILED, EventType.STOPPED])
def test_a_job_that_ended_says_when_and_how_long_it_ran_instead_of_what_remains(event_type: EventType) -> None:
    # Given a job created at 07:00 whose status changed (LastModifiedTime) at 11:40, seen ended at 12:00
    notification = make_notification(event_type, last_modified_time=NOW - timedelta(minutes=20))

    shown = fields_shown(payload(notification))

    assert shown["Ended"] == "2024-05-01 11:40 UTC"
    assert shown["Ran for"] == "4 h 40 min"
    assert "Remaining" not in shown
    assert "Rate" not in shown
    assert "ETA" not in all_text(payload(notification))


def test_a_completed_job_gives_its_throughput_over_its_life() -> None:
    # 760 objects done in the 4 h it ran (07:00 to 11:00)
    notification = make_notification(EventType.COMPLETED, last_modified_time=NOW - timedelta(hours=1))

    assert fields_shown(payload(notification))["Throughput"] == "190 objects/hour over its life"


@pytest.mark.parametrize("event_type", [EventType.FAILED, EventType.STOPPED])
def test_only_a_completed_job_gives_a_throughput(event_type: EventType) -> None:
    assert "Throughput" not in fields_shown(payload(make_notification(event_type)))


def test_a_job_without_a_status_change_time_is_timed_to_when_it_was_seen_ending() -> None:
    # A summary without LastModifiedTime reads it as the creation time: the watcher's own moment is used instead.
    notification = make_notification(EventType.COMPLETED, last_modified_time=NOW - timedelta(hours=5))

    shown = fields_shown(payload(notification))

    assert shown["Ended"] == "2024-05-01 12:00 UTC"
    assert shown["Ran for"] == "5 h"


def test_a_status_change_time_after_the_watcher_saw_the_end_is_not_believed() -> None:
    notification = make_notification(EventType.FAILED, last_modified_time=NOW + timedelta(minutes=3))

    assert fields_shown(payload(notification))["Ended"] == "2024-05-01 12:00 UTC"


def test_percent_is_never_rounded_up_to_100_while_objects_remain() -> None:
    notification = make_notification(EventType.RESUMED)
    notification = replace(notification, progress=replace(notification.progress, done=19_999, total=20_000))

    message = payload(notification)

    assert fields_shown(message)["Progress"] == "99.9% done (19,999 of 20,000 objects)"
    assert "99.9% done" in message["text"]


def test_the_fallback_text_of_a_failed_job_carries_its_reason_escaped_and_shortened() -> None:
    reason = "ClientError: manifest <s3://in/x.manifest> has 0 objects & no labels. " + "More detail. " * 100
    message = payload(make_notification(EventType.FAILED, failure_reason=reason))

    text = message["text"]
    assert text.startswith(
        "Labeling job cats-vs-dogs-7 failed (us-east-1): ClientError: manifest &lt;s3://in/x.manifest&gt; has 0 "
        "objects &amp; no labels."
    )
    assert text.endswith("…")
    assert slack_length(text) < 300
    assert "<" not in text and ">" not in text


def test_the_fallback_text_of_a_job_that_ended_says_how_far_it_got_and_how_long_it_ran() -> None:
    message = payload(make_notification(EventType.STOPPED))

    assert (
        message["text"]
        == "Labeling job cats-vs-dogs-7 was stopped (us-east-1): 76.0% done (760 of 1,000 objects) after 5 h"
    )


def test_the_fallback_text_of_a_stalled_job_says_since_when() -> None:
    message = payload(make_notification(EventType.STALLED))

    assert message["text"] == (
        "Labeling job cats-vs-dogs-7 is stalled (us-east-1): No progress since 10:25 UTC (1 h 35 min)"
    )


@pytest.mark.parametrize("event_type", list(EventType))
def test_the_notification_id_travels_in_metadata_not_in_the_text(event_type: EventType) -> None:
    notification = replace(make_notification(event_type), id="us-east-1:cats-vs-dogs-7:failed:final")

    message = payload(notification)

    assert message["metadata"] == {
        "event_type": "gtwatch_notification",
        "event_payload": {
            "notification_id": "us-east-1:cats-vs-dogs-7:failed:final",
            "job": "cats-vs-dogs-7",
            "kind": "labeling",
            "region": "us-east-1",
            "event": event_type.value,
            "status": str(notification.job.status),
        },
    }
    assert ":final" not in all_text(message)
    assert validate_payload(message) is None


def test_the_work_team_shows_as_its_name() -> None:
    notification = make_notification(
        EventType.COMPLETED, workteam_arn="arn:aws:sagemaker:us-east-1:123456789012:workteam/private-crowd/my-team"
    )

    assert "*Work team:* my-team" in all_text(payload(notification)).split("\n")
