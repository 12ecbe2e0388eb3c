"""A local Slack on loopback for tests and replays: an incoming webhook and the Web API methods gtwatch calls."""

from __future__ import annotations

import base64
import binascii
import copy
import json
import math
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Literal
from urllib.parse import parse_qsl, urlsplit

FailureMode = Literal["http_500", "http_429", "timeout", "lost_response"]
FAILURE_MODES: tuple[FailureMode, ...] = ("http_500", "http_429", "timeout", "lost_response")
WEBHOOK_PATH = "/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX"
API_PATH = "/api/"

# The workspace and the app's bot user, as auth.test names them.
TEAM_ID = "T0GTWATCH1"
TEAM_NAME = "gtwatch simulation"
BOT_USER_ID = "U0GTWBOT01"
BOT_ID = "B0GTWBOT01"
APP_ID = "A0GTWATCH1"

# chat.postMessage: text over 40,000 characters is refused (msg_too_long); about one post per second per channel.
MAX_MESSAGE_TEXT = 40_000
HISTORY_DEFAULT_LIMIT, HISTORY_MAX_LIMIT = 100, 999
REPLIES_DEFAULT_LIMIT, REPLIES_MAX_LIMIT = 1000, 1000
# Arguments that Slack takes as JSON and form bodies carry as JSON strings.
JSON_ARGUMENTS = {
    "blocks": "invalid_blocks",
    "attachments": "invalid_attachments",
    "metadata": "invalid_metadata_format",
}

# Block Kit limits for messages (docs.slack.dev/reference/block-kit/blocks/*).
MAX_BLOCKS = 50
MAX_HEADER_TEXT = 150
MAX_SECTION_TEXT = 3000
MAX_FIELDS = 10
MAX_FIELD_TEXT = 2000
MAX_CONTEXT_ELEMENTS = 10
MAX_ACTIONS_ELEMENTS = 25
MAX_BUTTON_TEXT = 75
MAX_URL = 3000
MAX_BLOCK_ID = 255
KNOWN_BLOCK_TYPES = frozenset({"actions", "context", "divider", "header", "image", "rich_text", "section"})


def validate_payload(body: object) -> str | None:
    """Slack's error code for an incoming-webhook body (`invalid_payload`, `no_text`, `invalid_blocks`), or None."""
    if not isinstance(body, dict):
        return "invalid_payload"
    text, blocks = body.get("text"), body.get("blocks")
    if not (isinstance(text, str) and text.strip()) and not blocks:
        return "no_text"
    if blocks is not None and not _blocks_valid(blocks):
        return "invalid_blocks"
    return None


@dataclass(frozen=True)
class SlackAction:
    """Something Slack carried out: a message posted to a channel, a reply in a thread, or a message edited.

    `thread_ts` is the thread the message belongs to, as Slack shows it: for a reply its root's ts, for a root with
    replies its own ts, otherwise None. `payload` is the call's body as Slack received it (a form body as a dict, its
    JSON-valued fields decoded, without the token); `metadata` is the message metadata the call carried, if any.
    """

    action: Literal["post", "reply", "update"]
    channel_id: str
    channel_name: str
    ts: str
    thread_ts: str | None
    payload: dict[str, Any]
    metadata: dict[str, Any] | None


@dataclass
class _Channel:
    id: str
    name: str  # without the leading "#"
    member: bool
    messages: list[dict[str, Any]] = field(default_factory=list)  # top-level and replies, oldest first
    by_ts: dict[str, dict[str, Any]] = field(default_factory=dict)
    tokens: float | None = None  # the chat.postMessage rate limit's bucket
    tokens_at: float = 0.0


@dataclass
class _User:
    id: str
    name: str
    deleted: bool = False


@dataclass
class _UserGroup:
    id: str
    handle: str
    disabled: bool = False


class _Refused(Exception):
    """A Web API call Slack answers with an error: HTTP 200 and `{"ok": false, "error": ...}`, except rate limits."""

    def __init__(
        self, error: str, status: int = 200, headers: dict[str, str] | None = None, needed: str | None = None
    ) -> None:
        super().__init__(error)
        self.error = error
        self.status = status
        self.headers = headers or {}
        self.needed = needed  # missing_scope: the scope the method needs


