"""Fault injection for replay: the next N calls to a service, or every call until a minute (an outage), fail at the
HTTP boundary, as AWS would fail them.

A faulted attempt never reaches the emulator (nothing happens there), and botocore sees a real error response, so
the handlers' own client code runs as in AWS: its retry mode backs off and retries, and when it gives up the
handler's error path runs. Retry back-off sleeps are skipped: they happen in simulated time, within the minute.

A `sagemaker` or `logs` fault may be narrowed to an account and a region: a call is the account's whose credentials
sign it (a spoke's role's session, else the home account) and the region's its signature names. An `sts` fault
(`access_denied`) is a spoke's role that cannot be assumed: AssumeRole of it is refused (403 AccessDenied, as STS
refuses a caller the role's trust policy does not allow), and the sessions of that role issued before the fault are
revoked from then on, as IAM's "revoke active sessions" (or deleting and recreating the role) revokes them: a call
signed by one is refused (AccessDenied) even after the fault, so the watcher reads the account again only with a
session it assumes once the role works again.
"""

from __future__ import annotations

import json
import re
import threading
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

import botocore.endpoint
import slack_sdk.http_retry.builtin_handlers as slack_builtin
import slack_sdk.http_retry.handler as slack_handler
from botocore.awsrequest import AWSResponse, HTTPHeaders
from botocore.endpoint import Endpoint
from moto.core.botocore_stubber import MockRawResponse

from .slack_endpoint import SlackEndpoint

