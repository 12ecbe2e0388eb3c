"""Text from SageMaker made safe: clean() at the boundary, and every channel's rendering of hostile job text."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from watcher.domain import email_message, slack_message
from watcher.domain.model import EventType
from watcher.domain.text import clean, one_line

from gtwatch.sim.slack_endpoint import validate_payload
from tests.unit.test_slack_message import all_text, make_notification

BIDI = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"
CONTROLS = "\x00\x07\x08\x1b\x7f\x85\x9b"
LONE_SURROGATES = "\ud83d\udc00"
LINE_BREAKS = "\n\r\t\v\f\u2028\u2029"
MENTIONS = "<!channel> <!here> <!everyone> <@U024BE7LH> <#C123> <!subteam^S123>"
# Nothing in a message may hold these: they break a store or a protocol, or change the order a line reads in.
FORBIDDEN = re.compile(f"[{BIDI}{CONTROLS}\x01-\x1f\ud800-\udfff\u2028\u2029]")


def hostile(part: str) -> str:
    return f"{part}{BIDI[4]}evil{BIDI[2]} {CONTROLS} half {LONE_SURROGATES} pair{LINE_BREAKS}{MENTIONS} end"


def test_clean_turns_lone_surrogates_into_replacement_characters() -> None:
    assert clean("a\ud83db\udc00c") == "a\ufffdb\ufffdc"
    assert clean("🐱") == "🐱"  # A real pair stays.


def test_clean_turns_line_breaks_and_tabs_into_spaces() -> None:
    assert clean("a\nb\r\nc\td\u2028e\u2029f\x85g") == "a b c d e f g"


def test_clean_removes_other_control_characters() -> None:
    assert clean("a\x00b\x07c\x1bd\x7fe\x9bf") == "abcdef"


@pytest.mark.parametrize("mark", list(BIDI))
def test_clean_removes_every_bidirectional_override_isolate_and_mark(mark: str) -> None:
    assert clean(f"abc{mark}def") == "abcdef"


def test_clean_keeps_ordinary_text_of_every_script() -> None:
    text = "Ungültiges Manifest: 数据集 «chats» 🐱 ñ — שלום مرحبا <b>&"
    assert clean(text) == text


def test_one_line_collapses_whitespace_after_cleaning() -> None:
    assert one_line("  a \n\n b\u202e  \t c ") == "a b c"


def hostile_notification(event_type: EventType) -> Any:
    return make_notification(
        event_type,
        name=hostile("job"),
        region=hostile("us-east-1"),
        failure_reason=hostile("ClientError"),
        output_uri=hostile("s3://out/"),
        workteam_arn=hostile("arn:aws:sagemaker:us-east-1:1:workteam/private-crowd/"),
        active_learning_model_arn=hostile("arn:model"),
        input_manifest_uri=hostile("s3://in/"),
    )


@pytest.mark.parametrize("event_type", list(EventType))
def test_hostile_job_text_reaches_no_email_subject_intact(event_type: EventType) -> None:
    text = email_message.subject(hostile_notification(event_type))

    assert text.isascii() and text.isprintable()
    assert len(text) < 100


@pytest.mark.parametrize("event_type", list(EventType))
def test_hostile_job_text_reaches_no_email_body_intact(event_type: EventType) -> None:
    text = email_message.body(hostile_notification(event_type))

    assert not FORBIDDEN.search(text.replace("\n", ""))
    text.encode("utf-8")  # What SNS requires of a message.
    lines = text.splitlines()
    assert all(line == "" or line.isprintable() for line in lines)
    assert "evil" in text and "\ufffd" in text  # Cleaned, not dropped.


@pytest.mark.parametrize("event_type", list(EventType))
def test_hostile_job_text_reaches_no_slack_message_intact_and_nothing_pings(event_type: EventType) -> None:
    message = slack_message.payload(hostile_notification(event_type))

    shown = all_text(message)  # The fallback text and every text in the blocks.
    assert not FORBIDDEN.search(shown.replace("\n", ""))
    # Slack's own syntax (<!channel>, <@U…>, <#C…>, <url|label>) needs a raw "<": the only one is the console link.
    assert re.findall(r"<[^<>]*>", shown) == re.findall(r"<https://[^<>|\s]+\|View in SageMaker console>", shown)
    assert all(mention not in shown for mention in MENTIONS.split())
    json.dumps(message, ensure_ascii=False).encode("utf-8")  # Every string can go over the wire.
    assert validate_payload(message) is None
