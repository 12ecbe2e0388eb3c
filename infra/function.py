"""The one way gtwatch builds a Lambda function: same code, runtime, layer, logs and a role of its own."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from aws_cdk import Acknowledgment, Duration, RemovalPolicy, Stack, Validations
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_ssm as ssm
from constructs import Construct, IConstruct

from infra.bundling import ARCHITECTURE, RUNTIME

SERVICE_NAME = "gtwatch"
LOG_RETENTION = logs.RetentionDays.ONE_MONTH
# What Lambda needs to write a function's logs into a group that already exists.
LOG_ACTIONS = ("logs:CreateLogStream", "logs:PutLogEvents")
# The public parameter AWS keeps for each Powertools release, runtime and architecture; its value is the ARN
# of the layer version in the deployment's region (docs/getting-started/install.md, "Using SSM Parameter Store").
POWERTOOLS_PARAMETER = "/aws/service/powertools/python/{architecture}/{runtime}/{version}"


def metrics_namespace(scope: Construct) -> str:
    """The poller's metric namespace: the stack's name, so that two deployments' alarms never see each other."""
    return Stack.of(scope).stack_name


def log_group_prefix(scope: Construct) -> str:
    """Where the stack's log groups live; named so that the key policy can name them without referring to them."""
    return f"/gtwatch/{Stack.of(scope).stack_name}/"


def powertools_parameter_name(version: str) -> str:
    return POWERTOOLS_PARAMETER.format(architecture=ARCHITECTURE.name, runtime=RUNTIME.name, version=version)


def powertools_layer(scope: Construct, version: str) -> lambda_.ILayerVersion:
    """AWS's Powertools layer for `version`, resolved by CloudFormation from the public SSM parameter."""
    # A CloudFormation parameter of type AWS::SSM::Parameter::Value<String>: resolved at deploy time in the
    # stack's region, so synthesis needs no AWS call.
    arn = ssm.StringParameter.value_for_string_parameter(scope, powertools_parameter_name(version))
    return lambda_.LayerVersion.from_layer_version_arn(scope, "PowertoolsLayer", arn)


def acknowledge(scope: IConstruct, rule: str, reason: str) -> None:
    """Acknowledge one cdk-nag finding on `scope` (and below), with the reason it is acceptable here."""
    Validations.of(scope).acknowledge(Acknowledgment(id=f"AwsSolutions::{rule}", reason=reason))


class WatcherFunction(Construct):
    """A function of the `watcher` package: its own role (no managed policy) and its own log group, encrypted with
    the stack's key and kept a month."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        code: lambda_.Code,
        layers: Sequence[lambda_.ILayerVersion],
        handler: str,
        name: str,
        description: str,
        environment: Mapping[str, str],
        log_level: str,
        timeout: Duration,
        key: kms.IKey,
        tracing: bool = False,
        memory_size: int = 256,
        retry_attempts: int | None = None,
        role_path: str | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        self.log_group = self._build_log_group(name, key)
        self.role = self._build_role(description, role_path)
        self.function = lambda_.Function(
            self,
            "Function",
            code=code,
            handler=handler,
            description=description,
            runtime=RUNTIME,
            architecture=ARCHITECTURE,
            layers=list(layers),
            memory_size=memory_size,
            timeout=timeout,
            role=self.role,
            # Off unless configured: nothing in the handlers records a segment, so a trace would show only
            # Lambda's own spans, and X-Ray needs a role statement on "*".
            tracing=lambda_.Tracing.ACTIVE if tracing else lambda_.Tracing.DISABLED,
            log_group=self.log_group,
            retry_attempts=retry_attempts,
            environment={
                "POWERTOOLS_SERVICE_NAME": SERVICE_NAME,
                "POWERTOOLS_METRICS_NAMESPACE": metrics_namespace(self),
                "POWERTOOLS_LOG_LEVEL": log_level,
                # Plain strings: the names may be Env members (watcher.domain.env), which jsii must not take for enums.
                **{str(name): value for name, value in environment.items()},
            },
        )
        if tracing:
            # Tracing added its statement to the role's default policy; that policy holds nothing else on "*".
            acknowledge(
                self.role.node.find_child("DefaultPolicy"),
                "AwsSolutions-IAM5[Resource::*]",
                "Active tracing (tracing: true): xray:PutTraceSegments and xray:PutTelemetryRecords support no "
                "resource-level permissions, so X-Ray documents them on '*'.",
            )

    def allow(self, actions: Sequence[str], resources: Sequence[str]) -> None:
        """Let the function call exactly `actions` on exactly `resources`."""
        self.role.add_to_principal_policy(iam.PolicyStatement(actions=list(actions), resources=list(resources)))

    def _build_log_group(self, name: str, key: kms.IKey) -> logs.LogGroup:
        # An explicit group (not the deprecated logRetention custom resource) so retention is set in the
        # template; logs go with the stack, the state table stays. Named under the stack's prefix, which the key
        # policy names for CloudWatch Logs (DataKey.allow_log_groups).
        return logs.LogGroup(
            self,
            "Logs",
            log_group_name=f"{log_group_prefix(self)}{name}",
            encryption_key=key,
            retention=LOG_RETENTION,
            removal_policy=RemovalPolicy.DESTROY,
        )

    def _build_role(self, description: str, path: str | None) -> iam.Role:
        # Not AWSLambdaBasicExecutionRole: it lets a function write to any log group in the account.
        role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"Runs: {description}"[:1000],
            path=path,
        )
        # The group's Arn attribute ends in ":*", which covers its log streams.
        role.add_to_principal_policy(
            iam.PolicyStatement(actions=list(LOG_ACTIONS), resources=[self.log_group.log_group_arn])
        )
        return role
