"""Operator commands for a deployed gtwatch stack: they need only boto3 and the runtime requirements."""

from __future__ import annotations

from typing import Any


def add_commands(subparsers: Any) -> None:
    """Register every operator command (check, test-notify, status, redrive, mute, unmute) on the subparsers."""
    from . import check, mute, redrive, status

    check.add_commands(subparsers)  # check and test-notify
    status.add_command(subparsers)
    redrive.add_command(subparsers)
    mute.add_commands(subparsers)  # mute and unmute
