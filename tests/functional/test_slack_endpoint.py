"""The local Slack's Web API driven by slack_sdk's WebClient, as the notifier drives Slack: methods, threads, metadata,
Slack's errors, its rate limit, and faults, lost answers included."""

from __future__ import annotations

import json
import re
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
import slack_sdk.http_retry.builtin_handlers as builtin_handlers
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler
from slack_sdk.webhook import WebhookClient

from gtwatch.sim.slack_endpoint import FAILURE_MODES, SlackAction, SlackEndpoint

CHANNELS = {"#labeling": "C0LABEL001", "#ml-alerts": "C0ALERTS01"}
START = 1_700_000_000.0
CLIENT_TIMEOUT = 1  # seconds; slack_sdk's clients take whole seconds
TS = re.compile(r"^\d{10}\.\d{6}$")
SECTION = [{"type": "section", "text": {"type": "mrkdwn", "text": "*cats-v1* completed"}}]
METADATA = {"event_type": "gtwatch_job", "event_payload": {"job": "cats-v1", "status": "Completed"}}


class FakeClock:
    def __init__(self, now: float = START) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class SleepInClock:
    """Stands in for the `time` module in slack_sdk's retry handlers: a sleep moves the fake clock on."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.slept: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.clock.now += seconds


@pytest.fixture(autouse=True)
def no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    # Hermetic: nothing between the clients and the loopback server.
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def slack(clock: FakeClock) -> Iterator[SlackEndpoint]:
    with SlackEndpoint(
        channels=CHANNELS, clock=clock, timeout_hold_seconds=CLIENT_TIMEOUT + 1, post_rate_per_second=None
    ) as endpoint:
        yield endpoint


def web(endpoint: SlackEndpoint, **options: Any) -> WebClient:
    """A WebClient of the endpoint's bot, unless `token` says otherwise."""
    options.setdefault("token", endpoint.bot_token)
    return WebClient(base_url=endpoint.api_url, timeout=CLIENT_TIMEOUT, **options)


def refusal(call: Any) -> tuple[int, str]:
    with pytest.raises(SlackApiError) as raised:
        call()
    return raised.value.response.status_code, raised.value.response["error"]


def texts(messages: list[dict[str, Any]]) -> list[str]:
    return [message["text"] for message in messages]


def test_auth_test_names_the_bot_and_its_workspace(slack: SlackEndpoint) -> None:
    identity = web(slack).auth_test()

    assert identity["ok"] is True
    assert identity["user_id"].startswith("U")
    assert identity["bot_id"].startswith("B")
    assert identity["team_id"].startswith("T")


def test_a_post_by_channel_name_lands_in_that_channel_and_answers_with_its_id(slack: SlackEndpoint) -> None:
    client = web(slack)

    posted = client.chat_postMessage(channel="#labeling", text="cats-v1 completed", blocks=SECTION, unfurl_links=False)

    assert posted["channel"] == "C0LABEL001"
    assert TS.match(posted["ts"])
    assert posted["message"]["text"] == "cats-v1 completed"
    history = client.conversations_history(channel="C0LABEL001")
    assert [(m["ts"], m["text"], m["blocks"]) for m in history["messages"]] == [
        (posted["ts"], "cats-v1 completed", SECTION)
    ]
    assert slack.messages("#ml-alerts") == []
    assert slack.actions == [
        SlackAction(
            action="post",
            channel_id="C0LABEL001",
            channel_name="#labeling",
            ts=posted["ts"],
            thread_ts=None,
            payload={"channel": "#labeling", "text": "cats-v1 completed", "blocks": SECTION, "unfurl_links": False},
            metadata=None,
        )
    ]


def test_message_ts_come_from_the_clock_unique_and_increasing(slack: SlackEndpoint, clock: FakeClock) -> None:
    client = web(slack)

    first = client.chat_postMessage(channel="C0LABEL001", text="one")["ts"]
    second = client.chat_postMessage(channel="C0ALERTS01", text="two")["ts"]
    clock.now = START + 60
    third = client.chat_postMessage(channel="C0LABEL001", text="three")["ts"]
    clock.now = START + 30  # a clock that steps back still gives later ts
    fourth = client.chat_postMessage(channel="C0LABEL001", text="four")["ts"]

    assert [first, second, third] == ["1700000000.000000", "1700000000.000001", "1700000060.000000"]
    assert fourth == "1700000060.000001"


