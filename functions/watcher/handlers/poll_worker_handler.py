"""Lambda handler of the poll-work queue: one batch of a run fanned out (some watched account-region pairs), polled
as the poller polls a run inline, with the same log lines and metrics."""

from __future__ import annotations

import os
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.utilities.batch import BatchProcessor, process_partial_response
from aws_lambda_powertools.utilities.batch import EventType as BatchEventType
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from watcher import clock, composition
from watcher.domain.poll_work import parse_poll_work
from watcher.poll_reporting import report_run
from watcher.usecases.poll import poll_work_scopes
from watcher.usecases.watch import Run

logger = Logger(service="gtwatch")
metrics = Metrics(namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "Gtwatch"), service="gtwatch")
# A batch that fails is listed as failed: SQS offers it again after the visibility timeout, then dead-letters it.
processor = BatchProcessor(event_type=BatchEventType.SQS, raise_on_entire_batch_failure=False)


class BatchFailed(Exception): ...  # Some scope of the batch could not be read: the message is offered again.


@metrics.log_metrics
@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    from watcher.settings import PollerSettings, settings  # pydantic loads at the cold start, not at every import

    config = settings(PollerSettings)

    def poll(record: SQSRecord) -> None:
        work = parse_poll_work(record.body)  # ValueError: failed, and dead-lettered after its receives
        run = Run.starting(clock.now(), seconds_left=context.get_remaining_time_in_millis() / 1000)
        outcome, gone = poll_work_scopes(
            work,
            config.watched_scopes,
            sources=composition.job_sources(config),
            watcher=composition.watcher(config, run),
        )
        if gone:
            logger.warning("Pairs no longer watched, left alone", extra={"pairs": [str(pair) for pair in gone]})
        report_run(outcome, run, logger, metrics, success_share=work.success_share)
        if outcome.failed:
            raise BatchFailed(f"watcher run failed in {', '.join(outcome.failed)}; see the log for each")

    return process_partial_response(event=event, record_handler=poll, processor=processor, context=context)
