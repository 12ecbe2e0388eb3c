"""Delivering one notification to Slack: in its job's order, to every route that takes it, once per destination.

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

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from aws_lambda_powertools import Logger

from . import slack_message
from .digest import SlackDigest
from .model import EventType, Notification
from .slack_app import SlackApp
from .slack_client import SlackMisconfigured, SlackRejected
from .slack_ledger import Ledger, LedgerConflict, LedgerStore, Root, owed_key
from .slack_routes import WEBHOOK_DESTINATION, Route

logger = Logger(child=True)

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


class NotYet(Exception):
    """The notification cannot go out now (an earlier one of its job has not, or another invocation is sending
    this job's messages, or time is short): try again later, in `retry_in` when the job's ledger tells (else the
    caller backs off)."""

    def __init__(self, reason: str, *, retry_in: timedelta | None = None) -> None:
        super().__init__(reason)
        self.retry_in = retry_in


@dataclass(frozen=True)
class Slack:
    """Where messages go: the incoming webhook in webhook mode, the app in app mode."""

    webhook: Callable[[dict[str, Any]], None] | None = None
    app: SlackApp | None = None
    # Channel names (#labeling) to ids, as the app resolves them; ids map to themselves.
    channel_id: Callable[[str], str] = lambda channel: channel


@dataclass(frozen=True)
class Attempt:
    """Who is delivering, until when, and how to check that time remains for one more Slack call."""

    owner: str
    now: datetime
    claim_until: datetime
    time_left: Callable[[], bool] = lambda: True
    # When this notification is offered again if Slack does not take it now (the caller's back-off); recorded in
    # the ledger, so that the job's later messages come back just after it.
    retry_at: datetime | None = None


DeadLetter = Callable[[Notification, Route, str], None]
# Whether the notification's job is muted for its type at the given minute.
Silenced = Callable[[Notification, datetime], bool]


def deliver(
    notification: Notification,
    routes: tuple[Route, ...],
    *,
    ledgers: LedgerStore,
    slack: Slack,
    attempt: Attempt,
    dead_letter: DeadLetter,
    silenced: Silenced = lambda notification, now: False,
) -> None:
    """Deliver `notification` to every route that takes it, in its job's order; raises NotYet or a SlackPostError
    when it must be tried again later (what was delivered stays delivered). A notification whose job is muted for
    its type now (`silenced`: Slack was down, say, when it was sent) is not shown; the job's order moves past it."""
    if not notification.stream:  # Decided before notifications were numbered (an outbox kept over an upgrade).
        for route in routes:
            if not notification.muted and route.takes(notification.event_type.value, notification.job.name):
                _post_alone(notification, route, slack)
        return
    ledger = ledgers.get(notification.stream)
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
            _deliver_owed(
                notification,
                routes,
                ledgers=ledgers,
                ledger=ledger,
                slack=slack,
                attempt=attempt,
                dead_letter=dead_letter,
            )
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
            if not notification.muted and route.takes(notification.event_type.value, notification.job.name):
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
                    dead_letter(notification, route, str(error))
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
    *,
    ledgers: LedgerStore,
    slack: Slack,
    attempt: Attempt,
    dead_letter: Callable[[SlackDigest, str], None],
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
                dead_letter(replace(digest, messages=(message,)), str(error))
        return
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
                dead_letter(replace(digest, messages=(message,)), str(error))
            session.save(replace(session.ledger, delivered=number, started=frozenset()))
        session.save(session.ledger.finished(len(digest.messages), attempt.now))
    except BaseException as error:
        session.release(retry_at=None if isinstance(error, NotYet) else attempt.retry_at)
        raise


def _deliver_digest_message(
    digest: SlackDigest, number: int, message: dict[str, Any], slack: Slack, session: _Session
) -> None:
    if slack.app is not None and DIGEST_MARK in session.ledger.started:  # An earlier attempt may have posted it.
        channel_id = slack.channel_id(_digest_channel(digest.destination))
        since = digest.occurred_at - LOOKUP_MARGIN
        if slack.app.find(channel_id, digest.message_id(number), since=since) is not None:
            return
    session.save(replace(session.ledger, started=session.ledger.started | {DIGEST_MARK}))
    _post_digest_message(slack, digest.destination, message)


def _post_digest_message(slack: Slack, destination: str | None, message: dict[str, Any]) -> None:
    if slack.app is not None:
        slack.app.post(slack.channel_id(_digest_channel(destination)), message)
    elif slack.webhook is not None:
        slack.webhook(message)


def _digest_channel(destination: str | None) -> str:
    if not destination:
        raise SlackMisconfigured("app mode posts the digest to its channel, and none was given (digest.slack_channel)")
    return destination


def deliver_redriven(notification: Notification, route: Route, slack: Slack, ledgers: LedgerStore) -> None:
    """A dead letter sent back by an operator: post it to the one destination it failed at, outside the order
    (the job's later messages did not wait for it), as a reply when the job has a root there."""
    root = ledgers.get(notification.stream).roots.get(route.channel) if notification.stream else None
    if root is None or slack.app is None:
        _post_alone(notification, route, slack)
        return
    slack.app.post(root.channel_id, message_for(notification, route), thread_ts=root.ts)


def deliver_test(notification: Notification, route: Route, slack: Slack) -> None:
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

    def __init__(self, store: LedgerStore, ledger: Ledger, attempt: Attempt) -> None:
        self.store, self.ledger, self.attempt = store, ledger, attempt

    def save(self, ledger: Ledger) -> None:
        try:
            self.ledger = self.store.save(ledger, self.attempt.now)
        except LedgerConflict:
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
    return any(route.takes(event_type, notification.job.name) for event_type in notification.released_by)


def _deliver_owed(
    notification: Notification,
    routes: tuple[Route, ...],
    *,
    ledgers: LedgerStore,
    ledger: Ledger,
    slack: Slack,
    attempt: Attempt,
    dead_letter: DeadLetter,
) -> None:
    """A notification handled before, sent again by the watcher: show it in the channels where quiet hours held it
    and that are released now (the window ended, or later news reaching them goes out), in order."""
    if ledger.claimed_by_another(attempt.owner, attempt.now):
        raise NotYet("another invocation is delivering this job's messages")
    session = _Session(ledgers, ledger, attempt)
    session.save(session.ledger.claimed(attempt.owner, attempt.claim_until))
    sequence = notification.sequence
    try:
        for route in routes:
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
                dead_letter(notification, route, str(error))
            session.save(session.ledger.paid(route.channel, sequence))
        session.save(replace(session.ledger, claim_owner=None, claim_until=None))
    except BaseException:
        # An owed post is not the stream's next notification: when that one is offered again stays as it was.
        session.release(retry_at=session.ledger.retry_at)
        raise


def _deliver_to(
    notification: Notification, route: Route, slack: Slack, session: _Session, *, owed: bool = False
) -> None:
    """Post to one destination. `owed`: a notification held there by quiet hours, shown after the job's later ones
    went elsewhere; whether its post was started is kept apart from the stream's next notification's."""
    if slack.app is None:
        if slack.webhook is None or route.channel != WEBHOOK_DESTINATION:
            raise ValueError(f"route {route.channel}: no Slack app is configured (slack.mode is webhook)")
        slack.webhook(message_for(notification, route))
        return
    app = slack.app
    since = notification.occurred_at - LOOKUP_MARGIN
    message = message_for(notification, route)
    root = session.ledger.roots.get(route.channel)
    if root is None:
        channel_id = slack.channel_id(route.channel)
        ts = None
        if route.channel in session.ledger.root_started:  # An earlier attempt may have posted it.
            ts = app.find(channel_id, notification.id, since=since)
        if ts is None:
            session.save(replace(session.ledger, root_started=session.ledger.root_started | {route.channel}))
            posted = app.post(channel_id, message)
            channel_id, ts = posted.channel_id, posted.ts
        session.save(replace(session.ledger, roots={**session.ledger.roots, route.channel: Root(channel_id, ts)}))
        return
    found = None
    key = owed_key(route.channel, notification.sequence) if owed else route.channel
    if key in (session.ledger.owed_started if owed else session.ledger.started):
        found = app.find(root.channel_id, notification.id, since=since, thread_ts=root.ts)
    if found is None:
        ledger = session.ledger
        session.save(
            replace(ledger, owed_started=ledger.owed_started | {key})
            if owed
            else replace(ledger, started=ledger.started | {key})
        )
        broadcast = notification.event_type is EventType.FAILED
        app.post(root.channel_id, message, thread_ts=root.ts, broadcast=broadcast)
    # The root shows the job's latest state; editing is idempotent, so a retry may simply do it again.
    app.update(root.channel_id, root.ts, slack_message.payload(notification))


def _post_alone(notification: Notification, route: Route, slack: Slack) -> None:
    if slack.app is not None:
        slack.app.post(slack.channel_id(route.channel), message_for(notification, route))
    elif slack.webhook is not None:
        slack.webhook(message_for(notification, route))
