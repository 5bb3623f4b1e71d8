"""Flows run by a real runner over real HTTP use their organisation's vector store; the organisation is the
execution's, chosen by the API, so one organisation's flow never sees another's collections or rows."""

from __future__ import annotations

import json
import sys

import pytest

from flomation.core.models import Execution, ExecutionStep
from flomation.core.selectors.vectors import vector_collections_list
from flomation.core.services.queues import queue_registration_code, queue_shared
from tests.runner import factories as f
from tests.runner.conftest import wait_until

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

VECTORS = "vectordatabase/pgvector/"
# A fresh executor process per execution: it reaches the store through the runner's socket.
SUBPROCESS = {"FLOMATION_RUNNER_EXECUTABLE_NAME": f"{sys.executable} -m flomation.executor"}


def value(name, data):
    return {"name": name, "type": "object" if not isinstance(data, str) else "string", "value": data}


def store_flow(secret_text: str, *, write: bool = True) -> dict:
    """Creates collection kb, writes one document (when `write`), and returns what a query finds."""
    steps = [f.node("t1", "trigger/manual", 1)]
    if write:
        steps += [
            f.node("c1", VECTORS + "create_collection", 2,
                   [value("collection", "kb"), value("dimension", 2)]),
            f.node("u1", VECTORS + "upsert", 2, [
                value("collection", "kb"), value("id", "doc"), value("content", secret_text),
                value("metadata", {"organisation_id": "spoofed"}), value("embedding", [1, 0])]),
        ]  # fmt: skip
    steps += [
        f.node("q1", VECTORS + "query", 2, [value("collection", "kb"), value("embedding", [1, 0]),
                                            value("limit", 100)]),
        f.node("o1", "output/set", 3, [value("name", "found"), value("value", "${q1.results}")]),
    ]  # fmt: skip
    return f.chain(*steps)


def finished(execution) -> Execution:
    wait_until(lambda: Execution.objects.get(id=execution.id).state in ("succeeded", "failed"), timeout=60)
    return Execution.objects.get(id=execution.id)


@pytest.mark.parametrize("isolated", [False, True], ids=["warm", "subprocess"])
def test_each_organisations_flow_sees_only_its_own_collection_and_rows(start_runner, isolated):
    alpha, beta = f.make_organisation(), f.make_organisation()
    start_runner(queue_registration_code(queue=queue_shared()), **(SUBPROCESS if isolated else {}))
    first = finished(f.run(f.make_workflow(alpha, store_flow("alpha's private note"))))
    assert first.state == "succeeded", first.error
    (row,) = (
        json.loads(first.outputs["found"])
        if isinstance(first.outputs["found"], str)
        else first.outputs["found"]
    )
    assert row["id"] == "doc" and row["content"] == "alpha's private note"

    # beta's flow asks for the same collection name without making it: alpha's is not there for it.
    outsider = finished(f.run(f.make_workflow(beta, store_flow("", write=False))))
    assert outsider.state == "failed"
    step = ExecutionStep.objects.get(execution=outsider, node_id="q1", status="failed")
    assert "there is no collection 'kb'" in step.error
    assert "alpha's private note" not in json.dumps(
        list(ExecutionStep.objects.filter(execution=outsider).values()), default=str
    )

    # beta's own kb holds only beta's document.
    second = finished(f.run(f.make_workflow(beta, store_flow("beta's note"))))
    assert second.state == "succeeded", second.error
    found = second.outputs["found"]
    found = json.loads(found) if isinstance(found, str) else found
    assert [(item["id"], item["content"]) for item in found] == [("doc", "beta's note")]
    assert [c["documents"] for c in vector_collections_list(organisation_id=alpha.id)] == [1]
    assert [c["documents"] for c in vector_collections_list(organisation_id=beta.id)] == [1]
