"""Where a notification goes in Slack: routes (channel, events, kinds, name filter, mention) and the syntax checks
of their values, shared by the notifier, the stack's config and the scenario loader. Standard library only.

In webhook mode there is one destination, the incoming webhook, for the configured `slack_events`. In app mode a
notification goes to every route whose `events` hold its type, whose `kinds` (when given) hold its job's kind, and
whose `name_contains` (case-insensitive) matches the job, of any kind; a route's `mention` is the only way a message
pings anyone.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from watcher.domain.contract import EVENT_TYPES, JOB_KINDS, TEST_EVENT_TYPE
from watcher.domain.vocabulary import NAME_PATTERN

WEBHOOK_DESTINATION = "webhook"
NAME_CONTAINS_PATTERN = re.compile(NAME_PATTERN)
_SLACK_MENTION = re.compile(r"<!(?:here|channel|everyone)>|<@[UW][A-Z0-9]+>|<!subteam\^S[A-Z0-9]+(?:\|[a-z0-9._-]+)?>")
_SLACK_CHANNEL_NAME = re.compile(r"#[a-z0-9_-]{1,80}")
_SLACK_CHANNEL_ID = re.compile(r"[CG][A-Z0-9]+")
# A route's keys in its JSON form (config, scenario and the GTWATCH_SLACK_ROUTES the stack passes the notifier).
ROUTE_SETTINGS = ("channel", "events", "kinds", "accounts", "name_contains", "mention")
_ACCOUNT_ID = re.compile(r"\d{12}")


def validate_slack_mention(value: str) -> str:
    """A Slack mention as Slack's markup writes it: <!here>, <!channel>, <!everyone>, <@U…>, <!subteam^S…|handle>."""
    if not _SLACK_MENTION.fullmatch(value):
        raise ValueError(
            f"{value!r} is not a Slack mention: use <!here>, <!channel>, <!everyone>, a user <@U…> "
            "or a user group <!subteam^S…|handle>"
        )
    return value


def validate_slack_channel(value: str) -> str:
    """A Slack channel: #name (lowercase letters, digits, hyphens, underscores, at most 80) or an id (C… or G…)."""
    if not (_SLACK_CHANNEL_NAME.fullmatch(value) or _SLACK_CHANNEL_ID.fullmatch(value)):
        raise ValueError(
            f"{value!r} is not a Slack channel: use #name (lowercase letters, digits, hyphens and underscores, "
            "at most 80) or a channel id such as C0123ABCD"
        )
    return value


@dataclass(frozen=True)
class Route:
    """One destination in Slack and what it takes. `channel` is WEBHOOK_DESTINATION in webhook mode. `kinds`: the
    job kinds (contract.JOB_KINDS) it takes; None takes every kind."""

    channel: str
    events: frozenset[str]
    name_contains: str | None = None
    mention: str | None = None
    kinds: frozenset[str] | None = None
    # The 12-digit ids of the accounts it takes (the stack writes a config's aliases as ids); None takes every one.
    accounts: frozenset[str] | None = None

    def takes(self, event_type: str, job_name: str, kind: str, account_id: str | None = None) -> bool:
        """Whether a notification of `event_type` about the job `job_name` of `kind`, in the account `account_id`,
        goes to this destination."""
        if event_type == TEST_EVENT_TYPE:
            return True  # `gtwatch test-notify` proves every destination works.
        return (
            event_type in self.events
            and (self.kinds is None or kind in self.kinds)
            and (self.accounts is None or account_id in self.accounts)
            and (self.name_contains is None or self.name_contains.lower() in job_name.lower())
        )


def webhook_route(slack_events: Iterable[str]) -> Route:
    return Route(channel=WEBHOOK_DESTINATION, events=frozenset(slack_events))


def parse_routes(raw: Any, *, where: str = "routes") -> tuple[Route, ...]:
    """Routes from their JSON form (a list of {channel, events, kinds?, name_contains?, mention?}); ValueError names
    the key."""
    if not isinstance(raw, list) or not raw:
        raise ValueError(f"{where}: expected a non-empty list of routes, got {raw!r}")
    routes: list[Route] = []
    for index, item in enumerate(raw):
        at = f"{where}[{index}]"
        if not isinstance(item, Mapping):
            raise ValueError(f"{at}: expected an object with channel and events, got {item!r}")
        unknown = set(item) - set(ROUTE_SETTINGS)
        if unknown:
            raise ValueError(f"{at}.{sorted(unknown)[0]}: not a route setting ({', '.join(ROUTE_SETTINGS)})")
        route = _route(item, at)
        earlier = next((index for index, other in enumerate(routes) if other.channel == route.channel), None)
        if earlier is not None:
            # A job has one card per channel: two routes to one channel would race for it (merge their events).
            raise ValueError(f"{at}.channel: {route.channel!r} is already {where}[{earlier}]'s; one route per channel")
        routes.append(route)
    return tuple(routes)


