"""`gtwatch redrive` and the event handler's refusals, on the emulator."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from watcher import container
from watcher.domain.contract import EVENT_TYPES, STATE_CHANGE_DETAIL_TYPE, STATE_CHANGE_SOURCE
from watcher.handlers import event_handler, poller_handler

from gtwatch.cli import main
from gtwatch.sim.emulator import deployment, labeling_jobs
from gtwatch.sim.emulator.deployment import FakeLambdaContext, Resources, Routing

ALL = EVENT_TYPES


@pytest.fixture(params=["inprocess", "server"])
def resources(request: pytest.FixtureRequest) -> Iterator[Resources]:
    routing = Routing(slack_events=ALL, email_events=ALL)
    with deployment.deployed(
        mode=request.param, routing=routing, slack_webhook_url="http://127.0.0.1:9/x", handler_env={}
    ) as deployed:
        container.reset()
        yield deployed
        container.reset()


def test_redrive_moves_every_dead_letter_back_with_its_attributes(resources, capsys):
    sqs = deployment.client("sqs")
    for index in range(13):
        sqs.send_message(
            QueueUrl=resources.dead_letter_queue_url,
            MessageBody=f'{{"n": {index}}}',
            MessageAttributes={"event_type": {"DataType": "String", "StringValue": "failed"}},
        )
    queues = ["--dead-letter-queue-url", resources.dead_letter_queue_url, "--queue-url", resources.slack_queue_url]
    code = main(["redrive", *queues])
    assert code == 0
    assert "Moved 13 message(s)" in capsys.readouterr().out
    moved: list[dict[str, Any]] = []
    while batch := sqs.receive_message(
        QueueUrl=resources.slack_queue_url, MaxNumberOfMessages=10, MessageAttributeNames=["All"]
    ).get("Messages"):
        moved += batch
        for message in batch:
            sqs.delete_message(QueueUrl=resources.slack_queue_url, ReceiptHandle=message["ReceiptHandle"])
    assert sorted(message["Body"] for message in moved) == sorted(f'{{"n": {i}}}' for i in range(13))
    assert all(m["MessageAttributes"]["event_type"]["StringValue"] == "failed" for m in moved)
    assert (
        sqs.get_queue_attributes(
            QueueUrl=resources.dead_letter_queue_url, AttributeNames=["ApproximateNumberOfMessages"]
        )["Attributes"]["ApproximateNumberOfMessages"]
        == "0"
    )


def test_redrive_needs_both_queues(capsys):
    assert main(["redrive", "--dead-letter-queue-url", "https://sqs.example/dlq"]) == 2
    assert "--queue-url" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("event", "reason"),
    [
        ("not an object", "event: expected an object"),
        ({"source": "aws.ec2"}, "source"),
        ({"source": "aws.sagemaker", "detail-type": "SageMaker Training Job State Change"}, "detail-type"),
        ({"source": STATE_CHANGE_SOURCE, "detail-type": STATE_CHANGE_DETAIL_TYPE}, "resources"),
        (
            {
                "source": "aws.sagemaker",
                "detail-type": STATE_CHANGE_DETAIL_TYPE,
                "resources": ["arn:aws:sagemaker:us-east-1:123456789012:training-job/x"],
            },
            "resources[0]",
        ),
    ],
)
def test_a_malformed_event_is_logged_and_skipped_without_error(resources, event, reason):
    result = event_handler.lambda_handler(event, FakeLambdaContext("gtwatch-events"))
    assert reason in result["ignored"]


def event_for(arn: str) -> dict[str, Any]:
    return {
        "source": "aws.sagemaker",
        "detail-type": STATE_CHANGE_DETAIL_TYPE,
        "resources": [arn],
        "detail": {"LabelingJobStatus": "Completed"},
    }


def test_events_before_the_baseline_for_other_regions_and_for_unknown_jobs_are_ignored(resources):
    from datetime import UTC, datetime

    arn = labeling_jobs.put_labeling_job(
        region="us-east-1", name="Cats-V1", status="Completed", at=datetime(2026, 1, 1, tzinfo=UTC)
    )
    context = FakeLambdaContext("gtwatch-events")
    assert event_handler.lambda_handler(event_for(arn), context) == {"ignored": "not watching yet"}
    poller_handler.lambda_handler({}, FakeLambdaContext("gtwatch-poller"))
    other_region = "arn:aws:sagemaker:eu-west-1:123456789012:labeling-job/cats-v1"
    assert event_handler.lambda_handler(event_for(other_region), context) == {"ignored": "not watched"}
    ghost = "arn:aws:sagemaker:us-east-1:123456789012:labeling-job/ghost"
    assert event_handler.lambda_handler(event_for(ghost), context) == {"ignored": "unknown job"}
    # The ARN spells the name in lower case; the job is found all the same, and it was already finished at the
    # baseline, so the event says nothing new.
    report = event_handler.lambda_handler(event_for(arn), context)
    assert report["published"] == [] and report["jobs_seen"] == 1
