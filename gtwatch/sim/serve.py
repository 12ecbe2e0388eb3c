"""`gtwatch emulator`: the gtwatch stack deployed on the local emulator and left running, so that the operator
commands (status, mute, test-notify, redrive) can be tried without an AWS account.

The stack is deployed as the replay deploys it (the state table, topic, Slack queue and its dead-letter queue, email
subscription, the functions' environment), configured by ./cdk.json where it can be (stack name, name filter, events
per channel, stall rules), and registered as a CloudFormation stack with the outputs the commands read. Slack is a
local incoming webhook. A few labeling jobs have two and a half hours of history, replayed at start on a simulated
clock; then, every tick, the jobs move on, the poller runs and the Slack notifier works its queue, as the deployed
functions would, and what a person would receive is printed.
"""

from __future__ import annotations

import json
import logging
import math
import os
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TextIO

from watcher import clock, container
from watcher.domain.contract import (
    OUTPUT_ALARM_TOPIC_ARN,
    OUTPUT_CONFIG,
    OUTPUT_DEAD_LETTER_QUEUE_URL,
    OUTPUT_SLACK_QUEUE_URL,
    OUTPUT_SLACK_WEBHOOK_SECRET_NAME,
    OUTPUT_STATE_TABLE,
    OUTPUT_TOPIC_ARN,
    SLACK_BATCH_SIZE,
)
from watcher.domain.env import Env
from watcher.handlers import poller_handler, slack_handler

from gtwatch.ops.config import LocalConfig, load_local_config
from gtwatch.ops.kinds import kinds_env, stall_after_env

from .emulator import deployment, email, labeling_jobs
from .emulator.deployment import FakeLambdaContext, Resources, Routing
from .slack_endpoint import SlackEndpoint

# How far back the seeded history starts, and the simulated poller's schedule through it.
HISTORY = timedelta(minutes=150)
HISTORY_STEP = timedelta(minutes=5)
# The stack's alarms the emulator has (status lists them); the dead-letter one is in ALARM while a message waits.
ALARMS = ("poller-errors", "poller-not-running", "slack-dead-letters")
DEAD_LETTERED_JOB = "fish-batch-1"


def counters(labeled: int, total: int) -> dict[str, int]:
    return {
        "TotalLabeled": labeled,
        "HumanLabeled": labeled,
        "MachineLabeled": 0,
        "FailedNonRetryableError": 0,
        "Unlabeled": total - labeled,
    }


@dataclass
class _Job:
    """A seeded labeling job: `total` objects, `per_tick` more labeled at each live tick from `moves_from_tick` on."""

    name: str
    total: int
    labeled: int
    per_tick: int
    appears_at_tick: int = 0
    moves_from_tick: int = 0


# The live part of the world. cats and dogs label steadily and complete; birds, stalled in the seeded history,
# resumes at tick 3; owls appears at tick 2.
LIVE_JOBS = (
    _Job("cats-batch-1", total=2000, labeled=1200, per_tick=40),
    _Job("dogs-batch-2", total=500, labeled=100, per_tick=25),
    _Job("birds-batch-1", total=1000, labeled=300, per_tick=50, moves_from_tick=3),
    _Job("owls-batch-1", total=800, labeled=0, per_tick=20, appears_at_tick=2),
)


