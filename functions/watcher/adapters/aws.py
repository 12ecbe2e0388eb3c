"""boto3 clients, created lazily once per container (never at import time, so emulators can intercept them)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal, overload

import boto3
import botocore.session
from botocore.config import Config

from watcher import container
from watcher.adapters.accounts import spoke_session
from watcher.domain.accounts import WatchedAccount

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_logs import CloudWatchLogsClient
    from mypy_boto3_sagemaker import SageMakerClient
    from mypy_boto3_secretsmanager import SecretsManagerClient
    from mypy_boto3_sns import SNSClient
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_sts import STSClient

# botocore's standard retry mode backs off on throttling and transient 5xx errors; no hand-written loops.
RETRY_CONFIG = Config(
    retries={"mode": "standard", "max_attempts": 5},
    connect_timeout=5,
    read_timeout=20,
)

# CloudWatch Logs reads (a job's newest log line) run into its per-account rates (DescribeLogStreams: 5 a second):
# botocore's adaptive mode adds client-side rate limiting that slows down after a throttle instead of failing fast.
LOGS_RETRY_CONFIG = Config(
    retries={"mode": "adaptive", "max_attempts": 5},
    connect_timeout=5,
    read_timeout=20,
)

# The parsed service models, shared by every session of the process: loading them is most of a client's creation
# time and they never change, so unlike the clients they survive container.reset().
_service_models: Any = None


@overload
def client(service: Literal["dynamodb"], region: str | None = None) -> DynamoDBClient: ...
@overload
def client(service: Literal["sagemaker"], region: str | None = None) -> SageMakerClient: ...
@overload
def client(service: Literal["sns"], region: str | None = None) -> SNSClient: ...
@overload
def client(service: Literal["sqs"], region: str | None = None) -> SQSClient: ...
@overload
def client(service: Literal["secretsmanager"], region: str | None = None) -> SecretsManagerClient: ...
@overload
def client(service: Literal["logs"], region: str | None = None) -> CloudWatchLogsClient: ...
@overload
def client(service: Literal["sts"], region: str | None = None) -> STSClient: ...
def client(service: str, region: str | None = None) -> Any:
    """The container's client for `service` in `region` (the function's own region when None)."""
    config = LOGS_RETRY_CONFIG if service == "logs" else RETRY_CONFIG
    return container.keep(
        f"client:{service}:{region}",
        lambda: _session().client(service, region_name=region, config=config),  # type: ignore[call-overload]
    )


def spoke_client(service: str, region: str, account: WatchedAccount, *, external_id: str | None) -> Any:
    """The container's client for `service` in `region` of a spoke account, with the spoke role's credentials
    (accounts.spoke_session; one session per account and container). Raises AccountUnreadable when the role cannot be
    assumed."""

    def session() -> boto3.session.Session:
        _session()  # Loads the service models once; the spoke sessions share them.
        return spoke_session(client("sts"), account, external_id=external_id, data_loader=_service_models)

    spoke = container.keep(f"session:{account.id}", session)
    config = LOGS_RETRY_CONFIG if service == "logs" else RETRY_CONFIG
    return container.keep(
        f"client:{service}:{region}:{account.id}",
        lambda: spoke.client(service, region_name=region, config=config),  # type: ignore[call-overload]
    )


def forget_spoke(account: WatchedAccount) -> None:
    """Drop the spoke's session and clients (its role's sessions were revoked, or it denied them): the next use
    assumes the role again."""
    container.forget(lambda name: name == f"session:{account.id}" or name.endswith(f":{account.id}"))


def _session() -> boto3.session.Session:
    return container.keep("boto3-session", _new_session)


def _new_session() -> boto3.session.Session:
    global _service_models
    core = botocore.session.get_session()
    if _service_models is None:
        _service_models = core.get_component("data_loader")
    else:
        core.register_component("data_loader", _service_models)
    return boto3.session.Session(botocore_session=core)
