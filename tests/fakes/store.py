"""In-memory JobStateStore (functions/watcher/ports.py), and the broken-safeguard variants the tests must catch."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import datetime

from watcher.domain.model import JobState
from watcher.domain.ports import ItemConflict, JobStateStore, RunRecord


class InMemoryStateStore:
    """Keeps each job's state by (region, name), written only over the version read, as DynamoDB's condition does."""

    def __init__(self) -> None:
        self.states: dict[tuple[str, str], JobState] = {}
        self.runs: dict[str, RunRecord] = {}
        self.saves = 0

    def load_run(self, region: str) -> RunRecord | None:
        return self.runs.get(region)

    def start_watching(self, region: str, now: datetime) -> RunRecord:
        return self.runs.setdefault(region, RunRecord(region=region, started_at=now))

    def save_run(self, run: RunRecord) -> None:
        self.runs[run.region] = run

    def active_states(self, region: str) -> dict[str, JobState]:
        return {
            name: state
            for (where, name), state in self.states.items()
            if where == region and (not state.status.is_terminal or state.outbox)
        }

    def ended_states(self, region: str, since: datetime, until: datetime) -> list[JobState]:
        return [
            state
            for (where, _), state in self.states.items()
            if where == region and state.ended_at is not None and since <= state.ended_at < until
        ]

    def get_states(self, region: str, names: Iterable[str]) -> dict[str, JobState]:
        return {name: self.states[(region, name)] for name in names if (region, name) in self.states}

    def get_state(self, region: str, name: str) -> JobState | None:
        return self.states.get((region, name))

    def save(self, state: JobState, *, expected_version: int | None, now: datetime) -> JobState:
        key = (state.region, state.name)
        current = self.states.get(key)
        if (current.version if current else None) != expected_version:
            raise ItemConflict(f"{state.region}/{state.name}")
        saved = replace(state, version=(expected_version or 0) + 1)
        if not saved.outbox:  # As the DynamoDB item: a lease is kept only with an outbox to deliver.
            saved = replace(saved, lease_owner=None, lease_until=None)
        self.states[key] = saved
        self.saves += 1
        return saved

    def forget(self, state: JobState) -> None:
        current = self.states.get((state.region, state.name))
        if current is None or current.version != state.version:
            raise ItemConflict(f"{state.region}/{state.name}")
        del self.states[(state.region, state.name)]


class ForwardingStore:
    """A JobStateStore that hands every call to another; variants override what they change."""

    def __init__(self, store: JobStateStore) -> None:
        self.store = store

    def load_run(self, region: str) -> RunRecord | None:
        return self.store.load_run(region)

    def start_watching(self, region: str, now: datetime) -> RunRecord:
        return self.store.start_watching(region, now)

    def save_run(self, run: RunRecord) -> None:
        self.store.save_run(run)

    def active_states(self, region: str) -> dict[str, JobState]:
        return self.store.active_states(region)

    def ended_states(self, region: str, since: datetime, until: datetime) -> list[JobState]:
        return self.store.ended_states(region, since, until)

    def get_states(self, region: str, names: Iterable[str]) -> dict[str, JobState]:
        return self.store.get_states(region, names)

    def get_state(self, region: str, name: str) -> JobState | None:
        return self.store.get_state(region, name)

    def save(self, state: JobState, *, expected_version: int | None, now: datetime) -> JobState:
        return self.store.save(state, expected_version=expected_version, now=now)

    def forget(self, state: JobState) -> None:
        self.store.forget(state)


class UnconditionalWrite(ForwardingStore):
    """Broken safeguard: writes over whatever version is stored now, not the version the run read."""

    def save(self, state: JobState, *, expected_version: int | None, now: datetime) -> JobState:
        current = self.store.get_state(state.region, state.name)
        return self.store.save(state, expected_version=current.version if current else None, now=now)


class LeaseIgnored(ForwardingStore):
    """Broken safeguard: every state read as if no other run held its outbox's lease."""

    def active_states(self, region: str) -> dict[str, JobState]:
        return {name: _unleased(state) for name, state in self.store.active_states(region).items()}

    def get_states(self, region: str, names: Iterable[str]) -> dict[str, JobState]:
        return {name: _unleased(state) for name, state in self.store.get_states(region, names).items()}

    def get_state(self, region: str, name: str) -> JobState | None:
        state = self.store.get_state(region, name)
        return None if state is None else _unleased(state)


def _unleased(state: JobState) -> JobState:
    return replace(state, lease_owner=None, lease_until=None)


class BeforeSave(ForwardingStore):
    """Runs `hook` once, the first time a state is about to be saved (an overlapping run, a fault)."""

    def __init__(self, store: JobStateStore, hook: Callable[[], None]) -> None:
        super().__init__(store)
        self.hook: Callable[[], None] | None = hook

    def save(self, state: JobState, *, expected_version: int | None, now: datetime) -> JobState:
        if self.hook is not None:
            hook, self.hook = self.hook, None
            hook()
        return self.store.save(state, expected_version=expected_version, now=now)


class FailingSave(ForwardingStore):
    """Saving a state for which `fails` says so raises (a job this run cannot handle, a write refused for it alone)."""

    def __init__(self, store: JobStateStore, fails: Callable[[JobState], bool]) -> None:
        super().__init__(store)
        self.fails = fails

    def save(self, state: JobState, *, expected_version: int | None, now: datetime) -> JobState:
        if self.fails(state):
            raise ValueError(f"a job this run cannot handle: {state.name}")
        return self.store.save(state, expected_version=expected_version, now=now)
