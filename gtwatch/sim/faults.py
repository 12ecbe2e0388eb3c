"""Fault injection for replay: the next N calls to a service, or every call until a minute (an outage), fail at the
HTTP boundary, as AWS would fail them.

A faulted attempt never reaches the emulator (nothing happens there), and botocore sees a real error response, so
the handlers' own client code runs as in AWS: its retry mode backs off and retries, and when it gives up the
handler's error path runs. Retry back-off sleeps are skipped: they happen in simulated time, within the minute.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import botocore.endpoint
import slack_sdk.http_retry.builtin_handlers as slack_builtin
import slack_sdk.http_retry.handler as slack_handler
from botocore.awsrequest import AWSResponse, HTTPHeaders
from botocore.endpoint import Endpoint
from moto.core.botocore_stubber import MockRawResponse

from .slack_endpoint import SlackEndpoint

# target -> the service names botocore uses for it
SERVICES = {"sagemaker": "sagemaker", "sns": "sns", "dynamodb": "dynamodb", "logs": "logs"}
ERRORS = {
    ("sagemaker", "throttle"): (400, "ThrottlingException", "Rate exceeded"),
    # CloudWatch Logs' own throttling answer (its API reference lists ThrottlingException, HTTP 400).
    ("logs", "throttle"): (400, "ThrottlingException", "Rate exceeded"),
    ("sns", "error"): (500, "InternalFailure", "We encountered an internal error. Please try again."),
    ("dynamodb", "error"): (500, "InternalServerError", "Internal server error"),
}


class _SimulatedTime:
    """Stands in for the `time` module where retry back-off sleeps: the wait passes in simulated time."""

    def __init__(self, real: Any) -> None:
        self._real = real
        self.slept = 0.0

    def sleep(self, seconds: float) -> None:
        self.slept += seconds

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)


class _FaultEmitter:
    """The endpoint's event emitter, except that the HTTP exchange answers with the injected error."""

    def __init__(self, real: Any, response: AWSResponse) -> None:
        self._real = real
        self._response = response

    def emit(self, event_name: str, **kwargs: Any) -> Any:
        if event_name.startswith("before-send."):
            return [(None, self._response)]
        return self._real.emit(event_name, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)


class Faults:
    """Armed faults per target; `injected` counts the attempts that were made to fail."""

    def __init__(self, slack: SlackEndpoint, minute: Callable[[], int] = lambda: 0) -> None:
        self._slack = slack
        self._minute = minute
        self._armed: Counter[str] = Counter()
        self._outage_until: dict[str, int] = {}
        self._modes: dict[str, str] = {}
        self._lock = threading.Lock()
        self.injected: Counter[str] = Counter()

    def arm(self, target: str, mode: str, count: int | None = None, *, until_minute: int | None = None) -> None:
        """The next `count` calls to `target` fail; or, with `until_minute`, every call before that minute."""
        if target == "slack":
            if until_minute is not None:
                self._slack.fail_while(mode, lambda: self._minute() < until_minute)  # type: ignore[arg-type]
            else:
                self._slack.fail_next(mode, count or 1)  # type: ignore[arg-type]
            return
        with self._lock:
            self._modes[target] = mode
            if until_minute is not None:
                self._outage_until[target] = max(until_minute, self._outage_until.get(target, 0))
            else:
                self._armed[target] += count or 1

    def slack_slept(self) -> float:
        """Seconds slack_sdk's retry handlers have waited (Retry-After), in simulated time."""
        sleeps: tuple[_SimulatedTime, ...] = getattr(self, "_slack_sleeps", ())
        return float(sum(sleep.slept for sleep in sleeps))

    def counts(self) -> dict[str, int]:
        return {**self.injected, "slack": self._slack.failures_served}

    def _take(self, service: str) -> tuple[int, str, str] | None:
        target = next((t for t, name in SERVICES.items() if name == service), None)
        if target is None:
            return None
        with self._lock:
            if self._minute() < self._outage_until.get(target, 0):
                self.injected[target] += 1
                return ERRORS[target, self._modes[target]]
            if self._armed[target] <= 0:
                return None
            self._armed[target] -= 1
            self.injected[target] += 1
            return ERRORS[target, self._modes[target]]

    @contextmanager
    def installed(self) -> Iterator[Faults]:
        # botocore's private hook points: typed stubs do not cover them, hence getattr/setattr.
        original = getattr(Endpoint, "_do_get_response")  # noqa: B009
        faults = self

        def do_get_response(self: Endpoint, request: Any, operation_model: Any, context: Any) -> Any:
            error = faults._take(operation_model.service_model.service_name)
            if error is None:
                return original(self, request, operation_model, context)
            real = getattr(self, "_event_emitter")  # noqa: B009
            setattr(self, "_event_emitter", _FaultEmitter(real, _error_response(request, operation_model, *error)))  # noqa: B010
            try:
                return original(self, request, operation_model, context)
            finally:
                setattr(self, "_event_emitter", real)  # noqa: B010

        simulated = _SimulatedTime(getattr(botocore.endpoint, "time"))  # noqa: B009
        self._slack_sleeps = (
            _SimulatedTime(slack_builtin.time),  # type: ignore[attr-defined]
            _SimulatedTime(slack_handler.time),  # type: ignore[attr-defined]
        )
        patched = [
            (Endpoint, "_do_get_response", do_get_response),
            (botocore.endpoint, "time", simulated),
            (slack_builtin, "time", self._slack_sleeps[0]),
            (slack_handler, "time", self._slack_sleeps[1]),
        ]
        saved = [(owner, name, getattr(owner, name)) for owner, name, _ in patched]
        for owner, name, value in patched:
            setattr(owner, name, value)
        try:
            yield self
        finally:
            for owner, name, value in saved:
                setattr(owner, name, value)


def _error_response(request: Any, operation_model: Any, status: int, code: str, message: str) -> AWSResponse:
    request_id = str(uuid.uuid4())
    protocol = operation_model.metadata["protocol"]
    if protocol == "query":
        body = (
            f'<ErrorResponse xmlns="https://{operation_model.service_model.endpoint_prefix}.amazonaws.com/doc/">'
            f"<Error><Type>{'Receiver' if status >= 500 else 'Sender'}</Type><Code>{code}</Code>"
            f"<Message>{message}</Message></Error><RequestId>{request_id}</RequestId></ErrorResponse>"
        )
        headers = {"Content-Type": "text/xml", "x-amzn-RequestId": request_id}
    else:
        body = json.dumps({"__type": code, "message": message})
        headers = {"Content-Type": "application/x-amz-json-1.1", "x-amzn-RequestId": request_id}
    http_headers = HTTPHeaders()
    for name, value in headers.items():
        http_headers[name] = value
    return AWSResponse(request.url, status, http_headers, MockRawResponse(body))
