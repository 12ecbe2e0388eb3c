"""Synthesizes gtwatch stacks for the template tests, without bundling (no pip, no network)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aws_cdk import App
from aws_cdk.assertions import Template

import app as gtwatch_app
from infra.context import cdk_json_context
from infra.stack import GtwatchStack

# CDK bundles only the stacks named here; none, so the asset is never built during tests.
NO_BUNDLING: dict[str, list[str]] = {"aws:cdk:bundling-stacks": []}

# Slack app mode: routes instead of slack_events, and a bot token secret the stack creates.
APP_ROUTES: list[dict[str, Any]] = [
    {"channel": "#labeling", "events": ["completed", "failed"]},
    {"channel": "C0123ABCD", "events": ["stalled", "failed"], "name_contains": "prod", "mention": "<!here>"},
]
APP: dict[str, Any] = {"slack": {"mode": "app", "routes": APP_ROUTES}, "email_events": ["failed"]}
# Every job kind, in two regions, each kind that can stall with its own threshold but tuning (which never stalls
# then), and app mode with a route narrowed to two kinds.
ALL_KINDS_ROUTES: list[dict[str, Any]] = [
    {"channel": "#ml-failures", "events": ["failed", "stalled"], "kinds": ["pipeline", "training"]},
    {"channel": "#labeling", "events": ["completed", "failed"]},
]
ALL_KINDS: dict[str, Any] = {
    "kinds": ["labeling", "training", "processing", "transform", "tuning", "pipeline"],
    "stall_after_minutes": {"labeling": 60, "training": 30, "processing": 45, "transform": 30},
    "regions": ["us-east-1", "eu-west-1"],
    "slack": {"mode": "app", "routes": ALL_KINDS_ROUTES},
}
# A daily digest to both channels in webhook mode (Slack: the webhook's channel), to two addresses.
DIGEST: dict[str, Any] = {
    "digest": {"at": "07:05", "timezone": "America/New_York"},
    "email_addresses": ["ops@example.com", "labeling-lead@example.org"],
    "email_events": ["failed", "stalled"],
}
# App mode, the digest to Slack only, in a channel of its own.
DIGEST_APP: dict[str, Any] = {
    **APP,
    "email_addresses": ["ops@example.com"],
    "digest": {"at": "18:30", "timezone": "Asia/Kolkata", "channels": ["slack"], "slack_channel": "#labeling-digest"},
}

# More (account, region) pairs than one invocation reads (9 of a kind with logs, 8 per invocation): the run fans out
# through the poll-work queue. With every variable the watching functions read, so that the poll worker's are checked.
FAN_OUT: dict[str, Any] = {
    "kinds": ["training"],
    "accounts": [
        {"id": "123456789012", "alias": "ml-shared", "regions": ["us-east-1", "eu-west-1", "us-west-2"]},
        {"id": "111111111111", "alias": "research", "regions": ["us-east-1", "eu-west-1", "us-west-2"]},
        {"id": "222222222222", "alias": "prod", "regions": ["us-east-1", "eu-west-1", "us-west-2"]},
    ],
    "spoke_external_id": "gtwatch-7f3a",
    "name_contains": "prod",
    "stall_repeat_minutes": 120,
    "quiet_hours": {"start": "22:00", "end": "07:00", "timezone": "Europe/Berlin", "hold": ["completed"]},
}


@dataclass(frozen=True)
class Synthesized:
    template: Template
    # cdk.out's validation-report.json: what cdk-nag found, and which findings are acknowledged and why.
    validation_report: dict[str, Any]


def build(gtwatch: dict[str, Any] | None = None, outdir: Path | None = None) -> tuple[App, GtwatchStack]:
    """The app as app.py builds it (cdk-nag included), on cdk.json's context with its gtwatch settings replaced."""
    context = cdk_json_context()
    if gtwatch is not None:
        context["gtwatch"] = gtwatch
    app = gtwatch_app.build({**context, **NO_BUNDLING}, outdir=None if outdir is None else str(outdir))
    (stack,) = [child for child in app.node.children if isinstance(child, GtwatchStack)]
    return app, stack


def synth(outdir: Path, gtwatch: dict[str, Any] | None = None) -> Synthesized:
    """Synthesize into `outdir`. cdk-nag runs as part of it and raises on any unacknowledged finding."""
    _, stack = build(gtwatch, outdir)
    template = Template.from_stack(stack)
    report = json.loads((outdir / "validation-report.json").read_text(encoding="utf-8"))
    return Synthesized(template, report)
