"""Synthesizes the gtwatch stack: `cdk deploy` runs this, and so can `python app.py` alone (into cdk.out)."""

from __future__ import annotations

import os
import sys
from typing import Any

from aws_cdk import App, Validations
from cdk_nag import AwsSolutionsChecks

from infra.config import ConfigError, load_config
from infra.context import cdk_json_context
from infra.stack import GtwatchStack

STACK_NAME = "Gtwatch"


def build(context: dict[str, Any] | None = None, outdir: str | None = None) -> App:
    """The app with its one stack and cdk-nag's AwsSolutions pack, which fails synthesis on any unacknowledged
    finding (a validation plugin: cdk-nag 3 runs as part of `app.synth()`)."""
    app = App(context=context, outdir=outdir)
    GtwatchStack(app, STACK_NAME, config=load_config(app))
    Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    return app


def main() -> None:
    # The CDK CLI hands the app cdk.json's context in CDK_CONTEXT_JSON; run alone, the app reads cdk.json.
    context = None if "CDK_CONTEXT_JSON" in os.environ else cdk_json_context()
    try:
        app = build(context, outdir=os.environ.get("CDK_OUTDIR", "cdk.out"))
    except ConfigError as error:
        sys.exit(f"gtwatch: {error}")
    app.synth()


if __name__ == "__main__":
    main()
