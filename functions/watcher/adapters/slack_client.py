"""The Slack webhook adapter: posts a message to an incoming webhook with slack_sdk, never revealing its URL."""

from __future__ import annotations

import json
import logging
from http.client import HTTPException
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import urlsplit

from watcher import container
from watcher.domain.slack_outcomes import SlackMisconfigured, SlackPostError, SlackRejected

if TYPE_CHECKING:
    from slack_sdk.webhook import WebhookClient

# A 429 is retried after its Retry-After; anything else fails the record and SQS redelivers it later, so a lost
# connection never turns into a second copy of the same message within one invocation.
RATE_LIMIT_RETRIES = 2
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
BODY_EXCERPT = 300

# slack_sdk logs the request URL whenever its logger's own level admits DEBUG. The URL holds the webhook's token,
# so the SDK gets a logger of its own, pinned at WARNING, whatever the root or the Lambda log level says.
_sdk_logger = logging.getLogger("gtwatch.slack_sdk")
_sdk_logger.setLevel(logging.WARNING)


# Incoming webhooks answer errors with an HTTP status and a short body (docs.slack.dev, "Handling errors" of
# incoming webhooks): 400 for a body Slack cannot show, 403/404/410 for a webhook that no longer works.
WEBHOOK_REJECTED = frozenset({400})
WEBHOOK_MISCONFIGURED = frozenset({403, 404, 410})


class SlackWebhookSecretError(ValueError):
    """The webhook secret holds no usable URL. The text never repeats the secret's value."""


def post(webhook_url: str, payload: dict[str, Any], *, timeout: float) -> None:
    """Post `payload` to the webhook; raise SlackPostError unless Slack answers 2xx within `timeout` seconds."""
    if urlsplit(webhook_url).scheme not in ("http", "https"):
        raise SlackPostError("the webhook URL is not an http(s) URL")
    from slack_sdk.errors import SlackRequestError  # with the client, on first use

    try:
        response = _client(webhook_url, timeout).send_dict(payload)
    except (OSError, HTTPException, SlackRequestError, ValueError) as error:
        # Raised without its cause: some of these errors quote the URL they were given.
        text = str(error).replace(webhook_url, "<webhook>")
        raise SlackPostError(f"Slack did not answer: {type(error).__name__}: {text}") from None
    if not 200 <= response.status_code < 300:
        body = (response.body or "")[:BODY_EXCERPT].replace(webhook_url, "<webhook>")
        kind = (
            SlackRejected
            if response.status_code in WEBHOOK_REJECTED
            else SlackMisconfigured
            if response.status_code in WEBHOOK_MISCONFIGURED
            else SlackPostError
        )
        raise kind(f"Slack answered HTTP {response.status_code}: {body!r}")


def secret_text(value: object, key: str, what: str, error: type[ValueError]) -> str:
    """A secret's value: the text itself, or the string under `key` of a JSON object. The error never repeats it."""
    text = (value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)).strip()
    if not text.startswith("{"):
        return text
    try:
        document = json.loads(text)
    except ValueError:
        raise error(f"the {what} secret looks like JSON but does not parse") from None
    found = document.get(key) if isinstance(document, dict) else None
    if not isinstance(found, str):
        raise error(f'the {what} secret JSON has no "{key}" string')
    return found.strip()


def webhook_url_from_secret(value: object) -> str:
    """The webhook URL held by a secret: the URL itself, or a JSON object {"webhook_url": "..."}."""
    text = secret_text(value, "webhook_url", "webhook", SlackWebhookSecretError)
    try:
        parts = urlsplit(text)
        host = parts.hostname
    except ValueError:
        raise SlackWebhookSecretError("the webhook secret is not a URL") from None
    # Plain http only reaches a local emulator; anything that leaves the machine must be https.
    if host and (parts.scheme == "https" or (parts.scheme == "http" and host in LOOPBACK_HOSTS)):
        return text
    raise SlackWebhookSecretError("the webhook secret is not an https URL (http is allowed for localhost only)")


def _client(webhook_url: str, timeout: float) -> WebhookClient:
    # Imported on first use: slack_sdk is a quarter of the handler's import time, and a cold start pays it once.
    from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler
    from slack_sdk.webhook import WebhookClient

    return container.keep(
        f"slack-webhook:{webhook_url}:{timeout}",
        lambda: WebhookClient(
            webhook_url,
            # urllib takes fractions of a second; slack_sdk annotates the timeout as int only.
            timeout=cast(int, timeout),
            logger=_sdk_logger,
            retry_handlers=[RateLimitErrorRetryHandler(max_retry_count=RATE_LIMIT_RETRIES)],
        ),
    )
