"""`make bench`'s measurement of every kind at once, made small: what it counts per kind is what the watcher asks of
SageMaker and CloudWatch Logs (no timing is asserted; the figures themselves are `make bench`'s)."""

from __future__ import annotations

import pytest

from gtwatch.sim import bench


@pytest.fixture
def small(monkeypatch: pytest.MonkeyPatch) -> None:
    # Five active and two finished jobs of each kind, for 7 runs (35 minutes: past the 30-minute rule of the kinds with
    # logs); a run's log budget of 4 calls reads two jobs of a kind.
    monkeypatch.setattr(bench, "KIND_ACTIVE", 5)
    monkeypatch.setattr(bench, "KIND_HISTORY", 2)
    monkeypatch.setattr(bench, "KIND_TICKS", 7)
    monkeypatch.setattr(bench, "LOG_READS_PER_RUN", 4)


def test_each_kind_stays_at_its_floor_and_the_log_budget_reads_every_job_in_turn(small: None) -> None:
    result = bench.measure_kinds()

    for kind in bench.KIND_NAMES:
        # One listing page of the steady status and one of the recent window; nothing changed status, so nothing is
        # described and no pipeline's steps are listed.
        assert [result.median(kind, column) for column in ("list", "describe", "steps")] == [2, 0, 0], kind
    for kind in bench.LOGGED_KINDS:
        assert (result.median(kind, "streams"), result.median(kind, "events")) == (2, 2), kind
        # Two jobs' logs a run, round the five: every job is read every third run (15 minutes), inside its 30-minute
        # rule, so none of them, all writing before every run, is announced as stalled.
        assert (result.read_per_run(kind), result.ever_read(kind)) == (2, 5), kind
        assert result.stalled[kind] == 0, kind
    for kind in ("labeling", "tuning", "pipeline"):
        assert result.median(kind, "streams") == 0 and result.stalled[kind] == 0, kind


def test_the_section_names_the_budget_and_compares_with_the_recorded_figures(small: None) -> None:
    text = bench.kinds_section(bench.measure_kinds())

    assert "| training | 2 | 3 | 0 | 0 |" in text  # read, unread per run, never read, announced stalled
    assert "so a run reads the logs of 2 jobs of a kind" in text
    # Not the recorded load: the note says what differs from the recorded figures.
    assert "Since the figures recorded when this measurement was added" in text
    assert "training: calls (2, 0, 0, 30, 30) -> (2, 0, 0, 2, 2)" in text
