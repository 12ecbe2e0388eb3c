"""In-memory JobStateStore (functions/watcher/ports.py), and the broken-safeguard variants the tests must catch."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import datetime

from watcher.domain.job import Scope
from watcher.domain.model import JobState
from watcher.domain.ports import ItemConflict, JobStateStore, RunRecord


class InMemoryStateStore:
    """Keeps each job's state by (scope key, name), written only over the version read, as DynamoDB's condition does."""

    def __init__(self) -> None:
        self.states: dict[tuple[str, str], JobState] = {}
        self.runs: dict[Scope, RunRecord] = {}
        self.saves = 0

    def load_run(self, scope: Scope) -> RunRecord | None:
        return self.runs.get(scope)

    def start_watching(self, scope: Scope, now: datetime) -> RunRecord:
        return self.runs.setdefault(scope, RunRecord(scope=scope, started_at=now))

    def save_run(self, run: RunRecord) -> None:
        self.runs[run.scope] = run

    def active_states(self, scope: Scope) -> dict[str, JobState]:
        return {
            name: state
            for (where, name), state in self.states.items()
            if where == scope.key and (not state.status_class.is_terminal or state.outbox)
        }

    def ended_states(self, scope: Scope, since: datetime, until: datetime) -> list[JobState]:
        return [
            state
            for (where, _), state in self.states.items()
            if where == scope.key and state.ended_at is not None and since <= state.ended_at < until
        ]

    def get_states(self, scope: Scope, names: Iterable[str]) -> dict[str, JobState]:
        return {name: self.states[(scope.key, name)] for name in names if (scope.key, name) in self.states}

    def get_state(self, scope: Scope, name: str) -> JobState | None:
        return self.states.get((scope.key, name))

    def save(self, state: JobState, *, expected_version: int | None, now: datetime) -> JobState:
        key = (state.scope.key, state.name)
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
        current = self.states.get((state.scope.key, state.name))
        if current is None or current.version != state.version:
            raise ItemConflict(f"{state.region}/{state.name}")
        del self.states[(state.scope.key, state.name)]


class ForwardingStore:
    """A JobStateStore that hands every call to another; variants override what they change."""

    def __init__(self, store: JobStateStore) -> None:
        self.store = store

    def load_run(self, scope: Scope) -> RunRecord | None:
        return self.store.load_run(scope)

    def start_watching(self, scope: Scope, now: datetime) -> RunRecord:
        return self.store.start_watching(scope, now)

    def save_run(self, run: RunRecord) -> None:
        self.store.save_run(run)

    def active_states(self, scope: Scope) -> dict[str, JobState]:
        return self.store.active_states(scope)

    def ended_states(self, scope: Scope, since: datetime, until: datetime) -> list[JobState]:
        return self.store.ended_states(scope, since, until)

    def get_states(self, scope: Scope, names: Iterable[str]) -> dict[str, JobState]:
        return self.store.get_states(scope, names)

    def get_state(self, scope: Scope, name: str) -> JobState | None:
        return self.store.get_state(scope, name)

    def save(self, state: JobState, *, expected_version: int | None, now: datetime) -> JobState:
        return self.store.save(state, expected_version=expected_version, now=now)

    def forget(self, state: JobState) -> None:
        self.store.forget(state)


class UnconditionalWrite(ForwardingStore):
    """Broken safeguard: writes over whatever version is stored now, not the version the run read."""

    def save(self, state: JobState, *, expected_version: int | None, now: datetime) -> JobState:
        current = self.store.get_state(state.scope, state.name)
        return self.store.save(state, expected_version=current.version if current else None, now=now)


class LeaseIgnored(ForwardingStore):
    """Broken safeguard: every state read as if no other run held its outbox's lease."""

    def active_states(self, scope: Scope) -> dict[str, JobState]:
        return {name: _unleased(state) for name, state in self.store.active_states(scope).items()}

    def get_states(self, scope: Scope, names: Iterable[str]) -> dict[str, JobState]:
        return {name: _unleased(state) for name, state in self.store.get_states(scope, names).items()}

    def get_state(self, scope: Scope, name: str) -> JobState | None:
        state = self.store.get_state(scope, name)
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
