"""Fixtures every test tier may use: a hermetic AWS environment, moto, the emulated deployment, a Lambda context.

Function-scoped, and imported lazily: the unit and template tests neither start nor import moto.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from watcher import container
from watcher.domain.contract import EVENT_TYPES

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext
    from watcher.domain.slack_routes import Route

    from gtwatch.sim.emulator.deployment import EmulatorMode, Resources
    from gtwatch.sim.slack_endpoint import SlackEndpoint

REGION = "us-east-1"  # The emulator's (gtwatch.sim.emulator.deployment.REGION).
EVERY_EVENT = EVENT_TYPES
# Settings on the machine that would send a client somewhere other than moto or the loopback endpoints.
LEAKY_SETTINGS = ("AWS_PROFILE", "AWS_CA_BUNDLE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_SAGEMAKER")
PROXIES = ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy")


@pytest.fixture
def aws_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Fake credentials in the default region; no profile, config file, endpoint or proxy from the machine."""
    for name in LEAKY_SETTINGS + PROXIES:
        monkeypatch.delenv(name, raising=False)
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
        "AWS_CONFIG_FILE": str(tmp_path / "no-aws-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "no-aws-credentials"),
        "AWS_EC2_METADATA_DISABLED": "true",
        # Loopback (the moto server, the Slack endpoint) is reached directly even when a proxy is configured.
        "NO_PROXY": "127.0.0.1,localhost",
        "no_proxy": "127.0.0.1,localhost",
    }.items():
        monkeypatch.setenv(name, value)


@pytest.fixture
def cold_start() -> Iterator[None]:
    """The handlers' first invocation in the test is a cold start, and the next test's is too."""
    container.reset()
    yield
    container.reset()


@pytest.fixture
def mocked_aws(aws_environment: None, cold_start: None) -> Iterator[None]:
    """moto in-process for the test's span: every boto3 client the handlers build talks to it."""
    from moto import mock_aws

    with mock_aws():
        yield


@pytest.fixture
def deploy(cold_start: None) -> Iterator[Callable[..., Resources]]:
    """Deploys gtwatch on the emulator (the stack's resources in moto, the handlers' environment) for the test.

    `deploy()` routes every event type to both channels, in-process; keywords change the routing, the mode
    (`mode="server"` for the moto server over HTTP) or add handler settings (`handler_env`).
    """
    from watcher import clock
    from watcher.domain.slack_routes import routes_to_json

    from gtwatch.sim.emulator import deployment, labeling_jobs

    def real_clocks() -> None:
        clock.set_clock(None)
        labeling_jobs.set_clock(None)

    with ExitStack() as stack:

        def deploy_once(
            *,
            mode: EmulatorMode = "inprocess",
            slack_events: tuple[str, ...] = EVERY_EVENT,
            email_events: tuple[str, ...] = EVERY_EVENT,
            slack_webhook_url: str = "http://127.0.0.1:9/unused",
            handler_env: dict[str, str] | None = None,
            app_slack: SlackEndpoint | None = None,
            routes: tuple[Route, ...] = (),
        ) -> Resources:
            """With `app_slack` and `routes`: Slack app mode, the routes' channels added to that local Slack."""
            app_mode = app_slack is not None
            if app_slack is not None:
                for route in routes:
                    app_slack.add_route_channel(route.channel)
            routing = deployment.Routing(
                slack_events=slack_events,
                email_events=email_events,
                slack_mode="app" if app_mode else "webhook",
                slack_routes_json=routes_to_json(routes) if app_mode else None,
            )
            resources = stack.enter_context(
                deployment.deployed(
                    mode=mode,
                    routing=routing,
                    slack_webhook_url=app_slack.url if app_slack else slack_webhook_url,
                    handler_env=handler_env or {},
                    slack_api_url=app_slack.api_url if app_slack else None,
                    slack_bot_token=app_slack.bot_token if app_slack else None,
                )
            )
            stack.callback(real_clocks)
            return resources

        yield deploy_once


@pytest.fixture
def machine_time_zone() -> Callable[[str], AbstractContextManager[None]]:
    """`with machine_time_zone("America/New_York"):` the process's local zone is that one (TZ and time.tzset), as
    on a laptop set up there."""

    @contextmanager
    def time_zone(name: str) -> Iterator[None]:
        before = os.environ.get("TZ")
        os.environ["TZ"] = name
        time.tzset()
        try:
            yield
        finally:
            if before is None:
                del os.environ["TZ"]
            else:
                os.environ["TZ"] = before
            time.tzset()

    return time_zone


@pytest.fixture
def lambda_context() -> Callable[[str], LambdaContext]:
    """The context Lambda passes a handler, for the function named."""
    from gtwatch.sim.emulator.deployment import FakeLambdaContext

    return FakeLambdaContext
