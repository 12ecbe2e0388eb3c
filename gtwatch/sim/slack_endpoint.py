"""A Slack-compatible incoming webhook on loopback, for tests and replays: it checks messages as Slack does."""

from __future__ import annotations

import json
import threading
from collections import deque
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Literal

FailureMode = Literal["http_500", "http_429", "timeout"]
FAILURE_MODES: tuple[FailureMode, ...] = ("http_500", "http_429", "timeout")
WEBHOOK_PATH = "/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX"

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


class SlackEndpoint:
    """An incoming webhook at `.url`; `.received` holds the accepted payloads in order. Use it as a context manager.

    `fail_next(mode, count)` makes the next `count` posts fail: `http_500`, `http_429` (with `Retry-After: 1`), or
    `timeout` (the request is held for `timeout_hold_seconds`, longer than the client waits, then dropped).
    """

    def __init__(self, *, timeout_hold_seconds: float = 2.0) -> None:
        self.timeout_hold_seconds = timeout_hold_seconds
        self._lock = threading.Lock()
        self._closing = threading.Event()
        self._received: list[dict[str, Any]] = []
        self._attempts = 0
        self._failures_served = 0
        self._failures: deque[FailureMode] = deque()
        self._outages: list[tuple[FailureMode, Callable[[], bool]]] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="slack-endpoint", daemon=True
        )
        self._thread.start()

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}{WEBHOOK_PATH}"

    @property
    def received(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._received)

    @property
    def attempts(self) -> int:
        """Every POST to the webhook path, accepted, refused or failed on purpose."""
        with self._lock:
            return self._attempts

    @property
    def failures_served(self) -> int:
        """Posts that were failed on purpose (by `fail_next`)."""
        with self._lock:
            return self._failures_served

    def fail_next(self, mode: FailureMode, count: int = 1) -> None:
        if mode not in FAILURE_MODES:
            raise ValueError(f"mode: expected one of {', '.join(FAILURE_MODES)}, got {mode!r}")
        with self._lock:
            self._failures.extend([mode] * count)

    def fail_while(self, mode: FailureMode, active: Callable[[], bool]) -> None:
        """Every post fails with `mode` while `active()` holds: an outage (the replay ends it at a minute)."""
        if mode not in FAILURE_MODES:
            raise ValueError(f"mode: expected one of {', '.join(FAILURE_MODES)}, got {mode!r}")
        with self._lock:
            self._outages.append((mode, active))

    def close(self) -> None:
        self._closing.set()  # ends any request held by a `timeout` failure
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


def _handler_for(endpoint: SlackEndpoint) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Headers and body go out in separate writes; without this, Nagle and delayed ACKs add ~40 ms a post.
        disable_nagle_algorithm = True

        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if self.path != WEBHOOK_PATH:
                self._answer(404, "no_service")
                return
            failure = endpoint._next_failure()
            if failure == "timeout":
                endpoint._closing.wait(endpoint.timeout_hold_seconds)
                self.close_connection = True  # dropped without an answer
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
            if error is not None:
                self._answer(400, error)
                return
            endpoint._accept(payload)
            self._answer(200, "ok")

        def do_GET(self) -> None:
            self._answer(405, "invalid_method")

        do_PUT = do_DELETE = do_PATCH = do_HEAD = do_GET

        def _answer(self, status: int, body: str, headers: dict[str, str] | None = None) -> None:
            data = body.encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", "text/plain; charset=utf-8")
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
