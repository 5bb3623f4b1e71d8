"""Reports through the protocol's batch endpoint: steps and result in one request, the outcome email only
when due, a claim that carries all a job needs, and the few round trips each costs."""

from __future__ import annotations

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext

from flomation.core import executions
from flomation.core.models import Execution, ExecutionStep, Runner
from flomation.core.services.queues import queue_registration_code, queue_shared
from tests.runner import factories as f

pytestmark = pytest.mark.django_db

EVENTS = [
    {"sequence": 0, "id": "t1", "action": "trigger/manual", "status": "running", "inputs": None},
    {"sequence": 1, "id": "t1", "action": "trigger/manual", "status": "success", "outputs": {"a": [1]}},
    {"sequence": 2, "id": "u1", "label": "Upper", "status": "failed", "error": "boom", "duration_ms": 7},
]


@pytest.fixture
def runner() -> Runner:
    return f.register(queue_registration_code(queue=queue_shared()), key=f.test_key())


def claimed(runner: Runner, **workflow_settings: object) -> tuple[Execution, dict]:
    workflow = f.make_workflow(f.make_organisation(), f.three_node_flow())
    if workflow_settings:
        type(workflow).objects.filter(id=workflow.id).update(**workflow_settings)
    execution = f.run(workflow, {"name": "ada"})
    [job] = executions.execution_claim(runner=runner, limit=1)
    return execution, job


def report(client, runner: Runner, items: list[dict]) -> dict:
    response = f.signed_request(
        client, runner.id, f.test_key(), "POST", f"/api/v1/runners/{runner.id}/report", {"executions": items}
    )
    assert response.status_code == 200, response.content
    return response.json()["executions"]


def test_the_last_steps_and_the_result_arrive_in_one_request_and_are_stored_once(client, runner):
    execution, job = claimed(runner)
    item = {
        "id": job["id"],
        "lease_token": job["lease_token"],
        "events": EVENTS,
        "result": {"status": "failed", "outputs": {"x": 1}, "error": "boom"},
    }
    with CaptureQueriesContext(connection) as queries:
        first = report(client, runner, [item])
    # the transaction, the signature check with its nonce, and the result with its steps
    assert len(queries) <= 4, "\n".join(q["sql"][:100] for q in queries)
    again = report(client, runner, [item])
    assert first[job["id"]]["outcome"] == "ok" and first[job["id"]]["state"] == "failed"
    assert again[job["id"]] == {"outcome": "duplicate", "cancel": False, "state": "failed"}
    stored = Execution.objects.get(id=execution.id)
    assert (stored.state, stored.outputs, stored.error) == ("failed", {"x": 1}, "boom")
    assert stored.started_at is not None and stored.finished_at is not None
    assert stored.lease_expires_at is None
    steps = list(ExecutionStep.objects.filter(execution=execution).order_by("sequence"))
    assert [(s.sequence, s.node_id, s.status) for s in steps] == [
        (0, "t1", "running"),
        (1, "t1", "success"),
        (2, "u1", "failed"),
    ]
    assert (steps[0].inputs, steps[1].outputs, steps[2].error, steps[2].duration_ms) == (
        None,
        {"a": [1]},
        "boom",
        7,
    )
    assert Runner.objects.get(id=runner.id).slots_in_use == 0


def test_steps_then_a_result_move_the_execution_through_running(client, runner):
    execution, job = claimed(runner)
    lease = {"id": job["id"], "lease_token": job["lease_token"]}
    answer = report(client, runner, [{**lease, "events": EVENTS[:1]}])
    assert answer[job["id"]] == {"outcome": "ok", "cancel": False, "state": "running"}
    running = Execution.objects.get(id=execution.id)
    assert running.state == "running" and running.started_at is not None
    report(client, runner, [{**lease, "events": EVENTS[1:], "result": {"status": "succeeded"}}])
    finished = Execution.objects.get(id=execution.id)
    assert (finished.state, finished.started_at) == ("succeeded", running.started_at)
    assert ExecutionStep.objects.filter(execution=execution).count() == 3


def test_a_report_under_a_lease_that_was_taken_over_stores_nothing(client, runner):
    execution, job = claimed(runner)
    Execution.objects.filter(id=execution.id).update(lease_token=None, state="pending")
    item = {"id": job["id"], "lease_token": job["lease_token"], "events": EVENTS}
    assert report(client, runner, [item])[job["id"]]["outcome"] == "lost"
    assert (
        report(client, runner, [{**item, "result": {"status": "succeeded"}}])[job["id"]]["outcome"] == "lost"
    )
    assert not ExecutionStep.objects.filter(execution=execution).exists()
    assert Execution.objects.get(id=execution.id).state == "pending"


def test_a_malformed_event_refuses_the_whole_report(client, runner):
    execution, job = claimed(runner)
    response = f.signed_request(
        client,
        runner.id,
        f.test_key(),
        "POST",
        f"/api/v1/runners/{runner.id}/report",
        {"executions": [{"id": job["id"], "lease_token": job["lease_token"], "events": [{"id": "x"}]}]},
    )
    assert response.status_code == 400 and response.json()["code"] == "bad_event"
    assert Execution.objects.get(id=execution.id).state == "claimed"


