"""The Slack message a person sees for each notification: content, escaping of job text, and Slack's limits."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from watcher.model import EventType, JobStatus, LabelCounters, LabelingJob, Notification, Progress
from watcher.slack_message import escape, escaped_within, payload, slack_length

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


def test_facts_show_status_region_progress_labeled_failed_remaining_and_rate() -> None:
    message = payload(make_notification(EventType.COMPLETED))

    fields = message["blocks"][1]["fields"]
    shown = {field["text"].split("\n")[0]: field["text"].split("\n", 1)[1] for field in fields}
    assert shown["*Status*"] == "Completed"
    assert shown["*Region*"] == "us-east-1"
    assert shown["*Progress*"] == "76.0% done (760 of 1,000 objects)"
    assert shown["*Labeled*"] == "750 (500 by people, 250 by machine)"
    assert shown["*Failed objects*"] == "10"
    assert shown["*Remaining*"] == "240"
    assert shown["*Rate*"].startswith("120 objects/hour recently; ETA 2024-05-01 14:00 UTC")
    assert "*Stall*" not in shown
    assert len(fields) <= 10


def test_a_stalled_job_shows_how_long_it_has_not_moved() -> None:
    message = payload(make_notification(EventType.STALLED))

    assert ":hourglass:" in message["blocks"][0]["text"]["text"]
    assert "*Stall*\nno progress for 1 h 35 min" in texts(message)


def test_output_work_team_input_console_link_and_context_are_shown() -> None:
    notification = make_notification(EventType.COMPLETED)

    message = payload(notification)

    text = all_text(message)
    assert "*Output:* s3://bucket/output/cats-vs-dogs-7/manifests/output/output.manifest" in text
    assert "*Work team:* arn:aws:sagemaker:us-east-1:123456789012:workteam/private-crowd/cats" in text
    assert "*Input:* s3://bucket/input/cats.manifest" in text
    assert f"<{notification.job.console_url}|View in SageMaker console>" in text
    context = message["blocks"][-1]
    assert context["type"] == "context"
    assert "Job created 2024-05-01 07:00 UTC" in context["elements"][0]["text"]
    assert "notification n-0001" in context["elements"][0]["text"]


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
    assert "id-&lt;!channel&gt;" in text


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
