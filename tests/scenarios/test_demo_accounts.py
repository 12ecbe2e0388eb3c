"""`gtwatch demo --day accounts`: a working day across three accounts and four regions, as a person receives it.

The home account ml-shared (us-east-1), research (us-east-1, eu-west-1) and prod (us-west-2, ap-southeast-2), jobs of
several kinds in each; prod's failures also go to #prod-ml with a mention; research's reader role refuses the hub
from 08:00 to 10:00 while the other accounts are announced on time, and what research owes arrives once at 10:00.
"""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest

from gtwatch.sim import demo


@pytest.fixture(scope="module")
def accounts_day() -> str:
    out = StringIO()
    demo.show(day_name="accounts", out=out)
    return out.getvalue()


def _normalized(text: str) -> list[str]:
    return [" ".join(line.split()) for line in text.splitlines()]  # column widths do not matter


def _between(text: str, start: str, end: str) -> str:
    return text[text.index(start) : text.index(end, text.index(start))]


def test_the_accounts_day_introduces_three_accounts_in_four_regions_and_a_route_narrowed_to_prod(
    accounts_day: str,
) -> None:
    lines = _normalized(_between(accounts_day, "gtwatch demo:", "The day as it happened"))
    for expected in (
        "ml-shared 123456789012 us-east-1",
        "research 111111111111 us-east-1, eu-west-1",
        "prod 222222222222 us-west-2, ap-southeast-2",
        "#ml-jobs every event",
        "#prod-ml failed of jobs in prod, mentioning @prod-ml",
    ):
        assert expected in lines, expected
    intro = " ".join(lines)
    for job in (
        "support-chat-intent (ml-shared, us-east-1)",
        "llm-sft-7b (research, us-east-1)",
        "asr-hpo-0310 (research, eu-west-1)",
        "ranker-train-prod (prod, us-west-2)",
        "fraud-features-au (prod, ap-southeast-2)",
    ):
        assert job in intro, job


def test_the_accounts_day_announces_each_job_when_due_naming_its_account_and_region(accounts_day: str) -> None:
    timeline = _normalized(_between(accounts_day, "The day as it happened (times UTC):", "\nThe Slack channels"))
    assert [line for line in timeline[1:] if line] == [
        "Tuesday 10 March",
        "08:00 Role research's reader role refuses the hub (AssumeRole: AccessDenied) until 10:00: its jobs wait, "
        "the other accounts' do not",
        # prod's failure during research's outage: on time, from its event, on both routes that take it.
        "08:16 Email Subject: [gtwatch] Failed: Training job ranker-train-prod (prod, us-west-2)",
        "08:16 Slack #ml-jobs post ❌ Training job ranker-train-prod (prod, us-west-2): failed",
        "08:16 Slack #prod-ml post ❌ Training job ranker-train-prod (prod, us-west-2): failed, mentioning @prod-ml",
        "08:30 Email Subject: [gtwatch] Completed: Processing job features-daily (ml-shared, us-east-1)",
        "08:30 Slack #ml-jobs post ✅ Processing job features-daily (ml-shared, us-east-1): completed",
        "09:00 Email Subject: [gtwatch] Daily digest: 0 stalled, 7 active, 2 ended in 24 h",
        "09:00 Slack #ml-jobs post 📋 gtwatch daily digest: 0 stalled, 7 active, 2 ended in 24 h",
        "10:00 Role research's reader role can be assumed again: what it owes follows",
        # research's failure (08:50) and completion (09:20) while its role was refused: once each, at 10:00; the
        # failure is not prod's, so #prod-ml does not take it.
        "10:00 Email Subject: [gtwatch] Failed: Training job llm-sft-7b (research, us-east-1)",
        "10:00 Email Subject: [gtwatch] Completed: speech-transcripts-de (research, eu-west-1)",
        "10:00 Slack #ml-jobs post ❌ Training job llm-sft-7b (research, us-east-1): failed",
        "10:00 Slack #ml-jobs post ✅ Labeling job speech-transcripts-de (research, eu-west-1): completed",
        "11:00 Email Subject: [gtwatch] Completed: Processing job batch-scoring-0310 (prod, us-west-2)",
        "11:00 Email Subject: [gtwatch] Stalled: receipts-au (prod, ap-southeast-2)",
        "11:00 Slack #ml-jobs post ✅ Processing job batch-scoring-0310 (prod, us-west-2): completed",
        "11:00 Slack #ml-jobs post ⏳ Labeling job receipts-au (prod, ap-southeast-2): stalled",
        "11:20 Email Subject: [gtwatch] Completed: Training job churn-train-0310 (ml-shared, us-east-1)",
        "11:20 Slack #ml-jobs post ✅ Training job churn-train-0310 (ml-shared, us-east-1): completed",
        "12:40 Email Subject: [gtwatch] Resumed: receipts-au (prod, ap-southeast-2)",
        "12:40 Email Subject: [gtwatch] Stopped: Processing job fraud-features-au (prod, ap-southeast-2)",
        "12:40 Slack #ml-jobs reply ▶️ Labeling job receipts-au (prod, ap-southeast-2): resumed",
        "12:40 Slack #ml-jobs update receipts-au's card now shows In progress again",
        "12:40 Slack #ml-jobs post 🛑 Processing job fraud-features-au (prod, ap-southeast-2): stopped",
        "13:10 Email Subject: [gtwatch] Completed: Tuning job asr-hpo-0310 (research, eu-west-1)",
        "13:10 Slack #ml-jobs post ✅ Tuning job asr-hpo-0310 (research, eu-west-1): completed",
        "15:00 Email Subject: [gtwatch] Completed: support-chat-intent (ml-shared, us-east-1)",
        "15:00 Slack #ml-jobs post ✅ Labeling job support-chat-intent (ml-shared, us-east-1): completed",
        "16:00 Email Subject: [gtwatch] Completed: receipts-au (prod, ap-southeast-2)",
        "16:00 Slack #ml-jobs reply ✅ Labeling job receipts-au (prod, ap-southeast-2): completed",
        "16:00 Slack #ml-jobs update receipts-au's card now shows Completed",
    ]
    # A job that ended before the deployment (asr-train-0309, research's) is history, never news.
    assert "asr-train-0309" not in accounts_day[accounts_day.index("The day as it happened") :]


