"""A runner resolves a stored connection for an execution it holds: that organisation, that environment
(or one kept for all environments), over a signed call, and nothing else."""

from __future__ import annotations

import uuid
from urllib.parse import quote

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from flomation.core import executions
from flomation.core.models import Environment, Execution
from flomation.core.services.connections import connection_create
from flomation.core.services.queues import queue_registration_code, queue_shared
from tests.runner import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture
def shared_runner():
    return f.register(queue_registration_code(queue=queue_shared()), key=f.test_key())


def smtp(organisation, host, *, environment=None, name="mail"):
    return connection_create(
        organisation=organisation,
        name=name,
        type="smtp",
        fields={"host": host, "password": f"pw-{host}"},
        environment_id=environment.id if environment else None,
    )


@pytest.fixture
def claimed(shared_runner):
    organisation = f.make_organisation()
    production = Environment.objects.create(organisation=organisation, name="production")
    staging = Environment.objects.create(organisation=organisation, name="staging")
    execution = f.run(f.make_workflow(organisation, f.three_node_flow()), environment=production)
    (job,) = executions.execution_claim(runner=shared_runner, limit=1)
    return organisation, production, staging, execution, job


def fetch(client, runner, execution, job, name, lease=None, key=None):
    path = f"/api/v1/runners/{runner.id}/executions/{execution.id}/connections/{quote(name, safe='')}"
    headers = {"X-Flomation-Lease": lease or job["lease_token"]}
    return f.signed_request(client, runner.id, key or f.test_key(), "GET", path, headers=headers)


def test_the_environments_own_connection_wins_over_one_for_all(client, shared_runner, claimed):
    organisation, production, staging, execution, job = claimed
    smtp(organisation, "all.example.com")
    smtp(organisation, "staging.example.com", environment=staging)
    first = fetch(client, shared_runner, execution, job, "mail")
    assert first.status_code == 200 and first["Cache-Control"] == "no-store"
    assert first.json()["fields"]["host"] == "all.example.com"
    smtp(organisation, "production.example.com", environment=production)
    answer = fetch(client, shared_runner, execution, job, "mail").json()
    assert answer == {
        "name": "mail",
        "type": "smtp",
        "fields": {"host": "production.example.com", "password": "pw-production.example.com",
                   "security": "starttls"},
    }  # fmt: skip


def test_another_organisations_or_environments_connection_is_not_found(client, shared_runner, claimed):
    organisation, _production, staging, execution, job = claimed
    smtp(f.make_organisation(), "theirs.example.com")
    smtp(organisation, "staging.example.com", environment=staging, name="staging-only")
    for name in ("mail", "staging-only", "missing"):
        response = fetch(client, shared_runner, execution, job, name)
        assert response.status_code == 404 and response.json()["code"] == "no_connection"
        assert "example.com" not in response.content.decode()


def test_only_the_runner_holding_the_lease_gets_it(client, shared_runner, claimed):
    organisation, _production, _staging, execution, job = claimed
    smtp(organisation, "all.example.com")
    assert fetch(client, shared_runner, execution, job, "mail", lease=str(uuid.uuid4())).status_code == 404
    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    other = f.register(queue_registration_code(queue=queue_shared()), key=other_key)
    assert other.id != shared_runner.id
    assert fetch(client, other, execution, job, "mail", key=other_key).status_code == 404
    Execution.objects.filter(id=execution.id).update(state="succeeded")
    assert fetch(client, shared_runner, execution, job, "mail").status_code == 404
