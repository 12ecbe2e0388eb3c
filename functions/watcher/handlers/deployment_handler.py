"""CloudFormation custom resource: the watch begins when the stack is deployed, not at the first run that succeeds.

On Create (and on Update, for regions added since), each watched region's run record is written with the moment
of deployment, unless it exists. Jobs that end after that moment are then announced even if every scheduled run
fails until much later. Delete keeps the records (the state table is retained with them).
The handler answers CloudFormation itself (a PUT of the result to the pre-signed ResponseURL), so the stack needs
no provider framework function.
"""

from __future__ import annotations

import json
import urllib.request
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from watcher import clock, composition
from watcher.settings import PollerSettings, settings
from watcher.usecases.poll import record_watch_start

logger = Logger(service="gtwatch")
RESPONSE_TIMEOUT_SECONDS = 10


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    status, reason, data = "SUCCESS", "", {}
    try:
        if event.get("RequestType") in ("Create", "Update"):
            config = settings(PollerSettings)
            store = composition.state_store(config.table_name)
            data = record_watch_start(store, config.watched_scopes, clock.now())
            logger.info("Watch start recorded", extra={"regions": data})
    except Exception as error:
        # A deployment that cannot record its start fails visibly (CloudFormation rolls back) instead of watching
        # from some later moment.
        logger.exception("Could not record the watch start")
        status, reason = "FAILED", f"{type(error).__name__}: {error}"[:500]
    response = {
        "Status": status,
        "Reason": reason or f"See CloudWatch Logs: {context.log_group_name} {context.log_stream_name}",
        "PhysicalResourceId": event.get("PhysicalResourceId") or "gtwatch-watch-start",
        "StackId": event.get("StackId"),
        "RequestId": event.get("RequestId"),
        "LogicalResourceId": event.get("LogicalResourceId"),
        "Data": data,
    }
    _answer(str(event["ResponseURL"]), response)
    return response


def _answer(url: str, response: dict[str, Any]) -> None:
    body = json.dumps(response).encode()
    request = urllib.request.Request(  # noqa: S310 - CloudFormation's pre-signed https URL
        url, data=body, method="PUT", headers={"Content-Type": "", "Content-Length": str(len(body))}
    )
    with urllib.request.urlopen(request, timeout=RESPONSE_TIMEOUT_SECONDS):  # noqa: S310
        pass
