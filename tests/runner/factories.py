"""Data and helpers for the runner tests (also used by tests/core/test_protocol*.py)."""

from __future__ import annotations

import itertools
import json
from typing import Any

from cryptography.hazmat.primitives.asymmetric import rsa

from flomation.core.executions.create import execution_create
from flomation.core.models import Organisation, Queue, Revision, Runner, Workflow
from flomation.core.services.queues import queue_create
from flomation.core.services.runs import runner_register
from flomation.lib import protocol, signing
from tests.runner.flows import chain, node, sleep_flow, three_node_flow

__all__ = ["chain", "node", "sleep_flow", "three_node_flow"]

_counter = itertools.count(1)
_KEY: rsa.RSAPrivateKey | None = None


def test_key() -> rsa.RSAPrivateKey:
    """One RSA key per test session (generating one costs ~50 ms)."""
    global _KEY
    if _KEY is None:
        _KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return _KEY


def make_organisation(*, accept_shared_runners: bool = True) -> Organisation:
    number = next(_counter)
    return Organisation.objects.create(
        name=f"Org {number}", slug=f"org-{number}-{id(object())}", accept_shared_runners=accept_shared_runners
    )


def make_queue(organisation: Organisation | None, *, parent: Queue | None = None) -> tuple[Queue, str]:
    return queue_create(organisation=organisation, name=f"queue-{next(_counter)}", parent=parent)


def make_workflow(
    organisation: Organisation, flow: dict[str, Any], *, queue: Queue | None = None
) -> Workflow:
    workflow = Workflow.objects.create(
        organisation=organisation, name=f"Workflow {next(_counter)}", queue=queue, latest_revision=1
    )
    Revision.objects.create(workflow=workflow, number=1, flow=flow)
    return workflow


def run(workflow: Workflow, trigger_data: dict[str, Any] | None = None, **kwargs: Any) -> Any:
    return execution_create(
        workflow=workflow, trigger_type="manual", trigger_data=trigger_data, **kwargs
    ).execution


# The protocol version header every runner request carries (flomation.runner.client sends it).
PROTOCOL = {protocol.HEADER: str(protocol.VERSION)}


def register(code: str, *, key: rsa.RSAPrivateKey | None = None, slots: int = 1) -> Runner:
    key = key or rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return runner_register(
        registration_code=code, public_key=signing.public_key_pem(key), name="test runner", slots_total=slots
    )


def signed_request(
    client: Any,
    runner_id: Any,
    key: rsa.RSAPrivateKey,
    method: str,
    path: str,
    payload: Any = None,
    *,
    now: float | None = None,
    headers: dict[str, str] | None = None,
) -> Any:
    """Sends a signed request through Django's test client; returns the response."""
    body = json.dumps(payload).encode() if payload is not None else b""
    signed = signing.sign_headers(key, runner_id=str(runner_id), method=method, path=path, body=body, now=now)
    send = getattr(client, method.lower())
    return send(
        path, data=body, content_type="application/json", headers={**signed, **PROTOCOL, **(headers or {})}
    )
