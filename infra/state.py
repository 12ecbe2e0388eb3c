"""What the watcher remembers between polls: one item per labeling job, indexed by the region of active jobs; a run
record per region; and the Slack notifier's ledger of each job's deliveries."""

from __future__ import annotations

from aws_cdk import Fn
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct
from watcher.domain.contract import (
    ACTIVE_INDEX_KEY,
    MUTE_KEY_PREFIX,
    RUN_KEY_PREFIX,
    SLACK_LEDGER_KEY_PREFIX,
    TABLE_PARTITION_KEY,
    TTL_ATTRIBUTE,
)
from watcher.domain.contract import ACTIVE_INDEX_NAME as ACTIVE_INDEX

PARTITION_KEY = TABLE_PARTITION_KEY

# What watching one job calls on the table (the event handler, and the poller for each job): the job's item, the
# region's run record and the job's mute read by key, conditional puts and deletes. No UpdateItem, no scans.
JOB_ITEM_ACTIONS = ("dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:DeleteItem")
# What a run over a region adds (the poller): listed jobs missing from the index, read in batches by key.
POLL_ITEM_ACTIONS = (*JOB_ITEM_ACTIONS, "dynamodb:BatchGetItem")
# What the deployment's watch-start record needs: read a region's run record, create it if absent.
RUN_RECORD_ACTIONS = ("dynamodb:GetItem", "dynamodb:PutItem")
# What the daily digest reads of the run records: each region's, to say since when it has been watched.
RUN_RECORD_READ_ACTIONS = ("dynamodb:GetItem",)
# What the Slack notifier's ledger needs: a consistent read of a job stream's item, and conditional puts of it.
SLACK_LEDGER_ACTIONS = ("dynamodb:GetItem", "dynamodb:PutItem")
MUTE_READ_ACTIONS = ("dynamodb:GetItem",)
# On the sparse `active` index: one Query per partition (a region's active jobs, its mutes, a day's endings).
INDEX_ACTIONS = ("dynamodb:Query",)
# DynamoDB decrypts the table key with the caller's credentials when a caller opens the table (KMS developer
# guide, "How Amazon DynamoDB uses AWS KMS": Decrypt); it generates and encrypts keys itself.
TABLE_KEY_ACTIONS = ("kms:Decrypt",)


class JobState(Construct):
    """The job state table. Kept when the stack is deleted, so that deleting it by mistake loses no job's state, waiting
    notification or mute; a new stack does not reuse it (it has no fixed name) and starts with a silent baseline
    (docs/deploy.md, Uninstalling)."""

    def __init__(self, scope: Construct, construct_id: str, *, key: kms.IKey) -> None:
        super().__init__(scope, construct_id)
        self.key = key
        self.table = self._build_table()

    @property
    def active_index_arn(self) -> str:
        return Fn.join("", [self.table.table_arn, f"/index/{ACTIVE_INDEX}"])

    def _build_table(self) -> dynamodb.Table:
        # Retained on delete (the Table construct's default removal policy).
        table = dynamodb.Table(
            self,
            "Table",
            partition_key=dynamodb.Attribute(name=PARTITION_KEY, type=dynamodb.AttributeType.STRING),
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            time_to_live_attribute=TTL_ATTRIBUTE,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            encryption=dynamodb.TableEncryption.CUSTOMER_MANAGED,
            encryption_key=self.key,
        )
        # Sparse: it holds only the items that carry active_region (the jobs still being watched), so a
        # poll queries the active jobs of one region without reading finished ones.
        table.add_global_secondary_index(
            index_name=ACTIVE_INDEX,
            partition_key=dynamodb.Attribute(name=ACTIVE_INDEX_KEY, type=dynamodb.AttributeType.STRING),
            sort_key=dynamodb.Attribute(name=PARTITION_KEY, type=dynamodb.AttributeType.STRING),
            projection_type=dynamodb.ProjectionType.ALL,
        )
        return table

    def grant_run_records(self, grantee: iam.IGrantable) -> None:
        """Read and create the regions' run records (`run#<region>` items) and nothing else."""
        self._grant_items_under(grantee, RUN_RECORD_ACTIONS, RUN_KEY_PREFIX)

    def grant_read_run_records(self, grantee: iam.IGrantable) -> None:
        """Read the regions' run records (`run#<region>` items) and no other item."""
        self._grant_items_under(grantee, RUN_RECORD_READ_ACTIONS, RUN_KEY_PREFIX)

    def grant_query_index(self, grantee: iam.IGrantable) -> None:
        """Query the sparse `active` index (a region's active jobs, its mutes, its jobs ended on a day)."""
        iam.Grant.add_to_principal(grantee=grantee, actions=list(INDEX_ACTIONS), resource_arns=[self.active_index_arn])
        iam.Grant.add_to_principal(grantee=grantee, actions=list(TABLE_KEY_ACTIONS), resource_arns=[self.key.key_arn])

    def grant_slack_ledgers(self, grantee: iam.IGrantable) -> None:
        """Read and write the Slack notifier's ledgers (`slack#<stream>` items) and nothing else: not a job's state."""
        self._grant_items_under(grantee, SLACK_LEDGER_ACTIONS, SLACK_LEDGER_KEY_PREFIX)

    def grant_read_mutes(self, grantee: iam.IGrantable) -> None:
        """Read a job's mute by key (`mute#<region>#<name>` items) and nothing else: the Slack notifier drops a
        notification whose job was muted after it was sent (Slack was down, say)."""
        self._grant_items_under(grantee, MUTE_READ_ACTIONS, MUTE_KEY_PREFIX)

    def _grant_items_under(self, grantee: iam.IGrantable, actions: tuple[str, ...], key_prefix: str) -> None:
        # Every partition key the request touches must start with the prefix (IAM condition key
        # dynamodb:LeadingKeys; ForAllValues, since a request may name several keys).
        grantee.grant_principal.add_to_principal_policy(
            iam.PolicyStatement(
                actions=list(actions),
                resources=[self.table.table_arn],
                conditions={"ForAllValues:StringLike": {"dynamodb:LeadingKeys": [f"{key_prefix}*"]}},
            )
        )
        iam.Grant.add_to_principal(grantee=grantee, actions=list(TABLE_KEY_ACTIONS), resource_arns=[self.key.key_arn])

    def grant_watch_jobs(self, grantee: iam.IGrantable) -> None:
        """What the event handler does to watch the one job an event names: items by key (the job, the region's run
        record, the job's mute), conditional puts and deletes; no index, no batch reads."""
        iam.Grant.add_to_principal(
            grantee=grantee, actions=list(JOB_ITEM_ACTIONS), resource_arns=[self.table.table_arn]
        )
        iam.Grant.add_to_principal(grantee=grantee, actions=list(TABLE_KEY_ACTIONS), resource_arns=[self.key.key_arn])

    def grant_poll(self, grantee: iam.IGrantable) -> None:
        """What the poller does over a region: watching jobs, plus batch reads of listed jobs and one Query of the
        `active` index per region (its active jobs, its mutes)."""
        iam.Grant.add_to_principal(
            grantee=grantee, actions=list(POLL_ITEM_ACTIONS), resource_arns=[self.table.table_arn]
        )
        iam.Grant.add_to_principal(grantee=grantee, actions=list(INDEX_ACTIONS), resource_arns=[self.active_index_arn])
        iam.Grant.add_to_principal(grantee=grantee, actions=list(TABLE_KEY_ACTIONS), resource_arns=[self.key.key_arn])
