"""What a Lambda container keeps between invocations, each piece named here, and the one place that forgets it.

Everything else in the functions is rebuilt per invocation. Tests and the replay call `reset()` to make the next
invocation a cold start (for example after starting the emulator, whose endpoints the clients must see).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")

# Built once per container on first use: settings read from the environment, boto3 clients, the Slack notifier's
# secrets provider. Keyed by what they are ("settings:PollerSettings", "client:sns:None").
_kept: dict[str, Any] = {}

# Notification ids SNS accepted whose removal from the outbox is not stored yet (DynamoDB failed right after the
# publish): a later run in this container does not publish them again.
published_unrecorded: set[str] = set()


def keep(name: str, build: Callable[[], T]) -> T:
    """The container's `name`, built by `build` the first time it is asked for."""
    if name not in _kept:
        _kept[name] = build()
    value: T = _kept[name]
    return value


def forget(matching: Callable[[str], bool]) -> None:
    """Forget what the container kept under the names `matching` selects (a spoke's session whose role was
    revoked): the next use builds it again."""
    for name in [name for name in _kept if matching(name)]:
        del _kept[name]


def reset() -> None:
    """Forget everything the container kept: the next invocation is a cold start."""
    _kept.clear()
    published_unrecorded.clear()