@dataclass
class Served:
    """A running emulated stack: where it listens, and what to export so that the operator commands reach it."""

    endpoint: str
    stack_name: str
    resources: Resources
    tick_seconds: float
    notes: list[str] = field(default_factory=list)
    tick: Callable[[], None] = lambda: None  # One tick now, as the schedule would run it (tests use it).

    def environment(self) -> dict[str, str]:
        """The variables that point boto3 (and so every gtwatch command) at the emulator, with its fake keys."""
        return {
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            # Both: the gtwatch commands (like the CDK CLI) read AWS_REGION first, boto3 alone AWS_DEFAULT_REGION.
            "AWS_REGION": deployment.REGION,
            "AWS_DEFAULT_REGION": deployment.REGION,
        }

    def instructions(self) -> str:
        exports = "\n".join(f"  export {name}={value}" for name, value in self.environment().items())
        notes = "".join(f"({note})\n" for note in self.notes)
        return (
            f"gtwatch emulator: stack {self.stack_name} in {deployment.REGION} on {self.endpoint}; the poller runs "
            f"every {self.tick_seconds:g} s. Ctrl-C stops it (and forgets everything).\n"
            f"{notes}"
            "In another shell, point the AWS SDK at it:\n"
            f"{exports}\n"
            "then try:\n"
            "  gtwatch status\n"
            f"  gtwatch mute {LIVE_JOBS[0].name} --for 1h --events completed\n"
            "  gtwatch test-notify\n"
            "  gtwatch redrive --dry-run; gtwatch redrive\n"
            "What a person would receive (Slack webhook posts, emails) is printed here as it happens."
        )


@contextmanager
def running(
    *, port: int, tick_seconds: float, out: TextIO, directory: Path | None = None, now: datetime | None = None
) -> Iterator[Served]:
    """Deploy the stack on an emulator listening at 127.0.0.1:`port`, seed it, and run its schedule every
    `tick_seconds` in a background thread, for the block's span. OSError when the port cannot be listened on;
    OpsError for a cdk.json the operator commands could not use either."""
    local = load_local_config(directory)
    config = local.config
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # The emulator's HTTP server: no line per request.
    schedule_minutes = max(1, math.ceil(tick_seconds / 60))
    with (
        SlackEndpoint() as slack,
        deployment.deployed(
            mode="server",
            port=port,
            routing=Routing(slack_events=config.slack_events, email_events=config.email_events),
            slack_webhook_url=slack.url,
            handler_env=_handler_env(config, schedule_minutes),
        ) as resources,
    ):
        _logs_to_stderr()
        world = _World(resources, slack, config, out)
        stack_name = config.stack_name
        create_stack(stack_name, resources, config, schedule_minutes)
        world.seed(now or datetime.now(UTC))
        served = Served(
            endpoint=os.environ["AWS_ENDPOINT_URL"],
            stack_name=stack_name,
            resources=resources,
            tick_seconds=tick_seconds,
            tick=world.tick,
        )
        if config.regions and deployment.REGION not in config.regions:
            served.notes.append(
                f"cdk.json watches {', '.join(config.regions)}; the emulator has one region, {deployment.REGION}"
            )
        stop = threading.Event()
        schedule = threading.Thread(target=_every, args=(tick_seconds, stop, world.tick), daemon=True, name="ticks")
        schedule.start()
        try:
            yield served
        finally:
            stop.set()
            schedule.join()


def _every(seconds: float, stop: threading.Event, run: Callable[[], None]) -> None:
    while not stop.wait(seconds):
        try:
            run()
        except Exception as error:  # The schedule goes on, as EventBridge's would after a failed invocation.
            print(f"gtwatch emulator: a tick failed: {type(error).__name__}: {error}", file=sys.stderr)


def _handler_env(config: LocalConfig, schedule_minutes: int) -> dict[str, str]:
    return {
        Env.REGIONS: deployment.REGION,
        Env.NAME_CONTAINS: config.name_contains or "",
        Env.KINDS: kinds_env(config.kinds),
        Env.STALL_AFTER_MINUTES: stall_after_env(config.stall_after_minutes),
        Env.STALL_REPEAT_MINUTES: str(config.stall_repeat_minutes or ""),
        Env.SCHEDULE_MINUTES: str(schedule_minutes),
        "POWERTOOLS_LOG_LEVEL": "WARNING",
    }


