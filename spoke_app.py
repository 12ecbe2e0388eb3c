"""Synthesizes the gtwatch spokes from the same cdk.json as the hub: `cdk --app '.venv/bin/python spoke_app.py'
deploy <stack>` runs this, and so can `python spoke_app.py` alone (into cdk.out.spokes).

Two ways to the same spoke (docs/deploy.md):
- `<stack_name>Spoke-<account>-<region>`: for `cdk deploy` with that account's credentials, one stack per region
  the account is watched in; the reader role is in the stack of the account's first region (IAM is global). The
  home account gets stacks for its regions but the hub's only, forwarding events and holding no role (the hub reads
  its own account with its own roles).
- `<stack_name>Spoke`: one environment-agnostic template for a StackSet over an organizational unit; its reader role
  is made in the spokes' first region only (the StackSet must include that region) and may read every region any
  spoke is watched in.
"""

from __future__ import annotations

import os
import sys
from typing import Any

from aws_cdk import App, Environment, Validations
from cdk_nag import AwsSolutionsChecks

from infra.config import ConfigError, GtwatchConfig, load_config
from infra.context import CdkJsonError, cdk_json_context
from infra.spoke import Hub, SpokeStack, stackset_synthesizer

OUTDIR = "cdk.out.spokes"


def stackset_regions(config: GtwatchConfig) -> tuple[str, ...]:
    """Every region a spoke is watched in, in the order listed; the first is where the StackSet makes the role."""
    regions: list[str] = []
    for account in config.spokes:
        regions += [region for region in account.regions if region not in regions]
    return tuple(regions)


def build(context: dict[str, Any] | None = None, outdir: str | None = None) -> App:
    """The app with a spoke stack per listed account and region, and the StackSet's template; cdk-nag's AwsSolutions
    pack fails synthesis on any unacknowledged finding, as for the hub."""
    app = App(context=context, outdir=outdir)
    config = load_config(app)
    if config.home_account is None:
        raise ConfigError(
            "gtwatch.accounts: not set; a spoke forwards to the hub in the home account, the first of gtwatch.accounts"
        )
    hub = Hub.of(config)
    for index, account in enumerate(config.parsed_accounts):
        home = index == 0
        for region in account.regions[1:] if home else account.regions:
            SpokeStack(
                app,
                f"{config.stack_name}Spoke-{account.id}-{region}",
                hub=hub,
                read_regions=account.regions,
                reader_region=None if home else account.regions[0],
                env=Environment(account=account.id, region=region),
            )
    if config.spokes:
        regions = stackset_regions(config)
        SpokeStack(
            app,
            f"{config.stack_name}Spoke",
            hub=hub,
            read_regions=regions,
            reader_region=regions[0],
            synthesizer=stackset_synthesizer(),
            analytics_reporting=False,
        )
    Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    return app


def main() -> None:
    try:
        context = None if "CDK_CONTEXT_JSON" in os.environ else cdk_json_context()
        app = build(context, outdir=os.environ.get("CDK_OUTDIR", OUTDIR))
    except (ConfigError, CdkJsonError) as error:
        sys.exit(f"gtwatch: {error}")
    app.synth()


if __name__ == "__main__":
    main()
