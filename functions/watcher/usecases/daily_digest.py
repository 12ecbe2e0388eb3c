"""The daily digest's use case: read what the state table knows (never SageMaker), build the digest and publish it
once per configured channel. A channel that fails does not keep the other from its digest."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from aws_lambda_powertools import Logger

from watcher.domain import digest
from watcher.domain.accounts import Accounts
from watcher.domain.diff import WatchRules
from watcher.domain.job import Scope
from watcher.domain.model import JobState
from watcher.domain.mute_rules import Mute
from watcher.domain.ports import DigestPublisher, JobStateStore, MuteReader, QueueDepth

logger = Logger(child=True)


class DigestConfig(Protocol):
    """What the digest reads of its settings (watcher.settings.DigestSettings is one)."""

    @property
    def channels(self) -> tuple[str, ...]: ...
    @property
    def slack_channel(self) -> str | None: ...
    @property
    def timezone(self) -> str: ...
    @property
    def queue_url(self) -> str | None: ...
    @property
    def dead_letter_queue_url(self) -> str | None: ...
    @property
    def schedule_minutes(self) -> int: ...
    @property
    def watched_scopes(self) -> tuple[Scope, ...]: ...
    @property
    def watched_accounts(self) -> Accounts: ...
    @property
    def rules(self) -> WatchRules: ...


@dataclass
class DigestOutcome:
    """The channels the digest went to and those it could not; `summary` is None on a quiet day (nothing sent)."""

    sent: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    summary: str | None = None


def send_digest(
    config: DigestConfig,
    now: datetime,
    *,
    store: JobStateStore,
    mutes: MuteReader,
    queue_depth: QueueDepth,
    publish: DigestPublisher,
) -> DigestOutcome:
    built = _build(config, now, store, mutes, queue_depth)
    if built is None:
        return DigestOutcome()
    outcome = DigestOutcome(summary=built.counts)
    for channel in config.channels:
        try:
            if channel == "email":
                publish(
                    channel="email",
                    digest_id=built.id,
                    subject=digest.email_subject(built),
                    message=digest.email_body(built),
                )
            else:
                document = digest.SlackDigest.of(built, destination=config.slack_channel)
                message = json.dumps(document.to_document(), ensure_ascii=False)
                publish(channel="slack", digest_id=built.id, message=message)
            outcome.sent.append(channel)
        except Exception:
            logger.exception("The digest could not be sent to this channel", extra={"channel": channel})
            outcome.failed.append(channel)
    return outcome


def _build(
    config: DigestConfig, now: datetime, store: JobStateStore, mutes: MuteReader, queue_depth: QueueDepth
) -> digest.Digest | None:
    active: list[JobState] = []
    ended: list[JobState] = []
    muted: dict[tuple[str, str], Mute] = {}
    last_runs: dict[str, datetime | None] = {}
    started: dict[str, datetime] = {}
    failing: dict[str, tuple[str, ...]] = {}
    unreadable: dict[str, tuple[str, datetime | None]] = {}
    accounts = config.watched_accounts
    # With accounts listed, people read each account's alias (the home account's too); scopes name spokes by id.
    labels = {account.scope_account: account.label for account in accounts.accounts} if accounts.home.id else {}

    def health_key(scope: Scope) -> str:
        plain = str(Scope(scope.region, scope.kind))
        return f"{labels[scope.account]} {plain}" if scope.account in labels else plain

    for scope in config.watched_scopes:
        states = store.active_states(scope)
        active += [state for state in states.values() if not state.status_class.is_terminal]
        ended += [state for state in states.values() if state.status_class.is_terminal]  # still delivering
        ended += store.ended_states(scope, now - digest.DIGEST_WINDOW, now + timedelta(seconds=1))
        muted |= {(scope.key, name): mute for name, mute in mutes.in_scope(scope).items()}
        record = store.load_run(scope)
        last_runs[health_key(scope)] = record.listed_at if record is not None else None
        if record is not None:
            started[str(scope)] = record.started_at
            failing[health_key(scope)] = record.retry
            if record.unreadable is not None:
                unreadable[health_key(scope)] = (record.unreadable, record.unreadable_since)
    local = now.astimezone(ZoneInfo(config.timezone))
    return digest.build(
        now,
        local_label=f"{local:%A %d %B %Y, %H:%M} {config.timezone}",
        active=active,
        ended=list({(s.scope.key, s.name): s for s in ended}.values()),
        mutes=muted,
        health=digest.Health(
            last_runs=last_runs,
            schedule_minutes=config.schedule_minutes,
            slack_waiting=queue_depth(config.queue_url) if config.queue_url else None,
            dead_letters=queue_depth(config.dead_letter_queue_url) if config.dead_letter_queue_url else None,
            failing_jobs=failing,
            unreadable=unreadable,
        ),
        rules=config.rules,
        watch_started=started,
        account_labels=labels,
    )
