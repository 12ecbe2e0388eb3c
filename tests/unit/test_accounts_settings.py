"""`accounts` as the operator commands read cdk.json: the same rules as `cdk synth` (gtwatch.ops.accounts)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gtwatch.ops.accounts import Account, accounts_env, parse_accounts, parse_route_accounts
from gtwatch.ops.common import OpsError
from gtwatch.ops.config import load_local_config

ACCOUNTS = [
    {"id": "123456789012", "regions": ["us-east-1"]},
    {"id": "111111111111", "alias": "research", "regions": ["us-east-1", "eu-west-1"]},
]


def write_cdk_json(directory: Path, gtwatch: object) -> None:
    (directory / "cdk.json").write_text(json.dumps({"context": {"gtwatch": gtwatch}}), encoding="utf-8")


def test_the_commands_read_the_listed_accounts(tmp_path: Path) -> None:
    write_cdk_json(tmp_path, {"accounts": ACCOUNTS})
    assert load_local_config(tmp_path).config.accounts == (
        Account("123456789012", None, ("us-east-1",)),
        Account("111111111111", "research", ("us-east-1", "eu-west-1")),
    )


def test_the_commands_refuse_an_accounts_mistake_naming_the_key(tmp_path: Path) -> None:
    write_cdk_json(tmp_path, {"accounts": [ACCOUNTS[0], {**ACCOUNTS[1], "id": "123456789012"}]})
    with pytest.raises(OpsError, match=r"context\.gtwatch: accounts\[1\]\.id: '123456789012' is listed twice$"):
        load_local_config(tmp_path)


def test_the_accounts_are_written_without_roles_the_functions_derive_them() -> None:
    assert json.loads(accounts_env(parse_accounts(ACCOUNTS, "accounts"), "aws")) == [
        {"id": "123456789012", "regions": ["us-east-1"]},
        {"id": "111111111111", "alias": "research", "regions": ["us-east-1", "eu-west-1"]},
    ]


def test_a_route_names_accounts_by_id_or_alias_and_gets_ids() -> None:
    accounts = parse_accounts(ACCOUNTS, "accounts")
    assert parse_route_accounts(["research", "123456789012"], "r", accounts, "accounts") == (
        "123456789012",
        "111111111111",
    )
    assert parse_route_accounts(None, "r", accounts, "accounts") is None
