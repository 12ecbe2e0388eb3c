"""The composition root: the one place that builds the adapters behind the ports (ports.py) from the settings and
the container's clients, for the poller, the event handler, the deployment's custom resource and the digest.

`overriding` is the seam that puts another adapter behind a port without patching a module: the simulation and the
tests use it (a fault-injecting store, a publisher that fails); nothing in Lambda calls it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, TypeVar

from watcher.adapters import aws
from watcher.adapters.accounts import InAccount
from watcher.adapters.job_logs import LOG_READS_PER_RUN
from watcher.adapters.mute import MuteStore
from watcher.adapters.poll_queue import send_poll_work
from watcher.adapters.publisher import publish, publish_digest
from watcher.adapters.sagemaker_kinds import job_source as kind_source
from watcher.adapters.state_store import StateStore
from watcher.domain.accounts import Accounts
from watcher.domain.job import LOG_KINDS, Scope
from watcher.domain.ports import DigestPublisher, JobSource, JobStateStore, MuteReader, Publisher, QueueDepth
from watcher.usecases.watch import Run, Watcher

if TYPE_CHECKING:
    from watcher.settings import PollerSettings

T = TypeVar("T")


@dataclass(frozen=True)
class Overrides:
    """Each wraps (or replaces) the adapter built for its port."""

    store: Callable[[JobStateStore], JobStateStore] | None = None
    publisher: Callable[[Publisher], Publisher] | None = None
    source: Callable[[JobSource], JobSource] | None = None
    mutes: Callable[[MuteReader], MuteReader] | None = None

    def then(self, inner: Overrides) -> Overrides:
        """These overrides, then `inner` around what they build."""
        return Overrides(
            store=_chain(self.store, inner.store),
            publisher=_chain(self.publisher, inner.publisher),
            source=_chain(self.source, inner.source),
            mutes=_chain(self.mutes, inner.mutes),
        )


def _chain(outer: Callable[[T], T] | None, inner: Callable[[T], T] | None) -> Callable[[T], T] | None:
    if outer is None or inner is None:
        return outer or inner
    return lambda adapter: inner(outer(adapter))


_overrides = Overrides()


@contextmanager
def overriding(overrides: Overrides) -> Iterator[None]:
    """Within the block, every handler's adapters pass through `overrides` (inside any already in force)."""
    global _overrides
    previous, _overrides = _overrides, _overrides.then(overrides)
    try:
        yield
    finally:
        _overrides = previous


def state_store(table_name: str) -> JobStateStore:
    store: JobStateStore = StateStore(aws.client("dynamodb"), table_name)
    return _overrides.store(store) if _overrides.store else store


def mute_reader(table_name: str) -> MuteReader:
    mutes: MuteReader = MuteStore(aws.client("dynamodb"), table_name)
    return _overrides.mutes(mutes) if _overrides.mutes else mutes


def publisher(topic_arn: str) -> Publisher:
    send: Publisher = partial(publish, aws.client("sns"), topic_arn)
    return _overrides.publisher(send) if _overrides.publisher else send


def job_source(
    scope: Scope,
    accounts: Accounts | None = None,
    *,
    external_id: str | None = None,
    log_budget: int = LOG_READS_PER_RUN,
) -> JobSource:
    """The source of the scope's kind of job in its region and account (sagemaker_kinds.job_source), reading at most
    `log_budget` CloudWatch Logs calls a run: a spoke's through its role (raising AccountUnreadable when that cannot be
    assumed), its jobs named by account and alias."""
    account = accounts.by_id(scope.account) if accounts is not None else None
    if account is None or account.is_home:
        logs = aws.client("logs", scope.region) if scope.kind in LOG_KINDS else None
        source = kind_source(aws.client("sagemaker", scope.region), logs, scope, log_budget=log_budget)
        if account is not None and account.id:  # The deployment lists its accounts: name the home one too.
            source = InAccount(source, account)
    else:
        spoke_logs = aws.spoke_client("logs", scope.region, account, external_id=external_id)
        spoke = aws.spoke_client("sagemaker", scope.region, account, external_id=external_id)
        built = kind_source(spoke, spoke_logs if scope.kind in LOG_KINDS else None, scope, log_budget=log_budget)
        source = InAccount(built, account, forget=partial(aws.forget_spoke, account))
    return _overrides.source(source) if _overrides.source else source


def job_sources(config: PollerSettings) -> Callable[[Scope], JobSource]:
    """The source of each scope the settings watch, in whichever account it is."""
    return partial(
        job_source,
        accounts=config.watched_accounts,
        external_id=config.spoke_external_id,
        log_budget=config.log_reads_per_run,
    )


def digest_publisher(topic_arn: str) -> DigestPublisher:
    return partial(publish_digest, aws.client("sns"), topic_arn)


def poll_work_sender(queue_url: str) -> Callable[[list[str]], None]:
    """Sends a run's batches to the poll-work queue (adapters.poll_queue)."""
    return partial(send_poll_work, aws.client("sqs"), queue_url)


def queue_depth() -> QueueDepth:
    def waiting(queue_url: str) -> int:
        attributes = aws.client("sqs").get_queue_attributes(
            QueueUrl=queue_url, AttributeNames=["ApproximateNumberOfMessages"]
        )
        return int(attributes["Attributes"]["ApproximateNumberOfMessages"])

    return waiting


def watcher(config: PollerSettings, run: Run, *, quiet: bool = True) -> Watcher:
    """What watching a job needs, as the settings configure it (`quiet=False`: without quiet hours)."""
    return Watcher(
        store=state_store(config.table_name),
        publish=publisher(config.topic_arn),
        rules=config.rules,
        run=run,
        mutes=mute_reader(config.table_name),
        quiet=config.quiet_hours if quiet else None,
        email_events=frozenset(config.email_events),
    )
