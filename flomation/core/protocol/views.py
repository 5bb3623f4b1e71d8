"""HTTP views of the runner protocol (mounted at /api/v1/runners/). Plain Django views: JSON in, JSON out.

Payloads are the typed ones of `flomation.lib.protocol`, shared with the runner. Every view first refuses a
runner older than the protocol's minimum version (426), and every view but `register` then authenticates
a signed request (`flomation.lib.signing`); refusals are JSON `{"code": ..., "detail": ...}` with the status
a runner can act on.
"""

from __future__ import annotations

import json
import logging
import math
import select
import socket
import time
import uuid
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from flomation.core import executions
from flomation.core.executions.listener import listener
from flomation.core.models import Runner
from flomation.core.services import runs
from flomation.identity.views.common import client_address
from flomation.lib import protocol, signing

logger = logging.getLogger(__name__)

MAX_WAIT_SECONDS = 25.0
# A NOTIFY can be lost while the listener reconnects; a waiting claim looks again at least this often.
RECHECK_SECONDS = 5.0
# A claim the server could not hold open (no wait slot left) tells the runner to poll again after this long.
RETRY_AFTER_SECONDS = 1.0
_SIGNING_HEADERS = (
    signing.HEADER_RUNNER,
    signing.HEADER_TIMESTAMP,
    signing.HEADER_NONCE,
    signing.HEADER_BODY_HASH,
    signing.HEADER_SIGNATURE,
)

View = Callable[..., HttpResponse]


def refuse(status: int, code: str, detail: str, headers: dict[str, str] | None = None) -> JsonResponse:
    response = JsonResponse({"code": code, "detail": detail}, status=status)
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def _body(request: HttpRequest) -> dict[str, Any]:
    if not request.body:
        return {}
    try:
        data = json.loads(request.body)
    except ValueError:
        raise executions.ProtocolError(400, "bad_json", "The body must be a JSON object.") from None
    if not isinstance(data, dict):
        raise executions.ProtocolError(400, "bad_json", "The body must be a JSON object.")
    return data


def _authenticator(request: HttpRequest, runner_id: str) -> Callable[[], Runner]:
    def authenticate() -> Runner:
        return runs.runner_verify_request(
            runner_id=runner_id,
            method=request.method or "GET",
            path=request.get_full_path(),
            body=request.body,
            headers={name: request.headers.get(name, "") for name in _SIGNING_HEADERS},
        )

    return authenticate


def protocol_view(*methods: str, signed: bool = True, atomic: bool = True) -> Callable[[View], View]:
    """Wraps a view: method check, CSRF exemption, signature check and ProtocolError -> JSON refusal.

    With `atomic`, the signature check (it burns the nonce) and the view's writes commit together: one
    commit per request. A view that waits (the claim's long poll) manages its own transactions and gets
    `authenticate` instead of `runner`, to call inside its first one.
    """

    def decorate(view: View) -> View:
        @csrf_exempt
        @require_http_methods(list(methods))
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            try:
                version = protocol.version_of(request.headers.get(protocol.HEADER))
                if version < protocol.MIN_VERSION:
                    logger.warning(
                        "runner %s refused: it speaks runner protocol %d, the minimum is %d",
                        kwargs.get("runner_id") or "(registering)",
                        version,
                        protocol.MIN_VERSION,
                    )
                    return refuse(426, "protocol_too_old", protocol.too_old_message(version))
                if signed:
                    authenticate = _authenticator(request, kwargs.pop("runner_id"))
                    if not atomic:
                        return view(request, _body(request), *args, authenticate=authenticate, **kwargs)
                elif not atomic:
                    return view(request, _body(request), *args, **kwargs)
                with transaction.atomic():
                    if signed:
                        kwargs["runner"] = authenticate()
                    return view(request, _body(request), *args, **kwargs)
            except executions.ProtocolError as error:
                return refuse(error.status, error.code, error.message, error.headers)
            except protocol.PayloadError as error:
                return refuse(400, "bad_request", str(error))

        return wrapper

    return decorate


def _int(data: dict[str, Any], name: str, default: int, low: int, high: int) -> int:
    value = data.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise executions.ProtocolError(400, "bad_request", f"'{name}' must be a number.")
    return max(low, min(int(value), high))