def test_history_is_newest_first_and_pages_with_a_cursor(slack: SlackEndpoint, clock: FakeClock) -> None:
    client = web(slack)
    posted = []
    for number in range(5):
        clock.now = START + number
        posted.append(client.chat_postMessage(channel="#labeling", text=f"m{number}")["ts"])

    first = client.conversations_history(channel="C0LABEL001", limit=2)
    second = client.conversations_history(
        channel="C0LABEL001", limit=2, cursor=first["response_metadata"]["next_cursor"]
    )
    pages = [texts(page["messages"]) for page in client.conversations_history(channel="C0LABEL001", limit=2)]
    between = client.conversations_history(channel="C0LABEL001", oldest=posted[1], latest=posted[4])
    inclusive = client.conversations_history(channel="C0LABEL001", oldest=posted[1], latest=posted[4], inclusive=True)

    assert (texts(first["messages"]), first["has_more"]) == (["m4", "m3"], True)
    assert (texts(second["messages"]), second["has_more"]) == (["m2", "m1"], True)
    assert pages == [["m4", "m3"], ["m2", "m1"], ["m0"]]
    assert texts(between["messages"]) == ["m3", "m2"]
    assert texts(inclusive["messages"]) == ["m4", "m3", "m2", "m1"]
    assert refusal(lambda: client.conversations_history(channel="C0LABEL001", cursor="not-a-cursor")) == (
        200,
        "invalid_cursor",
    )


def test_replies_thread_under_their_root_which_counts_them(slack: SlackEndpoint) -> None:
    client = web(slack)
    root = client.chat_postMessage(channel="#labeling", text="cats-v1 started")["ts"]

    quiet = client.chat_postMessage(channel="#labeling", text="cats-v1 stalled", thread_ts=root)["ts"]
    loud = client.chat_postMessage(channel="C0LABEL001", text="cats-v1 failed", thread_ts=root, reply_broadcast=True)
    # Slack puts a reply to a reply in the root's thread.
    late = client.chat_postMessage(channel="C0LABEL001", text="cats-v1 resumed", thread_ts=quiet)["ts"]

    history = client.conversations_history(channel="C0LABEL001")["messages"]
    assert texts(history) == ["cats-v1 failed", "cats-v1 started"]  # a broadcast reply shows in the channel too
    assert history[0]["subtype"] == "thread_broadcast"
    shown_root = history[1]
    assert (shown_root["thread_ts"], shown_root["reply_count"], shown_root["latest_reply"]) == (root, 3, late)
    thread = client.conversations_replies(channel="C0LABEL001", ts=root)["messages"]
    assert texts(thread) == ["cats-v1 started", "cats-v1 stalled", "cats-v1 failed", "cats-v1 resumed"]
    assert [message["thread_ts"] for message in thread] == [root] * 4
    assert [(a.action, a.ts, a.thread_ts) for a in slack.actions] == [
        ("post", root, None),
        ("reply", quiet, root),
        ("reply", loud["ts"], root),
        ("reply", late, root),
    ]
    assert texts(slack.messages("#labeling")) == texts(thread)


def test_metadata_round_trips_when_asked_for(slack: SlackEndpoint) -> None:
    client = web(slack)
    root = client.chat_postMessage(channel="#labeling", text="cats-v1 started", metadata=METADATA)["ts"]
    client.chat_postMessage(channel="#labeling", text="cats-v1 stalled", thread_ts=root, metadata=METADATA)

    plain = client.conversations_history(channel="C0LABEL001")["messages"]
    with_metadata = client.conversations_history(channel="C0LABEL001", include_all_metadata=True)["messages"]
    thread = client.conversations_replies(channel="C0LABEL001", ts=root, include_all_metadata=True)["messages"]

    assert "metadata" not in plain[0]
    assert with_metadata[0]["metadata"] == METADATA
    assert [message["metadata"] for message in thread] == [METADATA, METADATA]
    assert [action.metadata for action in slack.actions] == [METADATA, METADATA]