def create_stack(stack_name: str, resources: Resources, config: LocalConfig, schedule_minutes: int) -> None:
    """The stack as CloudFormation knows it: its outputs (as the CDK stack declares them) and its alarm topic."""
    watcher_config = {
        "regions": [deployment.REGION],
        "kinds": list(config.kinds),
        "name_contains": config.name_contains,
        "slack_events": list(config.slack_events),
        "email_events": list(config.email_events),
        "stall_after_minutes": config.stall_after_minutes,
        "stall_after_minutes_by_kind": config.stall_thresholds,
        "stall_repeat_minutes": config.stall_repeat_minutes,
        "schedule_minutes": schedule_minutes,
        "slack": {"mode": "webhook", "routes": None},
        "quiet_hours": None,
        "digest": None,
    }
    literal = {
        OUTPUT_TOPIC_ARN: resources.topic_arn,
        OUTPUT_STATE_TABLE: resources.table_name,
        OUTPUT_SLACK_QUEUE_URL: resources.slack_queue_url,
        OUTPUT_DEAD_LETTER_QUEUE_URL: resources.dead_letter_queue_url,
        OUTPUT_SLACK_WEBHOOK_SECRET_NAME: resources.secret_name,
        OUTPUT_CONFIG: json.dumps(watcher_config, separators=(",", ":")),
    }
    template = {
        "Resources": {"AlarmTopic": {"Type": "AWS::SNS::Topic", "Properties": {"TopicName": f"{stack_name}-alarms"}}},
        "Outputs": {
            **{key: {"Value": value} for key, value in literal.items()},
            OUTPUT_ALARM_TOPIC_ARN: {"Value": {"Ref": "AlarmTopic"}},
        },
    }
    cloudformation = deployment.client("cloudformation")
    cloudformation.create_stack(StackName=stack_name, TemplateBody=json.dumps(template))
    outputs = cloudformation.describe_stacks(StackName=stack_name)["Stacks"][0]["Outputs"]
    alarm_topic = next(o["OutputValue"] for o in outputs if o["OutputKey"] == OUTPUT_ALARM_TOPIC_ARN)
    for name in ALARMS:
        deployment.client("cloudwatch").put_metric_alarm(
            AlarmName=f"{stack_name}-{name}",
            Namespace="Gtwatch",
            MetricName=name,
            Statistic="Sum",
            Period=300,
            EvaluationPeriods=1,
            Threshold=1,
            ComparisonOperator="GreaterThanOrEqualToThreshold",
            AlarmActions=[alarm_topic],
        )


def _logs_to_stderr() -> None:
    """Standard output shows what people receive; the handlers' warnings and errors go to standard error."""
    logger = logging.getLogger("gtwatch")
    logger.setLevel(logging.WARNING)
    for handler in logger.handlers:
        if isinstance(handler, logging.StreamHandler):
            handler.stream = sys.stderr


