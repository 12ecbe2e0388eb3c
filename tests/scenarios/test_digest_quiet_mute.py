"""Version 2 of the scenario contract: mutes (and, as they land, the digest and quiet hours)."""

from __future__ import annotations

from pathlib import Path

from gtwatch.sim import replay, scenario

DATA = Path(__file__).parent / "data"


def heard(name: str) -> list[tuple[int, str, str, str]]:
    result = replay.run(scenario.load(DATA / name))
    return sorted((n["minute"], n["channel"], n["type"], n["job"]) for n in result.notifications)


def test_a_mute_drops_only_what_it_names_for_the_job_it_names_until_it_ends():
    both = lambda minute, kind, job: [(minute, "email", kind, job), (minute, "slack", kind, job)]  # noqa: E731
    assert heard("mute.json") == sorted(
        # noisy-job's stalls and recovery while muted are dropped; its failure is not a muted type.
        both(120, "failed", "noisy-job")
        # other-job is not muted: every one of its notifications arrives.
        + both(30, "stalled", "other-job")
        + both(60, "resumed", "other-job")
        + both(90, "stalled", "other-job")
        + both(170, "completed", "other-job")
    )
