"""`gtwatch emulator`: a stack served on loopback that the operator commands reach through AWS_ENDPOINT_URL, as a new
user tries them without an AWS account.

The emulator runs in this process (its schedule set far apart, so that only the test moves it on: `served.tick()`);
each `gtwatch` command runs as its own process with nothing but the environment the emulator printed.
"""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from gtwatch.sim import serve
from gtwatch.sim.emulator.deployment import free_port

NEVER = 24 * 3600.0  # seconds between scheduled ticks: the test ticks by hand


@pytest.fixture
def served(aws_environment: None, cold_start: None, tmp_path: Path) -> Iterator[tuple[serve.Served, io.StringIO]]:
    out = io.StringIO()
    with serve.running(port=free_port(), tick_seconds=NEVER, out=out, directory=tmp_path) as running:
        yield running, out


def exported(instructions: str) -> dict[str, str]:
    """The `export NAME=VALUE` lines the emulator printed for the user to paste."""
    return dict(re.findall(r"^\s*export (\w+)=(\S+)$", instructions, flags=re.MULTILINE))


def gtwatch(served: serve.Served, tmp_path: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    """`gtwatch <argv>` in a shell of its own with the printed exports, and no AWS configuration of the machine."""
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(tmp_path),
        "AWS_CONFIG_FILE": str(tmp_path / "no-aws-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "no-aws-credentials"),
        "AWS_EC2_METADATA_DISABLED": "true",
        "NO_PROXY": "127.0.0.1,localhost",
        **exported(served.instructions()),
    }
    return subprocess.run(
        [sys.executable, "-m", "gtwatch.cli", *argv],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=120,
        check=False,
    )


def test_it_prints_the_environment_that_points_the_commands_at_it(served: tuple[serve.Served, io.StringIO]) -> None:
    running, _ = served
    assert exported(running.instructions()) == {
        "AWS_ENDPOINT_URL": running.endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+", running.endpoint)


def test_status_against_it_shows_the_seeded_jobs(served: tuple[serve.Served, io.StringIO], tmp_path: Path) -> None:
    running, _ = served
    shown = gtwatch(running, tmp_path, "status")
    assert shown.returncode == 0, shown.stderr
    lines = [" ".join(line.split()) for line in shown.stdout.splitlines()]
    assert lines[0].startswith("gtwatch status: stack Gtwatch in us-east-1, CREATE_COMPLETE")
    assert "cats-batch-1 (us-east-1): InProgress" in lines
    assert "dogs-batch-2 (us-east-1): InProgress" in lines
    assert "birds-batch-1 (us-east-1): InProgress" in lines
    assert any(line.startswith("Stall: STALLED, no progress for 1 h 20 min") for line in lines)
    assert any(line.startswith("Dead letters: 1 waiting") for line in lines)
    assert any(line.startswith("ALARM Gtwatch-slack-dead-letters") for line in lines)


def test_jobs_make_progress_at_each_tick_and_status_sees_it(
    served: tuple[serve.Served, io.StringIO], tmp_path: Path
) -> None:
    running, out = served

    def labeled(name: str) -> int:
        shown = gtwatch(running, tmp_path, "status", "--json")
        assert shown.returncode == 0, shown.stderr
        job = next(job for job in json.loads(shown.stdout)["jobs"] if job["name"] == name)
        return int(job["counters"]["TotalLabeled"])

    before = labeled("cats-batch-1")
    running.tick()
    running.tick()
    assert labeled("cats-batch-1") == before + 2 * serve.LIVE_JOBS[0].per_tick
    assert "owls-batch-1 created: 800 objects to label" in out.getvalue()  # a job that appears while you watch


def test_redrive_and_test_notify_reach_the_local_slack_at_the_next_tick(
    served: tuple[serve.Served, io.StringIO], tmp_path: Path
) -> None:
    running, out = served
    assert "fish-batch-1's failed message never reached Slack" in out.getvalue()
    assert "webhook post: Labeling job fish-batch-1 failed" not in out.getvalue()

    moved = gtwatch(running, tmp_path, "redrive")
    assert moved.returncode == 0, moved.stderr
    assert "Moved 1 message(s)" in moved.stdout
    sent = gtwatch(running, tmp_path, "test-notify")
    assert sent.returncode == 0, sent.stderr
    running.tick()

    shown = out.getvalue()
    assert "webhook post: Labeling job fish-batch-1 failed (us-east-1): ClientError: the input manifest" in shown
    assert "webhook post: Labeling job gtwatch-test-notification (TEST: gtwatch can reach this channel" in shown
    assert "Email  to ml-team@example.com: Subject: [gtwatch] Test: gtwatch-test-notification (us-east-1)" in shown
    status = gtwatch(running, tmp_path, "status")
    assert "OK Gtwatch-slack-dead-letters" in " ".join(status.stdout.split())


def test_a_mute_set_against_it_silences_the_jobs_completion(
    served: tuple[serve.Served, io.StringIO], tmp_path: Path
) -> None:
    running, out = served
    muted = gtwatch(running, tmp_path, "mute", "dogs-batch-2", "--for", "1h", "--events", "completed")
    assert muted.returncode == 0, muted.stderr
    dogs = serve.LIVE_JOBS[1]
    for _ in range((dogs.total - dogs.labeled) // dogs.per_tick):
        running.tick()
    shown = out.getvalue()
    assert "dogs-batch-2 completed in SageMaker" in shown
    assert "Completed: dogs-batch-2" not in shown and "dogs-batch-2 completed (us-east-1)" not in shown
