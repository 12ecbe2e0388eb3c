"""Publisher fakes (functions/watcher/ports.py): one that records, and a wrapper that fails while told to."""

from __future__ import annotations

from collections.abc import Callable

from watcher.domain.model import Notification
from watcher.domain.ports import Publisher


class RecordingPublisher:
    """Records (notification, channels) per publish; raises instead while `failures` is above zero (each costs one)."""

    def __init__(self) -> None:
        self.published: list[tuple[Notification, frozenset[str]]] = []
        self.failures = 0
        self.before: Callable[[Notification], None] | None = None

    def __call__(self, notification: Notification, channels: frozenset[str], /) -> str:
        if self.before is not None:
            before, self.before = self.before, None
            before(notification)
        if self.failures:
            self.failures -= 1
            raise RuntimeError("SNS is down")
        self.published.append((notification, channels))
        return f"message-{len(self.published)}"

    def per_channel(self) -> list[tuple[str, str]]:
        """(notification id, channel) for every channel a notification was published to, in order."""
        return [(n.id, channel) for n, channels in self.published for channel in sorted(channels)]


class Outage:
    """Wraps a Publisher: every publish fails while `down`."""

    def __init__(self, publisher: Publisher) -> None:
        self.publisher = publisher
        self.down = True

    def __call__(self, notification: Notification, channels: frozenset[str], /) -> str:
        if self.down:
            raise RuntimeError("SNS is down")
        return self.publisher(notification, channels)


class BeforePublish:
    """Wraps a Publisher: runs `hook` once, the first time a notification is about to be published."""

    def __init__(self, publisher: Publisher, hook: Callable[[], None]) -> None:
        self.publisher = publisher
        self.hook: Callable[[], None] | None = hook

    def __call__(self, notification: Notification, channels: frozenset[str], /) -> str:
        if self.hook is not None:
            hook, self.hook = self.hook, None
            hook()
        return self.publisher(notification, channels)
