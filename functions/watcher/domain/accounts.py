"""The AWS accounts a hub watches: the home account (where gtwatch is deployed) and the spokes it reads through a
role each. Pure values; the settings parse them from GTWATCH_ACCOUNTS and the composition root assumes the roles."""

from __future__ import annotations

from dataclasses import dataclass

from watcher.domain.job import JobKind, Scope


@dataclass(frozen=True)
class WatchedAccount:
    """One watched account: its 12-digit id, the alias people read (optional), its watched regions, and the role the
    hub assumes to read it (None for the home account, read with the functions' own role)."""

    id: str
    regions: tuple[str, ...]
    alias: str | None = None
    role_arn: str | None = None

    @property
    def is_home(self) -> bool:
        return self.role_arn is None

    @property
    def scope_account(self) -> str | None:
        """How a scope names the account: None for the home account (its items keep the keys they had)."""
        return None if self.is_home else self.id

    @property
    def label(self) -> str:
        """As people read it: the alias, else the id."""
        return self.alias or self.id

    def scopes(self, kinds: tuple[JobKind, ...]) -> tuple[Scope, ...]:
        return tuple(Scope(region, kind, self.scope_account) for region in self.regions for kind in kinds)


@dataclass(frozen=True)
class Accounts:
    """Every watched account, the home account first."""

    accounts: tuple[WatchedAccount, ...]

    @property
    def home(self) -> WatchedAccount:
        return self.accounts[0]

    def scopes(self, kinds: tuple[JobKind, ...]) -> tuple[Scope, ...]:
        return tuple(scope for account in self.accounts for scope in account.scopes(kinds))

    def by_id(self, account_id: str | None) -> WatchedAccount | None:
        """The watched account with this id (None: the home account, as scopes name it); None if not watched."""
        if account_id is None:
            return self.home
        return next((account for account in self.accounts if account.id == account_id), None)

    def scope_account(self, account_id: str | None) -> str | None:
        """How a scope names the account an event came from: None for the home account (or an unknown home id)."""
        if account_id is None or account_id == self.home.id or not self.home.id:
            return None  # Without accounts configured (no home id), every event is the home account's.
        return account_id

    def watches(self, account_id: str | None, region: str) -> bool:
        account = self.by_id(self.scope_account(account_id))
        return account is not None and region in account.regions


class AccountUnreadable(RuntimeError):
    """The spoke's role could not be assumed: nothing in that account can be read until it can."""

    def __init__(self, account: WatchedAccount, reason: str) -> None:
        super().__init__(f"account {account.label} ({account.id}): its role cannot be assumed: {reason}")
        self.account = account
        self.reason = reason