def _route(item: Mapping[str, Any], at: str) -> Route:
    channel = item.get("channel")
    if not isinstance(channel, str):
        raise ValueError(f"{at}.channel: expected a channel like #labeling or C0123ABCD, got {channel!r}")
    _checked(validate_slack_channel, channel, f"{at}.channel")
    events = item.get("events")
    if not isinstance(events, Sequence) or isinstance(events, str) or not events:
        raise ValueError(f"{at}.events: expected a non-empty list of event types from {', '.join(EVENT_TYPES)}")
    for position, event in enumerate(events):
        if event not in EVENT_TYPES:
            raise ValueError(f"{at}.events[{position}]: {event!r} is not one of {', '.join(EVENT_TYPES)}")
    if len(set(events)) != len(events):
        raise ValueError(f"{at}.events: an event type is listed twice")
    name_contains = item.get("name_contains")
    if name_contains is not None and not (
        isinstance(name_contains, str) and NAME_CONTAINS_PATTERN.fullmatch(name_contains)
    ):
        raise ValueError(f"{at}.name_contains: {name_contains!r} is not 1 to 63 letters, digits or hyphens")
    mention = item.get("mention")
    if mention is not None:
        if not isinstance(mention, str):
            raise ValueError(f"{at}.mention: expected a Slack mention such as <!here>, got {mention!r}")
        _checked(validate_slack_mention, mention, f"{at}.mention")
    return Route(
        channel=channel,
        events=frozenset(events),
        name_contains=name_contains,
        mention=mention,
        kinds=_kinds(item, at),
        accounts=_accounts(item, at),
    )


def _accounts(item: Mapping[str, Any], at: str) -> frozenset[str] | None:
    """The route's `accounts` as the notifier reads them: absent (or null) takes every account; otherwise 12-digit ids
    (the stack's config checks the aliases and writes them as ids)."""
    accounts = item.get("accounts")
    if accounts is None:
        return None
    if not isinstance(accounts, Sequence) or isinstance(accounts, str) or not accounts:
        raise ValueError(f"{at}.accounts: expected a non-empty list of 12-digit account ids")
    for position, account in enumerate(accounts):
        if not isinstance(account, str) or not _ACCOUNT_ID.fullmatch(account):
            raise ValueError(f"{at}.accounts[{position}]: {account!r} is not a 12-digit account id")
    return frozenset(accounts)


def _kinds(item: Mapping[str, Any], at: str) -> frozenset[str] | None:
    """The route's `kinds`: absent (or null) takes every kind; otherwise a non-empty list of kinds, each once."""
    kinds = item.get("kinds")
    if kinds is None:
        return None
    if not isinstance(kinds, Sequence) or isinstance(kinds, str) or not kinds:
        raise ValueError(f"{at}.kinds: expected a non-empty list of job kinds from {', '.join(JOB_KINDS)}")
    for position, kind in enumerate(kinds):
        if kind not in JOB_KINDS:
            raise ValueError(f"{at}.kinds[{position}]: {kind!r} is not one of {', '.join(JOB_KINDS)}")
    if len(set(kinds)) != len(kinds):
        raise ValueError(f"{at}.kinds: a kind is listed twice")
    return frozenset(kinds)


def _checked(validate: Any, value: str, at: str) -> None:
    try:
        validate(value)
    except ValueError as error:
        raise ValueError(f"{at}: {error}") from None


def routes_to_json(routes: Iterable[Route]) -> str:
    """The compact JSON the stack passes to the notifier (GTWATCH_SLACK_ROUTES)."""
    return json.dumps(
        [
            {
                "channel": route.channel,
                "events": sorted(route.events, key=EVENT_TYPES.index),
                **({"kinds": sorted(route.kinds, key=JOB_KINDS.index)} if route.kinds is not None else {}),
                **({"accounts": sorted(route.accounts)} if route.accounts is not None else {}),
                **({"name_contains": route.name_contains} if route.name_contains else {}),
                **({"mention": route.mention} if route.mention else {}),
            }
            for route in routes
        ],
        separators=(",", ":"),
    )
