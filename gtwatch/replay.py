"""The replay engine: run the real handlers on the emulator, on a simulated clock, following a scenario.

The contract is ../shared/scenario-format.md: one JSON line per notification a person receives, then a summary.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from botocore.endpoint import Endpoint
from watcher import clock, poller_handler, slack_handler

from .emulator import deployment, email, labeling_jobs
from .emulator.deployment import EmulatorMode, FakeLambdaContext, Resources, Routing
from .scenario import Scenario, ScenarioError, Step
from .slack_endpoint import SlackEndpoint

UNSUPPORTED_STEPS = {"fault", "state_change_event"}
DYNAMODB_READS = {"GetItem", "BatchGetItem", "Query", "Scan", "TransactGetItems"}
DYNAMODB_WRITES = {"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"}


@dataclass
class ReplayResult:
    notifications: list[dict[str, Any]] = field(default_factory=list)
    ticks: list[dict[str, Any]] = field(default_factory=list)
    dead_letters: int = 0

    def lines(self) -> Iterator[str]:
        for notification in self.notifications:
            yield json.dumps(notification, ensure_ascii=False)
        yield json.dumps({"summary": True, "ticks": self.ticks, "dead_letters": self.dead_letters})


def check_supported(scenario: Scenario) -> None:
    for index, step in enumerate(scenario.steps):
        if step.action in UNSUPPORTED_STEPS:
            raise ScenarioError(f"steps[{index}].{step.action}: not supported yet (planned with the reliability work)")


def run(scenario: Scenario, *, mode: EmulatorMode = "inprocess") -> ReplayResult:
    check_supported(scenario)
    routing = Routing(slack_events=scenario.config.slack_events, email_events=scenario.config.email_events)
    handler_env = {
        "GTWATCH_STALL_AFTER_MINUTES": str(scenario.config.stall_after_minutes),
        "GTWATCH_SCHEDULE_MINUTES": str(scenario.tick_minutes),
        "GTWATCH_NAME_CONTAINS": scenario.config.name_contains or "",
        "GTWATCH_STALL_REPEAT_MINUTES": str(scenario.config.stall_repeat_minutes or ""),
        "POWERTOOLS_LOG_LEVEL": "WARNING",
    }
    with (
        SlackEndpoint() as slack,
        deployment.deployed(mode=mode, routing=routing, slack_webhook_url=slack.url, handler_env=handler_env) as res,
        _simulated_clock(scenario) as set_minute,
    ):
        _logs_to_stderr()
        poller_handler.reset()
        slack_handler.reset()
        return _Replay(scenario, res, slack, set_minute).run()


def _logs_to_stderr() -> None:
    """Standard output carries the notifications; the handlers' Powertools logs go to standard error."""
    logger = logging.getLogger("gtwatch")
    logger.setLevel(os.environ.get("GTWATCH_REPLAY_LOG_LEVEL", "WARNING"))
    for handler in logger.handlers:
        if isinstance(handler, logging.StreamHandler):
            handler.stream = sys.stderr  # Not setStream(): it flushes the old stream, which may be closed.


@contextmanager
def _simulated_clock(scenario: Scenario) -> Iterator[Callable[[int], None]]:
    current = {"minute": 0}
    clock.set_clock(lambda: scenario.moment(current["minute"]))
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


