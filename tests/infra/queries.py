"""Questions the template tests ask of a synthesized template."""

from __future__ import annotations

import json
from typing import Any

from aws_cdk.assertions import Match, Template

POLLER_HANDLER = "watcher.handlers.poller_handler.lambda_handler"
EVENT_HANDLER = "watcher.handlers.event_handler.lambda_handler"
SLACK_HANDLER = "watcher.handlers.slack_handler.lambda_handler"
WATCH_START_HANDLER = "watcher.handlers.deployment_handler.lambda_handler"
HANDLERS = (POLLER_HANDLER, EVENT_HANDLER, SLACK_HANDLER, WATCH_START_HANDLER)
# Only in a stack whose (account, region) pairs outgrow one poll invocation.
POLL_WORKER_HANDLER = "watcher.handlers.poll_worker_handler.lambda_handler"
# Only in a stack with a `digest` configured.
DIGEST_HANDLER = "watcher.handlers.digest_handler.lambda_handler"

STATE_TABLE = {"KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}]}
SLACK_QUEUE = {"RedrivePolicy": Match.any_value()}
DEAD_LETTER_QUEUE = {"MessageRetentionPeriod": 1209600}


def only(template: Template, resource_type: str, props: dict[str, Any] | None = None) -> Any:
    found = template.find_resources(resource_type, {"Properties": props} if props else None)
    assert len(found) == 1, f"expected one {resource_type} matching {props}, found {len(found)}"
    return next(iter(found.values()))


def logical_id(template: Template, resource_type: str, props: dict[str, Any] | None = None) -> str:
    found = template.find_resources(resource_type, {"Properties": props} if props else None)
    assert len(found) == 1, f"expected one {resource_type} matching {props}, found {len(found)}"
    return next(iter(found))


def ref(template: Template, resource_type: str, props: dict[str, Any] | None = None) -> dict[str, str]:
    return {"Ref": logical_id(template, resource_type, props)}


def arn_of(template: Template, resource_type: str, props: dict[str, Any] | None = None) -> dict[str, list[str]]:
    return {"Fn::GetAtt": [logical_id(template, resource_type, props), "Arn"]}


def function_props(template: Template, handler: str) -> Any:
    return only(template, "AWS::Lambda::Function", {"Handler": handler})["Properties"]


def function_id(template: Template, handler: str) -> str:
    return logical_id(template, "AWS::Lambda::Function", {"Handler": handler})


def role_id(template: Template, handler: str) -> str:
    role: str = function_props(template, handler)["Role"]["Fn::GetAtt"][0]
    return role


def statements_of(template: Template, handler: str) -> list[dict[str, Any]]:
    """Every IAM statement of the role the function with `handler` runs as, inline or in attached policies."""
    role = role_id(template, handler)
    inline = template.to_json()["Resources"][role]["Properties"].get("Policies", [])
    attached = template.find_resources("AWS::IAM::Policy", {"Properties": {"Roles": Match.array_with([{"Ref": role}])}})
    documents = [policy["PolicyDocument"] for policy in inline]
    documents += [policy["Properties"]["PolicyDocument"] for policy in attached.values()]
    return [statement for document in documents for statement in document["Statement"]]


def actions(statement: dict[str, Any]) -> list[str]:
    action = statement["Action"]
    return [action] if isinstance(action, str) else list(action)


def render(value: Any) -> Any:
    """CloudFormation intrinsics as readable text: Ref X -> ${X}, GetAtt X.Arn -> ${X.Arn}, Fn::Join joined."""
    if isinstance(value, dict) and len(value) == 1:
        ((name, argument),) = value.items()
        if name == "Ref":
            return f"${{{argument}}}"
        if name == "Fn::GetAtt":
            return f"${{{argument[0]}.{argument[1]}}}"
        if name == "Fn::Join":
            return argument[0].join(str(render(part)) for part in argument[1])
    if isinstance(value, dict):
        return {key: render(item) for key, item in value.items()}
    if isinstance(value, list):
        return [render(item) for item in value]
    return value


def grants(template: Template, handler: str) -> set[tuple[tuple[str, ...], str]]:
    """The role's permissions as (sorted actions, rendered resource) pairs, one per resource; a statement's
    condition follows its resource, as "<resource> when <condition as JSON>"."""
    pairs = set()
    for statement in statements_of(template, handler):
        assert statement["Effect"] == "Allow", statement
        resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        when = f" when {json.dumps(statement['Condition'], sort_keys=True)}" if "Condition" in statement else ""
        pairs |= {(tuple(sorted(actions(statement))), f"{render(resource)}{when}") for resource in resources}
    return pairs


def statement_with(statements: list[dict[str, Any]], action: str) -> dict[str, Any]:
    matching = [statement for statement in statements if action in actions(statement)]
    assert len(matching) == 1, f"expected one statement allowing {action}, found {len(matching)}"
    return matching[0]


def key_arn(template: Template) -> dict[str, list[str]]:
    return arn_of(template, "AWS::KMS::Key")


def rendered_arn(service: str, resource: str, region: str = "${AWS::Region}") -> str:
    """An ARN in the stack's account as render() shows it."""
    return f"arn:${{AWS::Partition}}:{service}:{region}:${{AWS::AccountId}}:{resource}"
