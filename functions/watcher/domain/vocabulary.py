"""The words gtwatch's configuration is written in (channels, Slack modes, the job-name and region patterns) and the
rules of the Slack mode, shared by the stack's config (cdk.json), the handlers' settings, the operator commands and
the scenario files, so that they accept and refuse the same things. Pure: standard library only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal, get_args

from watcher.domain.contract import EVENT_TYPES, EventName

__all__ = [
    "CONTEXT_KEY",
    "DEFAULT_STACK_NAME",
    "EVENT_TYPES",
    "NAME_PATTERN",
    "NOTIFICATION_CHANNELS",
    "REGION_PATTERN",
    "SLACK_MODES",
    "Channel",
    "EventName",
    "SlackChoice",
    "SlackMode",
    "SlackNames",
    "slack_mode_problems",
]

# The key of gtwatch's settings in cdk.json's context, and the stack's name when they name none.
CONTEXT_KEY: Final = "gtwatch"
DEFAULT_STACK_NAME: Final = "Gtwatch"

# Where a notification (or the digest) goes; quiet hours hold per channel. In the order docs and errors list them.
Channel = Literal["slack", "email"]
NOTIFICATION_CHANNELS: Final[tuple[Channel, ...]] = get_args(Channel)

# How the notifier reaches Slack: the incoming webhook (every notification of `slack_events`, to the webhook's own
# channel), or a Slack app's bot (each route's channel gets its events).
SlackMode = Literal["webhook", "app"]
SLACK_MODES: Final[tuple[SlackMode, ...]] = get_args(SlackMode)

# A labeling job's name as SageMaker allows it (1 to 63 letters, digits or hyphens, starting and ending with a letter
# or digit); a name filter (`name_contains`) is written the same way.
NAME_PATTERN: Final = r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$"
# A region's name, like us-east-1 (whether SageMaker runs there is checked where botocore's data is at hand).
REGION_PATTERN: Final = r"^[a-z]{2}(-[a-z]+)+-\d$"

_ROUTE_EXAMPLE = '[{"channel": "#labeling", "events": ["completed", "failed"]}]'


@dataclass(frozen=True)
class SlackNames:
    """How one configuration spells the settings the Slack-mode rules are about (`gtwatch.slack.routes` in cdk.json,
    `config.slack.routes` in a scenario, GTWATCH_SLACK_ROUTES in the notifier's environment). None: it has no such
    setting."""

    mode: str
    routes: str
    slack_events: str
    webhook_secret: str | None = None
    token_secret: str | None = None
    digest_channels: str | None = None
    digest_slack_channel: str | None = None


@dataclass(frozen=True)
class SlackChoice:
    """What a configuration says about Slack: its mode, and which of the settings that belong to one mode it gives.

    `secrets_required`: the notifier's environment must name the mode's secret; cdk.json may leave it out (the stack
    then creates one) but must not name the other mode's. `digest_channels` is None without a digest."""

    mode: str
    routes: bool
    slack_events: bool = False
    webhook_secret: bool = False
    token_secret: bool = False
    secrets_required: bool = False
    digest_channels: tuple[str, ...] | None = None
    digest_slack_channel: bool = False


def slack_mode_problems(choice: SlackChoice, names: SlackNames) -> list[str]:
    """What does not fit the Slack mode, each naming its setting; empty when everything fits."""
    app = choice.mode == "app"
    problems = []
    if app:
        if not choice.routes:
            problems.append(f"{names.routes}: app mode needs at least one route, e.g. {_ROUTE_EXAMPLE}")
        if choice.slack_events:
            problems.append(
                f"{names.slack_events}: not used in app mode ({names.mode} is app), where each of {names.routes} "
                "names its events; remove it"
            )
    elif choice.routes:
        problems.append(
            f"{names.routes}: routes apply in app mode only (set {names.mode} to app; webhook mode posts "
            f"{names.slack_events} to the webhook)"
        )
    problems += _secret_problems(choice, names, app)
    problems += _digest_problems(choice, names, app)
    return problems


def _secret_problems(choice: SlackChoice, names: SlackNames, app: bool) -> list[str]:
    webhook, token = names.webhook_secret, names.token_secret
    if webhook is None or token is None:
        return []
    if choice.secrets_required:
        if app and not choice.token_secret:
            return [f"{token} is required in app mode"]
        if not app and not choice.webhook_secret:
            return [f"{webhook} is required in webhook mode"]
        return []
    if app and choice.webhook_secret:
        return [f"{webhook}: not used in app mode, which posts with a bot token ({token}); remove it or set it to null"]
    if not app and choice.token_secret:
        return [f"{token}: a bot token is used in app mode only (set {names.mode} to app)"]
    return []


def _digest_problems(choice: SlackChoice, names: SlackNames, app: bool) -> list[str]:
    where, channels = names.digest_slack_channel, names.digest_channels
    if choice.digest_channels is None or where is None or channels is None:
        return []
    to_slack = "slack" in choice.digest_channels
    if app and to_slack and not choice.digest_slack_channel:
        return [
            f'{where}: app mode posts the digest to one channel; name it (e.g. "#labeling") or take slack out of '
            f"{channels}"
        ]
    if not app and choice.digest_slack_channel:
        return [
            f"{where}: webhook mode posts the digest to the webhook's own channel; remove it (or set {names.mode} "
            "to app)"
        ]
    if not to_slack and choice.digest_slack_channel:
        return [f"{where}: the digest does not go to Slack ({channels} has no slack); add slack or remove it"]
    return []
