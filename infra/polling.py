"""The watcher itself: the scheduled poller over every watched region, and the fast path for state-change events."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import ArnFormat, Aws, CustomResource, Duration, Stack
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from constructs import Construct
from watcher.domain.contract import (
    HUB_ROLE_PATH,
    KIND_ARN_TYPES,
    KIND_DESCRIBE_ACTIONS,
    KIND_DETAIL_TYPES,
    KIND_LIST_ACTIONS,
    KIND_LOG_GROUPS,
    POLL_WORK_BATCH_SIZE,
    POLL_WORKER_TIMEOUT_SECONDS,
    POLLER_TIMEOUT_SECONDS,
    STATE_CHANGE_SOURCE,
    KindName,
)
from watcher.domain.env import Env
from watcher.domain.job import KIND_NOUNS, JobKind

from gtwatch.ops.accounts import spoke_role_arn
from gtwatch.ops.kinds import kinds_env, stall_after_env
from infra.config import GtwatchConfig
from infra.function import WatcherFunction, acknowledge
from infra.notifications import Notifications
from infra.poll_work import (
    RECEIVE_WORK_ACTIONS,
    RECEIVE_WORK_KEY_ACTIONS,
    SEND_WORK_ACTIONS,
    SEND_WORK_KEY_ACTIONS,
    PollWorkQueue,
    fans_out,
)
from infra.state import JobState

POLLER_HANDLER = "watcher.handlers.poller_handler.lambda_handler"
POLL_WORKER_HANDLER = "watcher.handlers.poll_worker_handler.lambda_handler"
POLL_WORKER_TIMEOUT = Duration.seconds(POLL_WORKER_TIMEOUT_SECONDS)
EVENT_HANDLER = "watcher.handlers.event_handler.lambda_handler"
WATCH_START_HANDLER = "watcher.handlers.deployment_handler.lambda_handler"
WATCH_START_TIMEOUT = Duration.seconds(60)
POLLER_TIMEOUT = Duration.seconds(POLLER_TIMEOUT_SECONDS)
EVENT_HANDLER_TIMEOUT = Duration.seconds(60)
# What a job's log stream needs (the stall signal of the kinds with logs): its streams listed in its kind's log group
# (DescribeLogStreams: resource type log-group), then read (GetLogEvents: resource type log-stream).
DESCRIBE_LOG_STREAMS_ACTIONS = ("logs:DescribeLogStreams",)
GET_LOG_EVENTS_ACTIONS = ("logs:GetLogEvents",)
# What reading a spoke takes on the hub's side: its role, assumed with the configured external ID.
ASSUME_ROLE_ACTIONS = ("sts:AssumeRole",)


def state_change_pattern(kinds: Sequence[KindName]) -> events.EventPattern:
    """What SageMaker sends to the default event bus when a job of one of `kinds` changes status."""
    return events.EventPattern(source=[STATE_CHANGE_SOURCE], detail_type=[KIND_DETAIL_TYPES[kind] for kind in kinds])


def describe_resource(kind: KindName) -> str:
    """The resource part of the ARNs a kind's describe actions are allowed on (after "<region>:<account>:"): the
    kind's resource type and any name. A pipeline execution's ARN is pipeline/<pipeline>/execution/<id> (resource type
    pipeline-execution in the Service Authorization Reference)."""
    if kind == "pipeline":
        return f"{KIND_ARN_TYPES[kind]}/*/execution/*"
    return f"{KIND_ARN_TYPES[kind]}/*"


def log_group_arn(scope: Construct, region: str, name: str) -> str:
    """A log group's ARN in `scope`'s account, as IAM takes it: `name` ends in ":*" for actions on the group, in
    ":log-stream:*" for actions on its streams."""
    return Stack.of(scope).format_arn(
        service="logs",
        region=region,
        resource="log-group",
        resource_name=name,
        arn_format=ArnFormat.COLON_RESOURCE_NAME,
    )


class Polling(Construct):
    """The poller and the event handler, what each may read and write, and the rules that run them."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: GtwatchConfig,
        code: lambda_.Code,
        layers: Sequence[lambda_.ILayerVersion],
        state: JobState,
        notifications: Notifications,
    ) -> None:
        super().__init__(scope, construct_id)
        # The watcher's settings as every function that watches or sums up jobs reads them.
        self.environment = self._environment(config, state, notifications)
        self._config, self._code, self._layers, self._key = config, code, layers, state.key
        self.poller = self._build_poller()
        self.event_handler = self._build_event_handler()
        watched_regions = config.home_regions or (Stack.of(self).region,)
        self._allow_listing(self.poller, config.kinds)
        self._allow_polling(self.poller, watched_regions)
        # The event handler describes the one job an event names. Without `accounts`, events arrive from this region
        # only; with them, the home account's other regions forward theirs to the hub's event bus.
        event_regions = watched_regions if config.home_account is not None else (Stack.of(self).region,)
        self._allow_describing(self.event_handler, config.kinds, event_regions)
        self._allow_reading_spokes(self.event_handler, config)
        state.grant_poll(self.poller.function)
        state.grant_watch_jobs(self.event_handler.function)
        for function in (self.poller, self.event_handler):
            notifications.grant_publish(function.function)
        # A run whose pairs outgrow one invocation is fanned out: the poller plans, the poll workers poll.
        self.poll_work: PollWorkQueue | None = None
        self.poll_worker: WatcherFunction | None = None
        if fans_out(config):
            self.poll_work = PollWorkQueue(self, "PollWork", key=self._key)
            self.poll_worker = self._build_poll_worker(self.poll_work, watched_regions, state, notifications)
        self.watch_start = self._build_watch_start(config, state)
        self.schedule = self._build_schedule(config.schedule_minutes)
        self.state_changes = self._build_state_change_rule()

    @staticmethod
    def _environment(config: GtwatchConfig, state: JobState, notifications: Notifications) -> dict[str, str]:
        environment: dict[str, str] = {
            Env.TABLE_NAME: state.table.table_name,
            Env.TOPIC_ARN: notifications.topic.topic_arn,
            Env.REGIONS: ",".join(config.home_regions) or Aws.REGION,
            Env.KINDS: kinds_env(config.kinds),
            Env.STALL_AFTER_MINUTES: stall_after_env(config.stall_after_minutes),
            Env.SCHEDULE_MINUTES: str(config.schedule_minutes),
        }
        accounts = config.accounts_env(Aws.PARTITION)
        if accounts is not None:
            environment[Env.ACCOUNTS] = accounts
        if config.spoke_external_id is not None:
            environment[Env.SPOKE_EXTERNAL_ID] = config.spoke_external_id
        if config.name_contains is not None:
            environment[Env.NAME_CONTAINS] = config.name_contains
        if config.stall_repeat_minutes is not None:
            environment[Env.STALL_REPEAT_MINUTES] = str(config.stall_repeat_minutes)
        if config.quiet_hours_json is not None:
            environment[Env.QUIET_HOURS] = config.quiet_hours_json
            # A notification releases the job's held email only if the email subscriptions take it.
            environment[Env.EMAIL_EVENTS] = ",".join(config.email_events)
        return environment

    def _function(
        self,
        construct_id: str,
        *,
        handler: str,
        name: str,
        description: str,
        timeout: Duration,
        retry_attempts: int | None = None,
        reads_spokes: bool = False,
    ) -> WatcherFunction:
        """One of the watcher's functions: same code, layer, settings and key; its own role and log group. A function
        that `reads_spokes` gets its role under HUB_ROLE_PATH, the path the spokes' roles trust, when there are
        spokes."""
        return WatcherFunction(
            self,
            construct_id,
            code=self._code,
            layers=self._layers,
            handler=handler,
            name=name,
            description=description,
            timeout=timeout,
            log_level=self._config.log_level,
            key=self._key,
            tracing=self._config.tracing,
            environment=self.environment,
            retry_attempts=retry_attempts,
            role_path=HUB_ROLE_PATH if reads_spokes and self._config.spokes else None,
        )

    def _build_poller(self) -> WatcherFunction:
        return self._function(
            "Poller",
            handler=POLLER_HANDLER,
            name="poller",
            description="Polls SageMaker jobs and publishes their changes.",
            timeout=POLLER_TIMEOUT,
            # The next scheduled poll is the retry; an immediate one would only overlap it.
            retry_attempts=0,
            reads_spokes=True,
        )

    def _allow_polling(self, function: WatcherFunction, regions: Sequence[str]) -> None:
        """The reads of a run beyond listing (the poller's and a poll worker's): describing the watched kinds' jobs,
        their logs and the spokes' roles."""
        self._allow_describing(function, self._config.kinds, regions)
        # Only runs judge stalls, so only they read the logs of the kinds whose log lines are progress.
        self._allow_reading_logs(function, self._config.kinds, regions)
        self._allow_reading_spokes(function, self._config)

    def _build_poll_worker(
        self,
        work: PollWorkQueue,
        regions: Sequence[str],
        state: JobState,
        notifications: Notifications,
    ) -> WatcherFunction:
        """The poll worker: the poller's reads and writes, one batch of pairs per invocation from the poll-work queue;
        the poller may only send there."""
        worker = self._function(
            "PollWorker",
            handler=POLL_WORKER_HANDLER,
            name="poll-worker",
            description="Polls one batch of the watched accounts' regions, as the poller planned the run.",
            timeout=POLL_WORKER_TIMEOUT,
            reads_spokes=True,
        )
        # The same listing policy as the poller's (one policy, one acknowledged wildcard).
        self.list_jobs_policy.attach_to_role(worker.role)
        worker.function.node.add_dependency(self.list_jobs_policy)
        self._allow_polling(worker, regions)
        state.grant_poll(worker.function)
        notifications.grant_publish(worker.function)
        worker.allow(RECEIVE_WORK_ACTIONS, [work.queue.queue_arn])
        worker.allow(RECEIVE_WORK_KEY_ACTIONS, [work.key.key_arn])
        self.poller.allow(SEND_WORK_ACTIONS, [work.queue.queue_arn])
        self.poller.allow(SEND_WORK_KEY_ACTIONS, [work.key.key_arn])
        self.poller.function.add_environment(Env.POLL_WORK_QUEUE_URL, work.queue.queue_url)
        worker.function.add_event_source_mapping(
            "PollWork",
            event_source_arn=work.queue.queue_arn,
            # One batch of pairs per invocation: the batch is what fits one invocation's time.
            batch_size=POLL_WORK_BATCH_SIZE,
            report_batch_item_failures=True,
        )
        return worker

    def _build_event_handler(self) -> WatcherFunction:
        # Lambda's default two retries of an asynchronous invocation stay: an event lost after them costs
        # only speed, as the next scheduled poll sees the same change.
        return self._function(
            "EventHandler",
            handler=EVENT_HANDLER,
            name="event-handler",
            description="Looks at one SageMaker job as soon as SageMaker reports its state changed.",
            timeout=EVENT_HANDLER_TIMEOUT,
            reads_spokes=True,
        )

    def _build_watch_start(self, config: GtwatchConfig, state: JobState) -> CustomResource:
        """The watch begins at deployment: a custom resource records each region's start in the state table, so
        that jobs ending after `cdk deploy` are announced even if every scheduled run fails until much later."""
        function = self._function(
            "WatchStart",
            handler=WATCH_START_HANDLER,
            name="watch-start",
            description="Records when gtwatch began watching each region (runs at deployment).",
            timeout=WATCH_START_TIMEOUT,
        )
        state.grant_run_records(function.function)
        properties = {"Regions": ",".join(config.home_regions) or Aws.REGION}
        accounts = config.accounts_env(Aws.PARTITION)
        if accounts is not None:
            # Likewise an account, or a region of an account: the baseline of every account is the deployment that
            # listed it, even of a spoke whose role cannot be assumed yet.
            properties["Accounts"] = accounts
        resource = CustomResource(
            self,
            "WatchStartRecord",
            service_token=function.function.function_arn,
            resource_type="Custom::GtwatchWatchStart",
            # Changing the regions re-runs it, so that a region added later starts being watched at that deployment.
            properties=properties,
        )
        resource.node.add_dependency(state.table)
        return resource

    def _allow_listing(self, function: WatcherFunction, kinds: Sequence[KindName]) -> None:
        listing = sorted({action for kind in kinds for action in KIND_LIST_ACTIONS[kind]})
        # A policy of its own, so that its one acknowledged wildcard covers this statement alone.
        policy = self.list_jobs_policy = iam.Policy(
            self,
            "ListJobsPolicy",
            statements=[iam.PolicyStatement(actions=listing, resources=["*"])],
            roles=[function.role],
        )
        # Attached before the function exists, so that its first scheduled run may already list.
        function.function.node.add_dependency(policy)
        acknowledge(
            policy,
            "AwsSolutions-IAM5[Resource::*]",
            f"{', '.join(listing)} support no resource type in the Service Authorization Reference (they list, or "
            "search, every job of a kind), so they can only be allowed on '*'; they read summaries and change nothing.",
        )

    def _allow_describing(self, function: WatcherFunction, kinds: Sequence[KindName], regions: Sequence[str]) -> None:
        stack = Stack.of(self)
        for kind in kinds:
            resource = describe_resource(kind)
            function.allow(
                KIND_DESCRIBE_ACTIONS[kind],
                [stack.format_arn(service="sagemaker", region=region, resource=resource) for region in regions],
            )
            for region in regions:
                acknowledge(
                    function.role.node.find_child("DefaultPolicy"),
                    f"AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:sagemaker:{self._shown(region)}:"
                    f"<AWS::AccountId>:{resource}]",
                    f"{KIND_NOUNS[JobKind(kind)]}s are started by people after deployment, under names the stack "
                    "cannot know; the watcher must describe any of them, and only this kind's resource type, "
                    "read-only.",
                )

    @staticmethod
    def _allow_reading_spokes(function: WatcherFunction, config: GtwatchConfig) -> None:
        """Let the function assume exactly the listed spokes' roles (and only with the external ID, if one is set)."""
        if not config.spokes:
            return
        conditions = (
            None if config.spoke_external_id is None else {"StringEquals": {"sts:ExternalId": config.spoke_external_id}}
        )
        function.role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=list(ASSUME_ROLE_ACTIONS),
                resources=[spoke_role_arn(account.id, Aws.PARTITION) for account in config.spokes],
                conditions=conditions,
            )
        )

    def _allow_reading_logs(self, function: WatcherFunction, kinds: Sequence[KindName], regions: Sequence[str]) -> None:
        for group in (KIND_LOG_GROUPS[kind] for kind in kinds if kind in KIND_LOG_GROUPS):
            # A log group's ARN as IAM takes it for actions on the group ends in ":*"; its streams' name the stream.
            groups = [self._log_group_arn(region, f"{group}:*") for region in regions]
            streams = [self._log_group_arn(region, f"{group}:log-stream:*") for region in regions]
            function.allow(DESCRIBE_LOG_STREAMS_ACTIONS, groups)
            function.allow(GET_LOG_EVENTS_ACTIONS, streams)
            for region in regions:
                prefix = f"arn:<AWS::Partition>:logs:{self._shown(region)}:<AWS::AccountId>:log-group:{group}"
                for resource in (f"{prefix}:*", f"{prefix}:log-stream:*"):
                    acknowledge(
                        function.role.node.find_child("DefaultPolicy"),
                        f"AwsSolutions-IAM5[Resource::{resource}]",
                        "SageMaker writes each job's log lines to streams named after the job in this log group; "
                        "the poller reads the streams of the jobs it watches, whose names the stack cannot know, "
                        "read-only.",
                    )

    def _log_group_arn(self, region: str, name: str) -> str:
        return log_group_arn(self, region, name)

    def _shown(self, region: str) -> str:
        """A region as cdk-nag renders it in a finding: a literal region, or the stack's own as a pseudo parameter."""
        return "<AWS::Region>" if region == Stack.of(self).region else region

    def _build_schedule(self, minutes: int) -> events.Rule:
        return events.Rule(
            self,
            "Schedule",
            description=f"Runs the gtwatch poller every {minutes} minute(s).",
            schedule=events.Schedule.rate(Duration.minutes(minutes)),
            targets=[targets.LambdaFunction(self.poller.function)],
        )

    def _build_state_change_rule(self) -> events.Rule:
        return events.Rule(
            self,
            "StateChanges",
            description="Hands each watched SageMaker job's state change to the gtwatch event handler.",
            event_pattern=state_change_pattern(self._config.kinds),
            targets=[targets.LambdaFunction(self.event_handler.function)],
        )
