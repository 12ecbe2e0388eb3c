"""Lambda handler of the Slack queue: deliver each message, map its outcome to SQS and to Lambda's answer (alarms)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any, assert_never

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.batch import BatchProcessor, process_partial_response
from aws_lambda_powertools.utilities.batch import EventType as BatchEventType
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from watcher import clock
from watcher.domain.slack_outcomes import Delivered, Dropped, Failed, Misconfigured, RejectedForGood, RetryIn
from watcher.slack_notifier import cold_start, message_from
from watcher.usecases.slack_delivery import ROUTE_ATTRIBUTE, Attempt, Notifier, deliver_message

logger = Logger(service="gtwatch")
# With ReportBatchItemFailures, listing every record as failed retries them all, as raising would, but says which.
processor = BatchProcessor(event_type=BatchEventType.SQS, raise_on_entire_batch_failure=False)
ALARMS = ("Slack refused gtwatch's setup", "Slack delivery failed", "Slack delivery lags")


class NotDelivered(Exception): ...  # The message stays in the queue (its record fails).


def handler(
    adapt: Callable[[Notifier], Notifier] = lambda notifier: notifier,
) -> Callable[[dict[str, Any], LambdaContext], PartialItemFailureResponse]:
    """The notifier's Lambda handler; `adapt` (tests only) swaps one of the delivery's ports or rules."""

    @logger.inject_lambda_context(clear_state=True)
    def handle(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
        kept = cold_start()  # settings first: a missing variable fails the invocation before any record is read
        notifier, owner, alarms = adapt(kept.notifier), uuid.uuid4().hex, {kind: list[str]() for kind in ALARMS}

        def deliver(record: SQSRecord) -> None:
            logger.append_keys(message_id=record.message_id, notification_id=None)
            try:
                item = message_from(record.body)
            except (ValueError, KeyError, TypeError, AttributeError) as error:  # Never will parse: processed.
                logger.error("Skipping a malformed notification", extra={"error": f"{type(error).__name__}: {error}"})
                return
            logger.append_keys(notification_id=item.id)
            receives = int(record.attributes.approximate_receive_count or 1)
            attempt = Attempt.of(owner, clock.now(), receives, context.get_remaining_time_in_millis)
            redriven = record.message_attributes[ROUTE_ATTRIBUTE]  # Indexing: Powertools wraps it on item access.
            outcome = deliver_message(item, notifier, attempt, redriven_to=redriven.string_value if redriven else None)
            match outcome:
                case Delivered() | RejectedForGood() | Dropped():
                    return
                case RetryIn(seconds=seconds) | Failed(seconds=seconds) | Misconfigured(retry_in=int() as seconds):
                    kept.queue.retry_in(record.receipt_handle, seconds)
                case Misconfigured():  # Tried once (a test notification): deleted, so that failing does not retry it.
                    kept.queue.delete(record.receipt_handle)
                case _:
                    assert_never(outcome)
            if isinstance(outcome, Misconfigured | Failed):
                alarms[ALARMS[0] if isinstance(outcome, Misconfigured) else ALARMS[1]].append(outcome.reason)
            if isinstance(outcome, RetryIn | Failed) and outcome.lagging:
                alarms[ALARMS[2]].append(outcome.lagging)
            if not isinstance(outcome, Misconfigured) or outcome.retry_in is not None:
                raise NotDelivered(outcome.reason)

        response = process_partial_response(event=event, record_handler=deliver, processor=processor, context=context)
        if any(alarms.values()):  # Failing the invocation makes the alarm fire; it would bring back every message.
            failed = {item["itemIdentifier"] for item in response["batchItemFailures"]}
            for record in event.get("Records", []):
                if record.get("messageId") not in failed:
                    kept.queue.delete(SQSRecord(record).receipt_handle)
            raise RuntimeError(next(f"{kind}: {problems[0]}" for kind, problems in alarms.items() if problems))
        return response

    return handle


lambda_handler = handler()
