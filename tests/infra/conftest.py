"""Each stack is synthesized once per test run: a synthesis (with cdk-nag) takes seconds."""

from __future__ import annotations

from typing import Any

import pytest
from aws_cdk.assertions import Template

from tests.infra.stacks import ALL_KINDS, APP, DIGEST, DIGEST_APP, FAN_OUT, Synthesized, synth

# Every setting changed from its default, but the stack's name (OTHER_NAME's stack tests that one) and the digest
# (DIGEST's and DIGEST_APP's stacks test that one).
CUSTOM: dict[str, Any] = {
    "schedule_minutes": 10,
    "stall_after_minutes": 90,
    "stall_repeat_minutes": 120,
    "name_contains": "prod-batch",
    "slack_events": ["completed", "failed"],
    "email_events": ["failed", "stalled"],
    "email_addresses": ["ops@example.com", "labeling-lead@example.org"],
    "slack_webhook_secret_name": "team/gtwatch-slack",
    "regions": ["us-east-1", "eu-west-1"],
    "log_level": "DEBUG",
    "alarm_email_addresses": ["oncall@example.com"],
    "powertools_layer_version": "3.36.0",
    "dashboard": True,
    "tracing": True,
    "slack_lag_alarm_minutes": 45,
    "quiet_hours": {"start": "22:00", "end": "07:00", "timezone": "Europe/Berlin", "hold": ["completed", "resumed"]},
}
# A second deployment in the same account and region, under another name.
OTHER_NAME: dict[str, Any] = {"stack_name": "GtwatchStaging"}


@pytest.fixture(scope="session")
def default_synth(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    return synth(tmp_path_factory.mktemp("default"))


@pytest.fixture(scope="session")
def custom_synth(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    return synth(tmp_path_factory.mktemp("custom"), CUSTOM)


@pytest.fixture(scope="session")
def default(default_synth: Synthesized) -> Template:
    return default_synth.template


@pytest.fixture(scope="session")
def custom(custom_synth: Synthesized) -> Template:
    return custom_synth.template


@pytest.fixture(scope="session")
def other_synth(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    return synth(tmp_path_factory.mktemp("other"), OTHER_NAME)


@pytest.fixture(scope="session")
def other(other_synth: Synthesized) -> Template:
    return other_synth.template


@pytest.fixture(scope="session")
def app_synth(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    return synth(tmp_path_factory.mktemp("app"), APP)


@pytest.fixture(scope="session")
def app(app_synth: Synthesized) -> Template:
    return app_synth.template


@pytest.fixture(scope="session")
def all_kinds_synth(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    return synth(tmp_path_factory.mktemp("all-kinds"), ALL_KINDS)


@pytest.fixture(scope="session")
def all_kinds(all_kinds_synth: Synthesized) -> Template:
    return all_kinds_synth.template


@pytest.fixture(scope="session")
def digest_synth(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    return synth(tmp_path_factory.mktemp("digest"), DIGEST)


@pytest.fixture(scope="session")
def digest(digest_synth: Synthesized) -> Template:
    return digest_synth.template


@pytest.fixture(scope="session")
def digest_app_synth(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    return synth(tmp_path_factory.mktemp("digest-app"), DIGEST_APP)


@pytest.fixture(scope="session")
def digest_app(digest_app_synth: Synthesized) -> Template:
    return digest_app_synth.template


@pytest.fixture(scope="session")
def fan_out_synth(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    return synth(tmp_path_factory.mktemp("fan-out"), FAN_OUT)


@pytest.fixture(scope="session")
def fan_out(fan_out_synth: Synthesized) -> Template:
    return fan_out_synth.template