# Not atomic as a whole: a wrong code is recorded (for the per-address limit) even though it is refused.
@protocol_view("POST", signed=False, atomic=False)
def register(request: HttpRequest, data: dict[str, Any]) -> HttpResponse:
    for name in ("registration_code", "public_key"):
        if not isinstance(data.get(name), str) or not data[name]:
            return refuse(400, "bad_request", f"'{name}' is required.")
    runner = runs.runner_register(
        registration_code=data["registration_code"],
        public_key=data["public_key"],
        name=str(data.get("name") or ""),
        version=str(data.get("version") or ""),
        executor_version=str(data.get("executor_version") or ""),
        manifest=data.get("manifest") if isinstance(data.get("manifest"), dict) else None,
        slots_total=_int(data, "slots", 1, 1, 1000),
        ip_address=client_address(request),
    )
    return JsonResponse(
        {
            "runner_id": str(runner.id),
            "queue_id": str(runner.queue_id),
            "lease_seconds": executions.lease_seconds(),
        },
        status=201,
    )


@protocol_view("GET")
def whoami(request: HttpRequest, data: dict[str, Any], runner: Runner) -> HttpResponse:
    return JsonResponse({"runner_id": str(runner.id), "queue_id": str(runner.queue_id)})


@protocol_view("POST", atomic=False)
def claim(request: HttpRequest, data: dict[str, Any], authenticate: Callable[[], Runner]) -> HttpResponse:
    """Long poll: claims up to `free` executions, waiting up to `wait` seconds (<= 25) for one to come.

    A new claim of the same runner (on any API process) supersedes its older polls, and `free: 0` ends
    them (a runner that stops says so), so a poll whose runner has gone does not take work for it.
    """
    arrived = time.monotonic()
    asked = protocol.ClaimRequest.from_dict(data)
    free, total = asked.free, asked.total
    wait = min(float(asked.wait), MAX_WAIT_SECONDS)
    deadline = arrived + wait
    poll_id = uuid.uuid4().hex
    with transaction.atomic():
        runner = authenticate()
        executions.runner_poll_supersede(runner=runner, poll_id=poll_id)
        jobs = executions.execution_claim(runner=runner, limit=free, slots_total=total)
    if jobs or not free or wait <= 0:
        return JsonResponse({"executions": jobs})
    waits = listener()
    if not waits.wait_slot_take():
        logger.warning(
            "runner %s: claim answered without waiting, all %d wait slots of this process are in use "
            "(FLOMATION_WEB_WAITS)",
            runner.id,
            waits.slots_total,
        )
        return JsonResponse({"executions": jobs, "retry_after": RETRY_AFTER_SECONDS})
    try:
        with waits.waiting(
            [*executions.runner_channels(runner=runner), executions.runner_poll_channel(runner.id)]
        ) as waiter:
            while not jobs:
                # Look again once subscribed: a NOTIFY sent before LISTEN took effect is not delivered.
                if (
                    waiter.closed
                    or any(payload != poll_id for payload in waiter.payloads)
                    or _client_gone(request)
                ):
                    break
                claiming = time.monotonic()
                jobs = executions.execution_claim(runner=runner, limit=free)
                remaining = deadline - time.monotonic()
                if jobs or remaining <= 0:
                    break
                waiter.wait(min(remaining, RECHECK_SECONDS))
    finally:
        waits.wait_slot_give()
    if not jobs:
        return JsonResponse({"executions": jobs})
    # How long this poll waited before the claim that found them (rounded down): the runner's leases
    # start no earlier than when it sent the poll plus this, on its own clock.
    return JsonResponse({"executions": jobs, "waited": math.floor((claiming - arrived) * 1000) / 1000})


def _client_gone(request: HttpRequest) -> bool:
    """True if the runner closed the connection (gunicorn exposes the socket; other servers do not)."""
    sock = request.META.get("gunicorn.socket")
    if sock is None:
        return False
    try:
        readable, _, _ = select.select([sock], [], [], 0)
        return bool(readable) and sock.recv(1, socket.MSG_PEEK) == b""
    except (OSError, ValueError):
        return True


