"""`gtwatch demo --slack webhook`: the demo's day with Slack as one incoming webhook, as a team without a Slack app
has it: every notification a post of its own in the webhook's channel, no threads, no edits, no routes."""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest

from gtwatch.sim import demo


@pytest.fixture(scope="module")
def webhook_day() -> str:
    out = StringIO()
    demo.show(slack="webhook", out=out)
    return out.getvalue()


def _normalized(text: str) -> list[str]:
    return [" ".join(line.split()) for line in text.splitlines()]  # column widths do not matter


def test_the_day_is_told_as_webhook_posts(webhook_day: str) -> None:
    lines = _normalized(webhook_day)
    assert "Slack: one incoming webhook (webhook mode)." in lines
    for expected in (
        "11:30 Slack webhook post ⏳ Labeling job lidar-frames-3d: stalled",
        "12:30 Slack webhook post ▶️ Labeling job lidar-frames-3d: resumed",
        "13:07 Slack webhook post ❌ Processing job embeddings-backfill: failed",
        "13:07 Email Subject: [gtwatch] Failed: Processing job embeddings-backfill (us-east-1)",
        # Quiet hours hold the webhook's posts as they hold the app's; a failure releases its job's held stall.
        "02:40 Slack webhook post ⏳ Training job churn-train-0302: stalled · held for quiet hours since 00:15, "
        "sent just before its failure",
        "02:40 Slack webhook post ❌ Training job churn-train-0302: failed",
        "08:00 Slack webhook post ✅ Labeling job lidar-frames-3d: completed · held for quiet hours since 05:30, "
        "delivered 08:00",
        "08:00 Slack webhook post ✅ Tuning job ranker-hpo-0302: completed · held for quiet hours since 22:45, "
        "delivered 08:00",
    ):
        assert expected in lines, expected
    slack_lines = [line for line in lines if line[6:].startswith("Slack ")]
    assert slack_lines and all(line.split()[2:4] == ["webhook", "post"] for line in slack_lines)
    assert "#ml-jobs" not in webhook_day and "#ml-oncall" not in webhook_day  # no routes, no app channels
    assert "mentioning" not in webhook_day  # a webhook's posts ping no one


def test_the_webhooks_channel_shows_each_post_and_the_first_failure_in_full(webhook_day: str) -> None:
    channel = webhook_day[webhook_day.index("The webhook's channel at the end") : webhook_day.index("The daily digest")]
    lines = _normalized(channel)
    assert any(
        line.startswith("13:07 ❌ Processing job embeddings-backfill failed (us-east-1): AlgorithmError: See job logs")
        for line in lines
    )
    assert any(
        line.startswith("02:40 ⏳ Training job churn-train-0302 is stalled (us-east-1): No new log line and no status")
        for line in lines
    )
    assert "┌ Processing job embeddings-backfill: ❌ Failed" in lines
    assert "│ Exit message: MemoryError: Unable to allocate 3.2 GiB for shard 41 of 64 <!channel> retry on" in channel
    assert "<!channel> retry on" in channel  # shown as the text it is: it never became a mention
    assert "@channel" not in webhook_day
    assert "In Slack, the webhook's channel, posted 09:00:" in webhook_day


def test_the_cli_flag_picks_the_webhook(monkeypatch: pytest.MonkeyPatch) -> None:
    from gtwatch.cli import main

    asked: dict[str, Any] = {}
    monkeypatch.setattr(demo, "show", lambda **kwargs: asked.update(kwargs))
    assert main(["demo", "--slack", "webhook"]) == 0
    assert asked["slack"] == "webhook"
    assert main(["demo"]) == 0
    assert asked["slack"] == "app"