class _World:
    """The jobs, the functions on their schedule and what reaches people, for one emulated stack."""

    def __init__(self, resources: Resources, slack: SlackEndpoint, config: LocalConfig, out: TextIO) -> None:
        self.resources = resources
        self.slack = slack
        self.config = config
        self.out = out
        self.ticks = 0
        self.jobs = {job.name: _Job(**vars(job)) for job in LIVE_JOBS}
        self.finished: set[str] = set()
        self.posts_shown = 0
        self.lock = threading.Lock()
        self.sqs = deployment.client("sqs")
        self.dead_letter_seeded = False

    # --- the history before now, on a simulated clock ---------------------------------------------------------

    def seed(self, now: datetime) -> None:
        start = now - HISTORY
        moment = {"now": start}
        clock.set_clock(lambda: moment["now"])
        labeling_jobs.set_clock(lambda: moment["now"])
        try:
            container.reset()
            deployment.start_watch()
            self.say(start, "Deploy", f"watching {deployment.REGION} since {start:%H:%M} UTC (seeded history)")
            minute = 0
            while start + timedelta(minutes=minute) <= now:
                moment["now"] = start + timedelta(minutes=minute)
                self._history(minute, moment["now"])
                self._run_poller()
                self._work_slack_queue(moment["now"], seeding=True)
                minute += int(HISTORY_STEP.total_seconds() // 60)
        finally:
            clock.set_clock(None)
            labeling_jobs.set_clock(None)

    def _history(self, minute: int, at: datetime) -> None:
        """Two and a half hours: cats labels steadily, birds stalls after an hour, fish fails, dogs starts late."""
        put, update = self._put, self._update
        if minute == 0:
            put("cats-batch-1", 0, 2000, at)
            put("birds-batch-1", 0, 1000, at)
            put(DEAD_LETTERED_JOB, 0, 600, at)
        if minute <= 150 and minute % 10 == 0:
            update("cats-batch-1", 8 * minute, 2000, at)
        if 0 < minute <= 70 and minute % 10 == 0:
            update("birds-batch-1", 300 * minute // 70, 1000, at)  # then nothing: a stall
        if 0 < minute <= 120 and minute % 20 == 0:
            update(DEAD_LETTERED_JOB, 2 * minute, 600, at)
        if minute == 130:
            labeling_jobs.update_labeling_job(
                region=deployment.REGION,
                name=DEAD_LETTERED_JOB,
                at=at,
                status="Failed",
                failure_reason="ClientError: the input manifest s3://example-bucket/fish/input.manifest is not valid",
            )
        if minute == 120:
            put("dogs-batch-2", 0, 500, at)
        if minute == 150:
            update("dogs-batch-2", 100, 500, at)

    # --- live ------------------------------------------------------------------------------------------------

    def tick(self) -> None:
        """What one scheduled run brings: the jobs move on, the poller runs, the notifier works its queue."""
        with self.lock:
            self.ticks += 1
            now = datetime.now(UTC)
            for job in self.jobs.values():
                self._advance(job, now)
            self._run_poller()
            self._work_slack_queue(now, seeding=False)
            self._dead_letter_alarm()

    def _dead_letter_alarm(self) -> None:
        """Back to OK once the dead-letter queue is empty (after `gtwatch redrive`), as the stack's alarm would."""
        attributes = self.sqs.get_queue_attributes(
            QueueUrl=self.resources.dead_letter_queue_url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        if self.dead_letter_seeded and not any(int(count) for count in attributes.values()):
            self.dead_letter_seeded = False
            deployment.client("cloudwatch").set_alarm_state(
                AlarmName=f"{self.config.stack_name}-slack-dead-letters",
                StateValue="OK",
                StateReason="The Slack dead-letter queue is empty",
            )

    def _advance(self, job: _Job, now: datetime) -> None:
        if job.name in self.finished:
            return
        if self.ticks == job.appears_at_tick and job.appears_at_tick:
            self._put(job.name, job.labeled, job.total, now)
            self.say(now, "Job", f"{job.name} created: {job.total} objects to label")
            return
        if self.ticks < max(job.appears_at_tick, job.moves_from_tick):
            return
        job.labeled = min(job.total, job.labeled + job.per_tick)
        self._update(job.name, job.labeled, job.total, now)
        if job.labeled == job.total:
            self.finished.add(job.name)
            labeling_jobs.update_labeling_job(region=deployment.REGION, name=job.name, at=now, status="Completed")
            self.say(now, "Job", f"{job.name} completed in SageMaker")

    def _put(self, name: str, labeled: int, total: int, at: datetime) -> None:
        labeling_jobs.put_labeling_job(
            region=deployment.REGION, name=name, status="InProgress", counters=counters(labeled, total), at=at
        )

    def _update(self, name: str, labeled: int, total: int, at: datetime) -> None:
        labeling_jobs.update_labeling_job(region=deployment.REGION, name=name, at=at, counters=counters(labeled, total))

    # --- the functions ---------------------------------------------------------------------------------------

    def _run_poller(self) -> None:
        try:
            poller_handler.lambda_handler(
                {"source": "aws.events", "detail-type": "Scheduled Event"}, FakeLambdaContext("gtwatch-poller")
            )
        except Exception as error:  # The next run makes it good, as on AWS.
            print(f"gtwatch emulator: poller run failed: {type(error).__name__}: {error}", file=sys.stderr)
        finally:
            poller_handler.metrics.clear_metrics()

    def _work_slack_queue(self, now: datetime, *, seeding: bool) -> None:
        """The notifier's event source mapping: batches from the queue; what it reports failed stays for a retry
        (SQS offers it again after its visibility timeout). Then what reached people is shown."""
        while True:
            messages = self.sqs.receive_message(
                QueueUrl=self.resources.slack_queue_url,
                MaxNumberOfMessages=SLACK_BATCH_SIZE,
                MessageAttributeNames=["All"],
                AttributeNames=["All"],
            ).get("Messages", [])
            if not messages:
                break
            if seeding:
                messages = self._dead_letter_one(messages, now)
            failed = self._invoke_notifier(messages)
            for message in messages:
                if message["MessageId"] not in failed:
                    self.sqs.delete_message(
                        QueueUrl=self.resources.slack_queue_url, ReceiptHandle=message["ReceiptHandle"]
                    )
            if failed:
                break  # They come back after their visibility timeout, at a later tick.
        self._show_deliveries(now)

    def _dead_letter_one(self, messages: list[dict[str, Any]], now: datetime) -> list[dict[str, Any]]:
        """The seeded history's Slack outage: the failed job's message ends in the dead-letter queue, as SQS moves it
        there once the notifier's retries run out, so that `gtwatch redrive` has something to send back."""
        kept = []
        for message in messages:
            body = json.loads(message["Body"])
            if self.dead_letter_seeded or (body.get("job") or {}).get("name") != DEAD_LETTERED_JOB:
                kept.append(message)
                continue
            self.sqs.send_message(
                QueueUrl=self.resources.dead_letter_queue_url,
                MessageBody=message["Body"],
                MessageAttributes={
                    name: {key: value for key, value in attribute.items() if key in ("DataType", "StringValue")}
                    for name, attribute in message.get("MessageAttributes", {}).items()
                },
            )
            self.sqs.delete_message(QueueUrl=self.resources.slack_queue_url, ReceiptHandle=message["ReceiptHandle"])
            self.dead_letter_seeded = True
            deployment.client("cloudwatch").set_alarm_state(
                AlarmName=f"{self.config.stack_name}-slack-dead-letters",
                StateValue="ALARM",
                StateReason="1 message in the Slack dead-letter queue (seeded: Slack was down for its retries)",
            )
            self.say(
                now,
                "Slack",
                f"{DEAD_LETTERED_JOB}'s {body.get('event_type')} message never reached Slack (seeded outage): it is in "
                "the dead-letter queue; `gtwatch redrive` sends it back",
            )
        return kept

    def _invoke_notifier(self, messages: list[dict[str, Any]]) -> set[str]:
        if not messages:
            return set()
        event = {"Records": [deployment.sqs_record(message, self.resources.slack_queue_arn) for message in messages]}
        try:
            response = slack_handler.lambda_handler(event, FakeLambdaContext("gtwatch-slack-notifier"))
        except Exception as error:  # The whole batch comes back.
            print(f"gtwatch emulator: Slack notifier failed: {type(error).__name__}: {error}", file=sys.stderr)
            return {message["MessageId"] for message in messages}
        return {str(item["itemIdentifier"]) for item in response.get("batchItemFailures", [])}

    def _show_deliveries(self, now: datetime) -> None:
        for delivery in email.take():
            self.say(now, "Email", f"to {delivery.address}: Subject: {delivery.subject}")
        posts = self.slack.received
        for post in posts[self.posts_shown :]:
            text = " ".join(str(post.get("text", "")).split())
            self.say(now, "Slack", f"webhook post: {text}")
        self.posts_shown = len(posts)

    def say(self, at: datetime, what: str, text: str) -> None:
        print(f"{at:%H:%M:%S}  {what:<6} {text}", file=self.out, flush=True)