class _Replay:
    def __init__(self, scenario: Scenario, resources: Resources, slack: SlackEndpoint, set_minute: Any) -> None:
        self.scenario = scenario
        self.resources = resources
        self.slack = slack
        self.set_minute = set_minute
        self.result = ReplayResult()
        self.in_flight: list[_InFlight] = []
        self.sqs = deployment.client("sqs")
        self.visibility_minutes = max(1, deployment.VISIBILITY_TIMEOUT_SECONDS // 60)

    def run(self) -> ReplayResult:
        steps = self.scenario.ordered_steps()
        duration = self.scenario.duration
        minute = 0
        # After the last tick, queued retries still run out, as they would in AWS.
        while minute <= duration or self.in_flight:
            self.set_minute(minute)
            for step in (step for step in steps if step.at_minute == minute):
                self._apply(step, minute)
            if minute <= duration and minute % self.scenario.tick_minutes == 0:
                self._tick(minute)
            self._collect_email(minute)
            self._work_queue(minute)
            minute += 1
        return self.result

    def _apply(self, step: Step, minute: int) -> None:
        at = self.scenario.moment(minute)
        if step.create is not None:
            job = step.create
            labeling_jobs.put_labeling_job(
                region=deployment.REGION,
                name=job.name,
                status=job.status.value,
                counters=job.counters.to_api(),
                failure_reason=job.failure_reason,
                output_uri=job.output,
                workteam_arn=job.workteam_arn,
                at=at,
            )
        elif step.update is not None:
            change = step.update
            labeling_jobs.update_labeling_job(
                region=deployment.REGION,
                name=change.name,
                at=at,
                status=None if change.status is None else change.status.value,
                counters=None if change.counters is None else change.counters.to_api(),
                failure_reason=change.failure_reason,
                output_uri=change.output,
            )

    def _tick(self, minute: int) -> None:
        with _count_requests() as counts:
            started = time.perf_counter()
            try:
                poller_handler.lambda_handler(
                    {"source": "aws.events", "detail-type": "Scheduled Event"}, FakeLambdaContext("gtwatch-poller")
                )
            except Exception as error:  # A failed run is retried by the next tick, as on AWS.
                print(f"poller run at minute {minute} failed: {error}", file=sys.stderr)
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

    def _collect_email(self, minute: int) -> None:
        for delivery in email.take():
            self.result.notifications.append(
                {
                    "minute": minute,
                    "channel": "email",
                    "type": delivery.attributes.get("event_type"),
                    "job": delivery.attributes.get("job_name"),
                    "status": delivery.attributes.get("status"),
                    "subject": delivery.subject,
                    "message": delivery.message,
                }
            )

    def _work_queue(self, minute: int) -> None:
        """The Slack notifier reading its queue: batches of up to 10, retries after the visibility timeout."""
        self._receive_new(minute)
        due = [entry for entry in self.in_flight if entry.visible_at <= minute]
        for start in range(0, len(due), 10):
            self._invoke_notifier(due[start : start + 10], minute)

    def _receive_new(self, minute: int) -> None:
        while True:
            response = self.sqs.receive_message(
                QueueUrl=self.resources.slack_queue_url,
                MaxNumberOfMessages=10,
                VisibilityTimeout=43200,  # Redelivery is simulated here, in scenario minutes.
                MessageAttributeNames=["All"],
                AttributeNames=["All"],
            )
            messages = response.get("Messages", [])
            if not messages:
                return
            self.in_flight.extend(_InFlight(message=message, visible_at=minute) for message in messages)

    def _invoke_notifier(self, batch: list[_InFlight], minute: int) -> None:
        for entry in batch:
            entry.receives += 1
        event = {"Records": [self._sqs_record(entry) for entry in batch]}
        already = len(self.slack.received)
        response = slack_handler.lambda_handler(event, FakeLambdaContext("gtwatch-slack-notifier"))
        failed = {item["itemIdentifier"] for item in response.get("batchItemFailures", [])}
        self._record_slack_posts(self.slack.received[already:], batch, minute)
        for entry in batch:
            if entry.message["MessageId"] not in failed:
                self._delete(entry)
            elif entry.receives >= deployment.MAX_RECEIVES:
                self.sqs.send_message(QueueUrl=self.resources.dead_letter_queue_url, MessageBody=entry.message["Body"])
                self.result.dead_letters += 1
                self._delete(entry)
            else:
                entry.visible_at = minute + self.visibility_minutes

    def _delete(self, entry: _InFlight) -> None:
        self.sqs.delete_message(QueueUrl=self.resources.slack_queue_url, ReceiptHandle=entry.message["ReceiptHandle"])
        self.in_flight.remove(entry)

    def _record_slack_posts(self, payloads: list[dict[str, Any]], batch: list[_InFlight], minute: int) -> None:
        documents = []
        for entry in batch:
            try:
                documents.append(json.loads(entry.message["Body"]))
            except json.JSONDecodeError:
                continue
        for payload in payloads:
            text = json.dumps(payload, ensure_ascii=False)
            document = next((doc for doc in documents if isinstance(doc, dict) and str(doc.get("id")) in text), {})
            job = document.get("job", {})
            self.result.notifications.append(
                {
                    "minute": minute,
                    "channel": "slack",
                    "type": document.get("event_type"),
                    "job": job.get("name"),
                    "status": job.get("status"),
                    "payload": payload,
                }
            )

    def _sqs_record(self, entry: _InFlight) -> dict[str, Any]:
        message = entry.message
        attributes = {
            name: {
                "stringValue": value.get("StringValue"),
                "binaryValue": value.get("BinaryValue"),
                "stringListValues": [],
                "binaryListValues": [],
                "dataType": value["DataType"],
            }
            for name, value in message.get("MessageAttributes", {}).items()
        }
        return {
            "messageId": message["MessageId"],
            "receiptHandle": message["ReceiptHandle"],
            "body": message["Body"],
            "attributes": {
                "ApproximateReceiveCount": str(entry.receives),
                "SentTimestamp": message.get("Attributes", {}).get("SentTimestamp", "0"),
                "SenderId": deployment.ACCOUNT_ID,
                "ApproximateFirstReceiveTimestamp": message.get("Attributes", {}).get("SentTimestamp", "0"),
            },
            "messageAttributes": attributes,
            "md5OfBody": message.get("MD5OfBody", ""),
            "eventSource": "aws:sqs",
            "eventSourceARN": self.resources.slack_queue_arn,
            "awsRegion": deployment.REGION,
        }


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
def _count_requests() -> Iterator[dict[str, int]]:
    """Count every HTTP request the calling thread's clients make (retries included), by service."""
    Endpoint.create_request = _counting_create_request
    counts: dict[str, int] = {}
    _counting.counts = counts
    try:
        yield counts
    finally:
        _counting.counts = None
