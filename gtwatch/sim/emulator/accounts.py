"""The emulator's other accounts: each spoke's read-only role, as its spoke stack creates it, so that the hub's
AssumeRole of it works as in AWS.

moto keeps one backend per account: a call signed by a session of a role in account X reaches X's jobs, logs and
roles. An administrator creates the spoke's role in X through the role AWS Organizations creates in every member
account (OrganizationAccountAccessRole), as a StackSet or `cdk deploy` in that account would.
"""

from __future__ import annotations

import json
from typing import Any

import boto3
from watcher.domain.contract import HUB_ROLE_PATH, SPOKE_ROLE_NAME

from gtwatch.ops.accounts import spoke_role_arn

from .deployment import ACCOUNT_ID, REGION, client

PARTITION = "aws"
# The role AWS Organizations creates in a member account for the management account's administrators.
ADMIN_ROLE_NAME = "OrganizationAccountAccessRole"


def create_spoke_role(account_id: str) -> str:
    """The spoke's read-only role in `account_id`, trusting the hub account's roles under HUB_ROLE_PATH; its ARN."""
    iam = account_client("iam", account_id)
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:{PARTITION}:iam::{ACCOUNT_ID}:root"},
                "Action": "sts:AssumeRole",
                "Condition": {
                    "ArnLike": {"aws:PrincipalArn": f"arn:{PARTITION}:iam::{ACCOUNT_ID}:role{HUB_ROLE_PATH}*"}
                },
            }
        ],
    }
    iam.create_role(RoleName=SPOKE_ROLE_NAME, AssumeRolePolicyDocument=json.dumps(trust))
    return spoke_role_arn(account_id, PARTITION)  # the ARN GTWATCH_ACCOUNTS names


def account_client(service: str, account_id: str, region: str = REGION, role_name: str = ADMIN_ROLE_NAME) -> Any:
    """A client in another account of the emulator, through a role there (by default its administrators')."""
    credentials = client("sts").assume_role(
        RoleArn=f"arn:{PARTITION}:iam::{account_id}:role/{role_name}", RoleSessionName="gtwatch-emulator"
    )["Credentials"]
    return boto3.client(
        service,  # type: ignore[call-overload]
        region_name=region,
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
    )
