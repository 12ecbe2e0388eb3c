"""The accounts a deployment watches (`accounts`: the home account first, then the spokes) and a Slack route's
`accounts`: checked one way wherever cdk.json is read (`cdk synth` of the hub and of the spokes, the operator
commands), and written one way for the watching functions (GTWATCH_ACCOUNTS) and the notifier's routes.

Standard library only (and the watcher's contract), so that infra/ and the operator commands share it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from watcher.domain.contract import SPOKE_ROLE_NAME
from watcher.domain.text import value_text
from watcher.domain.vocabulary import REGION_PATTERN

ACCOUNT_SETTINGS = ("id", "alias", "regions")
ROUTE_ACCOUNTS_KEY = "accounts"
ACCOUNT_ID = re.compile(r"[0-9]{12}")
# What people read for an account: letters, digits, dots, hyphens and underscores, never a 12-digit number (which
# would read as another account's id).
ALIAS = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,62}")
REGION = re.compile(REGION_PATTERN)

ACCOUNTS_ALLOWED = (
    'a non-empty list of accounts like {"id": "111111111111", "alias": "research", "regions": ["us-east-1"]} (the '
    "first is the home account, where the hub is deployed)"
)
ID_ALLOWED = 'a 12-digit AWS account id in quotes, like "111111111111"'
ALIAS_ALLOWED = (
    "an alias of 1 to 63 letters, digits, dots, hyphens or underscores, starting with a letter or digit, that is not "
    "a 12-digit number"
)
REGIONS_ALLOWED = "a non-empty list of region names like us-east-1"
ROUTE_ACCOUNTS_ALLOWED = "a non-empty list of listed accounts' ids or aliases"


@dataclass(frozen=True)
class Account:
    """One watched account: its id, the alias people read (if any) and the SageMaker regions watched in it."""

    id: str
    alias: str | None
    regions: tuple[str, ...]

    @property
    def name(self) -> str:
        """What a person reads: the alias, or the id."""
        return self.alias or self.id


def _check_regions(raw: object, at: str, known_regions: Collection[str] | None) -> list[str]:
    if not isinstance(raw, list) or not raw:
        return [f"{at}: {value_text(raw)} is not {REGIONS_ALLOWED}"]
    problems: list[str] = []
    for index, region in enumerate(raw):
        if not isinstance(region, str) or not REGION.fullmatch(region):
            problems.append(f"{at}[{index}]: {value_text(region)} is not a region name like us-east-1")
        elif known_regions is not None and region not in known_regions:
            problems.append(f"{at}[{index}]: {region!r} is not a region where SageMaker runs")
        elif region in raw[:index]:
            problems.append(f"{at}: {region!r} is listed twice")
    return problems


def _check_account(raw: object, at: str, known_regions: Collection[str] | None) -> list[str]:
    if not isinstance(raw, Mapping):
        return [f'{at}: {value_text(raw)} is not an account like {{"id": "111111111111", "regions": [...]}}']
    unknown = sorted(str(key) for key in raw if key not in ACCOUNT_SETTINGS)
    if unknown:
        return [f"{at}.{unknown[0]}: not an account setting ({', '.join(ACCOUNT_SETTINGS)})"]
    problems: list[str] = []
    if "id" not in raw:
        problems.append(f"{at}.id: required: {ID_ALLOWED}")
    elif not isinstance(raw["id"], str) or not ACCOUNT_ID.fullmatch(raw["id"]):
        problems.append(f"{at}.id: {value_text(raw['id'])} is not {ID_ALLOWED}")
    alias = raw.get("alias")
    if alias is not None and (not isinstance(alias, str) or not ALIAS.fullmatch(alias) or ACCOUNT_ID.fullmatch(alias)):
        problems.append(f"{at}.alias: {value_text(alias)} is not {ALIAS_ALLOWED}")
    if "regions" not in raw:
        problems.append(f"{at}.regions: required: {REGIONS_ALLOWED}")
    else:
        problems += _check_regions(raw["regions"], f"{at}.regions", known_regions)
    return problems


def parse_accounts(raw: object, where: str, *, known_regions: Collection[str] | None = None) -> tuple[Account, ...]:
    """The listed accounts, in their order (the home account first). ValueError names `where` and each bad key; ids
    and aliases are unique. `known_regions`: the regions a region name must be one of (None: any well-formed one)."""
    if not isinstance(raw, list | tuple) or not raw:
        raise ValueError(f"{where}: {value_text(raw)} is not {ACCOUNTS_ALLOWED}")
    problems = [
        problem
        for index, item in enumerate(raw)
        for problem in _check_account(item, f"{where}[{index}]", known_regions)
    ]
    if problems:
        raise ValueError("; ".join(problems))
    accounts = tuple(Account(item["id"], item.get("alias"), tuple(item["regions"])) for item in raw)
    for index, account in enumerate(accounts):
        earlier = accounts[:index]
        if any(other.id == account.id for other in earlier):
            problems.append(f"{where}[{index}].id: {account.id!r} is listed twice")
        if account.alias is not None and any(other.alias == account.alias for other in earlier):
            problems.append(f"{where}[{index}].alias: {account.alias!r} is listed twice")
    if problems:
        raise ValueError("; ".join(problems))
    return accounts


def split_route_accounts(raw: object) -> tuple[object, tuple[object, ...]]:
    """Slack routes as written without their `accounts` (for the route checks that do not know accounts), and each
    route's `accounts` as written (None: every account). Anything that is not a list of objects is returned as it
    is, for the route checks to refuse."""
    if not isinstance(raw, list):
        return raw, ()
    routes: list[object] = []
    accounts: list[object] = []
    for item in raw:
        if isinstance(item, Mapping):
            routes.append({key: value for key, value in item.items() if key != ROUTE_ACCOUNTS_KEY})
            accounts.append(item.get(ROUTE_ACCOUNTS_KEY))
        else:
            routes.append(item)
            accounts.append(None)
    return routes, tuple(accounts)


def parse_route_accounts(
    raw: object, where: str, accounts: Sequence[Account], accounts_where: str
) -> tuple[str, ...] | None:
    """A route's `accounts` (ids or aliases of listed accounts) as account ids in the listed order; None (absent):
    every account. ValueError names `where` and each account that is not listed."""
    if raw is None:
        return None
    if not isinstance(raw, list) or not raw:
        raise ValueError(f"{where}: {value_text(raw)} is not {ROUTE_ACCOUNTS_ALLOWED}")
    by_name = {name: account.id for account in accounts for name in (account.id, account.alias) if name is not None}
    listed = ", ".join(account.name for account in accounts) or "none"
    problems = [
        f"{where}[{index}]: {value_text(item)} is not a listed account ({accounts_where} lists {listed})"
        for index, item in enumerate(raw)
        if not isinstance(item, str) or item not in by_name
    ]
    if problems:
        raise ValueError("; ".join(problems))
    chosen = [by_name[item] for item in raw]
    twice = next((item for index, item in enumerate(raw) if by_name[item] in chosen[:index]), None)
    if twice is not None:
        raise ValueError(f"{where}: {twice!r} names an account listed earlier in the route")
    return tuple(account.id for account in accounts if account.id in chosen)


def with_route_accounts(routes_json: str, route_accounts: Sequence[tuple[str, ...] | None]) -> str:
    """The notifier's routes JSON (GTWATCH_SLACK_ROUTES), each route narrowed by accounts carrying
    `"accounts": [ids]` (ids, not aliases: a notification names its job's account by id)."""
    routes = json.loads(routes_json)
    for route, narrowed in zip(routes, route_accounts, strict=False):
        if narrowed is not None:
            route[ROUTE_ACCOUNTS_KEY] = list(narrowed)
    return json.dumps(routes, separators=(",", ":"))


def spoke_role_arn(account_id: str, partition: str) -> str:
    """The read-only role a spoke's stack creates, which the hub assumes."""
    return f"arn:{partition}:iam::{account_id}:role/{SPOKE_ROLE_NAME}"


def accounts_document(accounts: Sequence[Account], partition: str) -> list[dict[str, Any]]:
    """The accounts as GTWATCH_ACCOUNTS lists them: the home account first, then the spokes. A spoke's role ARN is
    not written: the functions derive it from the id (contract.SPOKE_ROLE_NAME), which keeps the variable within
    Lambda's 4 KB for about twice as many accounts."""
    document: list[dict[str, Any]] = []
    for account in accounts:
        entry: dict[str, Any] = {"id": account.id}
        if account.alias is not None:
            entry["alias"] = account.alias
        entry["regions"] = list(account.regions)
        document.append(entry)
    return document


def accounts_env(accounts: Sequence[Account], partition: str) -> str:
    """GTWATCH_ACCOUNTS: compact JSON of accounts_document."""
    return json.dumps(accounts_document(accounts, partition), separators=(",", ":"))
