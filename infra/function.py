"""The one way gtwatch builds a Lambda function: same code, runtime, tracing, log retention and Powertools settings."""

from __future__ import annotations

from collections.abc import Mapping

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from infra.bundling import ARCHITECTURE, RUNTIME

SERVICE_NAME = "gtwatch"
METRICS_NAMESPACE = "Gtwatch"
LOG_RETENTION = logs.RetentionDays.ONE_MONTH


class WatcherFunction(Construct):
    """A function of the `watcher` package with its own log group; `function` is the Lambda function."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        code: lambda_.Code,
        handler: str,
        description: str,
        environment: Mapping[str, str],
        log_level: str,
        timeout: Duration,
        memory_size: int = 256,
        retry_attempts: int | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        self.log_group = self._build_log_group()
        self.function = lambda_.Function(
            self,
            "Function",
            code=code,
            handler=handler,
            description=description,
            runtime=RUNTIME,
            architecture=ARCHITECTURE,
            memory_size=memory_size,
            timeout=timeout,
            tracing=lambda_.Tracing.ACTIVE,
            log_group=self.log_group,
            retry_attempts=retry_attempts,
            environment={
                "POWERTOOLS_SERVICE_NAME": SERVICE_NAME,
                "POWERTOOLS_METRICS_NAMESPACE": METRICS_NAMESPACE,
                "POWERTOOLS_LOG_LEVEL": log_level,
                **environment,
            },
        )

    def _build_log_group(self) -> logs.LogGroup:
        # An explicit group (not the deprecated logRetention custom resource) so retention is set in the
        # template; logs go with the stack, the state table stays.
        return logs.LogGroup(
            self,
            "Logs",
            retention=LOG_RETENTION,
            removal_policy=RemovalPolicy.DESTROY,
        )
