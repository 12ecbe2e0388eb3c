"""Email delivery for the emulator: moto accepts email subscriptions but delivers nothing; record what AWS would send.

Delivery goes through moto's own filter-policy matcher and per-protocol message selection, so what lands in
the inbox is exactly what an email subscription with that filter policy would receive.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from typing import Any

from moto.sns.models import Subscription

EMAIL_PROTOCOLS = ("email", "email-json")


@dataclass(frozen=True)
class EmailDelivery:
    address: str
    subject: str | None
    message: str
    attributes: dict[str, str]
    # The notification's own document, when the publish carried one for the Slack queue ("sqs"): the replay reads
    # where the job lives from it.
    document: dict[str, Any] | None = None


_inbox: list[EmailDelivery] = []
_lock = threading.Lock()
_original_publish: Any = None


def install() -> None:
    """Make moto's SNS deliver email subscriptions into the inbox. Idempotent."""
    global _original_publish
    if _original_publish is not None:
        return
    _original_publish = Subscription.publish

    def publish(self: Any, message: str, message_id: str, subject: str | None = None, **kwargs: Any) -> None:
        if self.protocol not in EMAIL_PROTOCOLS:
            return _original_publish(self, message, message_id, subject, **kwargs)  # type: ignore[no-any-return]
        attributes = kwargs.get("message_attributes") or {}
        if self._filter_policy_matcher is not None and not self._filter_policy_matcher.matches(attributes, message):
            return None
        document = None
        if kwargs.get("message_structure") == "json":
            document = _queue_document(message)
            message = self._parse_message_structure(message, self.protocol)
        delivery = EmailDelivery(
            address=self.endpoint,
            subject=subject,
            message=message,
            attributes={name: str(value.get("Value")) for name, value in attributes.items()},
            document=document,
        )
        with _lock:
            _inbox.append(delivery)
        return None

    Subscription.publish = publish  # type: ignore[method-assign,assignment]


def _queue_document(message: str) -> dict[str, Any] | None:
    try:
        raw = json.loads(json.loads(message).get("sqs", "null"))
    except (ValueError, AttributeError, TypeError):
        return None
    return raw if isinstance(raw, dict) else None


def take() -> list[EmailDelivery]:
    """Everything delivered since the last call, oldest first."""
    with _lock:
        delivered = list(_inbox)
        _inbox.clear()
    return delivered
