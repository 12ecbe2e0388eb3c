"""The Slack app adapter: a bot token and the Web API (chat.postMessage, chat.update, conversations.history and
conversations.replies; users.info and usergroups.list for `gtwatch check`) through slack_sdk's WebClient, with
Slack's errors sorted into the notifier's three kinds (retry later, rejected for good, misconfigured)."""

from __future__ import annotations

from datetime import datetime
from http.client import HTTPException
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import urlsplit

from watcher.adapters.slack_client import LOOPBACK_HOSTS, _sdk_logger, secret_text
from watcher.domain.slack_outcomes import SlackMisconfigured, SlackPostError, SlackRejected
from watcher.domain.slack_ports import Posted

if TYPE_CHECKING:
    from slack_sdk import WebClient

# Errors for which sending the same message again cannot succeed (docs.slack.dev/reference/methods/chat.postMessage,
# "Errors"): the notifier dead-letters the message for that channel and goes on.
REJECTED = frozenset(
    {
        "invalid_blocks",
        "invalid_blocks_format",
        "msg_too_long",
        "msg_blocks_too_long",
        "no_text",
        "invalid_metadata_format",
        "invalid_metadata_schema",
        "metadata_too_large",
        "too_many_attachments",
        "invalid_arguments",
    }
)
# Errors of the setup, not of the message: every message to that channel (or every message) fails until a person
# acts. Retried meanwhile, so nothing is lost, and alarmed.
MISCONFIGURED = frozenset(
    {
        "invalid_auth",
        "not_authed",
        "token_revoked",
        "token_expired",
        "account_inactive",
        "missing_scope",
        "channel_not_found",
        "not_in_channel",
        "is_archived",
        "restricted_action",
        "ekm_access_denied",
    }
)
HISTORY_PAGE = 200


class SlackTokenSecretError(ValueError):
    """The bot token secret holds no usable token. The text never repeats the secret's value."""


def token_from_secret(value: object) -> str:
    """The bot token held by a secret: the token itself (xoxb-...), or a JSON object {"bot_token": "..."}."""
    text = secret_text(value, "bot_token", "bot token", SlackTokenSecretError)
    if not text.startswith("xoxb-"):
        raise SlackTokenSecretError("the bot token secret does not hold a bot token (xoxb-...)")
    return text


class SlackApp:
    """One workspace through a bot token. Every method raises SlackPostError or one of its kinds on failure."""

    def __init__(self, token: str, *, timeout: float, rate_limit_retries: int, api_url: str) -> None:
        parts = urlsplit(api_url)
        # Plain http only reaches a local emulator; anything that leaves the machine must be https.
        if not (parts.scheme == "https" or (parts.scheme == "http" and parts.hostname in LOOPBACK_HOSTS)):
            raise ValueError("the Slack API URL must be https (http is allowed for localhost only)")
        from slack_sdk import WebClient
        from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler

        self._client: WebClient = WebClient(
            token=token,
            base_url=api_url,
            # urllib takes fractions of a second; slack_sdk annotates the timeout as int only.
            timeout=cast(int, timeout),
            logger=_sdk_logger,
            # Only 429s are retried here, after their Retry-After: a call whose answer was lost may have been
            # carried out, and the notifier looks for it before trying again.
            retry_handlers=[RateLimitErrorRetryHandler(max_retry_count=rate_limit_retries)],
        )

    def post(
        self,
        channel: str,
        message: dict[str, Any],
        *,
        thread_ts: str | None = None,
        broadcast: bool = False,
    ) -> Posted:
        extra: dict[str, Any] = {}
        if thread_ts:
            extra = {"thread_ts": thread_ts, "reply_broadcast": True} if broadcast else {"thread_ts": thread_ts}
        response = self._call("chat_postMessage", channel=channel, unfurl_links=False, **message, **extra)
        return Posted(channel_id=str(response["channel"]), ts=str(response["ts"]))

    def update(self, channel_id: str, ts: str, message: dict[str, Any]) -> None:
        self._call("chat_update", channel=channel_id, ts=ts, **message)

    def find(
        self, channel_id: str, notification_id: str, *, since: datetime, thread_ts: str | None = None
    ) -> str | None:
        """The ts of the message carrying `notification_id` in its metadata: in the channel since `since`, or in
        the thread of `thread_ts`. A post whose answer was lost is found this way instead of being posted twice."""
        # A root is among the channel's messages since `since`; a reply among its thread's.
        method, where = "conversations_history", {"oldest": f"{since.timestamp():.6f}"}
        if thread_ts is not None:
            method, where = "conversations_replies", {"ts": thread_ts}
        cursor: str | None = None
        while True:
            page = self._call(
                method, channel=channel_id, limit=HISTORY_PAGE, include_all_metadata=True, cursor=cursor, **where
            )
            for message in page.get("messages", []):
                payload = (message.get("metadata") or {}).get("event_payload") or {}
                if payload.get("notification_id") == notification_id:
                    return str(message["ts"])
            cursor = (page.get("response_metadata") or {}).get("next_cursor") or None
            if not page.get("has_more") or not cursor:
                return None

    def channel_id(self, name: str) -> str:
        """The id of the channel named `name` (#labeling), among those the app can see (conversations.list)."""
        wanted = name.removeprefix("#")
        cursor: str | None = None
        while True:
            page = self._call(
                "conversations_list",
                types="public_channel,private_channel",
                exclude_archived=True,
                limit=HISTORY_PAGE,
                cursor=cursor,
            )
            for channel in page.get("channels", []):
                if channel.get("name") == wanted:
                    return str(channel["id"])
            cursor = (page.get("response_metadata") or {}).get("next_cursor") or None
            if not cursor:
                raise SlackMisconfigured(f"Slack refused conversations.list: channel_not_found ({name})")

    def user(self, user_id: str) -> dict[str, Any] | None:
        """users.info (scope users:read): the member `user_id` (U… or W…), or None when the workspace has none."""
        try:
            return cast(dict[str, Any], self._call("users_info", user=user_id)["user"])
        except SlackPostError as error:
            if error.code == "user_not_found":
                return None
            raise

    def user_groups(self) -> list[dict[str, Any]]:
        """usergroups.list (scope usergroups:read): every user group of the workspace, disabled ones included."""
        return cast(list[dict[str, Any]], self._call("usergroups_list", include_disabled=True).get("usergroups", []))

    def _call(self, method: str, **arguments: Any) -> dict[str, Any]:
        from slack_sdk.errors import SlackApiError, SlackRequestError

        arguments = {name: value for name, value in arguments.items() if value is not None}
        try:
            response = getattr(self._client, method)(**arguments)
        except SlackApiError as error:
            code = str(error.response.get("error") or f"HTTP {error.response.status_code}")
            kind = (
                SlackRejected if code in REJECTED else SlackMisconfigured if code in MISCONFIGURED else SlackPostError
            )
            refused = kind(f"Slack refused {method.replace('_', '.')}: {code}")
            refused.code = code
            raise refused from None
        except (OSError, HTTPException, SlackRequestError, ValueError) as error:
            raise SlackPostError(f"Slack did not answer {method.replace('_', '.')}: {type(error).__name__}") from None
        return cast(dict[str, Any], response.data)
