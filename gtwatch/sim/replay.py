"""The replay engine: run the real handlers on the emulator, on a simulated clock, following a scenario.

The contract is docs/scenario-format.md: one JSON line per notification a person receives, then a summary.
"""

from __future__ import annotations

import json
import logging
import math
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from botocore.endpoint import Endpoint
from moto.core.utils import unix_time_millis
from moto.sqs.models import sqs_backends
from watcher import clock, container
from watcher.adapters.mute import MuteStore
from watcher.domain.contract import SLACK_BATCH_SIZE
from watcher.domain.env import Env
from watcher.domain.job import JobKind
from watcher.domain.quiet import quiet_hours_to_json
from watcher.domain.slack_routes import parse_routes, routes_to_json
from watcher.handlers import digest_handler, event_handler, poller_handler, slack_handler

from gtwatch.ops.accounts import accounts_env, with_route_accounts
from gtwatch.ops.mute import mute_job

from . import job_steps
from .emulator import deployment, email, labeling_jobs
from .emulator.accounts import PARTITION, create_spoke_role
from .emulator.deployment import EmulatorMode, FakeLambdaContext, Resources, Routing
from .faults import Faults
from .scenario import Scenario, Step
from .slack_endpoint import SlackAction, SlackEndpoint

# The kinds watched (config `kinds`), comma-separated: Env.KINDS once the watcher reads it (functions/ is not the
# replay's to change).
KINDS_VARIABLE = "GTWATCH_KINDS"
# How much of the handlers' logs `gtwatch replay` shows on standard error (WARNING unless set).
LOG_LEVEL_VARIABLE = "GTWATCH_REPLAY_LOG_LEVEL"
DYNAMODB_READS = {"GetItem", "BatchGetItem", "Query", "Scan", "TransactGetItems"}
DYNAMODB_WRITES = {"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"}
# Lambda retries a failed asynchronous invocation twice, about one and then two minutes later.
EVENT_RETRY_DELAYS = (1, 2)
# The notifier's Slack timeout in replay: a `timeout` fault then costs a second of wall time, not five.
SLACK_TIMEOUT_SECONDS = 1.0
# How long the replay holds a received message in the emulator's queue: it simulates redelivery itself.
HELD_SECONDS = 43200
# `redrive_at_end`: how many rounds of redrive at most (each can meet Slack faults that are still armed).
MAX_REDRIVES = 10
# What wraps each tick's poller run, given the minute and a way to start another run (tests use it for overlaps).
AroundTick = Callable[[int, Callable[[], None]], AbstractContextManager[None]]
# The Slack notifier's Lambda handler (a test may build one with a port or rule swapped: slack_handler.handler).
SlackNotifier = Callable[[dict[str, Any], Any], Any]


@dataclass
class ReplayResult:
    notifications: list[dict[str, Any]] = field(default_factory=list)
    ticks: list[dict[str, Any]] = field(default_factory=list)
    dead_letters: int = 0
    faults_injected: dict[str, int] = field(default_factory=dict)
    events_delivered: int = 0

    def lines(self) -> Iterator[str]:
        for notification in self.notifications:
            yield json.dumps(notification, ensure_ascii=False)
        summary = {
            "summary": True,
            "ticks": self.ticks,
            "dead_letters": self.dead_letters,
            "faults_injected": self.faults_injected,
            "events_delivered": self.events_delivered,
        }
        yield json.dumps(summary)


