"""The poller: on a schedule, lists the labeling jobs of each watched region and publishes what changed."""

from __future__ import annotations

from aws_cdk import Aws, Duration, Stack
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from infra.config import GtwatchConfig
from infra.function import WatcherFunction
from infra.notifications import Notifications
from infra.state import JobState

POLLER_HANDLER = "watcher.poller_handler.lambda_handler"
POLLER_TIMEOUT = Duration.seconds(120)


class Polling(Construct):
    """The poller function, what it may read and write, and the rule that runs it."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: GtwatchConfig,
        code: lambda_.Code,
        state: JobState,
        notifications: Notifications,
    ) -> None:
        super().__init__(scope, construct_id)
        self.poller = self._build_poller(config, code, state, notifications)
        self._grant_labeling_job_reads(config)
        state.grant_read_write(self.poller.function)
        notifications.grant_publish(self.poller.function)
        self.schedule = self._build_schedule(config.schedule_minutes)

    def _build_poller(
        self, config: GtwatchConfig, code: lambda_.Code, state: JobState, notifications: Notifications
    ) -> WatcherFunction:
        environment = {
            "GTWATCH_TABLE_NAME": state.table.table_name,
            "GTWATCH_TOPIC_ARN": notifications.topic.topic_arn,
            "GTWATCH_REGIONS": ",".join(config.regions) or Aws.REGION,
            "GTWATCH_STALL_AFTER_MINUTES": str(config.stall_after_minutes),
            "GTWATCH_SCHEDULE_MINUTES": str(config.schedule_minutes),
        }
        if config.name_contains is not None:
            environment["GTWATCH_NAME_CONTAINS"] = config.name_contains
        return WatcherFunction(
            self,
            "Poller",
            code=code,
            handler=POLLER_HANDLER,
            description="Polls SageMaker Ground Truth labeling jobs and publishes their changes.",
            timeout=POLLER_TIMEOUT,
            log_level=config.log_level,
            environment=environment,
            # The next scheduled poll is the retry; an immediate one would only overlap it.
            retry_attempts=0,
        )

    def _grant_labeling_job_reads(self, config: GtwatchConfig) -> None:
        stack = Stack.of(self)
        regions = config.regions or (stack.region,)
        role = self.poller.function
        # ListLabelingJobs has no resource type, so it can only be granted on "*".
        role.add_to_role_policy(iam.PolicyStatement(actions=["sagemaker:ListLabelingJobs"], resources=["*"]))
        role.add_to_role_policy(
            iam.PolicyStatement(
                actions=["sagemaker:DescribeLabelingJob"],
                resources=[
                    stack.format_arn(service="sagemaker", region=region, resource="labeling-job", resource_name="*")
                    for region in regions
                ],
            )
        )

    def _build_schedule(self, minutes: int) -> events.Rule:
        return events.Rule(
            self,
            "Schedule",
            description=f"Runs the gtwatch poller every {minutes} minute(s).",
            schedule=events.Schedule.rate(Duration.minutes(minutes)),
            targets=[targets.LambdaFunction(self.poller.function)],
        )
