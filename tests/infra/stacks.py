"""Synthesizes gtwatch stacks for the template tests, without bundling (no pip, no network)."""

from __future__ import annotations

from typing import Any

from aws_cdk import App
from aws_cdk.assertions import Template

from infra.config import load_config
from infra.context import cdk_json_context
from infra.stack import GtwatchStack

# CDK bundles only the stacks named here; none, so the asset is never built during tests.
NO_BUNDLING: dict[str, list[str]] = {"aws:cdk:bundling-stacks": []}


def synth(gtwatch: dict[str, Any] | None = None) -> Template:
    """The template of a stack deployed with cdk.json's context, its gtwatch settings replaced if given."""
    context = cdk_json_context()
    if gtwatch is not None:
        context["gtwatch"] = gtwatch
    app = App(context={**context, **NO_BUNDLING})
    return Template.from_stack(GtwatchStack(app, "Gtwatch", config=load_config(app)))
