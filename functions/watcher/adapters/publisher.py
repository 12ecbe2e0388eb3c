"""SNS adapter: publish one notification, shaped per protocol (text for email, JSON for the Slack queue), or the daily
digest for one channel."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from watcher.domain import email_message
from watcher.domain.contract import ALL_CHANNELS, CHANNEL_ATTRIBUTE, DIGEST_EVENT_TYPE, EVENT_TYPE_ATTRIBUTE
from watcher.domain.model import CHANNELS, Notification

if TYPE_CHECKING:
    from mypy_boto3_sns import SNSClient


def publish(sns: SNSClient, topic_arn: str, notification: Notification, channels: frozenset[str] = CHANNELS) -> str:
    """Publish to `channels` and return SNS's message id. Attributes feed the subscriptions' filter policies: the
    email subscriptions take `channel` "email" or "all", the Slack queue "slack" or "all"."""
    text = email_message.body(notification)
    message = {
        "default": text,
        "email": text,
        # The Slack queue subscribes with raw delivery; it receives this document as the SQS body.
        "sqs": json.dumps(notification.to_document(), ensure_ascii=False),
    }
    attributes = {
        "event_type": notification.event_type.value,
        "status": str(notification.job.status),
        "job_name": notification.job.name,
        "region": notification.job.region,
        "notification_id": notification.id,
        CHANNEL_ATTRIBUTE: ALL_CHANNELS if channels == CHANNELS else next(iter(channels)),
    }
    response = sns.publish(
        TopicArn=topic_arn,
        Subject=email_message.subject(notification),
        Message=json.dumps(message, ensure_ascii=False),
        MessageStructure="json",
        MessageAttributes={name: {"DataType": "String", "StringValue": value} for name, value in attributes.items()},
    )
    return str(response["MessageId"])


def publish_digest(
    sns: SNSClient, topic_arn: str, *, channel: str, digest_id: str, message: str, subject: str | None = None
) -> str:
    """Publish the daily digest for one channel ("email": the text for the email subscriptions; "slack": the
    document the Slack queue hands to the notifier) and return SNS's message id. One publish per channel, so that
    each stays within SNS's size limit on its own and one's failure leaves the other sent."""
    attributes = {EVENT_TYPE_ATTRIBUTE: DIGEST_EVENT_TYPE, CHANNEL_ATTRIBUTE: channel, "notification_id": digest_id}
    response = sns.publish(
        TopicArn=topic_arn,
        Message=message,
        **({"Subject": subject} if subject is not None else {}),
        MessageAttributes={name: {"DataType": "String", "StringValue": value} for name, value in attributes.items()},
    )
    return str(response["MessageId"])
