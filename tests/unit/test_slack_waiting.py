"""When a Slack notification that waits for an earlier one of its job comes back (slack_delivery.waiting_time): just
after that one is tried again, soon while the job's messages are going out, and by its own back-off otherwise."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from watcher.domain.ledger import Ledger
from watcher.usecases.slack_delivery import DRAINING_WAIT, WAKE_MARGIN, waiting_time

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
STUCK = Ledger(stream="us-east-1#cats#2026-03-02T06:00:00Z", delivered=4)


def test_a_message_waiting_behind_one_slack_did_not_take_comes_back_just_after_its_next_try() -> None:
    ledger = Ledger(stream=STUCK.stream, delivered=4, retry_at=NOW + timedelta(minutes=10))

    assert waiting_time(ledger, NOW) == timedelta(minutes=10) + WAKE_MARGIN


def test_a_message_of_a_job_whose_messages_are_going_out_looks_again_soon() -> None:
    draining = Ledger(stream=STUCK.stream, delivered=5, advanced_at=NOW - timedelta(minutes=1))
    at_work = Ledger(stream=STUCK.stream, delivered=5, claim_owner="other", claim_until=NOW + timedelta(seconds=50))

    assert waiting_time(draining, NOW) == DRAINING_WAIT
    assert waiting_time(at_work, NOW) == DRAINING_WAIT


def test_without_a_sign_of_its_predecessor_a_message_backs_off_on_its_own() -> None:
    long_ago = Ledger(stream=STUCK.stream, delivered=4, advanced_at=NOW - timedelta(hours=2))
    retry_passed = Ledger(stream=STUCK.stream, delivered=4, retry_at=NOW - timedelta(minutes=1))

    assert waiting_time(STUCK, NOW) is None
    assert waiting_time(long_ago, NOW) is None
    assert waiting_time(retry_passed, NOW) is None