def test_an_update_edits_the_message_in_place(slack: SlackEndpoint) -> None:
    client = web(slack)
    root = client.chat_postMessage(channel="#labeling", text="cats-v1 started", blocks=SECTION, metadata=METADATA)
    client.chat_postMessage(channel="#labeling", text="cats-v1 completed", thread_ts=root["ts"])
    completed = METADATA | {"event_payload": {"job": "cats-v1", "status": "Completed"}}

    updated = client.chat_update(channel="C0LABEL001", ts=root["ts"], text="cats-v1: Completed", metadata=completed)

    assert (updated["channel"], updated["ts"], updated["text"]) == ("C0LABEL001", root["ts"], "cats-v1: Completed")
    shown = client.conversations_history(channel="C0LABEL001", include_all_metadata=True)["messages"]
    assert len(shown) == 1
    assert (shown[0]["text"], shown[0]["blocks"], shown[0]["metadata"]) == ("cats-v1: Completed", SECTION, completed)
    assert "edited" in shown[0]
    update = slack.actions[-1]
    assert (update.action, update.ts, update.thread_ts, update.metadata) == (
        "update",
        root["ts"],
        root["ts"],
        completed,
    )
    assert update.payload == {
        "channel": "C0LABEL001",
        "ts": root["ts"],
        "text": "cats-v1: Completed",
        "metadata": completed,
    }


def test_a_form_encoded_call_with_the_token_as_a_parameter_works_too(slack: SlackEndpoint) -> None:
    body = {"token": slack.bot_token, "channel": "#labeling", "text": "hi", "blocks": json.dumps(SECTION)}
    request = urllib.request.Request(
        slack.api_url + "chat.postMessage",
        data=urllib.parse.urlencode(body).encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )

    with urllib.request.urlopen(request, timeout=2) as response:
        answer = json.load(response)

    assert answer["ok"] is True
    assert slack.messages("#labeling")[0]["blocks"] == SECTION
    assert slack.actions[0].payload == {"channel": "#labeling", "text": "hi", "blocks": SECTION}  # no token


@pytest.mark.filterwarnings("ignore:The top-level `text` argument is missing:UserWarning")
def test_each_slack_error_is_http_200_with_its_code_and_changes_nothing(slack: SlackEndpoint) -> None:
    client = web(slack)
    slack.add_channel("#private", "C0PRIVATE1", member=False)
    root = client.chat_postMessage(channel="#labeling", text="root")["ts"]
    before = slack.messages("#labeling")
    refused = {
        "invalid_auth": lambda: web(slack, token="xoxb-not-our-token").chat_postMessage(channel="#labeling", text="x"),
        "not_authed": lambda: web(slack, token=None).auth_test(),
        "channel_not_found": lambda: client.chat_postMessage(channel="#nowhere", text="x"),
        "not_in_channel": lambda: client.chat_postMessage(channel="#private", text="x"),
        "msg_too_long": lambda: client.chat_postMessage(channel="#labeling", text="x" * 40_001),
        "invalid_blocks": lambda: client.chat_postMessage(channel="#labeling", text="x", blocks=[{"type": "marquee"}]),
        "no_text": lambda: client.chat_postMessage(channel="#labeling", text=""),
        "invalid_metadata_format": lambda: client.chat_postMessage(
            channel="#labeling", text="x", metadata={"event_payload": {}}
        ),
        "thread_not_found": lambda: client.chat_postMessage(channel="#labeling", text="x", thread_ts="1.000001"),
        "message_not_found": lambda: client.chat_update(channel="C0LABEL001", ts="1.000001", text="x"),
    }
    also_channel_not_found = [
        lambda: client.chat_update(channel="#labeling", ts=root, text="x"),  # chat.update needs the ID
        lambda: client.conversations_history(channel="#labeling"),
    ]

    answers = {error: refusal(call) for error, call in refused.items()}
    others = [refusal(call) for call in also_channel_not_found]

    assert answers == {error: (200, error) for error in refused}
    assert others == [(200, "channel_not_found")] * 2
    assert refusal(lambda: client.conversations_history(channel="C0PRIVATE1")) == (200, "not_in_channel")
    assert refusal(lambda: client.conversations_replies(channel="C0LABEL001", ts="1.000001")) == (
        200,
        "thread_not_found",
    )
    assert slack.messages("#labeling") == before
    assert [action.action for action in slack.actions] == ["post"]
    client.chat_postMessage(channel="#labeling", text="x" * 40_000)  # the limit itself is fine


