"""The watcher side of many accounts, on fakes: the settings' accounts, scopes by account, one unreadable account
delaying only its own jobs, routes narrowed by account, and messages that name the account by its alias."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from watcher import container
from watcher.domain.accounts import AccountUnreadable, WatchedAccount
from watcher.domain.diff import WatchRules
from watcher.domain.email_message import subject
from watcher.domain.formatting import facts
from watcher.domain.job import JobKind, Scope
from watcher.domain.model import JobStatus, LabelCounters, LabelingJob
from watcher.domain.slack_routes import parse_routes
from watcher.settings import PollerSettings, SettingsError
from watcher.usecases.poll import poll_scopes
from watcher.usecases.watch import Run, Watcher

from tests.fakes.jobs import InMemoryJobSource
from tests.fakes.mutes import InMemoryMutes
from tests.fakes.publisher import RecordingPublisher
from tests.fakes.store import InMemoryStateStore

START = datetime(2026, 4, 14, 8, 0, tzinfo=UTC)
ACCOUNTS = [
    {"id": "123456789012", "alias": "ml-shared", "regions": ["us-east-1"]},
    {
        "id": "111111111111",
        "alias": "research",
        "regions": ["us-east-1", "eu-west-1"],
        "role_arn": "arn:aws:iam::111111111111:role/gtwatch-spoke-reader",
    },
    {"id": "222222222222", "regions": ["us-west-2"], "role_arn": "arn:aws:iam::222222222222:role/gtwatch-spoke-reader"},
]
ENV = {
    "GTWATCH_TABLE_NAME": "gtwatch-state",
    "GTWATCH_TOPIC_ARN": "arn:aws:sns:us-east-1:123456789012:gtwatch",
    "AWS_REGION": "us-east-1",
    "GTWATCH_KINDS": "labeling,training",
    "GTWATCH_ACCOUNTS": json.dumps(ACCOUNTS),
}


@pytest.fixture(autouse=True)
def cold_container():
    container.reset()
    yield
    container.reset()


def test_every_kind_in_every_region_of_every_account_is_a_scope_of_its_own() -> None:
    config = PollerSettings.from_env(ENV)

    assert config.watched_scopes == (
        Scope("us-east-1", JobKind.LABELING),
        Scope("us-east-1", JobKind.TRAINING),
        Scope("us-east-1", JobKind.LABELING, "111111111111"),
        Scope("us-east-1", JobKind.TRAINING, "111111111111"),
        Scope("eu-west-1", JobKind.LABELING, "111111111111"),
        Scope("eu-west-1", JobKind.TRAINING, "111111111111"),
        Scope("us-west-2", JobKind.LABELING, "222222222222"),
        Scope("us-west-2", JobKind.TRAINING, "222222222222"),
    )
    # The home account's items keep the keys they had; a spoke's start with its id.
    assert [scope.key for scope in config.watched_scopes[:3]] == [
        "us-east-1",
        "us-east-1#training",
        "111111111111#us-east-1",
    ]
    accounts = config.watched_accounts
    assert accounts.scope_account("123456789012") is None and accounts.scope_account("111111111111") == "111111111111"
    assert accounts.watches("111111111111", "eu-west-1") and not accounts.watches("111111111111", "us-west-2")
    assert not accounts.watches("999999999999", "us-east-1")


@pytest.mark.parametrize(
    ("accounts", "message"),
    [
        ([{"id": "12345", "regions": ["us-east-1"]}], "[0].id: a 12-digit account id is required"),
        ([{"id": "123456789012", "regions": []}], "[0].regions: a non-empty list of regions is required"),
        (
            [{"id": "123456789012", "regions": ["us-east-1"], "role_arn": "arn:aws:iam::123456789012:role/x"}],
            "[0].role_arn: the home account has none",
        ),
        ([ACCOUNTS[0], {**ACCOUNTS[1], "role_arn": "arn:aws:iam::1:role/x"}], "[1].role_arn: 'arn:aws:iam::1:role/x'"),
        ([ACCOUNTS[0], ACCOUNTS[0]], "an account is listed twice"),
        ([ACCOUNTS[0], {**ACCOUNTS[1], "id": "123456789012"}], "an account is listed twice"),
    ],
)
def test_a_bad_accounts_setting_fails_the_cold_start_naming_the_variable(accounts: object, message: str) -> None:
    with pytest.raises(SettingsError) as error:
        PollerSettings.from_env({**ENV, "GTWATCH_ACCOUNTS": json.dumps(accounts)})
    assert "GTWATCH_ACCOUNTS" in str(error.value) and message in str(error.value)


def test_a_spoke_s_role_is_its_reader_role_unless_the_variable_names_another() -> None:
    derived = [ACCOUNTS[0], {"id": "111111111111", "regions": ["eu-west-1"]}]
    accounts = PollerSettings.from_env({**ENV, "GTWATCH_ACCOUNTS": json.dumps(derived)}).watched_accounts.accounts

    assert [account.role_arn for account in accounts] == [None, "arn:aws:iam::111111111111:role/gtwatch-spoke-reader"]


def labeling(name: str, status: str, *, unlabeled: int = 10, at: datetime = START) -> LabelingJob:
    return LabelingJob(
        region="us-east-1",
        name=name,
        arn=f"arn:aws:sagemaker:us-east-1:123456789012:labeling-job/{name}",
        status=JobStatus(status),
        counters=LabelCounters(unlabeled=unlabeled),
        creation_time=START - timedelta(hours=1),
        last_modified_time=at,
    )


class Hub:
    """Two accounts' labeling jobs in us-east-1; the research account's role may be refused."""

    def __init__(self) -> None:
        self.store = InMemoryStateStore()
        self.publisher = RecordingPublisher()
        self.sources = {None: InMemoryJobSource("us-east-1"), "111111111111": InMemoryJobSource("us-east-1")}
        self.refused = False
        self.research = WatchedAccount("111111111111", ("us-east-1",), "research", "arn:aws:iam::111111111111:role/r")

    def source(self, scope: Scope) -> InMemoryJobSource:
        if scope.account is not None and self.refused:
            raise AccountUnreadable(self.research, "AccessDenied")
        return self.sources[scope.account]

    def put(self, account: str | None, job: LabelingJob) -> None:
        self.sources[account].put(job.__class__(**{**job.__dict__, "account": account}))

    def run(self, minute: int) -> list[str]:
        now = START + timedelta(minutes=minute)
        watcher = Watcher(self.store, self.publisher, WatchRules(), Run.starting(now, seconds_left=60), InMemoryMutes())
        outcome = poll_scopes(
            (Scope("us-east-1"), Scope("us-east-1", JobKind.LABELING, "111111111111")),
            sources=self.source,
            watcher=watcher,
        )
        assert not outcome.errors
        return sorted(outcome.unreadable)

    def said(self) -> list[tuple[str | None, str, str]]:
        return [(n.job.account, n.job.name, n.event_type.value) for n, _ in self.publisher.published]


def test_an_account_whose_role_cannot_be_assumed_delays_only_its_own_jobs_and_they_arrive_once_after() -> None:
    hub = Hub()
    for account in (None, "111111111111"):
        hub.put(account, labeling("cats", "InProgress"))
    assert hub.run(0) == []

    hub.refused = True
    for account in (None, "111111111111"):
        hub.put(account, labeling("cats", "Completed", unlabeled=0, at=START + timedelta(minutes=3)))
    assert hub.run(5) == ["111111111111"]
    assert hub.said() == [(None, "cats", "completed")]  # The home account's is on time.

    assert hub.run(10) == ["111111111111"]
    hub.refused = False
    assert hub.run(15) == []
    assert hub.run(20) == []
    assert hub.said() == [(None, "cats", "completed"), ("111111111111", "cats", "completed")]
    # Two jobs of one name in two accounts are two jobs: two states, two streams.
    assert {state.scope.key for state in hub.store.states.values()} == {"us-east-1", "111111111111#us-east-1"}


def test_a_spoke_unreadable_from_deployment_still_has_its_baseline_at_deployment() -> None:
    hub = Hub()
    hub.refused = True
    hub.store.start_watching(Scope("us-east-1", JobKind.LABELING, "111111111111"), START)  # The deployment's record.
    hub.put("111111111111", labeling("old", "Completed", unlabeled=0, at=START - timedelta(days=2)))
    hub.put("111111111111", labeling("new", "Failed", at=START + timedelta(minutes=30)))
    for minute in range(0, 120, 5):
        hub.run(minute)
    hub.refused = False
    hub.run(120)

    assert hub.said() == [("111111111111", "new", "failed")]


def test_a_route_narrowed_by_account_takes_only_that_account_s_jobs() -> None:
    [route] = parse_routes(
        [{"channel": "#research", "events": ["failed"], "accounts": ["111111111111"], "kinds": ["training"]}]
    )

    assert route.takes("failed", "bert", "training", "111111111111")
    assert not route.takes("failed", "bert", "training", "123456789012")
    assert not route.takes("failed", "bert", "labeling", "111111111111")
    assert not route.takes("failed", "bert", "training", None)
    with pytest.raises(ValueError, match=r"routes\[0\]\.accounts\[0\]: 'research' is not a 12-digit account id"):
        parse_routes([{"channel": "#research", "events": ["failed"], "accounts": ["research"]}])


def test_a_message_names_the_account_by_its_alias() -> None:
    from watcher.domain.model import EventType, Notification, Progress

    job = LabelingJob(
        **{
            **labeling("cats", "Failed").__dict__,
            "account": "111111111111",
            "account_id": "111111111111",
            "account_alias": "research",
        }
    )
    notification = Notification(
        id="x", event_type=EventType.FAILED, job=job, occurred_at=START, progress=Progress(0, 10, 0, 0, 0)
    )

    assert subject(notification) == "[gtwatch] Failed: cats (research, us-east-1)"
    assert ("Account", "research (111111111111)") in facts(notification)
