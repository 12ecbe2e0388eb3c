"""The hub's event bus: where every spoke, and every other region of the home account, forwards the watched kinds'
SageMaker events, taken from the listed accounts only and handed to the event handler."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from constructs import Construct
from watcher.domain.contract import HUB_EVENT_BUS_NAME, KIND_DETAIL_TYPES, STATE_CHANGE_SOURCE, KindName

from infra.config import GtwatchConfig
from infra.function import WatcherFunction

PUT_EVENTS_ACTIONS = ("events:PutEvents",)
# The bus policy's one statement (EventBridge requires a statement id on each, and CDK's
# @aws-cdk/aws-events:requireEventBusPolicySid flag enforces it).
LISTED_ACCOUNTS_SID = "ListedAccountsPutEvents"


def forwarded_pattern(
    kinds: Sequence[KindName], accounts: Sequence[str], regions: Sequence[str] | None = None
) -> events.EventPattern:
    """The watched kinds' SageMaker events from `accounts` (in `regions`, if given), as they arrive on the hub's bus."""
    return events.EventPattern(
        source=[STATE_CHANGE_SOURCE],
        detail_type=[KIND_DETAIL_TYPES[kind] for kind in kinds],
        account=list(accounts),
        region=None if regions is None else list(regions),
    )


class HubEvents(Construct):
    """A custom event bus named HUB_EVENT_BUS_NAME in the hub's region. Its policy lets the listed accounts (and, with
    `organization_id`, only while they belong to that organization) put events on it; its rule takes the watched
    kinds' events of the spokes, and of the home account's regions but the hub's own, to the event handler. Events
    of an account that is not listed are refused by the policy, and would match no rule if they came in; the home
    account's events in the hub's region come by the default bus (Polling's rule), so a copy forwarded here (a
    StackSet that reaches the home account) is not handed on twice."""

    def __init__(
        self, scope: Construct, construct_id: str, *, config: GtwatchConfig, event_handler: WatcherFunction
    ) -> None:
        super().__init__(scope, construct_id)
        accounts = [account.id for account in config.parsed_accounts]
        self.bus = events.EventBus(self, "Bus", event_bus_name=HUB_EVENT_BUS_NAME)
        self.bus.add_to_resource_policy(self._listed_accounts_statement(accounts, config.organization_id))
        self.rules: list[events.Rule] = []
        if config.spokes:
            self.rules.append(
                self._rule(
                    "SpokeStateChanges",
                    "Hands each watched SageMaker job's state change forwarded by a spoke to the gtwatch event "
                    "handler.",
                    forwarded_pattern(config.kinds, [account.id for account in config.spokes]),
                    event_handler,
                )
            )
        home = config.home_account
        if home is not None and home.regions[1:]:
            self.rules.append(
                self._rule(
                    "HomeRegionStateChanges",
                    "Hands each watched SageMaker job's state change forwarded from the home account's other regions "
                    "to the gtwatch event handler.",
                    forwarded_pattern(config.kinds, [home.id], home.regions[1:]),
                    event_handler,
                )
            )

    def _rule(
        self, construct_id: str, description: str, pattern: events.EventPattern, event_handler: WatcherFunction
    ) -> events.Rule:
        return events.Rule(
            self,
            construct_id,
            description=description,
            event_bus=self.bus,
            event_pattern=pattern,
            targets=[targets.LambdaFunction(event_handler.function)],
        )

    def _listed_accounts_statement(self, accounts: Sequence[str], organization_id: str | None) -> iam.PolicyStatement:
        # Account principals, not "*" with a condition: the documented way to let another account put events on a
        # bus. The organization, when configured, narrows it further; it never widens it to unlisted accounts.
        return iam.PolicyStatement(
            sid=LISTED_ACCOUNTS_SID,
            principals=[iam.AccountPrincipal(account) for account in accounts],
            actions=list(PUT_EVENTS_ACTIONS),
            resources=[self.bus.event_bus_arn],
            conditions=None if organization_id is None else {"StringEquals": {"aws:PrincipalOrgID": organization_id}},
        )
