"""The poll-work queue: how a run whose (account, region) pairs outgrow one invocation is fanned out, one message per
batch of pairs from the poller to the poll workers, with a dead-letter queue for batches that keep failing."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sqs as sqs
from constructs import Construct
from watcher.domain.contract import (
    POLL_WORK_DEAD_LETTER_RETENTION_SECONDS,
    POLL_WORK_MAX_RECEIVE_COUNT,
    POLL_WORK_RETENTION_SECONDS,
    POLL_WORK_VISIBILITY_SECONDS,
    pairs_per_invocation,
)

from infra.config import GtwatchConfig

# What the poller calls on the queue (SendMessageBatch is authorized as sqs:SendMessage), and the key use of a
# producer to an encrypted queue (SQS developer guide, Key management: GenerateDataKey and Decrypt).
SEND_WORK_ACTIONS = ("sqs:SendMessage",)
SEND_WORK_KEY_ACTIONS = ("kms:GenerateDataKey", "kms:Decrypt")
# What Lambda's event source mapping calls as the worker's role (Lambda developer guide, "Using Lambda with Amazon
# SQS"), and the key use of a consumer: Decrypt.
RECEIVE_WORK_ACTIONS = ("sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes")
RECEIVE_WORK_KEY_ACTIONS = ("kms:Decrypt",)


def watched_pair_count(config: GtwatchConfig) -> int:
    """How many (account, region) pairs a run reads: every listed account's regions, or the home regions."""
    if config.home_account is None:
        return max(1, len(config.regions))
    return sum(len(account.regions) for account in config.parsed_accounts)


def fans_out(config: GtwatchConfig) -> bool:
    """Whether a run outgrows one invocation (contract.pairs_per_invocation), so the stack needs the fan-out."""
    return watched_pair_count(config) > pairs_per_invocation(config.kinds)


class PollWorkQueue(Construct):
    """The queue and its dead-letter queue, encrypted with the stack's key; SSL only."""

    def __init__(self, scope: Construct, construct_id: str, *, key: kms.IKey) -> None:
        super().__init__(scope, construct_id)
        self.key = key
        self.dead_letter_queue = sqs.Queue(
            self,
            "DeadLetterQueue",
            retention_period=Duration.seconds(POLL_WORK_DEAD_LETTER_RETENTION_SECONDS),
            encryption=sqs.QueueEncryption.KMS,
            encryption_master_key=key,
            enforce_ssl=True,
        )
        self.queue = sqs.Queue(
            self,
            "Queue",
            visibility_timeout=Duration.seconds(POLL_WORK_VISIBILITY_SECONDS),
            retention_period=Duration.seconds(POLL_WORK_RETENTION_SECONDS),
            encryption=sqs.QueueEncryption.KMS,
            encryption_master_key=key,
            enforce_ssl=True,
            dead_letter_queue=sqs.DeadLetterQueue(
                queue=self.dead_letter_queue, max_receive_count=POLL_WORK_MAX_RECEIVE_COUNT
            ),
        )
