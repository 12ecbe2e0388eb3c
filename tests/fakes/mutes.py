"""In-memory MuteReader (functions/watcher/ports.py)."""

from __future__ import annotations

from watcher.domain.job import Scope
from watcher.domain.mute_rules import Mute


class InMemoryMutes:
    def __init__(self, *mutes: Mute) -> None:
        self.mutes = {(mute.scope.key, mute.name.lower()): mute for mute in mutes}

    def put(self, mute: Mute) -> None:
        self.mutes[(mute.scope.key, mute.name.lower())] = mute

    def in_scope(self, scope: Scope) -> dict[str, Mute]:
        return {name: mute for (where, name), mute in self.mutes.items() if where == scope.key}

    def for_job(self, scope: Scope, name: str) -> Mute | None:
        return self.mutes.get((scope.key, name.lower()))
