"""A flow run by a real runner reads a stored connection through the signed, environment-scoped call, and
the connection's secret never shows in the run's steps, events or errors."""

from __future__ import annotations

import json
import sys

import pytest

from flomation.core.models import Environment, Execution, ExecutionStep
from flomation.core.services.connections import connection_create
from flomation.core.services.queues import queue_registration_code, queue_shared
from tests.runner import factories as f
from tests.runner.conftest import wait_until
from tests.support.mail import PASSWORD, USER, smtp_server

pytestmark = pytest.mark.django_db(transaction=True)

SUBPROCESS = {"FLOMATION_RUNNER_EXECUTABLE_NAME": f"{sys.executable} -m flomation.executor"}


def mail_flow(connection: str = "mail") -> dict:
    value = lambda text: {"name": "value", "type": "string", "value": text}  # noqa: E731
    return f.chain(
        f.node("t1", "trigger/manual", 1),
        f.node("send", "common/smtp", 2, [
            {"name": "connection", "type": "connection", "value": connection},
            {"name": "to", "type": "string", "value": "ada@example.com"},
            {"name": "subject", "type": "string", "value": "From the runner"},
        ]),
        f.node("o1", "output/set", 3, [{"name": "name", "type": "string", "value": "sent"},
                                       value(f"${{send.tool_result}} (password {PASSWORD})")]),
    )  # fmt: skip


def finished(execution) -> Execution:
    wait_until(lambda: Execution.objects.get(id=execution.id).state in ("succeeded", "failed"), timeout=40)
    return Execution.objects.get(id=execution.id)


def everything_recorded(execution) -> str:
    steps = list(ExecutionStep.objects.filter(execution=execution).values())
    row = Execution.objects.filter(id=execution.id).values("outputs", "error").get()
    return json.dumps([steps, row], default=str)


@pytest.mark.parametrize("isolated", [False, True], ids=["warm", "subprocess"])
def test_a_node_sends_mail_with_the_environments_stored_connection(start_runner, tmp_path, isolated):
    organisation = f.make_organisation()
    organisation.egress_allow = ["127.0.0.0/8"]
    organisation.save(update_fields=["egress_allow"])
    production = Environment.objects.create(organisation=organisation, name="production")
    staging = Environment.objects.create(organisation=organisation, name="staging")
    with smtp_server(tmp_path, auth=True) as server:
        fields = {"host": "127.0.0.1", "port": server.port, "security": "none", "username": USER,
                  "password": PASSWORD, "from_address": "runner@example.com"}  # fmt: skip
        connection_create(organisation=organisation, name="mail", type="smtp", fields=fields,
                          environment_id=production.id)  # fmt: skip
        wrong = {**fields, "port": 1, "password": "staging-pass"}
        connection_create(organisation=organisation, name="mail", type="smtp", fields=wrong,
                          environment_id=staging.id)  # fmt: skip
        start_runner(queue_registration_code(queue=queue_shared()), **(SUBPROCESS if isolated else {}))
        execution = f.run(f.make_workflow(organisation, mail_flow()), environment=production)
        done = finished(execution)
    assert done.state == "succeeded", done.error
    assert done.outputs["sent"].startswith("sent to 1 recipient(s) (password ")
    (message,) = server.messages
    assert message["From"] == "runner@example.com" and message["Subject"] == "From the runner"
    assert server.logins == [USER]
    recorded = everything_recorded(execution)
    assert PASSWORD not in recorded and "staging-pass" not in recorded


def test_another_organisations_connection_is_not_found(start_runner):
    mine, theirs = f.make_organisation(), f.make_organisation()
    connection_create(organisation=theirs, name="mail", type="smtp",
                      fields={"host": "127.0.0.1", "password": PASSWORD})  # fmt: skip
    start_runner(queue_registration_code(queue=queue_shared()))
    execution = f.run(f.make_workflow(mine, mail_flow()))
    done = finished(execution)
    assert done.state == "failed"
    step = ExecutionStep.objects.filter(execution=execution, node_id="send", status="failed").get()
    assert "connection 'mail' does not exist in this environment" in step.error
    assert PASSWORD not in everything_recorded(execution)
