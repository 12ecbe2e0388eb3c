"""A deployed gtwatch stack as the operator commands see it: its outputs (CloudFormation DescribeStacks)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import boto3
from botocore.exceptions import ClientError
from watcher.adapters.aws import RETRY_CONFIG

from .common import OpsError


@dataclass(frozen=True)
class StackInfo:
    """What the commands need of a stack: where it is and its outputs. Tests build one from the emulator."""

    name: str
    region: str
    outputs: Mapping[str, str] = field(default_factory=dict)
    status: str | None = None

    def output(self, key: str) -> str:
        """A required output; a stack without it is not (this version of) a gtwatch stack."""
        if key not in self.outputs:
            raise OpsError(f"stack {self.name!r} has no {key} output; is it a gtwatch stack?")
        return self.outputs[key]


def read_stack(session: boto3.session.Session, stack_name: str, region: str) -> StackInfo:
    cloudformation = session.client("cloudformation", region_name=region, config=RETRY_CONFIG)
    try:
        stacks = cloudformation.describe_stacks(StackName=stack_name)["Stacks"]
    except ClientError as error:
        message = error.response.get("Error", {}).get("Message", str(error))
        raise OpsError(f"stack {stack_name!r} in {region}: {message}") from None
    if not stacks:
        raise OpsError(f"stack {stack_name!r} in {region} does not exist")
    stack = stacks[0]
    outputs = {output["OutputKey"]: output["OutputValue"] for output in stack.get("Outputs", [])}
    return StackInfo(name=stack_name, region=region, outputs=outputs, status=stack.get("StackStatus"))


def stack_alarm_names(session: boto3.session.Session, stack: StackInfo) -> list[str]:
    """The names of the stack's CloudWatch alarms, from its resources (ListStackResources)."""
    cloudformation = session.client("cloudformation", region_name=stack.region, config=RETRY_CONFIG)
    names: list[str] = []
    for page in cloudformation.get_paginator("list_stack_resources").paginate(StackName=stack.name):
        for resource in page.get("StackResourceSummaries", []):
            if resource.get("ResourceType") == "AWS::CloudWatch::Alarm" and resource.get("PhysicalResourceId"):
                names.append(resource["PhysicalResourceId"])
    return names