def test_a_revoked_token_is_refused_from_then_on(slack: SlackEndpoint) -> None:
    client = web(slack)
    client.auth_test()

    slack.revoke_token()

    assert refusal(client.auth_test) == (200, "token_revoked")
    assert refusal(lambda: client.chat_postMessage(channel="#labeling", text="x")) == (200, "token_revoked")
    assert slack.actions == []


def test_posting_faster_than_a_channel_allows_is_answered_429_with_retry_after(clock: FakeClock) -> None:
    with SlackEndpoint(channels=CHANNELS, clock=clock, post_rate_per_second=1.0, post_burst=1) as slack:
        client = web(slack)
        client.chat_postMessage(channel="#labeling", text="one")

        with pytest.raises(SlackApiError) as raised:
            client.chat_postMessage(channel="#labeling", text="two")
        other_channel = client.chat_postMessage(channel="#ml-alerts", text="elsewhere")
        clock.now += 1
        after_a_second = client.chat_postMessage(channel="#labeling", text="three")

        response = raised.value.response
        assert (response.status_code, response["error"], response.headers["Retry-After"]) == (429, "ratelimited", "1")
        assert other_channel["ok"] and after_a_second["ok"]
        assert texts(slack.messages("#labeling")) == ["one", "three"]
        assert slack.rate_limited == 1


