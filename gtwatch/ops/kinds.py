"""The job kinds a deployment watches (`kinds`), when each stalls (`stall_after_minutes`) and a Slack route's `kinds`:
checked one way wherever cdk.json is read (`cdk synth`, the operator commands, the emulator), and written one way
for the watching functions (GTWATCH_KINDS, GTWATCH_STALL_AFTER_MINUTES) and the stack's WatcherConfig output.

Standard library only (and the watcher's contract), so that infra/ and the operator commands share it.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Mapping, Sequence
from typing import Any, TypeGuard

from watcher.domain.contract import JOB_KINDS, STALLING_KINDS, KindName
from watcher.domain.text import value_text

# A stall is judged between scheduled runs; below five minutes one slow run would read as a stall.
MIN_STALL_AFTER_MINUTES = 5
DEFAULT_STALL_AFTER_MINUTES = 60
# A number (every watched kind that can stall) or minutes by kind (a kind left out never stalls).
StallAfter = int | Mapping[KindName, int]

KINDS_TEXT = ", ".join(JOB_KINDS)
KINDS_ALLOWED = f"a non-empty list of job kinds from {KINDS_TEXT}"
STALL_AFTER_ALLOWED = (
    f"a whole number of minutes, at least {MIN_STALL_AFTER_MINUTES} (or an object of such numbers by job kind, "
    'like {"training": 30})'
)
STALL_MINUTES_ALLOWED = f"a whole number of minutes, at least {MIN_STALL_AFTER_MINUTES}"
NEVER_STALLS = (
    "a pipeline execution never stalls (its steps' jobs can, as jobs of their own kind, with their own kind's "
    "stall_after_minutes); leave pipeline out"
)
# What a Slack route may hold: the notifier's own settings, `kinds`, which this module checks and passes on, and
# `accounts`, which gtwatch.ops.accounts checks and passes on.
ROUTE_SETTINGS = ("channel", "events", "kinds", "accounts", "name_contains", "mention")
ROUTE_KINDS_KEY = "kinds"
# Left out of what the notifier's own parse_routes checks: each is checked where the deployment's settings are known.
_CHECKED_ELSEWHERE = (ROUTE_KINDS_KEY, "accounts")


def is_kind(value: object) -> TypeGuard[KindName]:
    return isinstance(value, str) and value in JOB_KINDS


def not_a_kind(value: object) -> str:
    """Why `value` is refused as a kind, with the kinds and, for a near miss, the one meant."""
    text = f"{value_text(value)} is not a job kind; the kinds are {KINDS_TEXT}"
    guess = difflib.get_close_matches(value.lower(), JOB_KINDS, n=1) if isinstance(value, str) else []
    return f"{text}; did you mean {guess[0]}?" if guess else text


def parse_kinds(raw: object, where: str) -> tuple[KindName, ...]:
    """A non-empty list of distinct kinds, in the contract's order; ValueError names `where` and each bad item."""
    if not isinstance(raw, list | tuple) or not raw:
        raise ValueError(f"{where}: {value_text(raw)} is not {KINDS_ALLOWED}")
    problems = [f"{where}[{index}]: {not_a_kind(item)}" for index, item in enumerate(raw) if not is_kind(item)]
    if problems:
        raise ValueError("; ".join(problems))
    twice = next((kind for index, kind in enumerate(raw) if kind in raw[:index]), None)
    if twice is not None:
        raise ValueError(f"{where}: {twice!r} is listed twice")
    return tuple(kind for kind in JOB_KINDS if kind in raw)


def _is_minutes(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool) and value >= MIN_STALL_AFTER_MINUTES


def parse_stall_after(
    raw: object, where: str, *, kinds: Sequence[KindName] | None = None, kinds_where: str = "kinds"
) -> StallAfter:
    """`stall_after_minutes`: a number, or minutes by kind (keys: watched kinds that can stall). `kinds` None: the
    watched kinds are not known (they were refused), so keys are checked as kinds only. ValueError names the key."""
    if isinstance(raw, Mapping):
        return _parse_stall_object(raw, where, kinds, kinds_where)
    if not _is_minutes(raw):
        raise ValueError(f"{where}: {value_text(raw)} is not {STALL_AFTER_ALLOWED}")
    return raw