def finish(runner: Runner, job: dict, status: str) -> executions.Report:
    return executions.execution_finish(
        runner=runner,
        execution_id=job["id"],
        lease_token=job["lease_token"],
        result={"status": status},
        events=[],
    )


def test_no_notification_is_queued_when_the_workflow_wants_no_email(
    runner, django_capture_on_commit_callbacks
):
    _, job = claimed(runner)  # notify_on_success is off by default
    with django_capture_on_commit_callbacks() as callbacks:
        assert finish(runner, job, "succeeded").outcome == "ok"
    assert callbacks == []
    _, quiet = claimed(runner, notify_on_failure=False)
    with django_capture_on_commit_callbacks() as callbacks:
        finish(runner, quiet, "failed")
    assert callbacks == []


def test_a_failure_queues_its_email_once(runner, django_capture_on_commit_callbacks, settings):
    settings.NOTIFICATIONS_ENABLED = True
    execution, job = claimed(runner, notify_recipients=["ops@example.test"])
    with django_capture_on_commit_callbacks(execute=True):
        finish(runner, job, "failed")
    with django_capture_on_commit_callbacks() as callbacks:
        assert finish(runner, job, "failed").outcome == "duplicate"
    assert callbacks == []
    assert [m.to for m in mail.outbox] == [["ops@example.test"]]
    assert str(execution.id) in mail.outbox[0].body


def test_with_notifications_off_nothing_is_queued(runner, django_capture_on_commit_callbacks, settings):
    settings.NOTIFICATIONS_ENABLED = False
    _, job = claimed(runner)
    with django_capture_on_commit_callbacks() as callbacks:
        finish(runner, job, "failed")
    assert callbacks == []


def test_a_claim_is_one_statement_that_also_records_the_runners_contact(client, runner):
    execution, _ = claimed(runner)  # leaves nothing pending
    workflow = execution.workflow
    f.run(workflow, {"name": "bob"})
    path = f"/api/v1/runners/{runner.id}/claim"
    with CaptureQueriesContext(connection) as queries:
        response = f.signed_request(client, runner.id, f.test_key(), "POST", path, {"free": 2, "total": 3})
    [job] = response.json()["executions"]
    # the transaction, the signature check, the NOTIFY ending older polls and the claim itself
    assert len(queries) <= 5, "\n".join(q["sql"][:100] for q in queries)
    assert job["trigger_data"] == {"name": "bob"} and job["context"]["flow_name"] == workflow.name
    assert job["context"]["revision"] == 1 and job["attempt"] == 1
    stored = Runner.objects.get(id=runner.id)
    assert (stored.slots_in_use, stored.slots_total) == (2, 3)
    assert stored.last_contact_at is not None and stored.last_claim_at is not None


def test_a_runner_gives_back_an_execution_it_never_started_without_using_an_attempt(client, runner):
    execution, job = claimed(runner)
    answer = report(client, runner, [{"id": job["id"], "lease_token": job["lease_token"], "release": True}])
    assert answer[job["id"]]["outcome"] == "ok" and answer[job["id"]]["state"] == "pending"
    back = Execution.objects.get(id=execution.id)
    assert (back.state, back.attempt, back.runner_id, back.lease_token) == ("pending", 0, None, None)
    assert Runner.objects.get(id=runner.id).slots_in_use == 0
    [again] = executions.execution_claim(runner=runner, limit=1)
    assert again["id"] == job["id"] and again["attempt"] == 1


def test_only_an_execution_that_has_not_started_can_be_given_back(client, runner):
    execution, job = claimed(runner)
    lease = {"id": job["id"], "lease_token": job["lease_token"]}
    report(client, runner, [{**lease, "events": EVENTS[:1]}])
    assert report(client, runner, [{**lease, "release": True}])[job["id"]]["outcome"] == "lost"
    assert Execution.objects.get(id=execution.id).state == "running"


def test_a_given_back_execution_whose_cancellation_was_asked_for_ends_cancelled(client, runner):
    execution, job = claimed(runner)
    Execution.objects.filter(id=execution.id).update(cancel_requested=True)
    answer = report(client, runner, [{"id": job["id"], "lease_token": job["lease_token"], "release": True}])
    assert answer[job["id"]]["state"] == "cancelled"
    stopped = Execution.objects.get(id=execution.id)
    assert stopped.state == "cancelled" and stopped.finished_at is not None


def test_a_run_whose_steps_come_with_its_result_started_when_the_executor_says(client, runner):
    execution, job = claimed(runner)
    item = {
        "id": job["id"],
        "lease_token": job["lease_token"],
        "events": EVENTS[:2],
        "result": {"status": "succeeded", "outputs": {}, "duration_ms": 1500},
    }
    report(client, runner, [item])
    stored = Execution.objects.get(id=execution.id)
    assert (stored.finished_at - stored.started_at).total_seconds() == pytest.approx(1.5, abs=0.01)
