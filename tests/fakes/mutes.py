"""In-memory MuteReader (functions/watcher/ports.py)."""

from __future__ import annotations

from watcher.domain.mute_rules import Mute


class InMemoryMutes:
    def __init__(self, *mutes: Mute) -> None:
        self.mutes = {(mute.region, mute.name.lower()): mute for mute in mutes}

    def put(self, mute: Mute) -> None:
        self.mutes[(mute.region, mute.name.lower())] = mute

    def in_region(self, region: str) -> dict[str, Mute]:
        return {name: mute for (where, name), mute in self.mutes.items() if where == region}

    def for_job(self, region: str, name: str) -> Mute | None:
        return self.mutes.get((region, name.lower()))
