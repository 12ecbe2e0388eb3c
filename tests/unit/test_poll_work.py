"""A run fanned out: the watched pairs cut into batches, the message that carries one, and what it adds to
PollSucceeded."""

from __future__ import annotations

import json
import math

import pytest
from watcher.domain.accounts import Accounts, WatchedAccount
from watcher.domain.contract import DEFAULT_KINDS, JOB_KINDS, POLL_RUN_BUDGET_SECONDS, pairs_per_invocation
from watcher.domain.job import JobKind, Scope
from watcher.domain.poll_work import Pair, PollWork, parse_poll_work, plan_batches, scopes_of, watched_pairs

HOME = WatchedAccount(id="111111111111", regions=("us-east-1", "eu-west-1"))
RESEARCH = WatchedAccount(
    id="222222222222", regions=("us-east-1", "us-west-2", "ap-south-1"), role_arn="arn:aws:iam::222222222222:role/r"
)
ACCOUNTS = Accounts((HOME, RESEARCH))


def pairs(count: int) -> tuple[Pair, ...]:
    return tuple(Pair(f"{index:012d}", "us-east-1") for index in range(count))


def test_the_pairs_are_every_region_of_every_account_the_home_one_unnamed() -> None:
    assert watched_pairs(ACCOUNTS) == (
        Pair(None, "us-east-1"),
        Pair(None, "eu-west-1"),
        Pair("222222222222", "us-east-1"),
        Pair("222222222222", "us-west-2"),
        Pair("222222222222", "ap-south-1"),
    )


@pytest.mark.parametrize(
    ("count", "per", "sizes"), [(100, 48, [34, 33, 33]), (5, 2, [2, 2, 1]), (6, 3, [3, 3]), (1, 48, [1])]
)
def test_batches_are_the_fewest_of_at_most_the_limit_as_even_as_can_be_and_in_order(
    count: int, per: int, sizes: list[int]
) -> None:
    given = pairs(count)
    batches = plan_batches(given, per)
    assert [len(batch.pairs) for batch in batches] == sizes
    assert tuple(pair for batch in batches for pair in batch.pairs) == given  # every pair once, in order
    assert {batch.batches for batch in batches} == {len(sizes)}


def test_no_pairs_no_batches_and_a_limit_below_one_is_refused() -> None:
    assert plan_batches((), 10) == ()
    with pytest.raises(ValueError, match="per_invocation must be at least 1"):
        plan_batches(pairs(3), 0)


def test_an_accounts_regions_stay_in_one_batch_when_they_fit() -> None:
    first, second = plan_batches(watched_pairs(ACCOUNTS), 3)
    assert {pair.account for pair in second.pairs} == {"222222222222"}
    assert {pair.account for pair in first.pairs} == {None, "222222222222"}


def test_a_message_is_small_and_reads_back_as_the_batch() -> None:
    [work] = plan_batches(watched_pairs(ACCOUNTS), 48)
    message = work.to_message()
    assert json.loads(message) == {
        "pairs": [
            [None, "us-east-1"],
            [None, "eu-west-1"],
            ["222222222222", "us-east-1"],
            ["222222222222", "us-west-2"],
            ["222222222222", "ap-south-1"],
        ],
        "batches": 1,
    }
    assert parse_poll_work(message) == work
    # A full batch of spoke pairs stays around two kilobytes (an SQS message may hold 256 KiB).
    assert len(plan_batches(pairs(48), 48)[0].to_message()) < 2_500


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("nope", "poll work: not JSON"),
        ("[]", "poll work: expected a JSON object"),
        ('{"pairs": [[null, "us-east-1"]]}', "poll work: batches: a whole number of at least 1 is required"),
        ('{"pairs": [], "batches": 1}', "poll work: pairs: a non-empty list"),
        ('{"pairs": [["12", "us-east-1"]], "batches": 1}', "poll work: pairs\\[0\\]: '12' is not a 12-digit account"),
        ('{"pairs": [[null, "mars"]], "batches": 1}', "poll work: pairs\\[0\\]: 'mars' is not a region name"),
        ('{"pairs": [null], "batches": 1}', "poll work: pairs\\[0\\]: expected \\[account or null, region\\]"),
    ],
)
def test_a_bad_message_is_refused_naming_the_field(body: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_poll_work(body)


def test_a_batch_reads_its_watched_scopes_only() -> None:
    kinds = (JobKind.LABELING, JobKind.TRAINING)
    work = PollWork((Pair("222222222222", "us-west-2"), Pair(None, "sa-east-1")), batches=2)
    assert scopes_of(work, ACCOUNTS.scopes(kinds)) == (
        Scope("us-west-2", JobKind.LABELING, "222222222222"),
        Scope("us-west-2", JobKind.TRAINING, "222222222222"),
    )


@pytest.mark.parametrize("batches", [1, 2, 3, 7, 49, 1_000, 30_000])
def test_every_batch_succeeding_makes_one_run_and_one_batch_failing_makes_less(batches: int) -> None:
    share = PollWork((Pair(None, "us-east-1"),), batches).success_share
    assert math.fsum([share] * batches) >= 1
    assert sum([share] * batches) >= 1  # as a running sum adds them up, too
    assert sum([share] * (batches - 1)) < 1


def test_one_invocation_reads_what_fits_half_its_timeout() -> None:
    assert POLL_RUN_BUDGET_SECONDS == 60
    assert pairs_per_invocation(DEFAULT_KINDS) == 48
    # A kind with logs reads a log stream per running job (DescribeLogStreams: 5 per second per account and region).
    assert pairs_per_invocation(("training",)) == 8
    assert pairs_per_invocation(JOB_KINDS) == 2


def test_a_batch_that_read_everything_adds_its_share_of_a_run_and_a_failed_one_nothing() -> None:
    from datetime import UTC, datetime

    from watcher.domain.contract import METRIC_POLL_SUCCEEDED
    from watcher.usecases.poll import PollOutcome, run_metrics
    from watcher.usecases.watch import RunReport

    now = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
    share = PollWork((Pair(None, "us-east-1"),), batches=4).success_share
    done = PollOutcome(reports=[RunReport(region="us-east-1")])
    assert [(m.name, m.value) for m in run_metrics(done, now, success_share=share)] == [(METRIC_POLL_SUCCEEDED, 0.25)]
    failed = PollOutcome(reports=[], errors={"us-east-1": RuntimeError("ThrottlingException")})
    assert run_metrics(failed, now, success_share=share) == []
    # Inline, a run is one whole run.
    assert [(m.name, m.value) for m in run_metrics(done, now)] == [(METRIC_POLL_SUCCEEDED, 1.0)]