@dataclass
class _ApiRequest:
    method: str
    token: str | None
    args: dict[str, Any]
    payload: dict[str, Any]  # the body as received, for the action log


class SlackEndpoint:
    """A local Slack. Use it as a context manager.

    The incoming webhook is at `.url`; `.received` holds the payloads it accepted, in order.

    The Web API is at `.api_url` (for `slack_sdk.WebClient(token=endpoint.bot_token, base_url=endpoint.api_url)`):
    `auth.test`, `chat.postMessage`, `chat.update`, `conversations.history`, `conversations.replies`,
    `conversations.list`, and for `gtwatch check`'s mentions `users.info` and `usergroups.list` (members added with
    `add_user`, groups with `add_user_group`; `withhold_scope` makes them answer missing_scope). The workspace
    has the channels given as `channels` ({"#labeling": "C0LABEL001"}) or added with `add_channel`; the bot is a member
    of each unless told otherwise. `messages(channel)` is a channel's current state, `actions` everything Slack
    carried out, in order. Message `ts` come from `clock` (seconds since the epoch; the replay passes simulated time),
    unique and increasing. `revoke_token()`, `set_member(channel, False)` and the per-channel rate limit of
    chat.postMessage (`post_rate_per_second`, `post_burst`; None turns it off) make Slack's errors happen.

    `fail_next(mode, count)` makes the next `count` requests (webhook posts and Web API calls alike) fail;
    `fail_while(mode, active)` fails every request while `active()` holds. Modes: `http_500`, `http_429` (with
    `Retry-After: 1`), `timeout` (held for `timeout_hold_seconds`, longer than the client waits, then dropped: nothing
    is done) and `lost_response` (Slack carries the request out, then holds and drops it: the client sees a timeout).
    """

    def __init__(
        self,
        *,
        timeout_hold_seconds: float = 2.0,
        channels: Mapping[str, str] | None = None,
        clock: Callable[[], float] = time.time,
        bot_token: str | None = None,
        post_rate_per_second: float | None = 1.0,
        post_burst: int = 3,
    ) -> None:
        self.timeout_hold_seconds = timeout_hold_seconds
        self.post_rate_per_second = post_rate_per_second
        self.post_burst = post_burst
        self._clock = clock
        self._bot_token = bot_token or f"xoxb-{secrets.randbelow(10**12):012d}-{secrets.token_hex(12)}"
        self._revoked: set[str] = set()
        self._lock = threading.Lock()
        self._closing = threading.Event()
        self._received: list[dict[str, Any]] = []
        self._attempts = 0
        self._failures_served = 0
        self._rate_limited = 0
        self._failures: deque[FailureMode] = deque()
        self._outages: list[tuple[FailureMode, Callable[[], bool]]] = []
        self._channels: dict[str, _Channel] = {}
        self._users: dict[str, _User] = {}
        self._user_groups: dict[str, _UserGroup] = {}
        self._withheld_scopes: set[str] = set()
        self._actions: list[SlackAction] = []
        self._last_ts_micros = 0
        for name, channel_id in (channels or {}).items():
            self.add_channel(name, channel_id)
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="slack-endpoint", daemon=True
        )
        self._thread.start()

    @property
    def url(self) -> str:
        return f"{self._base}{WEBHOOK_PATH}"

    @property
    def api_url(self) -> str:
        """The Web API's base URL, ending in "/api/" as slack_sdk's `base_url` does."""
        return f"{self._base}{API_PATH}"

    @property
    def _base(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def bot_token(self) -> str:
        return self._bot_token

    @property
    def received(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._received)

    @property
    def attempts(self) -> int:
        """Every request to the webhook or the Web API: accepted, refused or failed on purpose."""
        with self._lock:
            return self._attempts

    @property
    def failures_served(self) -> int:
        """Requests that were failed on purpose (by `fail_next` or `fail_while`)."""
        with self._lock:
            return self._failures_served

    @property
    def rate_limited(self) -> int:
        """chat.postMessage calls refused by the per-channel rate limit (HTTP 429)."""
        with self._lock:
            return self._rate_limited

    @property
    def actions(self) -> list[SlackAction]:
        with self._lock:
            return list(self._actions)

    def add_channel(self, name: str | None = None, id: str | None = None, member: bool = True) -> str:
        """Adds a channel ("#labeling" or "labeling") to the workspace and returns its ID. Without a name it gets
        one no other channel has (Slack's channels always have one); without an ID, a new one."""
        with self._lock:
            names = {channel.name for channel in self._channels.values()}
            key = _channel_name(name) if name is not None else _unused_name(names)
            if key in names:
                raise ValueError(f"channel {name!r} exists already")
            channel_id = id or f"C0SIM{len(self._channels) + 1:05d}"
            if channel_id in self._channels:
                raise ValueError(f"channel ID {channel_id!r} exists already")
            self._channels[channel_id] = _Channel(id=channel_id, name=key, member=member)
            return channel_id

    def add_route_channel(self, channel: str, member: bool = True) -> str:
        """Adds the channel a route names, as Slack would have it: `#name` is a channel of that name, an ID
        (C0123ABCD) a channel with that ID (and a name of its own). Returns its ID; a channel added already is kept."""
        with self._lock:
            if channel in self._channels:
                return channel
            if channel.startswith("#"):
                existing = next((c for c in self._channels.values() if c.name == channel.removeprefix("#")), None)
                if existing is not None:
                    return existing.id
        if channel.startswith("#"):
            return self.add_channel(channel, member=member)
        return self.add_channel(id=channel, member=member)

    def add_user(self, user_id: str, name: str, *, deleted: bool = False) -> None:
        """A member of the workspace (U… or W…), as users.info shows it; `deleted`: deactivated."""
        with self._lock:
            self._users[user_id] = _User(user_id, name, deleted)

    def add_user_group(self, group_id: str, handle: str, *, disabled: bool = False) -> None:
        """A user group (S…) with its @handle, as usergroups.list shows it."""
        with self._lock:
            self._user_groups[group_id] = _UserGroup(group_id, handle, disabled)

    def withhold_scope(self, scope: str) -> None:
        """The app was installed without `scope` (users:read, usergroups:read): the methods needing it answer
        missing_scope."""
        with self._lock:
            self._withheld_scopes.add(scope)

    def set_member(self, channel: str, member: bool) -> None:
        """The bot joins (True) or leaves (False) the channel, given by name or ID."""
        with self._lock:
            self._find_channel(channel).member = member

    def channel_id(self, channel: str) -> str:
        with self._lock:
            return self._find_channel(channel).id

    def revoke_token(self) -> None:
        """The bot token is revoked: every Web API call with it is refused with `token_revoked`."""
        with self._lock:
            self._revoked.add(self._bot_token)

    def messages(self, channel: str) -> list[dict[str, Any]]:
        """The channel's messages as they stand (after updates), top-level and replies, oldest first, with metadata."""
        with self._lock:
            return [_view(message, metadata=True) for message in self._find_channel(channel).messages]

    def fail_next(self, mode: FailureMode, count: int = 1) -> None:
        if mode not in FAILURE_MODES:
            raise ValueError(f"mode: expected one of {', '.join(FAILURE_MODES)}, got {mode!r}")
        with self._lock:
            self._failures.extend([mode] * count)

    def fail_while(self, mode: FailureMode, active: Callable[[], bool]) -> None:
        """Every request fails with `mode` while `active()` holds: an outage (the replay ends it at a minute)."""
        if mode not in FAILURE_MODES:
            raise ValueError(f"mode: expected one of {', '.join(FAILURE_MODES)}, got {mode!r}")
        with self._lock:
            self._outages.append((mode, active))

    def close(self) -> None:
        self._closing.set()  # ends any request held by a `timeout` or `lost_response` failure
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    def __enter__(self) -> SlackEndpoint:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()

    def _next_failure(self) -> FailureMode | None:
        with self._lock:
            self._attempts += 1
            outage = next((mode for mode, active in self._outages if active()), None)
            if outage is not None:
                self._failures_served += 1
                return outage
            if not self._failures:
                return None
            self._failures_served += 1
            return self._failures.popleft()

    def _accept(self, payload: dict[str, Any]) -> None:
        with self._lock:
            self._received.append(payload)

    # The Web API. Each method runs under the lock: a call is carried out whole or not at all.

    def _call(self, request: _ApiRequest) -> tuple[int, dict[str, Any], dict[str, str]]:
        methods: dict[str, Callable[[_ApiRequest], dict[str, Any]]] = {
            "auth.test": self._auth_test,
            "chat.postMessage": self._post_message,
            "chat.update": self._update,
            "conversations.history": self._history,
            "conversations.replies": self._replies,
            "conversations.list": self._list,
            "users.info": self._user_info,
            "usergroups.list": self._user_group_list,
        }
        method = methods.get(request.method)
        if method is None:
            return 200, {"ok": False, "error": "unknown_method", "req_method": request.method}, {}
        with self._lock:
            try:
                self._authenticate(request.token)
                return 200, {"ok": True, **method(request)}, {}
            except _Refused as refused:
                body = {"ok": False, "error": refused.error}
                if refused.needed is not None:
                    body["needed"] = refused.needed
                return refused.status, body, refused.headers

    def _authenticate(self, token: str | None) -> None:
        if not token:
            raise _Refused("not_authed")
        if token in self._revoked:
            raise _Refused("token_revoked")
        if token != self._bot_token:
            raise _Refused("invalid_auth")

    def _auth_test(self, request: _ApiRequest) -> dict[str, Any]:
        return {
            "url": "https://gtwatch-simulation.slack.com/",
            "team": TEAM_NAME,
            "user": "gtwatch",
            "team_id": TEAM_ID,
            "user_id": BOT_USER_ID,
            "bot_id": BOT_ID,
            "is_enterprise_install": False,
        }

    def _post_message(self, request: _ApiRequest) -> dict[str, Any]:
        args = request.args
        channel = self._channel_arg(args, by_name=True)
        if not channel.member:
            raise _Refused("not_in_channel")
        text, blocks, metadata = _content(args)
        if text is None and blocks is None and not args.get("attachments"):
            raise _Refused("no_text")
        root = None
        if args.get("thread_ts"):
            root = channel.by_ts.get(str(args["thread_ts"]))
            if root is None:
                raise _Refused("thread_not_found")
            if root.get("thread_ts") not in (None, root["ts"]):  # a reply's ts: the reply goes to its root
                root = channel.by_ts[root["thread_ts"]]
        self._take_post_slot(channel)
        ts = self._next_ts()
        message: dict[str, Any] = {
            "type": "message",
            "user": BOT_USER_ID,
            "bot_id": BOT_ID,
            "app_id": APP_ID,
            "team": TEAM_ID,
            "text": text or "",
            "ts": ts,
        }
        if blocks is not None:
            message["blocks"] = blocks
        if args.get("attachments"):
            message["attachments"] = args["attachments"]
        if metadata is not None:
            message["metadata"] = metadata
        if root is not None:
            message["thread_ts"] = root["ts"]
            message["parent_user_id"] = root["user"]
            if _bool_arg(args, "reply_broadcast"):
                message["subtype"] = "thread_broadcast"
            root["thread_ts"] = root["ts"]
            root["reply_count"] = root.get("reply_count", 0) + 1
            root["reply_users"] = [BOT_USER_ID]
            root["reply_users_count"] = 1
            root["latest_reply"] = ts
        channel.messages.append(message)
        channel.by_ts[ts] = message
        self._record("post" if root is None else "reply", channel, message, request, metadata)
        return {"channel": channel.id, "ts": ts, "message": _view(message, metadata=True)}

    def _update(self, request: _ApiRequest) -> dict[str, Any]:
        args = request.args
        channel = self._channel_arg(args, by_name=False)
        if not channel.member:
            raise _Refused("not_in_channel")
        message = channel.by_ts.get(str(args.get("ts") or ""))
        if message is None:
            raise _Refused("message_not_found")
        # Blocks left out are kept; an empty array removes them.
        removes_blocks = args.get("blocks") == []
        text, blocks, metadata = _content({**args, "blocks": None} if removes_blocks else args)
        if text is None and blocks is None and metadata is None and not removes_blocks and not args.get("attachments"):
            raise _Refused("no_text")
        if text is not None:
            message["text"] = text
        if blocks is not None:
            message["blocks"] = blocks
        elif removes_blocks:
            message.pop("blocks", None)
        if metadata is not None:
            message["metadata"] = metadata
        message["edited"] = {"user": BOT_USER_ID, "ts": self._next_ts()}
        self._record("update", channel, message, request, metadata)
        return {"channel": channel.id, "ts": message["ts"], "text": message["text"], "message": _view(message, True)}

    def _history(self, request: _ApiRequest) -> dict[str, Any]:
        args = request.args
        channel = self._channel_arg(args, by_name=False)
        if not channel.member:
            raise _Refused("not_in_channel")
        shown = [
            message
            for message in channel.messages
            if message.get("thread_ts") in (None, message["ts"]) or message.get("subtype") == "thread_broadcast"
        ]
        newest_first = list(reversed(_in_range(shown, args)))
        page, next_cursor = _page(newest_first, args, HISTORY_DEFAULT_LIMIT, HISTORY_MAX_LIMIT)
        return _listing(page, next_cursor, metadata=_bool_arg(args, "include_all_metadata"))

    def _replies(self, request: _ApiRequest) -> dict[str, Any]:
        args = request.args
        channel = self._channel_arg(args, by_name=False)
        if not channel.member:
            raise _Refused("not_in_channel")
        ts = str(args.get("ts") or "")
        if ts not in channel.by_ts:
            raise _Refused("thread_not_found")
        thread = [message for message in channel.messages if ts in (message["ts"], message.get("thread_ts"))]
        page, next_cursor = _page(_in_range(thread, args), args, REPLIES_DEFAULT_LIMIT, REPLIES_MAX_LIMIT)
        return _listing(page, next_cursor, metadata=_bool_arg(args, "include_all_metadata"))

    def _list(self, request: _ApiRequest) -> dict[str, Any]:
        """conversations.list: every channel the app can see (one page; this workspace is small)."""
        return {
            "channels": [
                {"id": channel.id, "name": channel.name, "is_channel": True, "is_member": channel.member}
                for channel in self._channels.values()
            ],
            "response_metadata": {"next_cursor": ""},
        }

    def _user_info(self, request: _ApiRequest) -> dict[str, Any]:
        """users.info (scope users:read): the user, or user_not_found."""
        self._require_scope("users:read")
        user = self._users.get(str(request.args.get("user") or ""))
        if user is None:
            raise _Refused("user_not_found")
        return {
            "user": {
                "id": user.id,
                "team_id": TEAM_ID,
                "name": user.name,
                "deleted": user.deleted,
                "real_name": user.name,
                "is_bot": False,
                "profile": {"display_name": user.name, "real_name": user.name},
            }
        }

    def _user_group_list(self, request: _ApiRequest) -> dict[str, Any]:
        """usergroups.list (scope usergroups:read): the enabled user groups, the disabled ones too when asked."""
        self._require_scope("usergroups:read")
        with_disabled = _bool_arg(request.args, "include_disabled")
        return {
            "usergroups": [
                {
                    "id": group.id,
                    "team_id": TEAM_ID,
                    "is_usergroup": True,
                    "name": group.handle,
                    "handle": group.handle,
                    "date_delete": 1_700_000_000 if group.disabled else 0,
                }
                for group in self._user_groups.values()
                if with_disabled or not group.disabled
            ]
        }

    def _require_scope(self, scope: str) -> None:
        if scope in self._withheld_scopes:
            raise _Refused("missing_scope", needed=scope)

    def _channel_arg(self, args: dict[str, Any], *, by_name: bool) -> _Channel:
        value = args.get("channel")
        if not isinstance(value, str) or not value:
            raise _Refused("channel_not_found")
        if value in self._channels:
            return self._channels[value]
        if by_name:  # chat.postMessage takes a channel's name too; the other methods need its ID
            # As Slack spells it: names are lowercase, so an ID (C0123ABCD) is never taken for a channel's name.
            key = value.removeprefix("#")
            for channel in self._channels.values():
                if channel.name == key:
                    return channel
        raise _Refused("channel_not_found")

    def _find_channel(self, channel: str) -> _Channel:
        try:
            return self._channel_arg({"channel": channel}, by_name=True)
        except _Refused:
            raise KeyError(f"no channel {channel!r} in the workspace") from None

    def _take_post_slot(self, channel: _Channel) -> None:
        """A token bucket per channel in the endpoint's clock: `post_burst` posts at once, refilled at the rate."""
        rate = self.post_rate_per_second
        if rate is None:
            return
        now = self._clock()
        if channel.tokens is None:
            channel.tokens, channel.tokens_at = float(self.post_burst), now
        elapsed = max(0.0, now - channel.tokens_at)  # a clock that steps back refills nothing
        tokens = min(float(self.post_burst), channel.tokens + elapsed * rate)
        channel.tokens_at = max(channel.tokens_at, now)
        if tokens < 1:
            channel.tokens = tokens
            self._rate_limited += 1
            retry_after = max(1, math.ceil((1 - tokens) / rate))
            raise _Refused("ratelimited", 429, {"Retry-After": str(retry_after)})
        channel.tokens = tokens - 1

    def _next_ts(self) -> str:
        micros = max(int(self._clock() * 1_000_000), self._last_ts_micros + 1)
        self._last_ts_micros = micros
        return f"{micros // 1_000_000}.{micros % 1_000_000:06d}"

    def _record(
        self,
        action: Literal["post", "reply", "update"],
        channel: _Channel,
        message: dict[str, Any],
        request: _ApiRequest,
        metadata: dict[str, Any] | None,
    ) -> None:
        self._actions.append(
            SlackAction(
                action=action,
                channel_id=channel.id,
                channel_name=f"#{channel.name}",
                ts=message["ts"],
                thread_ts=message.get("thread_ts"),
                payload=copy.deepcopy(request.payload),
                metadata=copy.deepcopy(metadata),
            )
        )


def _channel_name(name: str) -> str:
    return name.removeprefix("#").lower()


def _unused_name(names: set[str]) -> str:
    number = len(names) + 1
    while f"channel-{number}" in names:
        number += 1
    return f"channel-{number}"


def _content(args: dict[str, Any]) -> tuple[str | None, list[Any] | None, dict[str, Any] | None]:
    """The text, blocks and metadata of a chat.* call, checked as Slack checks them."""
    text = args.get("text")
    if text is not None and not isinstance(text, str):
        raise _Refused("invalid_arguments")
    if isinstance(text, str) and _length(text) > MAX_MESSAGE_TEXT:
        raise _Refused("msg_too_long")
    blocks = args.get("blocks")
    if blocks is not None and not _blocks_valid(blocks):
        raise _Refused("invalid_blocks")
    metadata = args.get("metadata")
    if metadata is not None and not (
        isinstance(metadata, dict)
        and isinstance(metadata.get("event_type"), str)
        and metadata["event_type"]
        and isinstance(metadata.get("event_payload"), dict)
    ):
        raise _Refused("invalid_metadata_format")
    return (text if text else None), blocks, (copy.deepcopy(metadata) if metadata is not None else None)


def _bool_arg(args: dict[str, Any], name: str) -> bool:
    return args.get(name) in (True, 1, "1", "true", "True")


def _ts_value(value: object, error: str) -> Decimal:
    try:
        result = Decimal(str(value))
    except InvalidOperation:
        raise _Refused(error) from None
    if not result.is_finite():
        raise _Refused(error)
    return result


def _in_range(messages: list[dict[str, Any]], args: dict[str, Any]) -> list[dict[str, Any]]:
    """The messages between `oldest` and `latest` (exclusive unless `inclusive`), in the order given."""
    oldest = _ts_value(args["oldest"], "invalid_ts_oldest") if args.get("oldest") not in (None, "") else None
    latest = _ts_value(args["latest"], "invalid_ts_latest") if args.get("latest") not in (None, "") else None
    inclusive = _bool_arg(args, "inclusive")

    def within(message: dict[str, Any]) -> bool:
        ts = Decimal(message["ts"])
        if oldest is not None and (ts < oldest or (ts == oldest and not inclusive)):
            return False
        return latest is None or ts < latest or (ts == latest and inclusive)

    return [message for message in messages if within(message)]


def _page(
    messages: list[dict[str, Any]], args: dict[str, Any], default_limit: int, max_limit: int
) -> tuple[list[dict[str, Any]], str]:
    """One page of `messages` from the cursor on, and the cursor of the next page ("" at the end)."""
    try:
        limit = int(args.get("limit") or default_limit)
    except (TypeError, ValueError):
        raise _Refused("invalid_limit") from None
    limit = min(max(limit, 1), max_limit)
    cursor = args.get("cursor")
    if cursor:
        try:
            start = base64.b64decode(str(cursor), validate=True).decode("ascii").removeprefix("next_ts:")
        except (binascii.Error, UnicodeDecodeError):
            raise _Refused("invalid_cursor") from None
        at = next((index for index, message in enumerate(messages) if message["ts"] == start), None)
        if at is None:
            raise _Refused("invalid_cursor")
        messages = messages[at:]
    page, rest = messages[:limit], messages[limit:]
    next_cursor = base64.b64encode(f"next_ts:{rest[0]['ts']}".encode("ascii")).decode("ascii") if rest else ""
    return page, next_cursor


def _listing(page: list[dict[str, Any]], next_cursor: str, *, metadata: bool) -> dict[str, Any]:
    return {
        "messages": [_view(message, metadata=metadata) for message in page],
        "has_more": bool(next_cursor),
        "pin_count": 0,
        "response_metadata": {"next_cursor": next_cursor},
    }


def _view(message: dict[str, Any], metadata: bool) -> dict[str, Any]:
    """A copy of the message as an API answer shows it; metadata only when asked for."""
    shown = copy.deepcopy(message)
    if not metadata:
        shown.pop("metadata", None)
    return shown


def _api_request(path: str, headers: Message, raw: bytes) -> _ApiRequest:
    """The method, token and arguments of a Web API request: query string plus a JSON or form-encoded body."""
    url = urlsplit(path)
    method = url.path[len(API_PATH) :]
    args: dict[str, Any] = dict(parse_qsl(url.query, keep_blank_values=True))
    payload: dict[str, Any] = {}
    is_json = headers.get_content_type() == "application/json"
    if raw.strip():
        if is_json:
            try:
                body = json.loads(raw.decode("utf-8"))
            except (UnicodeDecodeError, ValueError):
                raise _Refused("invalid_json") from None
            if not isinstance(body, dict):
                raise _Refused("invalid_json")
            payload = copy.deepcopy(body)
        else:
            try:
                body = dict(parse_qsl(raw.decode("utf-8"), keep_blank_values=True))
            except UnicodeDecodeError:
                raise _Refused("invalid_form_data") from None
        args.update(body)
    token: str | None = None
    authorization = headers.get("Authorization") or ""
    if authorization.startswith("Bearer "):
        token = authorization.removeprefix("Bearer ").strip()
    elif not is_json:  # Slack takes the token as a POST parameter too, but never in a JSON body
        token = args.get("token")
    args.pop("token", None)
    for name, error in JSON_ARGUMENTS.items():
        if isinstance(args.get(name), str):
            try:
                args[name] = json.loads(args[name])
            except ValueError:
                raise _Refused(error) from None
    if not is_json:
        payload = dict(args)
    return _ApiRequest(method=method, token=token, args=args, payload=payload)


def _handler_for(endpoint: SlackEndpoint) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Headers and body go out in separate writes; without this, Nagle and delayed ACKs add ~40 ms a post.
        disable_nagle_algorithm = True

        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if self.path.startswith(API_PATH):
                self._web_api(raw)
                return
            if self.path != WEBHOOK_PATH:
                self._answer(404, "no_service")
                return
            failure = endpoint._next_failure()
            if failure == "timeout":
                self._hold_and_drop()
                return
            if failure == "http_429":
                self._answer(429, "rate_limited", {"Retry-After": "1"})
                return
            if failure == "http_500":
                self._answer(500, "internal_error")
                return
            try:
                payload = json.loads(raw.decode("utf-8"))
            except ValueError:
                payload = None
            error = validate_payload(payload)
            if error is None:
                endpoint._accept(payload)
            if failure == "lost_response":
                self._hold_and_drop()
                return
            if error is not None:
                self._answer(400, error)
                return
            self._answer(200, "ok")

        def do_GET(self) -> None:
            if self.path.startswith(API_PATH):  # Slack's read methods take GET with a query string
                self._web_api(b"")
                return
            self._answer(405, "invalid_method")

        def _refuse(self) -> None:
            self._answer(405, "invalid_method")

        do_PUT = do_DELETE = do_PATCH = do_HEAD = _refuse

        def _web_api(self, raw: bytes) -> None:
            failure = endpoint._next_failure()
            if failure == "timeout":
                self._hold_and_drop()
                return
            if failure == "http_429":
                self._answer_json(429, {"ok": False, "error": "ratelimited"}, {"Retry-After": "1"})
                return
            if failure == "http_500":
                self._answer_json(500, {"ok": False, "error": "internal_error"})
                return
            try:
                request = _api_request(self.path, self.headers, raw)
            except _Refused as refused:
                status, body, headers = refused.status, {"ok": False, "error": refused.error}, refused.headers
            else:
                status, body, headers = endpoint._call(request)
            if failure == "lost_response":  # carried out above; the answer never arrives
                self._hold_and_drop()
                return
            self._answer_json(status, body, headers)

        def _hold_and_drop(self) -> None:
            endpoint._closing.wait(endpoint.timeout_hold_seconds)
            self.close_connection = True  # dropped without an answer

        def _answer_json(self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> None:
            self._send(status, json.dumps(body).encode("utf-8"), "application/json; charset=utf-8", headers)

        def _answer(self, status: int, body: str, headers: dict[str, str] | None = None) -> None:
            self._send(status, body.encode("utf-8"), "text/plain; charset=utf-8", headers)

        def _send(self, status: int, data: bytes, content_type: str, headers: dict[str, str] | None) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            pass  # quiet: the request line holds the webhook token

    return Handler


def _length(text: str) -> int:
    # UTF-16 code units, the strictest plausible way Slack counts characters.
    return len(text.encode("utf-16-le")) // 2


def _text_valid(text: object, limit: int, *, plain_only: bool = False) -> bool:
    if not isinstance(text, dict):
        return False
    kinds = ("plain_text",) if plain_only else ("plain_text", "mrkdwn")
    value = text.get("text")
    return text.get("type") in kinds and isinstance(value, str) and 1 <= _length(value) <= limit


def _blocks_valid(blocks: object) -> bool:
    if not isinstance(blocks, list) or not 1 <= len(blocks) <= MAX_BLOCKS:
        return False
    return all(_block_valid(block) for block in blocks)


def _block_valid(block: object) -> bool:
    if not isinstance(block, dict) or block.get("type") not in KNOWN_BLOCK_TYPES:
        return False
    block_id = block.get("block_id")
    if block_id is not None and not (isinstance(block_id, str) and 1 <= len(block_id) <= MAX_BLOCK_ID):
        return False
    kind = block["type"]
    if kind == "header":
        return _text_valid(block.get("text"), MAX_HEADER_TEXT, plain_only=True)
    if kind == "section":
        return _section_valid(block)
    if kind == "context":
        elements = block.get("elements")
        return (
            isinstance(elements, list)
            and 1 <= len(elements) <= MAX_CONTEXT_ELEMENTS
            and all(_text_valid(e, MAX_SECTION_TEXT) or _image_valid(e) for e in elements)
        )
    if kind == "actions":
        elements = block.get("elements")
        return (
            isinstance(elements, list)
            and 1 <= len(elements) <= MAX_ACTIONS_ELEMENTS
            and all(_button_valid(e) for e in elements)
        )
    if kind == "image":
        return _image_valid(block)
    return True  # divider, rich_text: not checked further


def _section_valid(block: dict[str, Any]) -> bool:
    text, fields = block.get("text"), block.get("fields")
    if text is None and fields is None:
        return False
    if text is not None and not _text_valid(text, MAX_SECTION_TEXT):
        return False
    if fields is not None:
        if not isinstance(fields, list) or not 1 <= len(fields) <= MAX_FIELDS:
            return False
        if not all(_text_valid(field, MAX_FIELD_TEXT) for field in fields):
            return False
    return True


def _button_valid(element: object) -> bool:
    if not isinstance(element, dict) or element.get("type") != "button":
        return False
    url = element.get("url")
    if url is not None and not (isinstance(url, str) and _length(url) <= MAX_URL):
        return False
    return _text_valid(element.get("text"), MAX_BUTTON_TEXT, plain_only=True)


def _image_valid(element: object) -> bool:
    return (
        isinstance(element, dict)
        and element.get("type") == "image"
        and isinstance(element.get("image_url"), str)
        and isinstance(element.get("alt_text"), str)
    )