def test_slack_sdk_waits_out_the_rate_limit_and_the_post_goes_through(
    clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    sleeper = SleepInClock(clock)
    monkeypatch.setattr(builtin_handlers, "time", sleeper)
    with SlackEndpoint(channels=CHANNELS, clock=clock, post_rate_per_second=1.0, post_burst=2) as slack:
        client = web(slack, retry_handlers=[RateLimitErrorRetryHandler(max_retry_count=2)])

        for number in range(3):
            client.chat_postMessage(channel="#labeling", text=f"m{number}")

        assert texts(slack.messages("#labeling")) == ["m0", "m1", "m2"]
        assert slack.rate_limited == 1
        assert len(sleeper.slept) == 1 and 1 <= sleeper.slept[0] < 2  # Retry-After: 1, plus slack_sdk's jitter


@pytest.mark.parametrize("mode", ["http_500", "http_429"])
def test_an_injected_http_error_fails_the_call_and_nothing_is_done(slack: SlackEndpoint, mode: str) -> None:
    client = web(slack)
    slack.fail_next(mode)  # type: ignore[arg-type]

    status, error = refusal(lambda: client.chat_postMessage(channel="#labeling", text="x"))
    client.chat_postMessage(channel="#labeling", text="y")

    assert (status, error) == ((500, "internal_error") if mode == "http_500" else (429, "ratelimited"))
    assert texts(slack.messages("#labeling")) == ["y"]
    assert (slack.attempts, slack.failures_served) == (2, 1)


def test_an_injected_429_says_retry_after_one_second(slack: SlackEndpoint) -> None:
    slack.fail_next("http_429")

    with pytest.raises(SlackApiError) as raised:
        web(slack).auth_test()

    assert raised.value.response.headers["Retry-After"] == "1"


def test_a_timeout_does_nothing_and_the_client_gives_up(slack: SlackEndpoint) -> None:
    slack.fail_next("timeout")

    with pytest.raises(TimeoutError):
        web(slack).chat_postMessage(channel="#labeling", text="lost")

    assert slack.messages("#labeling") == []
    assert slack.actions == []


def test_a_lost_response_posts_the_message_though_the_client_times_out(slack: SlackEndpoint) -> None:
    client = web(slack)
    slack.fail_next("lost_response")

    with pytest.raises(TimeoutError):
        client.chat_postMessage(channel="#labeling", text="cats-v1 completed", metadata=METADATA)

    history = client.conversations_history(channel="C0LABEL001", include_all_metadata=True)["messages"]
    assert [(m["text"], m["metadata"]) for m in history] == [("cats-v1 completed", METADATA)]
    assert [action.action for action in slack.actions] == ["post"]


def test_a_lost_response_to_an_update_still_edits_the_message(slack: SlackEndpoint) -> None:
    client = web(slack)
    root = client.chat_postMessage(channel="#labeling", text="cats-v1 started")["ts"]
    slack.fail_next("lost_response")

    with pytest.raises(TimeoutError):
        client.chat_update(channel="C0LABEL001", ts=root, text="cats-v1: Completed")

    assert texts(slack.messages("#labeling")) == ["cats-v1: Completed"]
    assert [action.action for action in slack.actions] == ["post", "update"]


def test_a_lost_response_on_the_webhook_accepts_the_message_without_answering(slack: SlackEndpoint) -> None:
    slack.fail_next("lost_response")

    with pytest.raises(TimeoutError):
        WebhookClient(slack.url, timeout=CLIENT_TIMEOUT).send(text="cats-v1 completed")

    assert slack.received == [{"text": "cats-v1 completed"}]


def test_fail_while_fails_every_call_until_the_outage_ends(slack: SlackEndpoint) -> None:
    client = web(slack)
    outage = {"on": True}
    slack.fail_while("http_500", lambda: outage["on"])

    during = [refusal(lambda: client.chat_postMessage(channel="#labeling", text="x")) for _ in range(3)]
    during.append(refusal(client.auth_test))
    outage["on"] = False
    client.chat_postMessage(channel="#labeling", text="after")

    assert during == [(500, "internal_error")] * 4
    assert texts(slack.messages("#labeling")) == ["after"]
    assert slack.failures_served == 4


def test_lost_response_is_a_failure_mode_and_unknown_modes_are_refused(slack: SlackEndpoint) -> None:
    assert "lost_response" in FAILURE_MODES
    with pytest.raises(ValueError, match="mode"):
        slack.fail_next("exploded")  # type: ignore[arg-type]


def test_a_channel_a_route_names_by_id_is_reached_by_that_id_only(slack: SlackEndpoint) -> None:
    # A workspace where another channel happens to be named like the ID in lower case.
    slack.add_channel("#c0oncall01")
    oncall = slack.add_route_channel("C0ONCALL01")
    client = web(slack)

    posted = client.chat_postMessage(channel="C0ONCALL01", text="to the id")

    assert oncall == "C0ONCALL01" and posted["channel"] == "C0ONCALL01"
    assert texts(slack.messages("C0ONCALL01")) == ["to the id"] and slack.messages("#c0oncall01") == []
    listed = {c["id"]: c["name"] for c in client.conversations_list()["channels"]}
    assert listed["C0ONCALL01"] not in ("c0oncall01", "C0ONCALL01")  # a name of its own, as every channel has
    assert slack.add_route_channel("#labeling") == "C0LABEL001" and slack.add_route_channel("C0ONCALL01") == oncall
    assert refusal(lambda: client.chat_postMessage(channel="C0NOWHERE1", text="x")) == (200, "channel_not_found")
    assert refusal(lambda: client.chat_postMessage(channel="#C0ONCALL01", text="x")) == (200, "channel_not_found")


def test_members_and_user_groups_are_looked_up_as_slack_shows_them(slack: SlackEndpoint) -> None:
    slack.add_user("U0ALICE01", "alice")
    slack.add_user("U0BOB0001", "bob", deleted=True)
    slack.add_user_group("S0ONCALL1", "ml-oncall")
    slack.add_user_group("S0OLDTEAM1", "old-team", disabled=True)
    client = web(slack)

    assert client.users_info(user="U0ALICE01")["user"]["name"] == "alice"
    assert client.users_info(user="U0BOB0001")["user"]["deleted"] is True
    assert refusal(lambda: client.users_info(user="U0NOBODY1")) == (200, "user_not_found")
    assert [g["handle"] for g in client.usergroups_list()["usergroups"]] == ["ml-oncall"]
    everything = client.usergroups_list(include_disabled=True)["usergroups"]
    assert {g["handle"]: bool(g["date_delete"]) for g in everything} == {"ml-oncall": False, "old-team": True}

    slack.withhold_scope("usergroups:read")
    with pytest.raises(SlackApiError) as raised:
        client.usergroups_list()
    assert raised.value.response["error"] == "missing_scope" and raised.value.response["needed"] == "usergroups:read"
