"""`gtwatch check` in Slack app mode: each route's mention looked up in the workspace with the bot's token
(users.info for a person, usergroups.list for a user group), so that a wrong on-call ID shows now, pinging no one,
rather than as plain text at the first real failure."""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import boto3
from botocore.exceptions import ClientError
from watcher.adapters.aws import RETRY_CONFIG
from watcher.domain.contract import OUTPUT_SLACK_TOKEN_SECRET_NAME, SLACK_HTTP_TIMEOUT_SECONDS, SLACK_POST_ATTEMPTS
from watcher.domain.env import Env
from watcher.domain.slack_outcomes import SlackPostError
from watcher.domain.slack_routes import Route
from watcher.settings import SLACK_API_URL

from .common import OpsError
from .stack import read_stack

# The notifier's own variable: where the Slack Web API is (the tests point it at the local Slack).
API_URL_VARIABLE = Env.SLACK_API_URL
# Slack's special mentions ping whoever is in the channel: nothing to look up.
BROADCASTS = {
    "<!here>": "the channel's active members",
    "<!channel>": "every member of the channel",
    "<!everyone>": "everyone in the workspace",
}
# The scope each lookup needs; the manifest (docs/slack-app-manifest.yaml) asks for both.
SCOPES = {"users.info": "users:read", "usergroups.list": "usergroups:read"}
_USER = re.compile(r"<@([UW][A-Z0-9]+)>")
_USER_GROUP = re.compile(r"<!subteam\^(S[A-Z0-9]+)(?:\|[^>]*)?>")


class Directory(Protocol):
    """Who a mention can name: the Slack app's users.info and usergroups.list (watcher.adapters.slack_app.SlackApp)."""

    def user(self, user_id: str) -> dict[str, Any] | None: ...

    def user_groups(self) -> list[dict[str, Any]]: ...


@dataclass(frozen=True)
class MentionCheck:
    channel: str
    mention: str
    known: bool
    says: str  # who it pings, or why it pings no one


def check_mentions(routes: Sequence[Route], directory: Directory) -> list[MentionCheck]:
    """Each route's mention as Slack resolves it; OpsError when Slack cannot be asked (the text says what to do)."""
    checks: list[MentionCheck] = []
    groups: dict[str, dict[str, Any]] | None = None
    for route in routes:
        mention = route.mention
        if mention is None:
            continue
        if mention in BROADCASTS:
            checks.append(MentionCheck(route.channel, mention, True, f"pings {BROADCASTS[mention]}"))
        elif user := _USER.fullmatch(mention):
            found = _asked("users.info", lambda: directory.user(user[1]))
            checks.append(_user_check(route.channel, mention, user[1], found))
        elif group := _USER_GROUP.fullmatch(mention):
            if groups is None:
                listed = _asked("usergroups.list", directory.user_groups)
                groups = {str(item.get("id")): item for item in listed}
            checks.append(_group_check(route.channel, mention, group[1], groups.get(group[1])))
        else:  # parse_routes lets nothing else through; kept honest all the same
            checks.append(MentionCheck(route.channel, mention, False, "not a Slack mention"))
    return checks


def _asked(method: str, call: Any) -> Any:
    try:
        return call()
    except SlackPostError as error:
        if error.code == "missing_scope":
            raise OpsError(
                f"Slack mentions not checked: {error}; add the {SCOPES[method]} scope to the app "
                "(docs/slack-app-manifest.yaml asks for it) and reinstall it"
            ) from None
        raise OpsError(f"Slack mentions not checked: {error}") from None


def _user_check(channel: str, mention: str, user_id: str, user: dict[str, Any] | None) -> MentionCheck:
    if user is None:
        return MentionCheck(channel, mention, False, f"no member {user_id} in this workspace (it shows as text)")
    name = _printable(str(user.get("name") or user_id))
    if user.get("deleted"):
        return MentionCheck(channel, mention, False, f"@{name} ({user_id}) is deactivated")
    return MentionCheck(channel, mention, True, f"pings @{name}")


def _group_check(channel: str, mention: str, group_id: str, group: dict[str, Any] | None) -> MentionCheck:
    if group is None:
        return MentionCheck(channel, mention, False, f"no user group {group_id} in this workspace (it shows as text)")
    handle = _printable(str(group.get("handle") or group_id))
    if group.get("date_delete"):
        return MentionCheck(channel, mention, False, f"user group @{handle} is disabled")
    return MentionCheck(channel, mention, True, f"pings user group @{handle}")


def _printable(text: str) -> str:
    return "".join(character for character in text if character.isprintable())


def bot_token_secret(session: boto3.session.Session, secret_name: str | None, stack_name: str, region: str) -> str:
    """The secret holding the bot token: cdk.json's token_secret_name, else the one the stack created."""
    if secret_name is not None:
        return secret_name
    return read_stack(session, stack_name, region).output(OUTPUT_SLACK_TOKEN_SECRET_NAME)


def slack_app(session: boto3.session.Session, secret_name: str, region: str) -> Any:
    """The Slack app with the bot token the notifier uses (GetSecretValue)."""
    from watcher.adapters.slack_app import SlackApp, SlackTokenSecretError, token_from_secret

    secrets = session.client("secretsmanager", region_name=region, config=RETRY_CONFIG)
    try:
        value = secrets.get_secret_value(SecretId=secret_name).get("SecretString")
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") == "ResourceNotFoundException":
            raise OpsError(
                f"Slack mentions not checked: the secret {secret_name!r} holds no bot token yet (docs/slack.md, step 5)"
            ) from None
        raise
    try:
        token = token_from_secret(value)
    except SlackTokenSecretError as error:
        raise OpsError(f"Slack mentions not checked: the secret {secret_name!r}: {error}") from None
    try:
        return SlackApp(
            token,
            timeout=SLACK_HTTP_TIMEOUT_SECONDS,
            rate_limit_retries=SLACK_POST_ATTEMPTS - 1,
            api_url=os.environ.get(API_URL_VARIABLE) or SLACK_API_URL,
        )
    except ValueError as error:
        raise OpsError(f"{API_URL_VARIABLE}: {error}") from None
