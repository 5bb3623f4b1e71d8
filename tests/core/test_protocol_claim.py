"""Claim eligibility, leases, steps and results of the runner protocol (services and views)."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.utils import timezone

from flomation.core import executions
from flomation.core.models import Execution, ExecutionStep, Runner
from flomation.core.protocol.loops import LeaseReclaimLoop
from flomation.core.services.queues import queue_shared
from tests.runner import factories as f

pytestmark = pytest.mark.django_db


def claim_ids(runner: Runner, limit: int = 10) -> set[str]:
    return {job["id"] for job in executions.execution_claim(runner=runner, limit=limit)}


@pytest.fixture
def shared_runner():
    from flomation.core.services.queues import queue_registration_code

    return f.register(queue_registration_code(queue=queue_shared()), key=f.test_key())


def test_a_shared_runner_takes_work_of_organisations_that_accept_shared_runners(shared_runner):
    accepting = f.run(f.make_workflow(f.make_organisation(), f.three_node_flow()))
    assert claim_ids(shared_runner) == {str(accepting.id)}


def test_a_shared_runner_never_takes_work_of_an_organisation_that_stopped_accepting(shared_runner):
    organisation = f.make_organisation()
    execution = f.run(f.make_workflow(organisation, f.three_node_flow()))
    organisation.accept_shared_runners = False
    organisation.save()
    assert claim_ids(shared_runner) == set()
    assert Execution.objects.get(id=execution.id).state == "pending"


def test_a_dedicated_queue_routes_only_to_its_own_runners(shared_runner):
    organisation = f.make_organisation()
    queue, code = f.make_queue(organisation)
    dedicated = f.register(code)
    execution = f.run(f.make_workflow(organisation, f.three_node_flow(), queue=queue))
    other_org_runner = f.register(f.make_queue(f.make_organisation())[1])
    assert claim_ids(shared_runner) == set()
    assert claim_ids(other_org_runner) == set()
    assert claim_ids(dedicated) == {str(execution.id)}


def test_a_parent_queues_runner_takes_its_child_queues_work_but_not_the_reverse():
    organisation = f.make_organisation()
    parent, parent_code = f.make_queue(organisation)
    child, child_code = f.make_queue(organisation, parent=parent)
    grandchild, _ = f.make_queue(organisation, parent=child)
    on_parent = f.run(f.make_workflow(organisation, f.three_node_flow(), queue=parent))
    on_grandchild = f.run(f.make_workflow(organisation, f.three_node_flow(), queue=grandchild))
    child_runner = f.register(child_code)
    assert claim_ids(child_runner) == {str(on_grandchild.id)}
    assert claim_ids(f.register(parent_code)) == {str(on_parent.id)}


def test_a_claim_takes_by_priority_then_age_and_at_most_the_free_slots(shared_runner):
    workflow = f.make_workflow(f.make_organisation(), f.three_node_flow())
    old = f.run(workflow)
    new = f.run(workflow)
    urgent = f.run(workflow, priority=-5)
    jobs = executions.execution_claim(runner=shared_runner, limit=2)
    assert [job["id"] for job in jobs] == [str(urgent.id), str(old.id)]
    assert Execution.objects.get(id=new.id).state == "pending"
    claimed = Execution.objects.get(id=old.id)
    assert (claimed.state, claimed.attempt, claimed.runner_id) == ("claimed", 1, shared_runner.id)
    assert claimed.lease_expires_at > timezone.now()
    runner = Runner.objects.get(id=shared_runner.id)
    assert runner.slots_in_use == 2 and runner.last_claim_at is not None


def test_a_claimed_job_carries_the_flow_trigger_data_and_context(shared_runner):
    workflow = f.make_workflow(f.make_organisation(), f.three_node_flow())
    execution = f.run(workflow, {"name": "ada"}, entry_node="t1")
    [job] = executions.execution_claim(runner=shared_runner, limit=1)
    assert job["flow"] == f.three_node_flow()
    assert job["trigger_data"] == {"name": "ada"}
    assert job["entry"] == "t1"
    assert job["context"]["execution_id"] == str(execution.id)
    assert job["context"]["flow_id"] == str(workflow.id)
    assert job["lease_token"] == str(Execution.objects.get(id=execution.id).lease_token)


def _claimed(runner: Runner) -> tuple[Execution, dict]:
    workflow = f.make_workflow(f.make_organisation(), f.three_node_flow())
    execution = f.run(workflow)
    [job] = executions.execution_claim(runner=runner, limit=1)
    return execution, job


EVENTS = [
    {"sequence": 0, "id": "t1", "action": "trigger/manual", "status": "running"},
    {"sequence": 1, "id": "t1", "action": "trigger/manual", "status": "success", "outputs": {"a": 1}},
]


def test_steps_are_stored_once_even_when_a_batch_is_sent_again(shared_runner):
    execution, job = _claimed(shared_runner)
    for _ in range(2):
        report = executions.execution_steps_record(
            runner=shared_runner, execution_id=job["id"], lease_token=job["lease_token"], events=EVENTS
        )
        assert report.outcome == "ok"
    assert list(ExecutionStep.objects.filter(execution=execution).values_list("sequence", "status")) == [
        (0, "running"),
        (1, "success"),
    ]
    assert Execution.objects.get(id=execution.id).state == "running"


def test_a_result_is_stored_and_a_repeat_changes_nothing(shared_runner):
    execution, job = _claimed(shared_runner)
    result = {"status": "succeeded", "outputs": {"greeting": "hi"}, "node_results": {}}
    first = executions.execution_finish(
        runner=shared_runner,
        execution_id=job["id"],
        lease_token=job["lease_token"],
        result=result,
        events=EVENTS,
    )
    finished = Execution.objects.get(id=execution.id)
    again = executions.execution_finish(
        runner=shared_runner,
        execution_id=job["id"],
        lease_token=job["lease_token"],
        result={"status": "failed"},
        events=[],
    )
    assert (first.outcome, again.outcome) == ("ok", "duplicate")
    after = Execution.objects.get(id=execution.id)
    assert (after.state, after.outputs, after.finished_at) == (
        "succeeded",
        {"greeting": "hi"},
        finished.finished_at,
    )
    assert ExecutionStep.objects.filter(execution=execution).count() == 2


def test_the_result_view_answers_409_after_the_lease_was_taken_over(client, shared_runner, settings):
    settings.RUNNER_LEASE_SECONDS = 1
    execution, job = _claimed(shared_runner)
    Execution.objects.filter(id=execution.id).update(
        lease_expires_at=timezone.now() - dt.timedelta(seconds=1)
    )
    assert LeaseReclaimLoop().handle_one() is True
    second = f.register(f.make_queue(None)[1])  # a shared-queue runner would take it; any claim will do here
    Execution.objects.filter(id=execution.id).update(queue=second.queue)
    assert claim_ids(second) == {str(execution.id)}
    path = f"/api/v1/runners/{shared_runner.id}/executions/{execution.id}/result"
    response = f.signed_request(
        client,
        shared_runner.id,
        f.test_key(),
        "POST",
        path,
        {"lease_token": job["lease_token"], "status": "succeeded"},
    )
    assert response.status_code == 409
    assert response.json()["code"] == "lease_lost"
    assert Execution.objects.get(id=execution.id).state == "claimed"


def test_the_result_view_accepts_the_same_result_twice(client, shared_runner):
    execution, job = _claimed(shared_runner)
    path = f"/api/v1/runners/{shared_runner.id}/executions/{execution.id}/result"
    body = {"lease_token": job["lease_token"], "status": "failed", "error": "boom", "events": EVENTS}
    first = f.signed_request(client, shared_runner.id, f.test_key(), "POST", path, body)
    second = f.signed_request(client, shared_runner.id, f.test_key(), "POST", path, body)
    assert (first.status_code, second.status_code) == (200, 200)
    assert (first.json()["outcome"], second.json()["outcome"]) == ("ok", "duplicate")
    assert Execution.objects.get(id=execution.id).error == "boom"


def test_an_expired_lease_goes_back_to_pending_and_then_fails_with_a_readable_reason(shared_runner):
    execution, _job = _claimed(shared_runner)
    Execution.objects.filter(id=execution.id).update(max_attempts=2)
    loop = LeaseReclaimLoop()
    for attempt in (1, 2):
        Execution.objects.filter(id=execution.id).update(
            lease_expires_at=timezone.now() - dt.timedelta(seconds=1)
        )
        assert loop.handle_one() is True
        reclaimed = Execution.objects.get(id=execution.id)
        if attempt == 1:
            assert (reclaimed.state, reclaimed.attempt, reclaimed.lease_token) == ("pending", 1, None)
            assert claim_ids(shared_runner) == {str(execution.id)}
    failed = Execution.objects.get(id=execution.id)
    assert (failed.state, failed.attempt) == ("failed", 2)
    assert "stopped reporting" in failed.error and failed.finished_at is not None
    assert loop.handle_one() is False


def test_a_cancelled_execution_whose_runner_vanished_ends_cancelled_not_pending(shared_runner):
    execution, _job = _claimed(shared_runner)
    Execution.objects.filter(id=execution.id).update(
        cancel_requested=True, lease_expires_at=timezone.now() - dt.timedelta(seconds=1)
    )
    assert LeaseReclaimLoop().handle_one() is True
    ended = Execution.objects.get(id=execution.id)
    assert (ended.state, ended.lease_token) == ("cancelled", None)
    assert "Cancelled" in ended.error and ended.finished_at is not None
    assert claim_ids(shared_runner) == set()


def test_a_heartbeat_extends_the_lease_and_passes_on_a_cancellation(shared_runner):
    execution, job = _claimed(shared_runner)
    before = Execution.objects.get(id=execution.id).lease_expires_at
    Execution.objects.filter(id=execution.id).update(cancel_requested=True)
    answer = executions.execution_heartbeat(
        runner=shared_runner,
        leases=[(job["id"], job["lease_token"]), (str(uuid.uuid4()), str(uuid.uuid4()))],
        busy=1,
    )
    assert answer[job["id"]] == {"lost": False, "cancel": True}
    assert list(answer.values())[1] == {"lost": True, "cancel": False}
    assert Execution.objects.get(id=execution.id).lease_expires_at >= before


def test_a_runner_reads_secrets_only_of_an_execution_it_holds(shared_runner):
    from flomation.core.models import Environment
    from flomation.core.services.secrets import secret_set

    execution, job = _claimed(shared_runner)
    environment = Environment.objects.create(organisation_id=execution.organisation_id, name="production")
    Execution.objects.filter(id=execution.id).update(environment=environment)
    secret_set(environment=environment, name="API_KEY", value="s3cret")
    lookup = {"runner": shared_runner, "execution_id": job["id"], "kind": "secret", "name": "API_KEY"}
    assert executions.execution_lookup_value(lease_token=job["lease_token"], **lookup) == "s3cret"
    assert executions.execution_lookup_value(lease_token=str(uuid.uuid4()), **lookup) is None


def test_a_shared_runner_receives_the_platform_and_organisation_egress_policy(shared_runner, settings):
    settings.EGRESS_ALLOW = ["10.0.0.0/8"]
    settings.API_URL = "https://flomation.example.com"
    organisation = f.make_organisation()
    organisation.egress_allow = ["192.168.7.0/24"]
    organisation.save()
    f.run(f.make_workflow(organisation, f.three_node_flow()))
    (job,) = executions.execution_claim(runner=shared_runner, limit=1)
    policy = job["egress"]
    assert policy["allow"] == ["10.0.0.0/8", "192.168.7.0/24"]
    assert policy["allow_local"] is False and policy["allow_platform"] is False
    assert {"host": "flomation.example.com", "port": 443, "what": "the platform's own API"} in policy[
        "platform"
    ]
    assert any(endpoint["what"] == "the platform's own database" for endpoint in policy["platform"])
    assert "egress" not in job["context"]  # flows never see the policy through ${flow.*}


def test_a_dedicated_runner_receives_no_policy_and_applies_its_own(shared_runner):
    organisation = f.make_organisation()
    organisation.egress_allow = ["192.168.7.0/24"]
    organisation.save()
    queue, code = f.make_queue(organisation)
    f.run(f.make_workflow(organisation, f.three_node_flow(), queue=queue))
    (job,) = executions.execution_claim(runner=f.register(code), limit=1)
    assert "egress" not in job
