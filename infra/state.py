"""What the watcher remembers between polls: one item per labeling job, indexed by the region of active jobs."""

from __future__ import annotations

from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from constructs import Construct

PARTITION_KEY = "pk"
TTL_ATTRIBUTE = "expires_at"
ACTIVE_INDEX = "active"
ACTIVE_INDEX_KEY = "active_region"

# Exactly what the poller's state store calls; no scans, no table management.
STATE_ACTIONS = (
    "dynamodb:GetItem",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:BatchGetItem",
    "dynamodb:Query",
)


class JobState(Construct):
    """The job state table. Kept when the stack is deleted: it is what stops old news from being sent again."""

    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        self.table = self._build_table()

    def _build_table(self) -> dynamodb.Table:
        table = dynamodb.Table(
            self,
            "Table",
            partition_key=dynamodb.Attribute(name=PARTITION_KEY, type=dynamodb.AttributeType.STRING),
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            time_to_live_attribute=TTL_ATTRIBUTE,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            encryption=dynamodb.TableEncryption.AWS_MANAGED,
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

    def grant_read_write(self, grantee: iam.IGrantable) -> iam.Grant:
        """The item reads and writes of the poller, on the table and its index."""
        return self.table.grant(grantee, *STATE_ACTIONS)
