"""The deployment's customer managed KMS key: it encrypts the topics, the Slack queues, the state table, the created
Slack secret (webhook URL or bot token) and the functions' log groups."""

from __future__ import annotations

from aws_cdk import ArnFormat, Aws, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct

# What an AWS service sending into an encrypted queue needs (SQS developer guide, Key management, "Configure KMS
# permissions for AWS services"); CDK's own SqsSubscription grants SNS the same.
QUEUE_SENDER_ACTIONS = ("kms:GenerateDataKey", "kms:Decrypt")
# What an AWS service publishing to an encrypted topic needs (SNS developer guide, Key management, "Enable
# compatibility between event sources from AWS services and encrypted topics").
TOPIC_PUBLISHER_ACTIONS = ("kms:GenerateDataKey*", "kms:Decrypt")
# What CloudWatch Logs needs to encrypt a log group with a customer managed key (CloudWatch Logs user guide,
# "Encrypt log data in CloudWatch Logs using AWS KMS", step 2: the key policy).
LOG_GROUP_KEY_ACTIONS = ("kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*")


def topic_arn(scope: Construct, topic_name: str) -> str:
    """The ARN a topic named `topic_name` gets in the stack's account and region.

    Key policy statements name topics this way, not through the topic's Ref: the topic refers to the key,
    so the key referring back to the topic would be a circular dependency.
    """
    return Stack.of(scope).format_arn(service="sns", resource=topic_name, arn_format=ArnFormat.NO_RESOURCE_NAME)


class DataKey(Construct):
    """One symmetric key with yearly rotation. Kept when the stack is deleted, with the state table it encrypts."""

    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        self.key = kms.Key(
            self,
            "Key",
            description=f"gtwatch ({Stack.of(self).stack_name}): labeling job state, notifications and logs",
            enable_key_rotation=True,
            removal_policy=RemovalPolicy.RETAIN,
        )

    def allow_sns_delivery_to_queues(self, source_topic_name: str) -> None:
        """Let SNS encrypt what it delivers from the named topic into queues under this key."""
        self.key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowSnsToDeliverToEncryptedQueues",
                principals=[iam.ServicePrincipal("sns.amazonaws.com")],
                actions=list(QUEUE_SENDER_ACTIONS),
                resources=["*"],
                # The confused-deputy guard AWS documents for service principals: only this topic.
                conditions={"ArnEquals": {"aws:SourceArn": topic_arn(self, source_topic_name)}},
            )
        )

    def allow_alarms_to_publish(self, alarm_topic_name: str, alarm_name_prefix: str) -> None:
        """Let CloudWatch alarms of this stack publish to the encrypted alarm topic."""
        stack = Stack.of(self)
        self.key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowCloudWatchAlarmsToPublishToTheAlarmTopic",
                principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
                actions=list(TOPIC_PUBLISHER_ACTIONS),
                resources=["*"],
                conditions={
                    "StringEquals": {
                        "aws:SourceAccount": stack.account,
                        "kms:EncryptionContext:aws:sns:topicArn": topic_arn(self, alarm_topic_name),
                    },
                    "ArnLike": {
                        "aws:SourceArn": stack.format_arn(
                            service="cloudwatch",
                            resource="alarm",
                            resource_name=f"{alarm_name_prefix}*",
                            arn_format=ArnFormat.COLON_RESOURCE_NAME,
                        )
                    },
                },
            )
        )

    def allow_log_groups(self, log_group_prefix: str) -> None:
        """Let CloudWatch Logs in this region use the key for this stack's log groups (names under the prefix)."""
        stack = Stack.of(self)
        self.key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowCloudWatchLogsForThisStacksLogGroups",
                principals=[iam.ServicePrincipal(f"logs.{Aws.REGION}.amazonaws.com")],
                actions=list(LOG_GROUP_KEY_ACTIONS),
                resources=["*"],
                # CloudWatch Logs puts the log group's ARN in the encryption context of every request it makes.
                conditions={
                    "ArnLike": {
                        "kms:EncryptionContext:aws:logs:arn": stack.format_arn(
                            service="logs",
                            resource="log-group",
                            resource_name=f"{log_group_prefix}*",
                            arn_format=ArnFormat.COLON_RESOURCE_NAME,
                        )
                    }
                },
            )
        )
