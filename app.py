"""Synthesizes the gtwatch stack: `cdk deploy` runs this, and so can `python app.py` alone (into cdk.out)."""

from __future__ import annotations

import os
import sys
from typing import Any

from aws_cdk import App, Validations
from cdk_nag import AwsSolutionsChecks

from infra.config import ConfigError, load_config
from infra.context import CdkJsonError, cdk_json_context
from infra.stack import GtwatchStack


def build(context: dict[str, Any] | None = None, outdir: str | None = None) -> App:
    """The app with its one stack, named by the `stack_name` setting, and cdk-nag's AwsSolutions pack, which fails
    synthesis on any unacknowledged finding (a validation plugin: cdk-nag 3 runs as part of `app.synth()`).

    The stack is environment-agnostic: no account or region is read here. CloudFormation fills in the region the
    CDK CLI deploys to (that of the credentials' profile, or --profile), so one template fits every region.
    """
    app = App(context=context, outdir=outdir)
    config = load_config(app)
    GtwatchStack(app, config.stack_name, config=config)
    Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    return app


def main() -> None:
    try:
        # The CDK CLI hands the app cdk.json's context in CDK_CONTEXT_JSON; run alone, the app reads cdk.json.
        context = None if "CDK_CONTEXT_JSON" in os.environ else cdk_json_context()
        app = build(context, outdir=os.environ.get("CDK_OUTDIR", "cdk.out"))
    except (ConfigError, CdkJsonError) as error:
        sys.exit(f"gtwatch: {error}")
    app.synth()


if __name__ == "__main__":
    main()
