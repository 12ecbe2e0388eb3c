"""Delivering one notification to Slack: in its job's order, to every route that takes it, once per destination.

The Slack notifier's use case: deliver_message takes one message of the Slack queue and the ports (slack_ports: the
destination, the ledger store, the queue) and says what came of it as a value (slack_outcomes): delivered, retry in
N seconds, rejected for good (dead-lettered here), misconfigured, failed. Inside, NotYet and the adapters' Slack
errors stop at deliver_message.

Order: a job's notifications carry sequence numbers (diff.decide). The ledger (slack_ledger) says which one is
next for the job; a later one that arrives first waits (NotYet) and is retried, so Slack never shows `resumed`
before `stalled`. Every notification of a job comes through the notifier, routed or not, so the stream has no gaps.

Once: a claim in the ledger keeps two invocations from posting the same message; each destination is marked done
as soon as it is; in app mode a call whose answer was lost is looked up by the notification id in its metadata
before anything is posted again, and the root of a job in a channel is stored with a conditional write, so there is
at most one, ever. (An incoming webhook cannot be asked what it posted: after a lost answer it may post twice.)

App mode: a job's first notification in a channel is posted as its root, a card of the job; each later one is a
reply in that thread (a `failed` reply is also shown in the channel), and the root is then updated to the job's
latest state.

The daily digest (deliver_digest) comes through the same queue and is delivered the same way: a stream of its own
(its id), its messages in order, each once; retried while Slack does not take it, so an outage only delays it.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from aws_lambda_powertools import Logger

from watcher.domain import slack_message
from watcher.domain.contract import SLACK_FUNCTION_TIMEOUT_SECONDS
from watcher.domain.digest import SlackDigest
from watcher.domain.ledger import Ledger, Root, owed_key
from watcher.domain.model import EventType, Notification
from watcher.domain.ports import ItemConflict
from watcher.domain.slack_outcomes import (
    Delivered,
    Dropped,
    Failed,
    Misconfigured,
    Outcome,
    RejectedForGood,
    RetryIn,
    SlackMisconfigured,
    SlackPostError,
    SlackRejected,
)
from watcher.domain.slack_ports import SlackDestination, SlackLedgers, SlackQueue
from watcher.domain.slack_routes import WEBHOOK_DESTINATION, Route

logger = Logger(child=True)

# Set on a dead letter: the destination it failed at. `gtwatch redrive` keeps message attributes, so a redriven
# message goes to that destination only.
ROUTE_ATTRIBUTE = "gtwatch_route"
# Backing off while Slack is down: 1, 2, 4 ... minutes between attempts, at most 10, so that delivery resumes
# within 10 minutes (plus Lambda's polling) of Slack's recovery, however long the outage.
FIRST_RETRY_SECONDS = 60
LONGEST_RETRY_SECONDS = 600
# A message waiting for an earlier one of its job comes back when the job's ledger says that one is next tried, or
# soon while the job's messages are going out (waiting_time). When the ledger cannot tell, it backs off too (30 s,
# 1, 2, 4 minutes, then every 5), so that a day-long outage stays far from the receive limit.
FIRST_WAITING_SECONDS = 30
LONGEST_WAITING_SECONDS = 300

# In a digest's ledger, `started` holds this while a post of its next message may have been made.
DIGEST_MARK = "digest"
# A post's ts is at or after the notification was decided; the margin covers clocks that disagree a little.
LOOKUP_MARGIN = timedelta(minutes=10)
# A message waiting for an earlier one of its job comes back this long after that one is offered again (its attempt
# takes a few seconds), so that after an outage a job's backlog follows its first message within a minute or so.
WAKE_MARGIN = timedelta(seconds=30)
# A job whose delivery moved on this recently is draining (or another invocation is at it right now): a message
# waiting in it looks again this soon, whatever its own count of attempts.
DRAINING = timedelta(minutes=10)
DRAINING_WAIT = timedelta(seconds=30)


def retry_delay_seconds(receive_count: int, *, waiting: bool = False) -> int:
    """How long a message waits before its next attempt (`receive_count` >= 1): Slack could not take it, or
    (`waiting`) an earlier message of its job has not gone out yet."""
    first, longest = (
        (FIRST_WAITING_SECONDS, LONGEST_WAITING_SECONDS) if waiting else (FIRST_RETRY_SECONDS, LONGEST_RETRY_SECONDS)
    )
    delay: int = first * 2 ** min(10, max(0, receive_count - 1))
    return min(longest, delay)


class NotYet(Exception):
    """The notification cannot go out now (an earlier one of its job has not, or another invocation is sending
    this job's messages, or time is short): try again later, in `retry_in` when the job's ledger tells (else the
    caller backs off)."""

    def __init__(self, reason: str, *, retry_in: timedelta | None = None) -> None:
        super().__init__(reason)
        self.retry_in = retry_in


# One Slack call's worst case (attempts of the HTTP timeout plus Retry-After waits): enough time must remain.
CLAIM_MARGIN = timedelta(seconds=30)
# Whether the notification's job is muted for its type at the given minute.
Silenced = Callable[[Notification, datetime], bool]


@dataclass(frozen=True)
class Notifier:
    """What delivery works with: the routes, the ports, and whether a job's mute is on now."""

    routes: tuple[Route, ...]
    ledgers: SlackLedgers
    queue: SlackQueue
    # The configured destination, built per invocation (the secret may have rotated); its setup errors are outcomes.
    destination: Callable[[], SlackDestination]
    silenced: Silenced = lambda notification, now: False
    # A message Slack has owed this long is lagging: the invocation fails so that the alarm says so.
    lag_alarm: timedelta = timedelta(minutes=30)
    # False only in tests, to prove that the order checks have teeth: a message is taken as its job's next.
    in_turn: bool = True


@dataclass(frozen=True)
class Attempt:
    """Who is delivering, until when, how many times the message was offered, and how to check that time remains
    for one more Slack call."""

    owner: str
    now: datetime
    claim_until: datetime
    time_left: Callable[[], bool] = lambda: True
    receives: int = 1

    @classmethod
    def of(cls, owner: str, now: datetime, receives: int, millis_left: Callable[[], int]) -> Attempt:
        """An attempt of an invocation with `millis_left()` to run; its claim outlasts the longest invocation."""
        return cls(
            owner,
            now,
            claim_until=now + timedelta(seconds=SLACK_FUNCTION_TIMEOUT_SECONDS) + CLAIM_MARGIN,
            time_left=lambda: millis_left() / 1000 > CLAIM_MARGIN.total_seconds(),
            receives=receives,
        )

    @property
    def retry_at(self) -> datetime:
        """When this message is offered again if Slack does not take it now (its back-off); recorded in the ledger,
        so that the job's later messages come back just after it."""
        return self.now + timedelta(seconds=retry_delay_seconds(self.receives))


def deliver_message(
    item: Notification | SlackDigest, notifier: Notifier, attempt: Attempt, *, redriven_to: str | None = None
) -> Outcome:
    """Deliver one message of the Slack queue (a notification, a digest, or a dead letter sent back to
    `redriven_to`) and say what came of it."""
    if isinstance(item, Notification) and item.event_type is EventType.TEST:
        return _try_once(item, notifier)
    backoff = retry_delay_seconds(attempt.receives)
    lagging = _lagging(item, attempt.now, notifier.lag_alarm)
    rejected: list[str] = []
    try:
        destination = notifier.destination()
        if isinstance(item, SlackDigest):
            deliver_digest(item, notifier, destination, attempt, rejected, redriven=bool(redriven_to))
        elif redriven_to:
            route = next((r for r in notifier.routes if r.channel == redriven_to), None)
            if route is None:
                logger.error("Redriven message for a destination no longer configured; dropped")
                return Dropped(f"{redriven_to} is no longer configured")
            deliver_redriven(item, route, destination, notifier.ledgers)
        else:
            deliver(item, notifier, destination, attempt, rejected)
    except NotYet as waiting:
        logger.info("Not delivered yet", extra={"reason": str(waiting)})
        seconds = (
            retry_delay_seconds(attempt.receives, waiting=True)
            if waiting.retry_in is None
            else max(1, math.ceil(waiting.retry_in.total_seconds()))
        )
        return RetryIn(seconds, str(waiting), lagging())
    except SlackMisconfigured as error:
        logger.error(
            "Slack refused gtwatch's setup; fix the token, the channel or the bot's membership (docs/slack.md)",
            extra={"error": str(error)},
        )
        return Misconfigured(str(error), retry_in=backoff)
    except SlackPostError as error:
        logger.warning("Slack did not take the message; retrying later", extra={"error": str(error)})
        return RetryIn(backoff, str(error), lagging())
    except Exception as error:
        # Not Slack's answer: DynamoDB throttled or refused, the dead-letter queue unreachable... Back off as for
        # a Slack error, and fail the invocation so that the notifier-errors alarm shows it now, not after a day
        # of silent retries ending in the dead-letter queue.
        logger.exception("Delivery failed for a reason that is not Slack's; retrying later")
        return Failed(f"{type(error).__name__}: {error}", backoff, lagging())
    return RejectedForGood("; ".join(rejected)) if rejected else Delivered()


def _try_once(notification: Notification, notifier: Notifier) -> Outcome:
    """Post a test notification to every destination, never twice: a retry would post it again where it did
    arrive. A setup error it meets is Misconfigured without a retry (the message is deleted, the alarm fires)."""
    problems: list[str] = []
    try:
        destination = notifier.destination()
        for route in notifier.routes:
            try:
                deliver_test(notification, route, destination)
            except SlackPostError as error:
                logger.error(
                    "Test notification not delivered to this destination",
                    extra={"destination": route.channel, "error": str(error)},
                )
                if isinstance(error, SlackMisconfigured):
                    problems.append(f"{route.channel}: {error}")
    except SlackMisconfigured as error:
        logger.error("Test notification not sent: Slack is not set up", extra={"error": str(error)})
        problems.append(str(error))
    return Misconfigured(problems[0], retry_in=None) if problems else Delivered()


def _lagging(item: Notification | SlackDigest, now: datetime, alarm: timedelta) -> Callable[[], str | None]:
    """What the lag alarm says of `item`, not delivered now (logged), or None while it has not waited too long."""

    def lagging() -> str | None:
        lag = now - due_since(item, now)
        if lag <= alarm:
            return None
        minutes = int(lag.total_seconds() // 60)
        logger.error(
            "Slack delivery lags: a notification has waited too long (the message is kept and retried)",
            extra={"lag_minutes": minutes},
        )
        return f"{item.id} waited {minutes} min"

    return lagging


def due_since(item: Notification | SlackDigest, now: datetime) -> datetime:
    """Since when Slack has owed `item`: when it happened, or for news held for quiet hours, when the window ended.
    A held notification sent ahead of its window's end is due only where later news released it, and that later
    notification's own lag speaks for the job."""
    held_until = item.held_until if isinstance(item, Notification) else None
    if held_until is None:
        return item.occurred_at
    return max(item.occurred_at, min(held_until, now))


def dead_letter(
    queue: SlackQueue, item: Notification | SlackDigest, destination: str, error: str, rejected: list[str]
) -> None:
    """Set a message Slack rejected for good at `destination` aside; `gtwatch redrive` sends it back there."""
    attributes = {ROUTE_ATTRIBUTE: destination, "error": error[:256] or "rejected"}
    if isinstance(item, SlackDigest):
        attributes |= {"event_type": SlackDigest.KIND, "notification_id": item.id}
    else:
        attributes |= {"event_type": item.event_type.value, "job_name": item.job.name, "notification_id": item.id}
    queue.dead_letter(item.to_document(), attributes)
    rejected.append(f"{destination}: {error}")


def deliver(
    notification: Notification,
    notifier: Notifier,
    slack: SlackDestination,
    attempt: Attempt,
    rejected: list[str],
) -> None:
    """Deliver `notification` to every route that takes it, in its job's order; raises NotYet or a SlackPostError
    when it must be tried again later (what was delivered stays delivered). A notification whose job is muted for
    its type now (`silenced`: Slack was down, say, when it was sent) is not shown; the job's order moves past it.
    What Slack rejects for good at a route is dead-lettered for it (noted in `rejected`)."""
    routes, ledgers, silenced = notifier.routes, notifier.ledgers, notifier.silenced
    if not notification.stream:  # Decided before notifications were numbered (an outbox kept over an upgrade).
        for route in routes:
            if not notification.muted and _takes(route, notification.event_type.value, notification):
                _post_alone(notification, route, slack)
        return
    ledger = ledgers.get(notification.stream)
    if not notifier.in_turn:
        ledger = replace(ledger, delivered=max(ledger.delivered, notification.sequence - 1))
    owed = any(notification.sequence in ledger.owed.get(route.channel, ()) for route in routes)
    to_show = notification.sequence > ledger.delivered or owed
    if to_show and not notification.muted and silenced(notification, attempt.now):
        logger.info("Muted at the minute it would be shown; not shown", extra={"sequence": notification.sequence})
        notification = replace(notification, muted=True)
    if to_show and notification.released_by and notification.held_until and attempt.now < notification.held_until:
        # Held news sent ahead of later news of its job: what is muted now is not said, so it releases nothing.
        still = frozenset(
            event_type
            for event_type in notification.released_by
            if not silenced(replace(notification, event_type=EventType(event_type)), attempt.now)
        )
        notification = replace(notification, released_by=still)
    if notification.sequence <= ledger.delivered:
        if owed:
            _deliver_owed(notification, notifier, ledger, slack, attempt, rejected)
            return
        logger.info("Already delivered", extra={"sequence": notification.sequence})
        return
    if notification.sequence > ledger.delivered + 1:
        raise NotYet(
            f"waiting for notification {ledger.delivered + 1} of this job", retry_in=waiting_time(ledger, attempt.now)
        )
    if ledger.claimed_by_another(attempt.owner, attempt.now):
        raise NotYet("another invocation is delivering this job's messages", retry_in=DRAINING_WAIT)
    session = _Session(ledgers, ledger, attempt)
    session.save(session.ledger.claimed(attempt.owner, attempt.claim_until))
    try:
        for route in routes:
            if route.channel in session.ledger.done:
                continue
            if not notification.muted and _takes(route, notification.event_type.value, notification):
                if not released(notification, route, attempt.now):
                    logger.info("Held for quiet hours in this channel", extra={"destination": route.channel})
                    owing = session.ledger.owing(route.channel, notification.sequence)
                    session.save(replace(owing, done=owing.done | {route.channel}))
                    continue
                if session.ledger.owed.get(route.channel):
                    # The watcher sends the held ones again, before this one, when it releases them here.
                    raise NotYet(f"waiting for this job's held notifications to be released to {route.channel}")
                if not attempt.time_left():
                    raise NotYet(
                        "not enough time left in this invocation for another Slack call", retry_in=DRAINING_WAIT
                    )
                try:
                    _deliver_to(notification, route, slack, session)
                    logger.info("Posted to Slack", extra={"destination": route.channel})
                except SlackRejected as error:
                    logger.error(
                        "Slack rejected this message for good; it goes to the dead-letter queue",
                        extra={"destination": route.channel, "error": str(error)},
                    )
                    dead_letter(notifier.queue, notification, route.channel, str(error), rejected)
            session.save(replace(session.ledger, done=session.ledger.done | {route.channel}))
        session.save(session.ledger.finished(notification.sequence, attempt.now))
    except BaseException as error:
        session.release(retry_at=None if isinstance(error, NotYet) else attempt.retry_at)
        raise


def waiting_time(ledger: Ledger, now: datetime) -> timedelta | None:
    """How long a notification waiting for the next one of its job (`ledger.delivered + 1`) should wait, from what
    the job's ledger says: until just after that one is offered again, or a short while when the job's messages
    are going out; None when the ledger does not tell (an earlier message not seen yet: the caller backs off)."""
    if ledger.claim_owner is not None and ledger.claim_until is not None and ledger.claim_until > now:
        return DRAINING_WAIT
    if ledger.retry_at is not None and ledger.retry_at > now:
        return ledger.retry_at - now + WAKE_MARGIN
    if ledger.advanced_at is not None and now - ledger.advanced_at < DRAINING:
        return DRAINING_WAIT
    return None


def deliver_digest(
    digest: SlackDigest,
    notifier: Notifier,
    slack: SlackDestination,
    attempt: Attempt,
    rejected: list[str],
    *,
    redriven: bool = False,
) -> None:
    """Post the daily digest's messages in order, each once, as a job's notifications are: the ledger of the digest's
    own stream says how many went out, and in app mode a message whose answer was lost is looked up before it is
    posted again. Raises NotYet or a SlackPostError when the rest must be tried again later. A redriven digest (a
    message Slack had rejected, sent back by an operator) is posted as it is."""
    if redriven:
        for message in digest.messages:
            try:
                _post_digest_message(slack, digest.destination, message)
            except SlackRejected as error:
                _dead_letter_digest(notifier.queue, digest, message, str(error), rejected)
        return
    ledgers = notifier.ledgers
    ledger = ledgers.get(digest.id)
    if ledger.delivered >= len(digest.messages):
        logger.info("Digest already delivered")
        return
    if ledger.claimed_by_another(attempt.owner, attempt.now):
        raise NotYet("another invocation is delivering this digest")
    session = _Session(ledgers, ledger, attempt)
    session.save(session.ledger.claimed(attempt.owner, attempt.claim_until))
    try:
        for number in range(session.ledger.delivered + 1, len(digest.messages) + 1):
            if not attempt.time_left():
                raise NotYet("not enough time left in this invocation for another Slack call")
            message = digest.messages[number - 1]
            try:
                _deliver_digest_message(digest, number, message, slack, session)
            except SlackRejected as error:
                logger.error(
                    "Slack rejected this digest message for good; it goes to the dead-letter queue",
                    extra={"part": number, "error": str(error)},
                )
                _dead_letter_digest(notifier.queue, digest, message, str(error), rejected)
            session.save(replace(session.ledger, delivered=number, started=frozenset()))
        session.save(session.ledger.finished(len(digest.messages), attempt.now))
    except BaseException as error:
        session.release(retry_at=None if isinstance(error, NotYet) else attempt.retry_at)
        raise


def _dead_letter_digest(
    queue: SlackQueue, digest: SlackDigest, message: dict[str, Any], error: str, rejected: list[str]
) -> None:
    """A digest message Slack rejected for good: set aside alone; `gtwatch redrive` posts it again as it is."""
    part = replace(digest, messages=(message,))
    dead_letter(queue, part, digest.destination or WEBHOOK_DESTINATION, error, rejected)


def _deliver_digest_message(
    digest: SlackDigest, number: int, message: dict[str, Any], slack: SlackDestination, session: _Session
) -> None:
    if slack.threads and DIGEST_MARK in session.ledger.started:  # An earlier attempt may have posted it.
        channel_id = slack.channel_id(_digest_channel(slack, digest.destination))
        since = digest.occurred_at - LOOKUP_MARGIN
        if slack.find(channel_id, digest.message_id(number), since=since) is not None:
            return
    session.save(replace(session.ledger, started=session.ledger.started | {DIGEST_MARK}))
    _post_digest_message(slack, digest.destination, message)


def _post_digest_message(slack: SlackDestination, destination: str | None, message: dict[str, Any]) -> None:
    slack.post(slack.channel_id(_digest_channel(slack, destination)), message)


def _digest_channel(slack: SlackDestination, destination: str | None) -> str:
    if slack.threads and not destination:
        raise SlackMisconfigured("app mode posts the digest to its channel, and none was given (digest.slack_channel)")
    return destination or WEBHOOK_DESTINATION


def deliver_redriven(notification: Notification, route: Route, slack: SlackDestination, ledgers: SlackLedgers) -> None:
    """A dead letter sent back by an operator: post it to the one destination it failed at, outside the order
    (the job's later messages did not wait for it), as a reply when the job has a root there."""
    root = ledgers.get(notification.stream).roots.get(route.channel) if notification.stream else None
    if root is None or not slack.threads:
        _post_alone(notification, route, slack)
        return
    slack.reply(root.channel_id, root.ts, message_for(notification, route), broadcast=False)


def deliver_test(notification: Notification, route: Route, slack: SlackDestination) -> None:
    """A test notification (`gtwatch test-notify`): posted to the destination on its own, without the route's
    mention, so that proving a channel works pings no one."""
    quiet_route = Route(route.channel, route.events, route.name_contains, mention=None)
    _post_alone(notification, quiet_route, slack)


def message_for(notification: Notification, route: Route) -> dict[str, Any]:
    """The message of `notification` for `route`: the rendering, with the route's mention (the only ping) first."""
    message = slack_message.payload(notification)
    if route.mention:
        message = {**message, "text": f"{route.mention} {message['text']}"}
        first = message["blocks"][0]
        message["blocks"] = [
            {**first, "text": {**first["text"], "text": f"{route.mention} {first['text']['text']}"}},
            *message["blocks"][1:],
        ]
    return message


class _Session:
    """The stream's ledger as this attempt holds it; every change is a conditional write."""

    def __init__(self, store: SlackLedgers, ledger: Ledger, attempt: Attempt) -> None:
        self.store, self.ledger, self.attempt = store, ledger, attempt

    def save(self, ledger: Ledger) -> None:
        try:
            self.ledger = self.store.save(ledger, self.attempt.now)
        except ItemConflict:
            raise NotYet("another invocation changed this job's delivery first", retry_in=DRAINING_WAIT) from None

    def release(self, *, retry_at: datetime | None) -> None:
        """Give up the claim after a failure, so that the retry need not wait for it to expire, and record when the
        notification is offered again (best effort)."""
        if self.ledger.claim_owner == self.attempt.owner:
            try:
                self.ledger = self.store.save(
                    replace(self.ledger, claim_owner=None, claim_until=None, retry_at=retry_at), self.attempt.now
                )
            except Exception:
                logger.warning("Could not release the delivery claim; it expires by itself")


def released(notification: Notification, route: Route, now: datetime) -> bool:
    """Whether `notification` may be shown in `route`'s channel now: it is not held for quiet hours (any longer), or
    a later notification of its job that goes out now, not held, reaches that channel too."""
    if notification.held_until is None or now >= notification.held_until:
        return True
    return any(_takes(route, event_type, notification) for event_type in notification.released_by)


def _takes(route: Route, event_type: str, notification: Notification) -> bool:
    """Whether `route` takes a notification of `event_type` about `notification`'s job (its name, kind, account)."""
    job = notification.job
    return route.takes(event_type, job.name, job.kind, job.account_id)


def _deliver_owed(
    notification: Notification,
    notifier: Notifier,
    ledger: Ledger,
    slack: SlackDestination,
    attempt: Attempt,
    rejected: list[str],
) -> None:
    """A notification handled before, sent again by the watcher: show it in the channels where quiet hours held it
    and that are released now (the window ended, or later news reaching them goes out), in order."""
    if ledger.claimed_by_another(attempt.owner, attempt.now):
        raise NotYet("another invocation is delivering this job's messages")
    session = _Session(notifier.ledgers, ledger, attempt)
    session.save(session.ledger.claimed(attempt.owner, attempt.claim_until))
    sequence = notification.sequence
    try:
        for route in notifier.routes:
            owed = session.ledger.owed.get(route.channel, ())
            if sequence not in owed:
                continue
            if notification.muted:  # Muted before it could be shown there: never said.
                session.save(session.ledger.paid(route.channel, sequence))
                continue
            if not released(notification, route, attempt.now):
                continue
            if owed[0] != sequence:
                raise NotYet(f"waiting for an earlier held notification of this job for {route.channel}")
            if not attempt.time_left():
                raise NotYet("not enough time left in this invocation for another Slack call")
            try:
                _deliver_to(notification, route, slack, session, owed=True)
                logger.info("Posted to Slack after quiet hours", extra={"destination": route.channel})
            except SlackRejected as error:
                logger.error(
                    "Slack rejected this message for good; it goes to the dead-letter queue",
                    extra={"destination": route.channel, "error": str(error)},
                )
                dead_letter(notifier.queue, notification, route.channel, str(error), rejected)
            session.save(session.ledger.paid(route.channel, sequence))
        session.save(replace(session.ledger, claim_owner=None, claim_until=None))
    except BaseException:
        # An owed post is not the stream's next notification: when that one is offered again stays as it was.
        session.release(retry_at=session.ledger.retry_at)
        raise


def _deliver_to(
    notification: Notification, route: Route, slack: SlackDestination, session: _Session, *, owed: bool = False
) -> None:
    """Post to one destination. `owed`: a notification held there by quiet hours, shown after the job's later ones
    went elsewhere; whether its post was started is kept apart from the stream's next notification's."""
    if not slack.threads:
        if route.channel != WEBHOOK_DESTINATION:
            raise ValueError(f"route {route.channel}: no Slack app is configured (slack.mode is webhook)")
        slack.post(route.channel, message_for(notification, route))
        return
    since = notification.occurred_at - LOOKUP_MARGIN
    message = message_for(notification, route)
    root = session.ledger.roots.get(route.channel)
    if root is None:
        channel_id = slack.channel_id(route.channel)
        ts = None
        if route.channel in session.ledger.root_started:  # An earlier attempt may have posted it.
            ts = slack.find(channel_id, notification.id, since=since)
        if ts is None:
            session.save(replace(session.ledger, root_started=session.ledger.root_started | {route.channel}))
            posted = slack.post(channel_id, message)
            if posted is None:
                raise ValueError(f"route {route.channel}: Slack answered no message id for the job's root")
            channel_id, ts = posted.channel_id, posted.ts
        session.save(replace(session.ledger, roots={**session.ledger.roots, route.channel: Root(channel_id, ts)}))
        return
    found = None
    key = owed_key(route.channel, notification.sequence) if owed else route.channel
    if key in (session.ledger.owed_started if owed else session.ledger.started):
        found = slack.find(root.channel_id, notification.id, since=since, thread_ts=root.ts)
    if found is None:
        ledger = session.ledger
        session.save(
            replace(ledger, owed_started=ledger.owed_started | {key})
            if owed
            else replace(ledger, started=ledger.started | {key})
        )
        broadcast = notification.event_type is EventType.FAILED
        slack.reply(root.channel_id, root.ts, message, broadcast=broadcast)
    # The root shows the job's latest state; editing is idempotent, so a retry may simply do it again.
    slack.update(root.channel_id, root.ts, slack_message.payload(notification))


def _post_alone(notification: Notification, route: Route, slack: SlackDestination) -> None:
    slack.post(slack.channel_id(route.channel), message_for(notification, route))
