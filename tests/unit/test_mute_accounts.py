"""`gtwatch mute --account`: which account's job a mute names (a spoke by id or alias, the home account as scopes
name it), and the regions it may be in; one clear error otherwise."""

from __future__ import annotations

import argparse
import json

import pytest
from watcher.domain.contract import OUTPUT_CONFIG

from gtwatch.ops.common import OpsError
from gtwatch.ops.mute import _job_account, _job_region
from gtwatch.ops.stack import StackInfo

CONFIG = {
    "regions": ["us-east-1"],
    "accounts": [
        {"id": "123456789012", "alias": "ml-shared", "regions": ["us-east-1"]},
        {"id": "111111111111", "alias": "research", "regions": ["us-east-1", "eu-west-1"]},
    ],
}
STACK = StackInfo("Gtwatch", "us-east-1", {OUTPUT_CONFIG: json.dumps(CONFIG)})


def args(account: str | None, job_region: str | None = None) -> argparse.Namespace:
    return argparse.Namespace(account=account, job_region=job_region)


@pytest.mark.parametrize(
    ("account", "expected"),
    [
        (None, (None, None)),
        ("ml-shared", (None, None)),
        ("123456789012", (None, None)),
        ("research", ("111111111111", ("us-east-1", "eu-west-1"))),
        ("111111111111", ("111111111111", ("us-east-1", "eu-west-1"))),
    ],
)
def test_a_mute_names_its_account_by_id_or_alias(account: str | None, expected: object) -> None:
    assert _job_account(STACK, args(account)) == expected


def test_an_account_the_stack_does_not_watch_is_one_clear_error() -> None:
    with pytest.raises(
        OpsError, match=r"--account: stack Gtwatch does not watch 'prod'; it watches ml-shared, research"
    ):
        _job_account(STACK, args("prod"))


def test_a_spoke_job_s_region_must_be_one_of_the_spoke_s() -> None:
    _, regions = _job_account(STACK, args("research", "eu-west-1"))
    assert _job_region(STACK, args("research", "eu-west-1"), regions) == "eu-west-1"
    with pytest.raises(OpsError, match=r"--job-region: research is watched in us-east-1, eu-west-1, not us-west-2"):
        _job_region(STACK, args("research", "us-west-2"), regions)
