"""`gtwatch check` in Slack app mode: each route's mention is looked up in the workspace with the bot's token
(users.info, usergroups.list), on the emulator and the local Slack, and nobody is pinged."""

from __future__ import annotations

import argparse
import io
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from watcher.domain.env import Env
from watcher.domain.slack_routes import Route

from gtwatch.ops import check as ops
from gtwatch.sim.emulator.deployment import Resources
from gtwatch.sim.slack_endpoint import SlackEndpoint

ONCALL = "<!subteam^S0ONCALL1|ml-oncall>"
ROUTES = [
    {"channel": "#ml-oncall", "events": ["failed", "stalled"], "mention": ONCALL},
    {"channel": "#labeling", "events": ["completed", "failed"], "mention": "<@U0ALICE01>"},
    {"channel": "C0ALERTS01", "events": ["failed"], "mention": "<!here>"},
    {"channel": "#quiet", "events": ["completed"]},
]
# The secret the emulator's deployment keeps the bot token in.
TOKEN_SECRET = "gtwatch/slack-bot-token"


@dataclass
class Workspace:
    slack: SlackEndpoint
    directory: Path
    out: io.StringIO = field(default_factory=io.StringIO)
    err: io.StringIO = field(default_factory=io.StringIO)

    def configure(self, routes: list[dict[str, Any]]) -> None:
        slack = {"mode": "app", "routes": routes, "token_secret_name": TOKEN_SECRET}
        (self.directory / "cdk.json").write_text(json.dumps({"context": {"gtwatch": {"slack": slack}}}))

    def check(self) -> int:
        parser = argparse.ArgumentParser(prog="gtwatch")
        ops.add_commands(parser.add_subparsers(dest="command", required=True))
        args = parser.parse_args(["check"])
        code: int = args.func(args, out=self.out, err=self.err)
        return code

    def mention_lines(self) -> list[str]:
        lines = self.out.getvalue().splitlines()
        start = next(index for index, line in enumerate(lines) if line.startswith("Slack mentions"))
        return [" ".join(line.split()) for line in lines[start + 1 :]]


@pytest.fixture
def workspace(
    deploy: Callable[..., Resources], aws_environment: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Iterator[Workspace]:
    monkeypatch.chdir(tmp_path)
    with SlackEndpoint(timeout_hold_seconds=1.5) as slack:
        slack.add_user("U0ALICE01", "alice")
        slack.add_user_group("S0ONCALL1", "ml-oncall")
        deploy(slack_events=(), email_events=(), app_slack=slack, routes=(Route("#labeling", frozenset({"failed"})),))
        monkeypatch.setenv(Env.SLACK_API_URL, slack.api_url)
        yield Workspace(slack, tmp_path)


def test_check_confirms_each_routes_mention_without_pinging_anyone(workspace: Workspace) -> None:
    workspace.configure(ROUTES)

    assert workspace.check() == 0

    assert workspace.mention_lines() == [
        f"#ml-oncall {ONCALL} ok: pings user group @ml-oncall",
        "#labeling <@U0ALICE01> ok: pings @alice",
        "C0ALERTS01 <!here> ok: pings the channel's active members",
    ]
    assert f"looked up with the bot token in {TOKEN_SECRET}" in workspace.out.getvalue()
    assert workspace.slack.actions == []  # nothing posted: nobody pinged
    assert workspace.err.getvalue() == ""


def test_check_names_each_mention_that_would_ping_no_one(workspace: Workspace) -> None:
    workspace.slack.add_user("U0GONE0001", "bob", deleted=True)
    workspace.slack.add_user_group("S0OLDTEAM1", "old-team", disabled=True)
    workspace.configure(
        [
            {"channel": "#ml-oncall", "events": ["failed"], "mention": "<!subteam^S0TYPO0001|ml-oncall>"},
            {"channel": "#labeling", "events": ["failed"], "mention": "<@U0TYPO0001>"},
            {"channel": "#old", "events": ["failed"], "mention": "<@U0GONE0001>"},
            {"channel": "#older", "events": ["failed"], "mention": "<!subteam^S0OLDTEAM1>"},
            {"channel": "#fine", "events": ["failed"], "mention": "<!subteam^S0ONCALL1>"},
        ]
    )

    assert workspace.check() == 2

    assert workspace.mention_lines() == [
        "#ml-oncall <!subteam^S0TYPO0001|ml-oncall> PINGS NO ONE: no user group S0TYPO0001 in this workspace (it "
        "shows as text)",
        "#labeling <@U0TYPO0001> PINGS NO ONE: no member U0TYPO0001 in this workspace (it shows as text)",
        "#old <@U0GONE0001> PINGS NO ONE: @bob (U0GONE0001) is deactivated",
        "#older <!subteam^S0OLDTEAM1> PINGS NO ONE: user group @old-team is disabled",
        "#fine <!subteam^S0ONCALL1> ok: pings user group @ml-oncall",
    ]
    assert workspace.err.getvalue().startswith(
        "gtwatch: 4 route mention(s) would ping no one (#ml-oncall <!subteam^S0TYPO0001|ml-oncall>, "
        "#labeling <@U0TYPO0001>, #old <@U0GONE0001>, #older <!subteam^S0OLDTEAM1>)"
    )


def test_check_says_which_scope_the_app_lacks_to_look_mentions_up(workspace: Workspace) -> None:
    workspace.slack.withhold_scope("users:read")
    workspace.configure(ROUTES)

    assert workspace.check() == 2

    assert workspace.err.getvalue() == (
        "gtwatch: Slack mentions not checked: Slack refused users.info: missing_scope; add the users:read scope to "
        "the app (docs/slack-app-manifest.yaml asks for it) and reinstall it\n"
    )
    assert "gtwatch check (" in workspace.out.getvalue()  # the jobs were shown all the same


def test_check_without_a_bot_token_yet_says_where_to_put_it(workspace: Workspace) -> None:
    workspace.configure(ROUTES)
    slack = json.loads((workspace.directory / "cdk.json").read_text())["context"]["gtwatch"]["slack"]
    slack["token_secret_name"] = "gtwatch/not-there-yet"
    (workspace.directory / "cdk.json").write_text(json.dumps({"context": {"gtwatch": {"slack": slack}}}))

    assert workspace.check() == 2
    assert workspace.err.getvalue() == (
        "gtwatch: Slack mentions not checked: the secret 'gtwatch/not-there-yet' holds no bot token yet "
        "(docs/slack.md, step 5)\n"
    )


def test_a_route_narrowed_by_kinds_has_its_mention_checked_all_the_same(workspace: Workspace) -> None:
    slack = {"mode": "app", "routes": [{**ROUTES[0], "kinds": ["training"]}], "token_secret_name": TOKEN_SECRET}
    gtwatch = {"kinds": ["labeling", "training"], "slack": slack}
    (workspace.directory / "cdk.json").write_text(json.dumps({"context": {"gtwatch": gtwatch}}))

    assert workspace.check() == 0

    assert workspace.mention_lines() == [f"#ml-oncall {ONCALL} ok: pings user group @ml-oncall"]


def test_a_route_narrowed_to_a_kind_not_watched_is_refused_as_cdk_synth_refuses_it(workspace: Workspace) -> None:
    workspace.configure([{**ROUTES[0], "kinds": ["training"]}])

    assert workspace.check() == 2

    assert "context.gtwatch.slack.routes[0].kinds: 'training' is not watched" in workspace.err.getvalue()
