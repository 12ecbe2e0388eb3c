"""Synthesizes the gtwatch stack: `cdk deploy` runs this, and so can `python app.py` alone (into cdk.out)."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from typing import Any

from aws_cdk import App, Validations
from cdk_nag import AwsSolutionsChecks

from infra.config import ConfigError, GtwatchConfig, load_config
from infra.context import CdkJsonError, cdk_json_context
from infra.stack import GtwatchStack


def check_home(config: GtwatchConfig, environ: Mapping[str, str]) -> None:
    """With `accounts`, the hub goes to the home account's first region (the spokes forward there). The CDK CLI tells
    the app the account and region of its credentials (CDK_DEFAULT_ACCOUNT, CDK_DEFAULT_REGION), where an
    environment-agnostic stack is deployed: a mismatch stops the app before anything is built. Unknown (no
    credentials), it is not checked."""
    home, hub_region = config.home_account, config.hub_region
    if home is None:
        return
    account, region = environ.get("CDK_DEFAULT_ACCOUNT"), environ.get("CDK_DEFAULT_REGION")
    if account and account != home.id:
        raise ConfigError(
            f"gtwatch.accounts[0].id: {home.id!r} is the home account, where the hub is deployed, but the credentials "
            f"are for {account}; deploy with the home account's credentials (or list this account first)"
        )
    if region and region != hub_region:
        raise ConfigError(
            f"gtwatch.accounts[0].regions[0]: {hub_region!r} is where the hub is deployed (the spokes forward there), "
            f"but the CDK would deploy to {region}; pass --profile or set AWS_REGION to {hub_region}"
        )


def build(
    context: dict[str, Any] | None = None, outdir: str | None = None, environ: Mapping[str, str] | None = None
) -> App:
    """The app with its one stack, named by the `stack_name` setting, and cdk-nag's AwsSolutions pack, which fails
    synthesis on any unacknowledged finding (a validation plugin: cdk-nag 3 runs as part of `app.synth()`).

    The stack is environment-agnostic: no account or region is read here. CloudFormation fills in the region the
    CDK CLI deploys to (that of the credentials' profile, or --profile), so one template fits every region.
    """
    app = App(context=context, outdir=outdir)
    config = load_config(app)
    check_home(config, environ or {})
    GtwatchStack(app, config.stack_name, config=config)
    Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    return app


def main() -> None:
    try:
        # The CDK CLI hands the app cdk.json's context in CDK_CONTEXT_JSON; run alone, the app reads cdk.json.
        context = None if "CDK_CONTEXT_JSON" in os.environ else cdk_json_context()
        app = build(context, outdir=os.environ.get("CDK_OUTDIR", "cdk.out"), environ=os.environ)
    except (ConfigError, CdkJsonError) as error:
        sys.exit(f"gtwatch: {error}")
    app.synth()


if __name__ == "__main__":
    main()
