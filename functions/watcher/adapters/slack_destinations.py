"""The Slack destination adapters (the incoming webhook, the app) and the one factory that builds the configured one
from the notifier's settings and the secret it names."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from watcher import container
from watcher.adapters import slack_client
from watcher.domain.contract import SLACK_POST_ATTEMPTS
from watcher.domain.slack_outcomes import SlackMisconfigured
from watcher.domain.slack_ports import Posted, SlackDestination

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.parameters import SecretsProvider

    from watcher.adapters.slack_app import SlackApp


class SlackConfig(Protocol):
    """What the destination factory reads of the notifier's settings (watcher.settings.SlackSettings is one)."""

    @property
    def mode(self) -> str: ...
    @property
    def webhook_secret(self) -> str | None: ...
    @property
    def token_secret(self) -> str | None: ...
    @property
    def secret_max_age_seconds(self) -> int: ...
    @property
    def timeout_seconds(self) -> float: ...
    @property
    def api_url(self) -> str: ...


@dataclass(frozen=True)
class WebhookDestination:
    """One incoming webhook: a flat stream of messages, which cannot be asked what it posted (after a lost answer it
    may post twice)."""

    url: str
    timeout_seconds: float

    @property
    def threads(self) -> bool:
        return False

    def channel_id(self, channel: str) -> str:
        return channel

    def post(self, channel_id: str, message: dict[str, Any]) -> Posted | None:
        slack_client.post(self.url, message, timeout=self.timeout_seconds)
        return None

    def reply(self, channel_id: str, thread_ts: str, message: dict[str, Any], *, broadcast: bool) -> None:
        self.post(channel_id, message)

    def update(self, channel_id: str, ts: str, message: dict[str, Any]) -> None:
        """A webhook cannot edit what it posted."""

    def find(
        self, channel_id: str, notification_id: str, *, since: datetime, thread_ts: str | None = None
    ) -> str | None:
        return None


class AppDestination:
    """The Slack app's channels through its bot token; channel names resolved once per container."""

    def __init__(self, app: SlackApp) -> None:
        self.app = app

    @property
    def threads(self) -> bool:
        return True

    def channel_id(self, channel: str) -> str:
        if not channel.startswith("#"):
            return channel
        return container.keep(f"slack-channel:{channel}", lambda: self.app.channel_id(channel))

    def post(self, channel_id: str, message: dict[str, Any]) -> Posted | None:
        return self.app.post(channel_id, message)

    def reply(self, channel_id: str, thread_ts: str, message: dict[str, Any], *, broadcast: bool) -> None:
        self.app.post(channel_id, message, thread_ts=thread_ts, broadcast=broadcast)

    def update(self, channel_id: str, ts: str, message: dict[str, Any]) -> None:
        self.app.update(channel_id, ts, message)

    def find(
        self, channel_id: str, notification_id: str, *, since: datetime, thread_ts: str | None = None
    ) -> str | None:
        return self.app.find(channel_id, notification_id, since=since, thread_ts=thread_ts)


def slack_destination(settings: SlackConfig, secrets: SecretsProvider) -> SlackDestination:
    """The configured destination (settings.mode), from its secret; a secret that holds no usable URL or token is a
    setup error (SlackMisconfigured, whose text never shows the value)."""
    try:
        if settings.mode == "app":
            return AppDestination(_app(settings, secrets))
        secret = secrets.get(str(settings.webhook_secret), max_age=settings.secret_max_age_seconds)
        return WebhookDestination(slack_client.webhook_url_from_secret(secret), settings.timeout_seconds)
    except ValueError as error:  # SlackWebhookSecretError, SlackTokenSecretError
        raise SlackMisconfigured(str(error)) from None


def _app(settings: SlackConfig, secrets: SecretsProvider) -> SlackApp:
    from watcher.adapters.slack_app import SlackApp, token_from_secret

    token = token_from_secret(secrets.get(str(settings.token_secret), max_age=settings.secret_max_age_seconds))
    return container.keep(
        f"slack-app:{hash(token)}",
        lambda: SlackApp(
            token,
            timeout=settings.timeout_seconds,
            rate_limit_retries=SLACK_POST_ATTEMPTS - 1,
            api_url=settings.api_url,
        ),
    )
