"""A spoke: what an account the hub watches needs, and nothing else. A read-only role the hub's watching roles may
assume (the watched kinds' List, Describe and Search and their log reads), and per region a rule that forwards the
watched kinds' SageMaker events to the hub's event bus. No function, no state.

The same stack serves `cdk deploy` (one stack per region of one account, the role in one of them: IAM is global)
and a StackSet (one environment-agnostic template for every account and region of an organizational unit, the role
made where the region is the role's region).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from aws_cdk import Aws, CfnCondition, CfnResource, DefaultStackSynthesizer, Duration, Fn, Stack, Token
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from constructs import Construct
from watcher.domain.contract import (
    HUB_EVENT_BUS_NAME,
    HUB_ROLE_PATH,
    KIND_DESCRIBE_ACTIONS,
    KIND_LIST_ACTIONS,
    KIND_LOG_GROUPS,
    SPOKE_ROLE_NAME,
    KindName,
)
from watcher.domain.job import KIND_NOUNS, JobKind

from gtwatch import __version__
from infra.config import GtwatchConfig
from infra.function import acknowledge
from infra.polling import (
    DESCRIBE_LOG_STREAMS_ACTIONS,
    GET_LOG_EVENTS_ACTIONS,
    describe_resource,
    log_group_arn,
    state_change_pattern,
)

DESCRIPTION = (
    "gtwatch {version} spoke — lets the gtwatch hub in account {hub} read SageMaker jobs here and forwards their events"
)
# A hub reads a spoke for one run at a time; STS's shortest session is enough, and the hub caches it per container.
READER_SESSION = Duration.hours(1)


@dataclass(frozen=True)
class Hub:
    """What a spoke knows of its hub: where it runs, what it watches and what its role trust requires."""

    account: str
    region: str
    kinds: tuple[KindName, ...]
    external_id: str | None = None
    organization_id: str | None = None

    @classmethod
    def of(cls, config: GtwatchConfig) -> Hub:
        home, region = config.home_account, config.hub_region
        if home is None or region is None:
            raise ValueError("a spoke needs gtwatch.accounts")
        return cls(home.id, region, config.kinds, config.spoke_external_id, config.organization_id)

    def bus_arn(self, partition: str) -> str:
        return f"arn:{partition}:events:{self.region}:{self.account}:event-bus/{HUB_EVENT_BUS_NAME}"

    def watching_roles(self, partition: str) -> str:
        """The hub's roles that read spokes (the poller's and the event handler's), whatever their generated names."""
        return f"arn:{partition}:iam::{self.account}:role{HUB_ROLE_PATH}*"


def _shown(value: str, pseudo: str) -> str:
    """A value as cdk-nag renders it in a finding: a literal, or the pseudo parameter the token stands for."""
    return f"<{pseudo}>" if Token.is_unresolved(value) else value


