"""Agents' memory over the runner protocol (the leased execution's organisation and environment only) and
model token usage summed per execution and per organisation per day, as the API shows it."""

from __future__ import annotations

from urllib.parse import quote

import pytest

from flomation.core import executions
from flomation.core.models import AiUsageDay, Environment, Execution
from flomation.core.services.queues import queue_registration_code, queue_shared
from tests.runner import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture
def shared_runner():
    return f.register(queue_registration_code(queue=queue_shared()), key=f.test_key())


def claim(runner, organisation, environment=None):
    execution = f.run(f.make_workflow(organisation, f.three_node_flow()), environment=environment)
    (job,) = executions.execution_claim(runner=runner, limit=1)
    return execution, job


def memory_call(client, runner, execution, job, key, method="GET", payload=None, lease=None):
    path = f"/api/v1/runners/{runner.id}/executions/{execution.id}/memory/{quote(key, safe='')}"
    headers = {"X-Flomation-Lease": lease or job["lease_token"]}
    return f.signed_request(client, runner.id, f.test_key(), method, path, payload, headers=headers)


def test_a_memory_saved_by_one_execution_is_read_by_the_next_in_the_same_organisation_and_environment(
    client, shared_runner
):
    organisation = f.make_organisation()
    production = Environment.objects.create(organisation=organisation, name="production")
    staging = Environment.objects.create(organisation=organisation, name="staging")
    execution, job = claim(shared_runner, organisation, production)
    assert memory_call(client, shared_runner, execution, job, "chat 1").status_code == 404
    memory = {"messages": [{"role": "user", "content": "I am Ada."}], "summary": "Ada said hello."}
    saved = memory_call(client, shared_runner, execution, job, "chat 1", "PUT", {"memory": memory})
    assert saved.status_code == 200
    executions.execution_finish(runner=shared_runner, execution_id=execution.id, lease_token=job["lease_token"],
                                result={"status": "succeeded"}, events=[])  # fmt: skip

    again, job = claim(shared_runner, organisation, production)
    answer = memory_call(client, shared_runner, again, job, "chat 1")
    assert answer.status_code == 200 and answer.json()["memory"] == memory
    executions.execution_finish(runner=shared_runner, execution_id=again.id, lease_token=job["lease_token"],
                                result={"status": "succeeded"}, events=[])  # fmt: skip

    for other_org, environment in ((f.make_organisation(), None), (organisation, staging)):
        elsewhere, job = claim(shared_runner, other_org, environment)
        assert memory_call(client, shared_runner, elsewhere, job, "chat 1").status_code == 404
        executions.execution_finish(runner=shared_runner, execution_id=elsewhere.id, lease_token=job["lease_token"],
                                    result={"status": "succeeded"}, events=[])  # fmt: skip


def test_memory_needs_the_lease_and_a_well_formed_body(client, shared_runner):
    execution, job = claim(shared_runner, f.make_organisation())
    wrong = memory_call(
        client, shared_runner, execution, job, "k", lease="00000000-0000-0000-0000-000000000000"
    )
    assert wrong.status_code == 409
    bad = memory_call(client, shared_runner, execution, job, "k", "PUT", {"memory": {"messages": "nope"}})
    assert bad.status_code == 400 and bad.json()["code"] == "bad_memory"
    long_key = memory_call(
        client, shared_runner, execution, job, "k" * 201, "PUT", {"memory": {"messages": []}}
    )
    assert long_key.status_code == 400 and "1 to 200 characters" in long_key.json()["detail"]


def test_a_results_tokens_add_up_on_the_execution_and_the_organisations_day(client, shared_runner, cast, as_):
    organisation = cast.organisation
    for tokens in ((100, 20), (50, 5)):
        execution, job = claim(shared_runner, organisation)
        result = {"status": "succeeded", "usage": {"input_tokens": tokens[0], "output_tokens": tokens[1]}}
        executions.execution_finish(runner=shared_runner, execution_id=execution.id, lease_token=job["lease_token"],
                                    result=result, events=[])  # fmt: skip
        assert Execution.objects.values_list("input_tokens", "output_tokens").get(id=execution.id) == tokens
    plain, job = claim(shared_runner, organisation)
    executions.execution_finish(runner=shared_runner, execution_id=plain.id, lease_token=job["lease_token"],
                                result={"status": "succeeded", "usage": {"input_tokens": True}}, events=[])  # fmt: skip
    day = AiUsageDay.objects.get(organisation=organisation)
    assert (day.input_tokens, day.output_tokens, day.executions) == (150, 25, 2)

    usage = as_("viewer").get(f"/api/v1/organisations/{organisation.id}/ai-usage?days=7")
    assert usage.status_code == 200
    assert usage.json() == [
        {"day": day.day.isoformat(), "input_tokens": 150, "output_tokens": 25, "executions": 2}
    ]
    listed = as_("viewer").get(f"/api/v1/organisations/{organisation.id}/executions/").json()["results"]
    assert sorted((e["input_tokens"], e["output_tokens"]) for e in listed) == [(0, 0), (50, 5), (100, 20)]
    assert as_("outsider").get(f"/api/v1/organisations/{organisation.id}/ai-usage").status_code in (403, 404)