def test_the_accounts_days_cards_name_each_jobs_account_and_region_and_prod_ml_holds_prods_failure_only(
    accounts_day: str,
) -> None:
    ml_jobs = _normalized(_between(accounts_day, "\n#ml-jobs\n", "\n#prod-ml\n"))
    assert "┌ Training job llm-sft-7b (research, us-east-1): ❌ Failed" in ml_jobs
    assert "│ posted 10:00" in ml_jobs[ml_jobs.index("┌ Training job llm-sft-7b (research, us-east-1): ❌ Failed") :]
    assert (
        "┌ Labeling job receipts-au (prod, ap-southeast-2): ✅ Completed · 100.0% done (1,000 of 1,000 objects)"
        in ml_jobs
    )
    prod_ml = _normalized(_between(accounts_day, "\n#prod-ml\n", "The first failure"))
    cards = [line for line in prod_ml if line.startswith("┌")]
    assert cards == ["┌ @prod-ml Training job ranker-train-prod (prod, us-west-2): ❌ Failed"]


def test_the_digest_during_the_outage_says_researchs_account_cannot_be_read(accounts_day: str) -> None:
    slack = " ".join(_normalized(_between(accounts_day, "In Slack, #ml-jobs, posted 09:00:", "\nBy email")))
    assert (
        "research us-east-1: its account cannot be read since 2026-03-10 08:00 UTC (AccessDenied: its role "
        "cannot be assumed); last read 2026-03-10 07:50 UTC" in slack.replace("│ ", "")
    )
    assert "prod us-west-2: last complete run 2026-03-10 09:00 UTC, 0 min ago" in slack.replace("│ ", "")
    assert "ml-shared us-east-1: last complete run 2026-03-10 09:00 UTC, 0 min ago" in slack.replace("│ ", "")
    mail = _between(accounts_day, "The first failure, Training job ranker-train-prod (prod, us-west-2),", "The daily")
    assert "Account:          prod (222222222222)" in mail


def test_the_cli_flag_picks_the_accounts_day(monkeypatch: pytest.MonkeyPatch) -> None:
    from gtwatch.cli import main

    asked: dict[str, Any] = {}
    monkeypatch.setattr(demo, "show", lambda **kwargs: asked.update(kwargs))
    assert main(["demo", "--day", "accounts"]) == 0
    assert asked["day_name"] == "accounts"
    assert main(["demo"]) == 0
    assert asked["day_name"] == "team"
