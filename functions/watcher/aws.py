"""boto3 clients, created lazily once per container (never at import time, so emulators can intercept them)."""

from __future__ import annotations

from typing import Any

import boto3
from botocore.config import Config

# botocore's standard retry mode backs off on throttling and transient 5xx errors; no hand-written loops.
RETRY_CONFIG = Config(
    retries={"mode": "standard", "max_attempts": 5},
    connect_timeout=5,
    read_timeout=20,
)

_clients: dict[tuple[str, str | None], Any] = {}


def client(service: str, region: str | None = None) -> Any:
    """The container's client for `service` in `region` (the function's own region when None)."""
    key = (service, region)
    if key not in _clients:
        _clients[key] = boto3.session.Session().client(service, region_name=region, config=RETRY_CONFIG)
    return _clients[key]


def reset_clients() -> None:
    """Forget every cached client; the next call creates new ones (used when the environment changes)."""
    _clients.clear()
