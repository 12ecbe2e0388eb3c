"""What Slack app mode promises, checked on a replay's output: one root per job per destination, each notification
once there (as the root or as a reply) in its job's order, an update of the root after each reply, `failed` replies
shown in the channel, and no ping but the route's mention.

The reference for what each destination should get, and in which order, is the email channel of the same replay:
email takes every event type (the default), so its lines are every notification in its job's order.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from tests.property.job_lives import HOME, HOME_REGION, JobKey

# Slack markup that notifies people: <!here>, <!channel>, <!everyone>, <!subteam^…>, <@U…>. Links (<https://…|…>)
# and channel links (<#C…>) ping no one.
PING = re.compile(r"<[!@][^>]*>")
DELIVERIES = ("post", "reply")


@dataclass(frozen=True)
class AppRoute:
    channel: str
    events: frozenset[str]
    name_contains: str | None = None
    mention: str | None = None
    accounts: frozenset[str] | None = None  # account ids (aliases resolved); None: every account

    @classmethod
    def from_config(cls, raw: dict[str, Any], ids: dict[str, str]) -> AppRoute:
        """`ids`: each alias's account id (a route names accounts by id or alias)."""
        accounts = raw.get("accounts")
        return cls(
            raw["channel"],
            frozenset(raw["events"]),
            raw.get("name_contains"),
            raw.get("mention"),
            None if accounts is None else frozenset(ids.get(account, account) for account in accounts),
        )

    def takes(self, event_type: str, job: str, account: str = HOME) -> bool:
        return (
            event_type in self.events
            and (self.name_contains is None or self.name_contains.lower() in job.lower())
            and (self.accounts is None or account in self.accounts)
        )


def routes_of(raw_config: dict[str, Any]) -> list[AppRoute]:
    ids = {account["alias"]: account["id"] for account in raw_config.get("accounts", []) if "alias" in account}
    return [AppRoute.from_config(route, ids) for route in raw_config["slack"]["routes"]]


def job_of(notification: dict[str, Any]) -> JobKey:
    """The notification's job: its account, region, kind and name (two accounts, or two kinds, may share a name;
    they are two jobs, two threads)."""
    return (
        notification.get("account") or HOME,
        notification.get("region") or HOME_REGION,
        notification.get("kind") or "labeling",
        notification["job"],
    )


def slack_lines(notifications: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [n for n in notifications if n["channel"] == "slack" and n.get("type") != "digest"]


# (destination, (account, region, kind, job name))
Thread = tuple[str, JobKey]


def expected_per_destination(notifications: list[dict[str, Any]], routes: list[AppRoute]) -> dict[Thread, list[str]]:
    """(destination, job) -> the notification ids that destination should show, in order, from the email lines."""
    expected: dict[Thread, list[str]] = defaultdict(list)
    for n in notifications:
        if n["channel"] != "email":
            continue
        for route in routes:
            if route.takes(n["type"], n["job"], job_of(n)[0]):
                expected[route.channel, job_of(n)].append(n["id"])
    return dict(expected)


def delivered_per_destination(notifications: list[dict[str, Any]]) -> dict[Thread, list[str]]:
    """(destination, job) -> the notification ids Slack shows there as the root post or a reply, in output order."""
    delivered: dict[Thread, list[str]] = defaultdict(list)
    for n in slack_lines(notifications):
        if n["action"] in DELIVERIES:
            delivered[n["destination"], job_of(n)].append(n["id"])
    return dict(delivered)


def check_app_mode(notifications: list[dict[str, Any]], routes: list[AppRoute]) -> None:
    """Every app-mode promise about threads, order, once-per-destination and mentions; AssertionError naming the
    first broken one."""
    lines = slack_lines(notifications)
    by_channel = {route.channel: route for route in routes}
    for n in lines:
        assert n.get("action") in ("post", "reply", "update"), f"not an app-mode line: {n}"
        assert n["destination"] in by_channel, f"{n['destination']} is no route's channel: {n['type']} {n['job']}"

    # Each notification once per destination (post or reply); updates of the root do not count.
    seen: dict[tuple[str, str], int] = defaultdict(int)
    for n in lines:
        if n["action"] in DELIVERIES:
            seen[n["destination"], n["id"]] += 1
    repeated = {key: count for key, count in seen.items() if count > 1}
    assert not repeated, f"delivered more than once to a destination: {repeated}"

    # Exactly what the routes take, in the job's order.
    expected = expected_per_destination(notifications, routes)
    delivered = delivered_per_destination(notifications)
    assert set(delivered) <= set(expected), f"delivered where no route takes it: {set(delivered) - set(expected)}"
    for key, ids in expected.items():
        assert delivered.get(key) == ids, f"{key}: delivered {delivered.get(key)}, promised in this order {ids}"

    # One root per job per destination; replies and updates in its thread; an update after each reply.
    threads: dict[Thread, list[dict[str, Any]]] = defaultdict(list)
    for n in lines:
        threads[n["destination"], job_of(n)].append(n)
    for (destination, job), thread in threads.items():
        root = thread[0]
        assert root["action"] == "post", f"{destination} {job}: first message is a {root['action']}, not the root"
        assert [n["action"] for n in thread].count("post") == 1, f"{destination} {job}: more than one root"
        for n in thread[1:]:
            assert n["thread"] == root["ts"], f"{destination} {job}: {n['action']} {n['type']} outside the root"
        so_far: set[str] = set()
        for index, n in enumerate(thread):
            if n["action"] in DELIVERIES:
                so_far.add(n["id"])
            if n["action"] == "update":
                assert n["ts"] == root["ts"], f"{destination} {job}: an update edits {n['ts']}, not the root"
                assert n["id"] in so_far, f"{destination} {job}: the root shows {n['type']} before it was delivered"
            if n["action"] != "reply":
                continue
            following = next((m for m in thread[index + 1 :] if m["action"] in ("reply", "update")), None)
            assert following is not None and following["action"] == "update" and following["id"] == n["id"], (
                f"{destination} {job}: the reply {n['type']} is not followed by an update of the root"
            )
            broadcast = n["payload"].get("reply_broadcast") in (True, "true", "1", 1)
            assert broadcast == (n["type"] == "failed"), f"{destination} {job}: {n['type']} reply broadcast={broadcast}"
        last_delivery = [n for n in thread if n["action"] in DELIVERIES][-1]
        last_edit = [n for n in thread if n["action"] == "update"]
        if last_delivery["action"] == "reply":  # The root shows the job's latest notification.
            assert last_edit and last_edit[-1]["id"] == last_delivery["id"], f"{destination} {job}: root not current"

    # The route's mention, and nothing else that pings, in that route's posts and replies only.
    for n in lines:
        mention = by_channel[n["destination"]].mention
        pings = PING.findall(json.dumps(n["payload"], ensure_ascii=False))
        if n["action"] in DELIVERIES and mention:
            assert n["payload"]["text"].startswith(f"{mention} "), f"{n['destination']}: mention missing in {n['id']}"
            assert n["payload"]["blocks"][0]["text"]["text"].startswith(f"{mention} ")
            assert set(pings) == {mention}, f"{n['destination']} {n['action']} {n['id']}: pings {pings}"
        else:
            assert not pings, f"{n['destination']} {n['action']} {n['id']}: pings {pings}"
