"""Executions: list filters, detail with steps, cancel, re-run, resume; the resume and retention loops."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from flomation.core import models as m
from flomation.core.loops import ResumeDueLoop, RetentionLoop
from tests.core import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture
def workflow(cast):
    return f.WorkflowFactory(organisation=cast.organisation, name="Sync")


def test_the_list_filters_by_workflow_status_trigger_environment_and_date(cast, as_, workflow):
    other = f.WorkflowFactory(organisation=cast.organisation)
    env = cast.environment("staging")
    failed = f.ExecutionFactory(workflow=workflow, state="failed", trigger_type="webhook", environment=env)
    f.ExecutionFactory(workflow=workflow, state="succeeded")
    f.ExecutionFactory(workflow=other, state="failed")
    f.ExecutionFactory(workflow=f.WorkflowFactory(organisation=cast.other_organisation), state="failed")
    old = f.ExecutionFactory(workflow=workflow, state="succeeded")
    m.Execution.objects.filter(id=old.id).update(created_at=timezone.now() - timedelta(days=3))
    client = as_("viewer")

    def ids(query: str) -> set[str]:
        response = client.get(cast.url("executions/" + query))
        assert response.status_code == 200, response.content
        return {e["id"] for e in response.json()["results"]}

    assert len(ids("")) == 4
    assert ids(f"?workflow={workflow.id}&status=failed") == {str(failed.id)}
    assert ids("?trigger_type=webhook") == {str(failed.id)}
    assert ids(f"?environment={env.id}") == {str(failed.id)}
    since = (timezone.now() - timedelta(days=1)).isoformat()
    assert str(old.id) not in ids("?created_after=" + since.replace("+", "%2B"))
    assert client.get(cast.url("executions/?status=exploded")).status_code == 400


def test_the_detail_shows_its_steps_in_order(cast, as_, workflow):
    execution = f.ExecutionFactory(workflow=workflow, state="failed", error="boom")
    f.StepFactory(execution=execution, node_id="t1", status="succeeded", sequence=1)
    f.StepFactory(
        execution=execution, node_id="w1", action="web/request", status="failed", error="timeout", sequence=2
    )
    body = as_("viewer").get(cast.url(f"executions/{execution.id}/")).json()
    assert body["state"] == "failed" and body["workflow"]["name"] == "Sync"
    assert [(s["node_id"], s["status"], s["error"]) for s in body["steps"]] == [
        ("t1", "succeeded", ""),
        ("w1", "failed", "timeout"),
    ]
    assert {"inputs", "outputs", "duration_ms", "attempt"} <= set(body["steps"][0])
    after = body["steps"][0]["id"]
    later = as_("viewer").get(cast.url(f"executions/{execution.id}/steps?after={after}")).json()["results"]
    assert [s["node_id"] for s in later] == ["w1"]


def test_cancelling_a_pending_execution_ends_it_at_once(cast, as_, workflow):
    execution = f.ExecutionFactory(workflow=workflow)
    response = as_("member").post(cast.url(f"executions/{execution.id}/cancel"))
    assert response.status_code == 200 and response.json()["state"] == "cancelled"


def test_cancelling_a_running_execution_asks_its_runner(cast, as_, workflow):
    execution = f.ExecutionFactory(workflow=workflow, state="running")
    response = as_("member").post(cast.url(f"executions/{execution.id}/cancel"))
    assert response.json()["state"] == "running" and response.json()["cancel_requested"] is True


def test_cancelling_a_finished_execution_is_a_conflict(cast, as_, workflow):
    execution = f.ExecutionFactory(workflow=workflow, state="succeeded")
    response = as_("member").post(cast.url(f"executions/{execution.id}/cancel"))
    assert response.status_code == 409 and "already finished" in response.json()["detail"]


def test_rerun_runs_the_same_revision_with_the_same_trigger_data(cast, as_, workflow):
    execution = f.ExecutionFactory(
        workflow=workflow, state="failed", trigger_data={"a": 1}, trigger_type="webhook"
    )
    response = as_("member").post(cast.url(f"executions/{execution.id}/rerun"))
    assert response.status_code == 201
    again = m.Execution.objects.get(id=response.json()["id"])
    assert (again.rerun_of, again.trigger_data, again.trigger_type, again.revision) == (
        execution, {"a": 1}, "webhook", execution.revision,
    )  # fmt: skip
    assert again.created_by == cast.member and again.state == "pending"


def test_resuming_a_suspended_execution_makes_it_pending_with_the_resume_data(cast, as_, workflow):
    execution = f.ExecutionFactory(workflow=workflow, state="suspended", attempt=1, checkpoint={"at": "w1"})
    response = as_("member").post(
        cast.url(f"executions/{execution.id}/resume"), {"resume_data": {"approved": True}}, format="json"
    )
    assert response.status_code == 200 and response.json()["state"] == "pending"
    execution.refresh_from_db()
    assert execution.resume_data == {"approved": True} and execution.checkpoint == {"at": "w1"}


def test_only_a_suspended_execution_can_be_resumed(cast, as_, workflow):
    execution = f.ExecutionFactory(workflow=workflow, state="running")
    response = as_("member").post(cast.url(f"executions/{execution.id}/resume"), {}, format="json")
    assert response.status_code == 409


def test_the_resume_loop_resumes_executions_whose_time_has_come(workflow):
    due = f.ExecutionFactory(
        workflow=workflow, state="suspended", resume_at=timezone.now() - timedelta(seconds=1)
    )
    later = f.ExecutionFactory(
        workflow=workflow, state="suspended", resume_at=timezone.now() + timedelta(hours=1)
    )
    loop = ResumeDueLoop()
    assert loop.handle_one() is True
    assert loop.handle_one() is False
    due.refresh_from_db()
    later.refresh_from_db()
    assert (due.state, later.state) == ("pending", "suspended")
    assert due.resume_data["reason"] == "timer" and due.resume_at is None


def test_the_retention_loop_deletes_only_old_finished_executions(workflow, settings):
    settings.EXECUTION_RETENTION_DAYS = 7
    old = f.ExecutionFactory(
        workflow=workflow, state="succeeded", finished_at=timezone.now() - timedelta(days=8)
    )
    f.StepFactory(execution=old)
    recent = f.ExecutionFactory(
        workflow=workflow, state="failed", finished_at=timezone.now() - timedelta(days=1)
    )
    stuck = f.ExecutionFactory(workflow=workflow, state="suspended")
    f.ExecutionFactory(workflow=workflow, state="succeeded", rerun_of=old, finished_at=timezone.now())
    assert RetentionLoop().handle_one() is False  # one partial batch: nothing more to do at once
    assert not m.Execution.objects.filter(id=old.id).exists()
    assert not m.ExecutionStep.objects.filter(execution_id=old.id).exists()
    assert m.Execution.objects.filter(id__in=[recent.id, stuck.id]).count() == 2