def _parse_stall_object(
    raw: Mapping[Any, Any], where: str, kinds: Sequence[KindName] | None, kinds_where: str
) -> dict[KindName, int]:
    problems: list[str] = []
    for key, minutes in raw.items():
        at = f"{where}.{key}"
        if key == "pipeline":
            problems.append(f"{at}: {NEVER_STALLS}")
        elif not is_kind(key):
            problems.append(f"{at}: {not_a_kind(key)}")
        elif kinds is not None and key not in kinds:
            problems.append(
                f"{at}: {key!r} is not watched ({kinds_where} is {', '.join(kinds)}); add it to {kinds_where} or "
                "leave it out here"
            )
        elif not _is_minutes(minutes):
            problems.append(f"{at}: {value_text(minutes)} is not {STALL_MINUTES_ALLOWED}")
    if problems:
        raise ValueError("; ".join(problems))
    return {kind: raw[kind] for kind in JOB_KINDS if kind in raw}


def stall_thresholds(kinds: Sequence[KindName], stall_after: StallAfter) -> dict[KindName, int | None]:
    """Each watched kind's minutes without progress before a stall, None for a kind that never stalls."""
    if isinstance(stall_after, Mapping):
        return {kind: stall_after.get(kind) for kind in kinds}
    return {kind: stall_after if kind in STALLING_KINDS else None for kind in kinds}


def kinds_env(kinds: Sequence[str]) -> str:
    """GTWATCH_KINDS: the kinds, comma-separated."""
    return ",".join(kinds)


def stall_after_env(stall_after: StallAfter) -> str:
    """GTWATCH_STALL_AFTER_MINUTES: a number stays the number it always was ("60"); minutes by kind are compact
    JSON in the contract's order ({"training":30})."""
    if isinstance(stall_after, Mapping):
        return json.dumps({kind: stall_after[kind] for kind in JOB_KINDS if kind in stall_after}, separators=(",", ":"))
    return str(stall_after)


def split_route_kinds(raw: object, where: str) -> tuple[object, tuple[tuple[KindName, ...] | None, ...]]:
    """Slack routes as written (a list of objects) without their `kinds` and `accounts` (gtwatch.ops.accounts reads
    those), for the notifier's own parse_routes, and each route's kinds (None: every watched kind). ValueError names
    the key of a bad `kinds` or of a setting no route has. Anything that is not a list of objects is returned as it
    is, for parse_routes to refuse."""
    if not isinstance(raw, list):
        return raw, ()
    routes: list[object] = []
    kinds: list[tuple[KindName, ...] | None] = []
    for index, item in enumerate(raw):
        if not isinstance(item, Mapping):
            routes.append(item)
            kinds.append(None)
            continue
        unknown = sorted(str(key) for key in item if key not in ROUTE_SETTINGS)
        if unknown:
            raise ValueError(f"{where}[{index}].{unknown[0]}: not a route setting ({', '.join(ROUTE_SETTINGS)})")
        routes.append({key: value for key, value in item.items() if key not in _CHECKED_ELSEWHERE})
        narrowed = item.get(ROUTE_KINDS_KEY)
        kinds.append(None if narrowed is None else parse_kinds(narrowed, f"{where}[{index}].{ROUTE_KINDS_KEY}"))
    return routes, tuple(kinds)


def unwatched_route_kinds(
    route_kinds: Sequence[tuple[KindName, ...] | None], kinds: Sequence[KindName], where: str, kinds_where: str
) -> list[str]:
    """A problem for each route kind the deployment does not watch (the route would never take it)."""
    return [
        f"{where}[{index}].{ROUTE_KINDS_KEY}: {kind!r} is not watched ({kinds_where} is {', '.join(kinds)}); add it "
        f"to {kinds_where} or leave it out here"
        for index, narrowed in enumerate(route_kinds)
        for kind in narrowed or ()
        if kind not in kinds
    ]


def with_route_kinds(routes_json: str, route_kinds: Sequence[tuple[KindName, ...] | None]) -> str:
    """The notifier's routes JSON (GTWATCH_SLACK_ROUTES), each route narrowed by kinds carrying `"kinds": [...]`."""
    routes = json.loads(routes_json)
    for route, narrowed in zip(routes, route_kinds, strict=False):
        if narrowed is not None:
            route[ROUTE_KINDS_KEY] = list(narrowed)
    return json.dumps(routes, separators=(",", ":"))
