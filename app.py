"""Synthesizes the gtwatch stack: `cdk deploy` runs this, and so can `python app.py` alone (into cdk.out)."""

from __future__ import annotations

import os
import sys

from aws_cdk import App

from infra.config import ConfigError, load_config
from infra.context import cdk_json_context
from infra.stack import GtwatchStack


def main() -> None:
    # The CDK CLI hands the app cdk.json's context in CDK_CONTEXT_JSON; run alone, the app reads cdk.json.
    context = None if "CDK_CONTEXT_JSON" in os.environ else cdk_json_context()
    app = App(context=context, outdir=os.environ.get("CDK_OUTDIR", "cdk.out"))
    try:
        config = load_config(app)
    except ConfigError as error:
        sys.exit(f"gtwatch: {error}")
    GtwatchStack(app, "Gtwatch", config=config)
    app.synth()


if __name__ == "__main__":
    main()
