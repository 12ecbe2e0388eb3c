"""SageMaker's "Ground Truth Labeling Job State Change" EventBridge event: which job it names."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from watcher.domain.contract import STATE_CHANGE_DETAIL_TYPE, STATE_CHANGE_SOURCE
from watcher.domain.job import JobKind

_ARN = re.compile(r"^arn:aws[a-z-]*:sagemaker:(?P<region>[a-z0-9-]+):\d{12}:labeling-job/(?P<name>[A-Za-z0-9-]{1,63})$")


class MalformedEvent(ValueError):
    """Not a labeling-job state change this watcher can act on; the message names the field."""


@dataclass(frozen=True)
class StateChange:
    region: str
    # As the ARN spells it: lower case. Ground Truth job names are case-insensitive, so Describe finds the job.
    name: str
    status: str | None
    kind: JobKind = JobKind.LABELING
    # The job's ARN: a pipeline execution is described by it.
    arn: str | None = None
    account: str | None = None


def parse(event: Any) -> StateChange:
    if not isinstance(event, dict):
        raise MalformedEvent(f"event: expected an object, got {type(event).__name__}")
    if event.get("source") != STATE_CHANGE_SOURCE:
        raise MalformedEvent(f"source: expected {STATE_CHANGE_SOURCE!r}, got {event.get('source')!r}")
    if event.get("detail-type") != STATE_CHANGE_DETAIL_TYPE:
        raise MalformedEvent(f"detail-type: expected {STATE_CHANGE_DETAIL_TYPE!r}, got {event.get('detail-type')!r}")
    resources = event.get("resources")
    if not isinstance(resources, list) or len(resources) != 1 or not isinstance(resources[0], str):
        raise MalformedEvent(f"resources: expected one labeling job ARN, got {resources!r}")
    match = _ARN.match(resources[0])
    if match is None:
        raise MalformedEvent(f"resources[0]: not a labeling job ARN: {resources[0]!r}")
    detail = event.get("detail")
    status = detail.get("LabelingJobStatus") if isinstance(detail, dict) else None
    return StateChange(region=match["region"], name=match["name"], status=status if isinstance(status, str) else None)