class SpokeReader(Construct):
    """The role SPOKE_ROLE_NAME: assumable by the hub account's watching roles only (under HUB_ROLE_PATH, with the
    external ID or the organization when configured), allowed to list, describe and search the watched kinds in
    `regions` and to read their log streams, nothing else."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        hub: Hub,
        regions: Sequence[str],
        condition: CfnCondition | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        self._hub, self._regions = hub, tuple(regions)
        self.role = iam.Role(
            self,
            "Role",
            role_name=SPOKE_ROLE_NAME,
            assumed_by=self._trust(),
            description=f"Lets the gtwatch hub in account {hub.account} read SageMaker jobs and their logs here."[
                :1000
            ],
            max_session_duration=READER_SESSION,
        )
        self.policy = iam.Policy(self, "ReadJobs", statements=self._statements(), roles=[self.role])
        self._acknowledge_wildcards()
        if condition is not None:
            for construct in (self.role, self.policy):
                resource = construct.node.default_child
                assert isinstance(resource, CfnResource)
                resource.cfn_options.condition = condition

    def _trust(self) -> iam.IPrincipal:
        # The hub account as principal, narrowed to its watching roles by aws:PrincipalArn: a role named in Principal
        # must exist when this one is created, and a trust pinned to it breaks when the hub's role is replaced.
        conditions: dict[str, Any] = {"ArnLike": {"aws:PrincipalArn": self._hub.watching_roles(Aws.PARTITION)}}
        equals: dict[str, str] = {}
        if self._hub.external_id is not None:
            equals["sts:ExternalId"] = self._hub.external_id
        if self._hub.organization_id is not None:
            equals["aws:PrincipalOrgID"] = self._hub.organization_id
        if equals:
            conditions["StringEquals"] = equals
        return iam.PrincipalWithConditions(iam.AccountPrincipal(self._hub.account), conditions)

    def _statements(self) -> list[iam.PolicyStatement]:
        stack = Stack.of(self)
        kinds = self._hub.kinds
        listing = sorted({action for kind in kinds for action in KIND_LIST_ACTIONS[kind]})
        statements = [iam.PolicyStatement(actions=listing, resources=["*"])]
        for kind in kinds:
            statements.append(
                iam.PolicyStatement(
                    actions=list(KIND_DESCRIBE_ACTIONS[kind]),
                    resources=[
                        stack.format_arn(service="sagemaker", region=region, resource=describe_resource(kind))
                        for region in self._regions
                    ],
                )
            )
        for group in (KIND_LOG_GROUPS[kind] for kind in kinds if kind in KIND_LOG_GROUPS):
            statements.append(
                iam.PolicyStatement(
                    actions=list(DESCRIBE_LOG_STREAMS_ACTIONS),
                    resources=[log_group_arn(self, region, f"{group}:*") for region in self._regions],
                )
            )
            statements.append(
                iam.PolicyStatement(
                    actions=list(GET_LOG_EVENTS_ACTIONS),
                    resources=[log_group_arn(self, region, f"{group}:log-stream:*") for region in self._regions],
                )
            )
        return statements

    def _acknowledge_wildcards(self) -> None:
        stack = Stack.of(self)
        partition, account = _shown(stack.partition, "AWS::Partition"), _shown(stack.account, "AWS::AccountId")
        kinds = self._hub.kinds
        listing = sorted({action for kind in kinds for action in KIND_LIST_ACTIONS[kind]})
        acknowledge(
            self.policy,
            "AwsSolutions-IAM5[Resource::*]",
            f"{', '.join(listing)} support no resource type in the Service Authorization Reference (they list, or "
            "search, every job of a kind), so they can only be allowed on '*'; they read summaries and change nothing.",
        )
        for kind in kinds:
            for region in self._regions:
                acknowledge(
                    self.policy,
                    f"AwsSolutions-IAM5[Resource::arn:{partition}:sagemaker:{region}:{account}:{describe_resource(kind)}]",
                    f"{KIND_NOUNS[JobKind(kind)]}s are started by people in this account under names no stack can "
                    "know; the hub must describe any of them, and only this kind's resource type, read-only.",
                )
        for group in (KIND_LOG_GROUPS[kind] for kind in kinds if kind in KIND_LOG_GROUPS):
            for region in self._regions:
                prefix = f"arn:{partition}:logs:{region}:{account}:log-group:{group}"
                for resource in (f"{prefix}:*", f"{prefix}:log-stream:*"):
                    acknowledge(
                        self.policy,
                        f"AwsSolutions-IAM5[Resource::{resource}]",
                        "SageMaker writes each job's log lines to streams named after the job in this log group; the "
                        "hub reads the streams of the jobs it watches, whose names no stack can know, read-only.",
                    )


class SpokeForwarding(Construct):
    """A rule on this region's default event bus (where SageMaker sends its events) forwarding the watched kinds'
    events to the hub's event bus, with a role allowed to put events on that bus and nowhere else."""

    def __init__(self, scope: Construct, construct_id: str, *, hub: Hub) -> None:
        super().__init__(scope, construct_id)
        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("events.amazonaws.com"),
            description=f"Lets EventBridge forward SageMaker job events to the gtwatch hub in {hub.account}.",
        )
        hub_bus = events.EventBus.from_event_bus_arn(self, "HubBus", hub.bus_arn(Aws.PARTITION))
        self.rule = events.Rule(
            self,
            "StateChanges",
            description="Forwards each watched SageMaker job's state change to the gtwatch hub's event bus.",
            event_pattern=state_change_pattern(hub.kinds),
            targets=[targets.EventBus(hub_bus, role=self.role)],
        )


class SpokeStack(Stack):
    """A spoke in one region: the forwarding rule, and the reader role where `reader_region` says (None: no role, as
    in the home account's other regions, which the hub reads with its own role). An environment-agnostic stack (a
    StackSet's template) makes the role only where the region is `reader_region`, by a template condition."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        hub: Hub,
        read_regions: Sequence[str],
        reader_region: str | None,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            scope,
            construct_id,
            description=DESCRIPTION.format(version=__version__, hub=hub.account),
            **kwargs,
        )
        self.reader = self._build_reader(hub, read_regions, reader_region)
        self.forwarding = SpokeForwarding(self, "Forwarding", hub=hub)

    def _build_reader(self, hub: Hub, read_regions: Sequence[str], reader_region: str | None) -> SpokeReader | None:
        if reader_region is None:
            return None
        if not Token.is_unresolved(self.region):
            return SpokeReader(self, "Reader", hub=hub, regions=read_regions) if self.region == reader_region else None
        condition = CfnCondition(self, "ReaderRegion", expression=Fn.condition_equals(Aws.REGION, reader_region))
        return SpokeReader(self, "Reader", hub=hub, regions=read_regions, condition=condition)


def stackset_synthesizer() -> DefaultStackSynthesizer:
    """For a StackSet's template: no check of a CDK bootstrap version, which the organization's accounts need not
    have (a spoke has no file asset to stage)."""
    return DefaultStackSynthesizer(generate_bootstrap_version_rule=False)