# target -> the service names botocore uses for it
SERVICES = {"sagemaker": "sagemaker", "sns": "sns", "dynamodb": "dynamodb", "logs": "logs", "sts": "sts"}
# The account the replay deploys the watcher in: calls signed by anything but a spoke role's session are its.
HOME_ACCOUNT = "123456789012"
# SigV4's Authorization header: Credential=<access key>/<date>/<region>/<service>/aws4_request.
_CREDENTIAL = re.compile(r"Credential=([^/,\s]+)/[0-9]{8}/([a-z0-9-]+)/")
_ROLE_ACCOUNT = re.compile(r"arn:aws[a-z-]*:iam::([0-9]{12}):role/")
ERRORS = {
    # STS's answer to an AssumeRole the role's trust policy does not allow (its API reference: AccessDenied, 403).
    ("sts", "access_denied"): (403, "AccessDenied", "User is not authorized to perform: sts:AssumeRole on the role"),
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


# A call that a role's revoked session signs: refused by each protocol's own access-denied error.
_REVOKED_JSON = (400, "AccessDeniedException", "The security token's session was revoked: assume the role again")
_REVOKED_QUERY = (403, "AccessDenied", "The security token's session was revoked: assume the role again")


@dataclass
class _Armed:
    """One armed fault: `remaining` calls (None: an outage until `until`), in `account` and `region` (None: any)."""

    target: str
    mode: str
    remaining: int | None
    until: int | None
    account: str | None = None
    region: str | None = None

    def live(self, minute: int) -> bool:
        if self.remaining is not None:
            return self.remaining > 0
        return self.until is not None and minute < self.until

    def covers(self, account: str, region: str | None) -> bool:
        if self.target == "sts":  # Every spoke's role when no account is named, never the home account's.
            return account == self.account if self.account is not None else account != HOME_ACCOUNT
        return self.account in (None, account) and self.region in (None, region)


@dataclass(frozen=True)
class _Call:
    """Whose a call is: the account its credentials are of, the region its signature names, and for AssumeRole the
    account of the role asked for."""

    service: str
    operation: str
    account: str
    region: str | None
    access_key: str | None
    role_account: str | None


class Faults:
    """Armed faults per target; `injected` counts the attempts that were made to fail."""

    def __init__(self, slack: SlackEndpoint, minute: Callable[[], int] = lambda: 0) -> None:
        self._slack = slack
        self._minute = minute
        self._armed: list[_Armed] = []
        # Sessions of spoke roles: access key -> (the role's account, the minute it was assumed); and per account the
        # minute from which the sessions assumed before it are revoked (an sts fault's start).
        self._sessions: dict[str, tuple[str, int]] = {}
        self._revoked_before: dict[str, int] = {}
        self._lock = threading.Lock()
        self.injected: Counter[str] = Counter()

    def arm(
        self,
        target: str,
        mode: str,
        count: int | None = None,
        *,
        until_minute: int | None = None,
        account: str | None = None,
        region: str | None = None,
    ) -> None:
        """The next `count` calls to `target` fail; or, with `until_minute`, every call before that minute. `account`
        and `region` narrow a sagemaker or logs fault; `account` names an sts fault's spoke (None: every spoke)."""
        if target == "slack":
            if until_minute is not None:
                self._slack.fail_while(mode, lambda: self._minute() < until_minute)  # type: ignore[arg-type]
            else:
                self._slack.fail_next(mode, count or 1)  # type: ignore[arg-type]
            return
        with self._lock:
            remaining = None if until_minute is not None else count or 1
            armed = _Armed(target, mode, remaining, until_minute, account, region)
            self._armed.append(armed)
            if target == "sts":
                now = self._minute()
                for spoke, _ in self._sessions.values():
                    if armed.covers(spoke, None):
                        self._revoked_before[spoke] = now

    def slack_slept(self) -> float:
        """Seconds slack_sdk's retry handlers have waited (Retry-After), in simulated time."""
        sleeps: tuple[_SimulatedTime, ...] = getattr(self, "_slack_sleeps", ())
        return float(sum(sleep.slept for sleep in sleeps))

    def counts(self) -> dict[str, int]:
        return {**self.injected, "slack": self._slack.failures_served}

    def _take(self, call: _Call) -> tuple[int, str, str] | None:
        with self._lock:
            minute = self._minute()
            session = self._sessions.get(call.access_key or "")
            if session is not None and session[1] < self._revoked_before.get(session[0], -1):
                self.injected["sts"] += 1
                return _REVOKED_QUERY if call.service == "sts" else _REVOKED_JSON
            target = next((t for t, name in SERVICES.items() if name == call.service), None)
            if target == "sts":
                if call.operation != "AssumeRole" or call.role_account is None:
                    return None
                where: tuple[str, str | None] = (call.role_account, None)
            else:
                where = (call.account, call.region)
            for armed in self._armed:
                if armed.target == target and armed.live(minute) and armed.covers(*where):
                    if armed.remaining is not None:
                        armed.remaining -= 1
                    self.injected[target] += 1
                    return ERRORS[target, armed.mode]
            return None

    def _call(self, request: Any, operation_model: Any) -> _Call:
        """Whose the call is, read from its signature (and for AssumeRole from the role it asks for)."""
        match = _CREDENTIAL.search(str(request.headers.get("Authorization", "")))
        access_key, region = (match.group(1), match.group(2)) if match else (None, None)
        with self._lock:
            session = self._sessions.get(access_key or "")
        role_account = None
        if operation_model.name == "AssumeRole":
            body = request.body.decode() if isinstance(request.body, bytes) else str(request.body or "")
            role = parse_qs(body).get("RoleArn", [""])[0]
            role_match = _ROLE_ACCOUNT.match(role)
            role_account = role_match.group(1) if role_match else None
        return _Call(
            service=operation_model.service_model.service_name,
            operation=operation_model.name,
            account=session[0] if session is not None else HOME_ACCOUNT,
            region=region,
            access_key=access_key,
            role_account=role_account,
        )

    def _remember_session(self, call: _Call, result: Any) -> None:
        """A role assumed: its session's access key, so that later calls signed by it are known as that account's."""
        if call.operation != "AssumeRole" or call.role_account is None:
            return
        try:
            (_, parsed), _ = result
            access_key = parsed["Credentials"]["AccessKeyId"]
        except (TypeError, ValueError, KeyError):
            return
        with self._lock:
            self._sessions[access_key] = (call.role_account, self._minute())

    @contextmanager
    def installed(self) -> Iterator[Faults]:
        # botocore's private hook points: typed stubs do not cover them, hence getattr/setattr.
        original = getattr(Endpoint, "_do_get_response")  # noqa: B009
        faults = self

        def do_get_response(self: Endpoint, request: Any, operation_model: Any, context: Any) -> Any:
            call = faults._call(request, operation_model)
            error = faults._take(call)
            if error is None:
                result = original(self, request, operation_model, context)
                faults._remember_session(call, result)
                return result
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
