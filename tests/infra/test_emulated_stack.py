"""`gtwatch emulator`'s stack (gtwatch.sim.serve) is the synthesized stack as the operator commands read it: the same
outputs, the same WatcherConfig document, alarms named as the stack names them."""

from __future__ import annotations

import json
from typing import Any

from aws_cdk.assertions import Template
from watcher.domain.contract import EVENT_TYPES

from gtwatch.ops.config import LocalConfig
from gtwatch.sim import serve
from gtwatch.sim.emulator import deployment
from gtwatch.sim.emulator.deployment import Routing
from infra.config import parse_config


def _emulated_stack(config: LocalConfig | None = None) -> tuple[dict[str, str], set[str]]:
    with deployment.deployed(
        mode="inprocess",
        routing=Routing(slack_events=EVENT_TYPES, email_events=EVENT_TYPES),
        slack_webhook_url="http://127.0.0.1:9/unused",
        handler_env={},
    ) as resources:
        serve.create_stack("Gtwatch", resources, config or LocalConfig(), schedule_minutes=5)
        stack = deployment.client("cloudformation").describe_stacks(StackName="Gtwatch")["Stacks"][0]
        alarms = deployment.client("cloudwatch").describe_alarms()["MetricAlarms"]
    return {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}, {a["AlarmName"] for a in alarms}


def _alarm_names(template: Template) -> set[str]:
    """The stack's alarm names with the stack's name filled in (the template joins them with AWS::StackName)."""
    names = set()
    for alarm in template.find_resources("AWS::CloudWatch::Alarm").values():
        name: Any = alarm["Properties"]["AlarmName"]
        if isinstance(name, dict):
            parts = name["Fn::Join"][1]
            name = "".join("Gtwatch" if part == {"Ref": "AWS::StackName"} else part for part in parts)
        names.add(name)
    return names


def test_the_emulated_stack_has_the_default_stacks_outputs_and_config(default: Template) -> None:
    outputs, alarms = _emulated_stack()
    assert set(outputs) == set(default.to_json()["Outputs"])
    assert json.loads(outputs["WatcherConfig"]) == parse_config({}).effective(deployment.REGION)
    assert alarms and alarms <= _alarm_names(default)


def test_the_emulated_stack_says_what_kinds_it_watches_as_the_stack_does() -> None:
    settings = {"kinds": ["labeling", "training", "pipeline"], "stall_after_minutes": {"training": 30}}
    outputs, _ = _emulated_stack(LocalConfig.model_validate(settings))
    assert json.loads(outputs["WatcherConfig"]) == parse_config(settings).effective(deployment.REGION)