@protocol_view("POST")
def heartbeat(request: HttpRequest, data: dict[str, Any], runner: Runner) -> HttpResponse:
    beat = protocol.Heartbeat.from_dict(data)
    answer = executions.execution_heartbeat(
        runner=runner, leases=[(lease.id, lease.lease_token) for lease in beat.executions], busy=beat.busy
    )
    return JsonResponse({"executions": answer, "lease_seconds": executions.lease_seconds()})


@protocol_view("POST")
def report(request: HttpRequest, data: dict[str, Any], runner: Runner) -> HttpResponse:
    """A batch of step events and final results for several executions; answers per execution.

    Each item: {id, lease_token, events: [...], result: {...} | absent}, or {id, lease_token, release: true}
    for an execution the runner claimed but never started. The answer maps each id to {"outcome": "ok" |
    "duplicate" | "lost", "cancel": bool}; "lost" is the batch form of a 409.
    """
    report_ = protocol.Report.from_dict(data)
    answer: dict[str, dict[str, Any]] = {}
    # One transaction for the batch: rows are locked in id order, as a heartbeat locks them.
    for item in sorted(report_.executions, key=lambda item: item.id):
        outcome = _report_one(runner, item)
        answer[item.id] = protocol.ReportOutcome(outcome.outcome, outcome.cancel, outcome.state).to_dict()
    return JsonResponse({"executions": answer})


def _report_one(runner: Runner, item: protocol.ExecutionReport) -> executions.Report:
    if item.release:
        return executions.execution_release(runner=runner, execution_id=item.id, lease_token=item.lease_token)
    events = list(item.events)
    if item.result is not None:
        return executions.execution_finish(
            runner=runner,
            execution_id=item.id,
            lease_token=item.lease_token,
            result=item.result,
            events=events,
        )
    return executions.execution_steps_record(
        runner=runner,
        execution_id=item.id,
        lease_token=item.lease_token,
        events=events,
        progress=item.progress,
    )


@protocol_view("POST")
def events(request: HttpRequest, data: dict[str, Any], runner: Runner, execution_id: str) -> HttpResponse:
    outcome = executions.execution_steps_record(
        runner=runner,
        execution_id=execution_id,
        lease_token=data.get("lease_token"),
        events=data.get("events") or [],
    )
    if outcome.outcome == "lost":
        return refuse(
            409, "lease_lost", "This runner no longer holds the execution's lease: stop running it."
        )
    return JsonResponse({"outcome": outcome.outcome, "cancel": outcome.cancel})


@protocol_view("POST")
def result(request: HttpRequest, data: dict[str, Any], runner: Runner, execution_id: str) -> HttpResponse:
    outcome = executions.execution_finish(
        runner=runner,
        execution_id=execution_id,
        lease_token=data.get("lease_token"),
        result=data,
        events=data.get("events") or [],
    )
    if outcome.outcome == "lost":
        return refuse(
            409,
            "lease_lost",
            "The execution's lease was taken over (it expired and another attempt started): result refused.",
        )
    return JsonResponse({"outcome": outcome.outcome, "state": outcome.state})


def _lookup(kind: str) -> View:
    @protocol_view("GET")
    def view(
        request: HttpRequest, data: dict[str, Any], runner: Runner, execution_id: str, name: str
    ) -> HttpResponse:
        value = executions.execution_lookup_value(
            runner=runner,
            execution_id=execution_id,
            lease_token=request.headers.get("X-Flomation-Lease", ""),
            kind=kind,
            name=name,
        )
        if value is None:
            return refuse(404, f"no_{kind}", f"No {kind} {name!r} in this execution's environment.")
        response = JsonResponse({"name": name, "value": value})
        response["Cache-Control"] = "no-store"
        return response

    return view


secret = _lookup("secret")
variable = _lookup("variable")


@protocol_view("GET")
def connection(
    request: HttpRequest, data: dict[str, Any], runner: Runner, execution_id: str, name: str
) -> HttpResponse:
    found = executions.execution_lookup_connection(
        runner=runner,
        execution_id=execution_id,
        lease_token=request.headers.get("X-Flomation-Lease", ""),
        name=name,
    )
    if found is None:
        return refuse(404, "no_connection", f"No connection {name!r} in this execution's environment.")
    response = JsonResponse({"name": name, **found})
    response["Cache-Control"] = "no-store"
    return response
