"""The runner's vector store call: the store is the organisation of the execution the runner holds; an
organisation named in the body changes nothing, and a runner without the lease gets nothing."""

from __future__ import annotations

import pytest

from flomation.core import executions
from flomation.core.services.queues import queue_registration_code, queue_shared
from flomation.core.services.vectors import vector_operation_run
from tests.runner import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture
def claimed():
    runner = f.register(queue_registration_code(queue=queue_shared()), key=f.test_key())
    organisation = f.make_organisation()
    execution = f.run(f.make_workflow(organisation, f.three_node_flow()))
    (job,) = executions.execution_claim(runner=runner, limit=1)
    return runner, organisation, execution, job


def call(client, runner, execution, lease, operation, payload):
    path = f"/api/v1/runners/{runner.id}/executions/{execution.id}/vectors/{operation}"
    return f.signed_request(client, runner.id, f.test_key(), "POST", path, payload,
                            headers={"X-Flomation-Lease": lease})  # fmt: skip


def test_the_store_is_the_executions_organisations_whatever_the_body_says(client, claimed):
    runner, organisation, execution, job = claimed
    other = f.make_organisation()
    vector_operation_run(
        organisation_id=other.id, operation="create_collection", payload={"name": "kb", "dimension": 2}
    )
    payload = {"name": "kb", "dimension": 2, "organisation_id": str(other.id)}
    made = call(client, runner, execution, job["lease_token"], "create_collection", payload)
    assert made.status_code == 200 and made.json()["collection"]["created"] is True
    listed = call(client, runner, execution, job["lease_token"], "list_collections",
                  {"organisation_id": str(other.id)}).json()["collections"]  # fmt: skip
    assert [c["id"] for c in listed] == [made.json()["collection"]["id"]]


def test_a_mistake_is_a_400_with_the_sentence_and_a_wrong_lease_a_404(client, claimed):
    runner, _organisation, execution, job = claimed
    answer = call(
        client, runner, execution, job["lease_token"], "query", {"collection": "nope", "embedding": [1]}
    )
    assert answer.status_code == 400 and "there is no collection 'nope'" in answer.json()["detail"]
    answer = call(client, runner, execution, "00000000-0000-0000-0000-000000000001", "list_collections", {})
    assert answer.status_code == 404 and answer.json()["code"] == "no_execution"