def run(
    scenario: Scenario,
    *,
    mode: EmulatorMode = "inprocess",
    around_tick: AroundTick | None = None,
    redrive_at_end: bool = False,
    slack_timeout_seconds: float = SLACK_TIMEOUT_SECONDS,
    slack_notifier: SlackNotifier | None = None,
) -> ReplayResult:
    """Replay `scenario`. `around_tick` (a test seam) wraps each tick's poller run, for example to start a second,
    overlapping run in the middle of it; `redrive_at_end` sends the dead-letter queue's messages back once the scenario
    is over, as `gtwatch redrive` would, again after each round that ends with messages dead-lettered, at most
    MAX_REDRIVES times. `slack_notifier` (a test seam) replaces the Slack notifier's handler.
    """
    slack_config = scenario.config.slack
    digest = scenario.config.digest
    email_digest = digest is not None and "email" in digest.channels
    routing = Routing(
        slack_events=scenario.config.slack_events,
        # The email subscriptions take the digest when it is configured for email, as in the stack.
        email_events=(*scenario.config.email_events, *(("digest",) if email_digest else ())),
        slack_mode=slack_config.mode,
        # The routes as the notifier reads them, through the same parser (scenario.Config checked them with it), and
        # narrowed by account ids as the stack writes them.
        slack_routes_json=_routes_json(scenario) if slack_config.routes else None,
    )
    # Slack's clock: the scenario's, plus the Retry-After waits slack_sdk made (simulated, within the minute).
    slack_clock = _SlackClock()
    handler_env = {
        # A number, or JSON by kind (Version 3), as the stack passes config `stall_after_minutes`.
        Env.STALL_AFTER_MINUTES: scenario.config.stall_after_setting(),
        KINDS_VARIABLE: ",".join(scenario.config.kinds),
        Env.SCHEDULE_MINUTES: str(scenario.tick_minutes),
        Env.NAME_CONTAINS: scenario.config.name_contains or "",
        Env.STALL_REPEAT_MINUTES: str(scenario.config.stall_repeat_minutes or ""),
        Env.SLACK_TIMEOUT_SECONDS: str(slack_timeout_seconds),
        Env.QUIET_HOURS: _quiet_hours_json(scenario),
        Env.DIGEST_CHANNELS: ",".join(digest.channels) if digest else "",
        Env.DIGEST_SLACK_CHANNEL: (digest.slack_channel or "") if digest else "",
        Env.DIGEST_TIMEZONE: digest.timezone if digest else "",
        "POWERTOOLS_LOG_LEVEL": "WARNING",
        **_accounts_env(scenario),
    }
    with (
        SlackEndpoint(timeout_hold_seconds=slack_timeout_seconds + 0.5, clock=slack_clock) as slack,
        deployment.deployed(
            mode=mode,
            routing=routing,
            slack_webhook_url=slack.url,
            handler_env=handler_env,
            slack_api_url=slack.api_url,
            slack_bot_token=slack.bot_token,
        ) as res,
        _simulated_clock(scenario) as set_minute,
        Faults(slack, minute=lambda: int((clock.now() - scenario.start).total_seconds() // 60)).installed() as faults,
    ):
        slack_clock.faults = faults
        channels = {route.channel for route in slack_config.routes}
        if digest is not None and digest.slack_channel:
            channels.add(digest.slack_channel)
        # Each line names the channel as the scenario configures it, a name or an ID alike.
        destinations = {slack.add_route_channel(channel): channel for channel in sorted(channels)}
        _logs_to_stderr()
        container.reset()
        # Each spoke's stack is deployed with the hub: its role is there to be assumed from the start.
        for spoke in scenario.config.watched_accounts[1:]:
            create_spoke_role(spoke.id)
        # Deployment is the scenario's start: the stack's custom resource records when the watch began.
        deployment.start_watch()
        replay = _Replay(scenario, res, slack, faults, set_minute, around_tick or _plain_tick)
        replay.notify = slack_notifier or slack_handler.lambda_handler
        replay.destinations = destinations
        return replay.run(redrive_at_end=redrive_at_end)


class _SlackClock:
    """The local Slack's clock in epoch seconds: simulated time plus slack_sdk's simulated Retry-After waits, so
    that a rate-limited client that waited is let through."""

    faults: Faults | None = None

    def __call__(self) -> float:
        waited = self.faults.slack_slept() if self.faults is not None else 0.0
        return clock.now().timestamp() + waited


def _accounts_env(scenario: Scenario) -> dict[str, str]:
    """GTWATCH_ACCOUNTS as the stack writes it (each spoke with its role's ARN) and GTWATCH_REGIONS the home account's
    regions; nothing when the scenario lists no accounts (the home account in us-east-1, as the stack's default)."""
    if scenario.config.accounts is None:
        return {}
    accounts = scenario.config.watched_accounts
    return {Env.ACCOUNTS: accounts_env(accounts, PARTITION), Env.REGIONS: ",".join(accounts[0].regions)}


def _routes_json(scenario: Scenario) -> str:
    routes_json = routes_to_json(parse_routes([route.to_config() for route in scenario.config.slack.routes]))
    narrowed = scenario.config.route_accounts()
    if all(accounts is None for accounts in narrowed):
        return routes_json
    return with_route_accounts(routes_json, narrowed)


def _quiet_hours_json(scenario: Scenario) -> str:
    quiet = scenario.config.quiet_hours
    if quiet is None:
        return ""
    return quiet_hours_to_json(quiet.rule)


def _plain_tick(minute: int, another_run: Callable[[], None]) -> AbstractContextManager[None]:
    return nullcontext()


def _logs_to_stderr() -> None:
    """Standard output carries the notifications; the handlers' Powertools logs go to standard error."""
    logger = logging.getLogger("gtwatch")
    logger.setLevel(os.environ.get(LOG_LEVEL_VARIABLE, "WARNING"))
    for handler in logger.handlers:
        if isinstance(handler, logging.StreamHandler):
            handler.stream = sys.stderr  # Not setStream(): it flushes the old stream, which may be closed.


def _carried_notification(payload: dict[str, Any]) -> dict[str, Any]:
    """The notification a Slack message carries in its metadata (type, job, status, id); None where it has none."""
    carried = ((payload.get("metadata") or {}).get("event_payload")) or {}
    return {
        "type": carried.get("event"),
        "job": carried.get("job"),
        "status": carried.get("status"),
        "id": carried.get("notification_id"),
    }


@contextmanager
def _simulated_clock(scenario: Scenario) -> Iterator[Callable[[int], None]]:
    current = {"minute": 0}
    clock.set_clock(lambda: scenario.moment(current["minute"]))
    # One clock for every kind's API-made changes (sagemaker_jobs reads labeling_jobs' clock).
    labeling_jobs.set_clock(lambda: scenario.moment(current["minute"]))
    try:
        yield lambda minute: current.__setitem__("minute", minute)
    finally:
        clock.set_clock(None)
        labeling_jobs.set_clock(None)


@dataclass
class _InFlight:
    message: dict[str, Any]
    receives: int = 0
    visible_at: int = 0


@dataclass
class _PendingEvent:
    event: dict[str, Any]
    due: int
    attempt: int = 0


class _Replay:
    def __init__(
        self,
        scenario: Scenario,
        resources: Resources,
        slack: SlackEndpoint,
        faults: Faults,
        set_minute: Callable[[int], None],
        around_tick: AroundTick,
    ) -> None:
        self.scenario = scenario
        self.resources = resources
        self.slack = slack
        self.faults = faults
        self.set_minute = set_minute
        self.around_tick = around_tick
        self.notify: SlackNotifier = slack_handler.lambda_handler
        self.result = ReplayResult()
        self.destinations: dict[str, str] = {}  # channel ID -> the channel as configured
        self.in_flight: list[_InFlight] = []
        self.events: list[_PendingEvent] = []
        self.sqs = deployment.client("sqs")
        self.visibility_minutes = max(1, deployment.VISIBILITY_TIMEOUT_SECONDS // 60)
        # Notification id -> the document the watcher published (read from the Slack queue and the email deliveries):
        # each output line says from it where the notification's job lives.
        self.documents: dict[str, dict[str, Any]] = {}

    def run(self, *, redrive_at_end: bool) -> ReplayResult:
        steps = self.scenario.ordered_steps()
        duration = self.scenario.duration
        minute = redrives = 0
        # After the last tick, queued work (Slack retries, event retries) still runs out, as it would in AWS.
        while True:
            if minute > duration and not self.in_flight and not self.events:
                if not (redrive_at_end and redrives < MAX_REDRIVES and self._redrive()):
                    break
                redrives += 1
                self._receive_new(minute)
            self._minute(minute, steps, tick=minute <= duration and minute % self.scenario.tick_minutes == 0)
            minute += 1
        self.result.faults_injected = self.faults.counts()
        return self.result

    def _minute(self, minute: int, steps: list[Step], *, tick: bool) -> None:
        self.set_minute(minute)
        for step in (step for step in steps if step.at_minute == minute):
            self._apply(step, minute)
        delivered = self._deliver_events(minute)
        if tick:
            self._tick(minute)
        digest = self._digest_due(minute)
        if digest:
            self._send_digest(minute)
        self._collect_email(minute)
        # Only a handler run can have queued something; other minutes only need the retries that fall due.
        if tick or delivered or digest or any(entry.visible_at <= minute for entry in self.in_flight):
            self._work_queue(minute)

    def _digest_due(self, minute: int) -> bool:
        """EventBridge Scheduler's cron at `at` in the digest's time zone: the minute whose local time it is. On a
        fall-back day that local time comes twice and Scheduler runs once, at the first (fold 0); on a spring-forward
        day a time that does not exist is no minute's, and that day has no run (docs.aws.amazon.com/scheduler/latest/
        UserGuide/schedule-types.html, "Daylight savings time")."""
        digest = self.scenario.config.digest
        if digest is None:
            return False
        local = self.scenario.moment(minute).astimezone(ZoneInfo(digest.timezone))
        return local.strftime("%H:%M") == digest.at and local.fold == 0

    def _send_digest(self, minute: int) -> None:
        """The digest function, as Scheduler invokes it. It publishes; the email subscriptions and the Slack queue
        (worked in this same minute) deliver."""
        try:
            digest_handler.lambda_handler({"source": "aws.scheduler"}, FakeLambdaContext("gtwatch-digest"))
        except Exception as error:  # No retry (the function's retry attempts are 0); the digest-errors alarm fires.
            print(f"digest failed at minute {minute}: {type(error).__name__}: {error}", file=sys.stderr)

    def _apply(self, step: Step, minute: int) -> None:
        at = self.scenario.moment(minute)
        if step.create is not None:
            job_steps.apply_create(step.create, at)
        elif step.update is not None:
            job_steps.apply_update(step.update, at)
        elif step.log is not None:
            job_steps.apply_log(step.log, at)
        elif step.fault is not None:
            fault = step.fault
            self.faults.arm(
                fault.target,
                fault.mode,
                fault.count,
                until_minute=fault.until_minute,
                account=fault.account,
                region=fault.region,
            )
        elif step.mute is not None:
            # What `gtwatch mute JOB --until ... --events ...` stores, through the same code.
            account, region = step.mute.place
            mute_job(
                MuteStore(deployment.client("dynamodb"), self.resources.table_name),
                region=region,
                account=None if account == deployment.ACCOUNT_ID else account,
                name=step.mute.name,
                until=self.scenario.moment(step.mute.until_minute),
                events=frozenset(step.mute.events),
                by="replay",
                now=at,
                kind=JobKind(step.mute.kind),
            )
        elif step.state_change_event is not None:
            event = job_steps.state_change_event(step.state_change_event, at)
            if self._forwarded(step.state_change_event.place):
                self.events.extend(
                    _PendingEvent(event=event, due=minute) for _ in range(step.state_change_event.duplicate)
                )

    def _forwarded(self, place: tuple[str, str]) -> bool:
        """Whether an event raised in (account, region) reaches the event handler: the hub's bus takes the listed
        accounts' events, forwarded by a rule in each of their listed regions (the hub's own region's events reach
        its default bus); an event anywhere else never leaves its account and region."""
        account, region = place
        return any(
            listed.id == account and region in listed.regions for listed in self.scenario.config.watched_accounts
        )

    def _deliver_events(self, minute: int) -> int:
        """The event handler, invoked asynchronously: a failed invocation is retried twice, then dropped."""
        due = [pending for pending in self.events if pending.due <= minute]
        for pending in due:
            self.events.remove(pending)
            self.result.events_delivered += 1
            try:
                event_handler.lambda_handler(pending.event, FakeLambdaContext("gtwatch-events"))
            except Exception as error:
                print(f"event handler failed at minute {minute}: {error}", file=sys.stderr)
                if pending.attempt < len(EVENT_RETRY_DELAYS):
                    delay = EVENT_RETRY_DELAYS[pending.attempt]
                    self.events.append(_PendingEvent(pending.event, minute + delay, pending.attempt + 1))
        return len(due)

    def _tick(self, minute: int) -> None:
        with count_requests() as counts:
            started = time.perf_counter()
            with self.around_tick(minute, self._invoke_poller):
                self._invoke_poller()
            elapsed = (time.perf_counter() - started) * 1000
        self.result.ticks.append(
            {
                "minute": minute,
                "sagemaker_calls": counts.get("sagemaker", 0),
                "dynamodb_reads": counts.get("dynamodb_reads", 0),
                "dynamodb_writes": counts.get("dynamodb_writes", 0),
                "sns_publishes": counts.get("sns", 0),
                "duration_ms": round(elapsed, 1),
            }
        )

    def _invoke_poller(self) -> None:
        try:
            poller_handler.lambda_handler(
                {"source": "aws.events", "detail-type": "Scheduled Event"}, FakeLambdaContext("gtwatch-poller")
            )
        except Exception as error:  # A failed run is made good by the next one, as on AWS.
            print(f"poller run failed: {type(error).__name__}: {error}", file=sys.stderr)
        finally:
            # With metrics disabled, Powertools never clears the set, and at 100 values it prints it anyway
            # (to standard output, which is the replay's). Each Lambda invocation starts empty; so does this one.
            poller_handler.metrics.clear_metrics()

    def _collect_email(self, minute: int) -> None:
        for delivery in email.take():
            self.result.notifications.append(
                {
                    "minute": minute,
                    "channel": "email",
                    "type": delivery.attributes.get("event_type"),
                    "job": delivery.attributes.get("job_name"),
                    "status": delivery.attributes.get("status"),
                    "id": delivery.attributes.get("notification_id"),
                    **job_steps.job_whereabouts(delivery.document),
                    "subject": delivery.subject,
                    "message": delivery.message,
                }
            )

    def _work_queue(self, minute: int) -> None:
        """The Slack notifier reading its queue: batches of up to 10, retries after the visibility timeout."""
        self._receive_new(minute)
        due = [entry for entry in self.in_flight if entry.visible_at <= minute]
        for start in range(0, len(due), SLACK_BATCH_SIZE):  # The stack's event source batch size.
            self._invoke_notifier(due[start : start + SLACK_BATCH_SIZE], minute)

    def _receive_new(self, minute: int) -> None:
        while True:
            response = self.sqs.receive_message(
                QueueUrl=self.resources.slack_queue_url,
                MaxNumberOfMessages=10,
                VisibilityTimeout=HELD_SECONDS,  # Redelivery is simulated here, in scenario minutes.
                MessageAttributeNames=["All"],
                AttributeNames=["All"],
            )
            messages = response.get("Messages", [])
            if not messages:
                return
            for message in messages:
                self._remember_document(message["Body"])
            self.in_flight.extend(_InFlight(message=message, visible_at=minute) for message in messages)

    def _remember_document(self, body: str) -> None:
        try:
            document = json.loads(body)
        except ValueError:
            return
        if isinstance(document, dict) and isinstance(document.get("id"), str):
            self.documents[document["id"]] = document

    def _whereabouts(self, notification_id: object) -> dict[str, str | None]:
        return job_steps.job_whereabouts(
            self.documents.get(notification_id) if isinstance(notification_id, str) else None
        )

    def _invoke_notifier(self, batch: list[_InFlight], minute: int) -> None:
        for entry in batch:
            entry.receives += 1
        event = {"Records": [self._sqs_record(entry) for entry in batch]}
        posted, acted = len(self.slack.received), len(self.slack.actions)
        dead_before = self._dead_letter_count()
        try:
            response = self.notify(event, FakeLambdaContext("gtwatch-slack-notifier"))
            failed = {item["itemIdentifier"] for item in response.get("batchItemFailures", [])}
        except Exception as error:  # The whole batch failed: every message comes back.
            print(f"Slack notifier failed at minute {minute}: {error}", file=sys.stderr)
            failed = {entry.message["MessageId"] for entry in batch}
        self.result.dead_letters += self._dead_letter_count() - dead_before
        self._record_webhook_posts(self.slack.received[posted:], minute)
        self._record_app_actions(self.slack.actions[acted:], minute)
        for entry in batch:
            if entry.message["MessageId"] not in failed:
                self._delete(entry)
            elif entry.receives >= deployment.MAX_RECEIVES:
                self.sqs.send_message(QueueUrl=self.resources.dead_letter_queue_url, MessageBody=entry.message["Body"])
                self.result.dead_letters += 1
                self._delete(entry)
            else:
                entry.visible_at = minute + self._retry_minutes(entry)

    def _retry_minutes(self, entry: _InFlight) -> int:
        """When SQS offers a failed message again: the visibility the notifier set for it (its back-off), or the
        queue's visibility timeout. Read from the emulator's queue, then held there again for the replay."""
        message = self._emulated_message(self.resources.slack_queue_url, entry.message["MessageId"])
        if message is None:
            return self.visibility_minutes
        seconds_left = float(message.visible_at - unix_time_millis()) / 1000
        message.change_visibility(HELD_SECONDS)
        if seconds_left > HELD_SECONDS - 60:  # Untouched since the replay received it.
            return self.visibility_minutes
        return max(1, math.ceil(seconds_left / 60))

    def _emulated_message(self, queue_url: str, message_id: str) -> Any:
        queue = sqs_backends[deployment.ACCOUNT_ID][deployment.REGION].queues[queue_url.rsplit("/", 1)[-1]]
        return next((message for message in queue._messages if message.id == message_id), None)

    def _dead_letter_count(self) -> int:
        name = self.resources.dead_letter_queue_url.rsplit("/", 1)[-1]
        return len(sqs_backends[deployment.ACCOUNT_ID][deployment.REGION].queues[name]._messages)

    def _redrive(self) -> int:
        from gtwatch.ops.redrive import redrive

        # No long poll: the emulator's queue is local, and a wait would be wall-clock time.
        moved = redrive(self.sqs, self.resources.dead_letter_queue_url, self.resources.slack_queue_url, wait_seconds=0)
        return len(moved)

    def _delete(self, entry: _InFlight) -> None:
        self.sqs.delete_message(QueueUrl=self.resources.slack_queue_url, ReceiptHandle=entry.message["ReceiptHandle"])
        self.in_flight.remove(entry)

    def _record_webhook_posts(self, payloads: list[dict[str, Any]], minute: int) -> None:
        """Webhook posts, each matched to its notification by the id it carries in its metadata."""
        for payload in payloads:
            carried = _carried_notification(payload)
            where = self._whereabouts(carried["id"])
            self.result.notifications.append(
                {"minute": minute, "channel": "slack", **carried, **where, "payload": payload}
            )

    def _record_app_actions(self, actions: list[SlackAction], minute: int) -> None:
        """What Slack carried out in app mode: posts, thread replies and edits of a root, one line each."""
        for action in actions:
            carried = _carried_notification(action.payload)
            line: dict[str, Any] = {
                "minute": minute,
                "channel": "slack",
                **carried,
                **self._whereabouts(carried["id"]),
                "destination": self.destinations.get(action.channel_id, action.channel_name),
                "action": action.action,
                "ts": action.ts,
            }
            if action.action != "post":
                line["thread"] = action.thread_ts if action.action == "reply" else action.ts
            self.result.notifications.append({**line, "payload": action.payload})

    def _sqs_record(self, entry: _InFlight) -> dict[str, Any]:
        return deployment.sqs_record(entry.message, self.resources.slack_queue_arn, receives=entry.receives)


_counting = threading.local()
_original_create_request = Endpoint.create_request


def _counting_create_request(self: Endpoint, params: Any, operation_model: Any = None) -> Any:
    counts = getattr(_counting, "counts", None)
    if counts is not None and operation_model is not None:
        service = operation_model.service_model.service_name
        if service == "dynamodb":
            if operation_model.name in DYNAMODB_READS:
                service = "dynamodb_reads"
            elif operation_model.name in DYNAMODB_WRITES:
                service = "dynamodb_writes"
        counts[service] = counts.get(service, 0) + 1
    return _original_create_request(self, params, operation_model)


@contextmanager
def count_requests() -> Iterator[dict[str, int]]:
    """Count every HTTP request the calling thread's clients make (retries included), by service."""
    setattr(Endpoint, "create_request", _counting_create_request)  # noqa: B010 - botocore's hook point
    counts: dict[str, int] = {}
    _counting.counts = counts
    try:
        yield counts
    finally:
        _counting.counts = None
