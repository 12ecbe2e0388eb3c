"""boto3 clients, created lazily once per container (never at import time, so emulators can intercept them)."""

from __future__ import annotations

from typing import Any

import boto3
import botocore.session
from botocore.config import Config

# botocore's standard retry mode backs off on throttling and transient 5xx errors; no hand-written loops.
RETRY_CONFIG = Config(
    retries={"mode": "standard", "max_attempts": 5},
    connect_timeout=5,
    read_timeout=20,
)

_clients: dict[tuple[str, str | None], Any] = {}
_session: boto3.session.Session | None = None
# The parsed service models: loading them is most of a client's creation time, and they never change.
_loader: Any = None


def client(service: str, region: str | None = None) -> Any:
    """The container's client for `service` in `region` (the function's own region when None)."""
    key = (service, region)
    if key not in _clients:
        _clients[key] = _current_session().client(service, region_name=region, config=RETRY_CONFIG)
    return _clients[key]


def reset_clients() -> None:
    """Forget every cached client and the session; the next call reads credentials and endpoints afresh."""
    global _session
    _clients.clear()
    _session = None


def _current_session() -> boto3.session.Session:
    global _session, _loader
    if _session is None:
        core = botocore.session.get_session()
        if _loader is None:
            _loader = core.get_component("data_loader")
        else:
            core.register_component("data_loader", _loader)
        _session = boto3.session.Session(botocore_session=core)
    return _session
