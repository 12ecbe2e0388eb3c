"""A run fanned out: the watched (account, region) pairs cut into batches, one poll worker each, and the small message
that hands a batch to a worker through the poll-work queue. Pure values."""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass

from watcher.domain.accounts import Accounts
from watcher.domain.job import Scope
from watcher.domain.vocabulary import REGION_PATTERN

# A successful batch of a run of n adds 1/n to PollSucceeded (the run adds 1 in all), rounded up to this precision so
# that n such shares sum to at least 1 whatever the float rounding, and n - 1 of them to less (n below 31,000).
SHARE_PRECISION = 10**9


@dataclass(frozen=True)
class Pair:
    """One watched region of one account (None: the home account, as scopes name it): what a batch is made of."""

    account: str | None
    region: str

    def __str__(self) -> str:
        return self.region if self.account is None else f"{self.account} {self.region}"


@dataclass(frozen=True)
class PollWork:
    """One batch of a run: its pairs, and how many batches the run was cut into."""

    pairs: tuple[Pair, ...]
    batches: int

    @property
    def success_share(self) -> float:
        """What this batch adds to PollSucceeded when it succeeds: 1/batches, rounded up (SHARE_PRECISION)."""
        return math.ceil(SHARE_PRECISION / self.batches) / SHARE_PRECISION

    def to_message(self) -> str:
        """The queue message: compact JSON, [account or null, region] per pair (about 30 bytes each)."""
        pairs = [[pair.account, pair.region] for pair in self.pairs]
        return json.dumps({"pairs": pairs, "batches": self.batches}, separators=(",", ":"))


def watched_pairs(accounts: Accounts) -> tuple[Pair, ...]:
    """Every watched (account, region), account by account as configured."""
    return tuple(Pair(account.scope_account, region) for account in accounts.accounts for region in account.regions)


def plan_batches(pairs: tuple[Pair, ...], per_invocation: int) -> tuple[PollWork, ...]:
    """The pairs cut into the fewest batches of at most `per_invocation`, as even as possible and in order (so an
    account's regions stay together, and its role is assumed by as few workers as can be)."""
    if per_invocation < 1:
        raise ValueError(f"per_invocation must be at least 1 (got {per_invocation})")
    count = math.ceil(len(pairs) / per_invocation)
    if count == 0:
        return ()
    size, extra = divmod(len(pairs), count)
    batches, start = [], 0
    for index in range(count):
        end = start + size + (1 if index < extra else 0)
        batches.append(pairs[start:end])
        start = end
    return tuple(PollWork(batch, count) for batch in batches)


def parse_poll_work(body: str) -> PollWork:
    """A poll-work message; ValueError naming the field when it is not one."""
    try:
        document = json.loads(body)
    except ValueError as error:
        raise ValueError(f"poll work: not JSON: {error}") from None
    if not isinstance(document, dict):
        raise ValueError("poll work: expected a JSON object")
    batches = document.get("batches")
    if not isinstance(batches, int) or isinstance(batches, bool) or batches < 1:
        raise ValueError(f"poll work: batches: a whole number of at least 1 is required (got {batches!r})")
    raw = document.get("pairs")
    if not isinstance(raw, list) or not raw:
        raise ValueError("poll work: pairs: a non-empty list of [account or null, region] is required")
    pairs = []
    for index, item in enumerate(raw):
        if not isinstance(item, list) or len(item) != 2:
            raise ValueError(f"poll work: pairs[{index}]: expected [account or null, region] (got {item!r})")
        account, region = item
        if account is not None and not (isinstance(account, str) and re.fullmatch(r"\d{12}", account)):
            raise ValueError(f"poll work: pairs[{index}]: {account!r} is not a 12-digit account id or null")
        if not isinstance(region, str) or not re.match(REGION_PATTERN, region):
            raise ValueError(f"poll work: pairs[{index}]: {region!r} is not a region name like us-east-1")
        pairs.append(Pair(account, region))
    return PollWork(tuple(pairs), batches)


def scopes_of(work: PollWork, watched: tuple[Scope, ...]) -> tuple[Scope, ...]:
    """The watched scopes of the batch's pairs, in the configured order (a pair no longer watched has none)."""
    wanted = set(work.pairs)
    return tuple(scope for scope in watched if Pair(scope.account, scope.region) in wanted)
