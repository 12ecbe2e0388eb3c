"""What a Slack delivery comes to, as values (Delivered, RetryIn, RejectedForGood, Misconfigured, Failed), and the
kinds of failure every Slack adapter raises to the delivery use case. Standard library only."""

from __future__ import annotations

from dataclasses import dataclass


class SlackPostError(RuntimeError):
    """Slack did not accept a message, for now: unavailable, rate limited past the budget, no answer. Retried later.
    The text has the status and body, never the webhook URL or a token."""

    # The Web API's error code (user_not_found, missing_scope...), when Slack answered with one.
    code: str | None = None


class SlackRejected(SlackPostError):
    """Slack refused this message as invalid (invalid_blocks, msg_too_long...): sending it again cannot help."""


class SlackMisconfigured(SlackPostError):
    """Slack refused the credentials or the channel (invalid_auth, token_revoked, channel_not_found,
    not_in_channel...): every message fails until someone fixes the setup; retried meanwhile, and alarmed."""


@dataclass(frozen=True)
class Delivered:
    """Every destination that takes the message has it (or it was already delivered): the message is done."""


@dataclass(frozen=True)
class RejectedForGood:
    """Slack refused the message as invalid at a destination; it was set aside in the dead-letter queue for that
    destination, and the job's order moved on: the message is done."""

    reason: str


@dataclass(frozen=True)
class Dropped:
    """Nothing can be done with the message, now or later (a destination no longer configured): the message is done."""

    reason: str


@dataclass(frozen=True)
class RetryIn:
    """Not delivered yet (Slack did not take it, or an earlier message of its job has not gone out): offer the
    message again in `seconds`. `lagging`: what the lag alarm says when Slack has owed it too long."""

    seconds: int
    reason: str
    lagging: str | None = None


@dataclass(frozen=True)
class Misconfigured:
    """Slack refused gtwatch's setup (token, channel, membership): the invocation fails so that the alarm fires.
    `retry_in`: when to offer the message again; None for a message tried once (a test notification), which is
    deleted instead."""

    reason: str
    retry_in: int | None


@dataclass(frozen=True)
class Failed:
    """Delivery failed for a reason that is not Slack's (DynamoDB, the dead-letter queue): offered again in `seconds`,
    and the invocation fails so that the alarm shows it now."""

    reason: str
    seconds: int
    lagging: str | None = None


Outcome = Delivered | RejectedForGood | Dropped | RetryIn | Misconfigured | Failed
