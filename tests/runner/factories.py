"""Data and helpers for the runner tests (also used by tests/core/test_protocol*.py)."""

from __future__ import annotations

import itertools
import json
from typing import Any

from cryptography.hazmat.primitives.asymmetric import rsa

from flomation.core.models import Organisation, Queue, Revision, Runner, Workflow
from flomation.core.services.executions import execution_create
from flomation.core.services.queues import queue_create
from flomation.core.services.runs import runner_register
from flomation.runner import signing

_counter = itertools.count(1)
_KEY: rsa.RSAPrivateKey | None = None


def test_key() -> rsa.RSAPrivateKey:
    """One RSA key per test session (generating one costs ~50 ms)."""
    global _KEY
    if _KEY is None:
        _KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return _KEY


def node(node_id: str, action: str, kind: int, inputs: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    config = {"id": node_id, "type": kind, "inputs": inputs or [], "outputs": []}
    return {"id": node_id, "type": action, "data": {"id": node_id, "label": action, "config": config}}


def chain(*nodes: dict[str, Any]) -> dict[str, Any]:
    edges = [
        {"id": f"e{i}", "source": a["id"], "target": b["id"]}
        for i, (a, b) in enumerate(itertools.pairwise(nodes))
    ]
    return {"nodes": list(nodes), "edges": edges}


def three_node_flow() -> dict[str, Any]:
    """trigger -> upper-case the trigger's `name` -> set output `greeting`."""
    return chain(
        node("t1", "trigger/manual", 1),
        node("u1", "string/upper_case", 2, [{"name": "value", "type": "string", "value": "${t1.name}"}]),
        node(
            "o1",
            "output/set",
            3,
            [
                {"name": "name", "type": "string", "value": "greeting"},
                {"name": "value", "type": "string", "value": "hi ${u1.result}"},
            ],
        ),
    )


def sleep_flow() -> dict[str, Any]:
    """trigger -> sleep `${t1.seconds}` -> set output `slept`."""
    return chain(
        node("t1", "trigger/manual", 1),
        node("s1", "common/sleep", 2, [{"name": "duration", "type": "number", "value": "${t1.seconds}"}]),
        node(
            "o1",
            "output/set",
            3,
            [
                {"name": "name", "type": "string", "value": "slept"},
                {"name": "value", "type": "string", "value": "yes"},
            ],
        ),
    )


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
    return send(path, data=body, content_type="application/json", headers={**signed, **(headers or {})})
