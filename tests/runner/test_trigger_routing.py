"""A flow with two triggers runs the branch of the trigger that fired: real HTTP ingress, a real runner."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
import requests
from django.db import transaction
from django.utils import timezone

from flomation.core.executions.control import execution_rerun
from flomation.core.models import Deployment, Environment, Execution, ExecutionStep, Revision
from flomation.core.services.queues import queue_registration_code, queue_shared
from flomation.core.signals import deployment_activated
from flomation.launch.loops import LaunchLoop
from flomation.launch.models import Trigger
from tests.runner import factories as f
from tests.runner.conftest import wait_until

pytestmark = pytest.mark.django_db(transaction=True)


def two_trigger_flow(action: str, inputs: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """Manual `m1` -> output from=manual; `action` as `t1` -> output from=<action>."""

    def said(node_id: str, value: str) -> dict[str, Any]:
        inputs = [{"name": "name", "type": "string", "value": "from"}, {"name": "value", "value": value}]
        return f.node(node_id, "output/set", 3, inputs)

    nodes = [f.node("m1", "trigger/manual", 1), f.node("t1", action, 1, inputs), said("a", "manual")]
    nodes.append(said("b", action))
    edges = [{"id": "e1", "source": "m1", "target": "a"}, {"id": "e2", "source": "t1", "target": "b"}]
    return {"nodes": nodes, "edges": edges}


@pytest.fixture
def deploy(start_runner):
    start_runner(queue_registration_code(queue=queue_shared()), name="routing")

    def make(action: str, inputs: list[dict[str, Any]] | None = None) -> Trigger:
        workflow = f.make_workflow(f.make_organisation(), two_trigger_flow(action, inputs))
        environment = Environment.objects.create(
            organisation=workflow.organisation, name="production", position=2
        )
        with transaction.atomic():
            deployment = Deployment.objects.create(
                workflow=workflow, environment=environment, revision=Revision.objects.get(workflow=workflow)
            )
            deployment_activated.send(sender=Deployment, deployment=deployment)
        return Trigger.objects.get(workflow=workflow, node_id="t1")

    return make


def finished(trigger: Trigger) -> Execution:
    def done() -> Execution | None:
        return Execution.objects.filter(
            workflow_id=trigger.workflow_id, state__in=["succeeded", "failed"]
        ).first()

    return wait_until(done, timeout=30)  # type: ignore[return-value]


def ran_nodes(execution: Execution) -> set[str]:
    return set(
        ExecutionStep.objects.filter(execution=execution, status="success").values_list("node_id", flat=True)
    )


def assert_second_branch_ran(execution: Execution, action: str) -> None:
    assert execution.state == "succeeded", execution.error
    assert execution.outputs == {"from": action}
    assert {"t1", "b"} <= ran_nodes(execution) and not {"m1", "a"} & ran_nodes(execution)


def test_a_webhook_runs_its_own_branch_and_a_rerun_starts_there_again(deploy, live_api):
    trigger = deploy("trigger/webhook")
    answer = requests.post(f"{live_api}/launch/webhook/{trigger.public_id}", json={"name": "Bob"}, timeout=10)
    assert answer.status_code in (200, 202), answer.text
    execution = finished(trigger)
    assert_second_branch_ran(execution, "trigger/webhook")

    again = execution_rerun(execution=execution, created_by=None).execution
    wait_until(lambda: Execution.objects.get(id=again.id).state == "succeeded", timeout=30)
    assert_second_branch_ran(Execution.objects.get(id=again.id), "trigger/webhook")


def test_a_posted_form_runs_its_own_branch(deploy, live_api):
    trigger = deploy("trigger/form", [{"name": "fields", "value": [{"name": "name", "required": True}]}])
    session = requests.Session()
    page = session.get(f"{live_api}/launch/form/{trigger.public_id}", timeout=10).text
    token = re.search(r'name="_token" value="([^"]+)"', page).group(1)
    posted = session.post(
        f"{live_api}/launch/form/{trigger.public_id}", data={"_token": token, "name": "Ada"}, timeout=10
    )
    assert posted.status_code == 200
    assert_second_branch_ran(finished(trigger), "trigger/form")


@pytest.mark.parametrize(("action", "path"), [("trigger/qr", "scan"), ("trigger/image", "image")])
def test_a_scanned_qr_code_or_a_loaded_pixel_runs_its_own_branch(deploy, live_api, action, path):
    trigger = deploy(action)
    assert requests.get(f"{live_api}/launch/{path}/{trigger.public_id}", timeout=10).status_code < 400
    assert_second_branch_ran(finished(trigger), action)


def test_a_schedule_runs_its_own_branch(deploy):
    trigger = deploy("trigger/schedule", [{"name": "cron", "value": "*/5 * * * *"}])
    Trigger.objects.filter(id=trigger.id).update(next_run_at=timezone.now() - timedelta(seconds=1))
    loop = LaunchLoop()
    wait_until(
        lambda: loop.handle_one() or Execution.objects.filter(workflow_id=trigger.workflow_id).exists()
    )
    assert_second_branch_ran(finished(trigger), "trigger/schedule")
