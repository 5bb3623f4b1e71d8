"""A viewer trying to read a webhook's signing secret, over real HTTP: the API, launch and a real runner on
loopback, real PostgreSQL. The secret is in no answer a viewer gets, nor in the trigger's outputs, and the
webhook signed with it keeps working after the stored plaintext is moved out and after a re-save."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid

import pytest
import requests

from flomation.core import models as m
from flomation.core.services.queues import queue_registration_code, queue_shared
from tests.core import factories as f
from tests.core.conftest import identity_token
from tests.runner.conftest import live_api, start_runner, wait_until  # noqa: F401  (fixtures)
from tests.runner.flows import chain, node

pytestmark = pytest.mark.django_db(transaction=True)

RAW_KEY = b"our-signing-key-nobody-else-may-see"
SECRET = "whsec_" + base64.b64encode(RAW_KEY).decode()


def webhook_flow(secret: str) -> dict:
    return chain(
        node(
            "t1",
            "trigger/webhook",
            1,
            [
                {"name": "authentication", "type": "string", "value": "hmac"},
                # "string", as flows saved by older editors typed it: the name makes it a secret.
                {"name": "hmac_secret", "type": "string", "value": secret},
            ],
        ),
        node(
            "o1",
            "output/set",
            3,
            [
                {"name": "name", "type": "string", "value": "order"},
                {"name": "value", "type": "string", "value": "${t1.body.order}"},
            ],
        ),
    )


class Session:
    def __init__(self, base: str, account: m.Account) -> None:
        self.base = base
        self.http = requests.Session()
        self.http.headers["Authorization"] = "Bearer " + identity_token(account)

    def get(self, path: str) -> requests.Response:
        response = self.http.get(self.base + path, timeout=15)
        assert response.status_code == 200, (path, response.status_code, response.text[:300])
        return response

    def post(self, path: str, body: dict) -> requests.Response:
        return self.http.post(self.base + path, json=body, timeout=15)


def signed_post(url: str, body: bytes, secret: str = SECRET) -> requests.Response:
    delivery, timestamp = uuid.uuid4().hex, str(int(time.time()))
    key = base64.b64decode(secret.removeprefix("whsec_"))
    digest = hmac.new(key, f"{delivery}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    headers = {
        "Content-Type": "application/json",
        "webhook-id": delivery,
        "webhook-timestamp": timestamp,
        "webhook-signature": "v1," + base64.b64encode(digest).decode(),
    }
    return requests.post(url, data=body, headers=headers, timeout=15)


@pytest.fixture
def team(db):
    organisation = f.OrganisationFactory(name="Acme")
    owner = f.MembershipFactory(organisation=organisation, role=m.MemberRole.OWNER).account
    viewer = f.MembershipFactory(organisation=organisation, role=m.MemberRole.VIEWER).account
    return organisation, owner, viewer


def deploy_and_hook(owner: Session, org: m.Organisation, workflow_id: str) -> str:
    answer = owner.post(
        f"/api/v1/organisations/{org.id}/workflows/{workflow_id}/deployments/", {"environment": "production"}
    )
    assert answer.status_code == 201, answer.text
    from flomation.launch.models import Trigger

    trigger = Trigger.objects.get(workflow_id=workflow_id, environment__name="production", node_id="t1")
    return f"/launch/webhook/{trigger.public_id}"


def finished(execution_id: str) -> m.Execution:
    return wait_until(
        lambda: m.Execution.objects.filter(id=execution_id, state__in=["succeeded", "failed"]).first(),
        timeout=60,
    )


def test_a_viewer_never_reads_the_webhook_secret_and_the_signed_webhook_still_runs(
    team,
    live_server,
    start_runner,  # noqa: F811 - the runner tests' fixture, imported above
):
    organisation, owner_account, viewer_account = team
    base = live_server.url
    owner, viewer = Session(base, owner_account), Session(base, viewer_account)
    org = f"/api/v1/organisations/{organisation.id}"
    created = owner.post(f"{org}/workflows/", {"name": "Orders", "flow": webhook_flow(SECRET)})
    assert created.status_code == 201, created.text
    workflow_id = created.json()["id"]
    hook = deploy_and_hook(owner, organisation, workflow_id)
    start_runner(queue_registration_code(queue=queue_shared()))

    accepted = signed_post(base + hook, json.dumps({"order": 42}).encode())
    assert accepted.status_code == 202, accepted.text
    execution_id = accepted.json()["execution_id"]
    assert finished(execution_id).state == "succeeded"

    bodies = {
        "revision": viewer.get(f"{org}/workflows/{workflow_id}/revisions/1").text,
        "revisions": viewer.get(f"{org}/workflows/{workflow_id}/revisions/").text,
        "export": viewer.get(f"{org}/workflows/{workflow_id}/export").text,
        "execution": viewer.get(f"{org}/executions/{execution_id}/").text,
        "steps": viewer.get(f"{org}/executions/{execution_id}/steps").text,
        "canvas": viewer.get(f"/workflows/{workflow_id}").text,
        "editor flow": viewer.get(f"/workflows/{workflow_id}/flow").text,
        "execution page": viewer.get(f"/executions/{execution_id}").text,
    }
    for what, body in bodies.items():
        assert SECRET not in body, f"the secret is in the {what} answer"
        assert base64.b64encode(RAW_KEY).decode() not in body, f"the key is in the {what} answer"

    shown = json.loads(bodies["revision"])["flow"]["nodes"][0]["data"]["config"]["inputs"]
    secret_input = next(item for item in shown if item["name"] == "hmac_secret")
    assert secret_input["set"] is True and set(secret_input["value"]) == {"secret_ref"}
    exported = json.loads(bodies["export"])
    assert exported["secrets_to_set"] == [{"node_id": "t1", "input": "hmac_secret"}]
    steps = json.loads(bodies["steps"])
    steps = steps.get("results", steps)
    trigger_outputs = [step["outputs"] for step in steps if step["node_id"] == "t1" and step["outputs"]]
    assert trigger_outputs and all("hmac_secret" not in outputs for outputs in trigger_outputs)
    assert all(outputs["body"] == {"order": 42} for outputs in trigger_outputs)

    # The owner saves the flow back as read (the secret only as its reference): the webhook still takes it.
    flow = json.loads(owner.get(f"{org}/workflows/{workflow_id}/revisions/1").text)["flow"]
    saved = owner.post(f"{org}/workflows/{workflow_id}/revisions/", {"flow": flow, "message": "rename"})
    assert saved.status_code == 201, saved.text
    assert SECRET not in saved.text
    hook = deploy_and_hook(owner, organisation, workflow_id)
    again = signed_post(base + hook, json.dumps({"order": 43}).encode())
    assert again.status_code == 202, again.text
    assert finished(again.json()["execution_id"]).outputs == {"order": 43}
    wrong = signed_post(base + hook, b'{"order": 44}', secret="whsec_" + base64.b64encode(b"guess").decode())
    assert wrong.status_code == 401


def test_a_revision_saved_with_the_secret_in_plaintext_is_moved_out_and_its_webhook_keeps_working(
    team, live_server
):
    from flomation.core.services.flow_secrets import revisions_move_plaintext_secrets

    organisation, owner_account, viewer_account = team
    base = live_server.url
    owner, viewer = Session(base, owner_account), Session(base, viewer_account)
    org = f"/api/v1/organisations/{organisation.id}"
    # As stored before trigger secrets were kept apart (and as an old execution echoed it).
    workflow = m.Workflow.objects.create(organisation=organisation, name="Legacy", latest_revision=1)
    revision = m.Revision.objects.create(workflow=workflow, number=1, flow=webhook_flow(SECRET))
    execution = m.Execution.objects.create(
        organisation=organisation,
        workflow=workflow,
        revision=revision,
        queue=queue_shared(),
        state="succeeded",
    )
    m.ExecutionStep.objects.create(
        execution=execution, sequence=1, node_id="t1", action="trigger/webhook", status="succeeded",
        inputs={"hmac_secret": SECRET}, outputs={"hmac_secret": SECRET, "body": {"order": 1}},
    )  # fmt: skip

    assert revisions_move_plaintext_secrets(step_model=m.ExecutionStep) == 1

    for path in (
        f"{org}/workflows/{workflow.id}/revisions/1",
        f"{org}/workflows/{workflow.id}/export",
        f"{org}/executions/{execution.id}/steps",
    ):
        assert SECRET not in viewer.get(path).text, path
    assert SECRET not in json.dumps(m.Revision.objects.get(id=revision.id).flow)
    hook = deploy_and_hook(owner, organisation, str(workflow.id))
    assert signed_post(base + hook, b'{"order": 7}').status_code == 202
