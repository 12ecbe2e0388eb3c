"""CloudFormation's side of a custom resource, on loopback: invoke a handler as a deployment would, take its answer."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from .labeling_jobs import DEFAULT_ACCOUNT_ID

Handler = Callable[[dict[str, Any], LambdaContext], Any]


class CustomResourceFailed(RuntimeError):
    """The custom resource answered FAILED: the deployment would roll back."""


def create(handler: Handler, context: LambdaContext, *, region: str, logical_id: str) -> dict[str, Any]:
    """Send `handler` the Create request CloudFormation sends; return the answer it PUT to the response URL."""
    answers: list[dict[str, Any]] = []

    class _ResponseUrl(BaseHTTPRequestHandler):
        def do_PUT(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            answers.append(json.loads(self.rfile.read(length)))
            self.send_response(200)
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), _ResponseUrl)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        stack_id = f"arn:aws:cloudformation:{region}:{DEFAULT_ACCOUNT_ID}:stack/Gtwatch/00000000"
        handler(
            {
                "RequestType": "Create",
                "ResponseURL": f"http://127.0.0.1:{server.server_address[1]}/response",
                "StackId": stack_id,
                "RequestId": "replay-deployment",
                "ResourceType": "Custom::WatchStart",
                "LogicalResourceId": logical_id,
                "ResourceProperties": {},
            },
            context,
        )
    finally:
        server.shutdown()
        server.server_close()
    if not answers:
        raise CustomResourceFailed(f"{logical_id}: no answer reached the response URL")
    if answers[-1].get("Status") != "SUCCESS":
        raise CustomResourceFailed(f"{logical_id}: {answers[-1].get('Reason')}")
    return answers[-1]
