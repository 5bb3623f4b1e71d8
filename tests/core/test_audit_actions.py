"""Every audited action, made through the API as a user would, leaves exactly one audit entry naming the
right actor and action, and no secret value anywhere in it."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from rest_framework.test import APIClient

from flomation.core import models as m
from flomation.core.services.connections import connection_create
from flomation.core.services.deployments import workflow_deploy
from flomation.core.services.members import group_save, invitation_create
from flomation.core.services.queues import queue_create
from flomation.core.services.secrets import secret_set, variable_set
from flomation.core.services.tokens import api_token_create
from flomation.core.services.workflows import workflow_create, workflow_save
from flomation.identity.models import User
from flomation.lib import signing
from tests.core import factories as f
from tests.core.conftest import Cast, client_for
from tests.launch.conftest import trigger_node
from tests.runner import factories as runner_factories

pytestmark = pytest.mark.django_db

SECRET = "Sup3r-secret-value-never-logged"
PASSWORD = "plum-orchard-lantern-1947"
AGENT = "audit-test-agent/1.0"


@dataclass
class World:
    """The cast of tests/core/conftest.py, a deployed workflow, and whatever a case prepared."""

    cast: Cast
    workflow: m.Workflow
    made: dict[str, Any] = field(default_factory=dict)
    clients: dict[str, APIClient] = field(default_factory=dict)

    def client(self, persona: str = "owner") -> APIClient:
        """The persona's client, signed in once (a sign-in is an audited event of its own)."""
        if persona not in self.clients:
            self.clients[persona] = client_for(getattr(self.cast, persona))
            self.clients[persona].defaults["HTTP_USER_AGENT"] = AGENT
        return self.clients[persona]

    def url(self, rest: str) -> str:
        return self.cast.url(rest)

    def env(self, name: str = "development") -> m.Environment:
        return self.cast.environment(name)


@pytest.fixture
def world(cast: Cast) -> World:
    workflow = workflow_create(
        organisation=cast.organisation, name="Orders", created_by=cast.owner, flow=f.flow(value="one")
    )
    workflow_deploy(workflow=workflow, environment=cast.environment(), deployed_by=cast.owner)
    return World(cast, workflow)


@dataclass(frozen=True)
class Case:
    action: str
    act: Callable[[World], Any]
    prepare: Callable[[World], None] = lambda world: None
    actor: str = "owner"  # a persona of the cast, "token", "runner", or "user:<email>" (identity events)
    secrets: tuple[str, ...] = ()  # values the entry must not hold, beyond SECRET (read from `made`)
    status: int | None = None  # the answer expected when it is not a success (a refused login)

    def __str__(self) -> str:
        return self.action


def _second_revision_deployed(world: World) -> None:
    workflow_save(workflow=world.workflow, flow=f.flow(value="two"), author=world.cast.owner, message="v2")
    workflow_deploy(workflow=world.workflow, environment=world.env(), deployed_by=world.cast.owner)


def _queue(world: World) -> None:
    queue, code = queue_create(organisation=world.cast.organisation, name="on-prem")
    world.made.update(queue=queue, code=code)


def _runner(world: World) -> None:
    _queue(world)
    world.made["runner"] = m.Runner.objects.create(queue=world.made["queue"], name="box-1", public_key="-")


def _invited(world: World) -> None:
    invitee = f.AccountFactory()
    owner = m.Membership.objects.get(organisation=world.cast.organisation, account=world.cast.owner)
    invitation, token = invitation_create(
        organisation=world.cast.organisation, email=invitee.email, role="member", invited_by=world.cast.owner,
        acting=owner,
    )  # fmt: skip
    world.made.update(
        invitee=invitee, invitation=invitation, token=token, invitee_client=_with_agent(client_for(invitee))
    )


def _with_agent(client: APIClient) -> APIClient:
    client.defaults["HTTP_USER_AGENT"] = AGENT
    return client


def _group(world: World) -> None:
    world.made["group"] = group_save(
        organisation=world.cast.organisation, name="ops", permissions=["flow.view"], member_ids=[]
    )


def _token(world: World) -> None:
    token, plaintext = api_token_create(
        account=world.cast.owner, organisation=world.cast.organisation, name="ci"
    )
    world.made.update(api_token=token, token=plaintext)


def _connection(world: World) -> None:
    world.made["connection"] = connection_create(
        organisation=world.cast.organisation, name="Mail", type="smtp",
        fields={"host": "127.0.0.1", "port": 2525, "password": SECRET, "security": "none"},
    )  # fmt: skip


def _password(world: World) -> None:
    user = User.objects.get(id=world.cast.member.id)
    user.set_password(PASSWORD)
    user.save()
    world.made["password"] = PASSWORD


def _deployed_hook(world: World) -> None:
    flow = {"nodes": [trigger_node("trigger/webhook", {}, "hook")], "edges": []}
    workflow_save(workflow=world.workflow, flow=flow, author=world.cast.owner, message="hook")
    workflow_deploy(workflow=world.workflow, environment=world.env(), deployed_by=world.cast.owner)
    world.made["trigger"] = world.workflow.launch_triggers.get(node_id="hook")


def _git_connected(world: World) -> None:
    from flomation.core.services.flow_sources.git_settings import git_source_save

    world.made["source"], world.made["webhook_secret"] = git_source_save(
        organisation=world.cast.organisation, repository_url=GIT_URL
    )


GIT_URL = "https://git.example.com/acme/flows.git"


def _with_token(world: World, call: Callable[[APIClient], Any]) -> Any:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Bearer " + world.made["token"], HTTP_USER_AGENT=AGENT)
    return call(client)


def _register(world: World) -> Any:
    body = {
        "registration_code": world.made["code"],
        "public_key": signing.public_key_pem(runner_factories.test_key()),
        "name": "r1",
    }
    headers = {**runner_factories.PROTOCOL, "User-Agent": AGENT}
    return APIClient().post("/api/v1/runners/register", body, format="json", headers=headers)


def _login(world: World, password: str) -> Any:
    body = {"email": world.cast.member.email, "password": password}
    return APIClient().post("/identity/api/token", body, format="json", HTTP_USER_AGENT=AGENT)


def _session_revoke(world: World) -> Any:
    client = world.client("member")
    session = client.get("/identity/api/sessions").json()[0]["id"]
    return client.delete(f"/identity/api/sessions/{session}")


MEMBER_EMAIL = "user:member"
CASES = [
    Case("organisation.created", lambda w: w.client().post("/api/v1/organisations/", {"name": "Beta"}, format="json")),
    Case("organisation.updated", lambda w: w.client().patch(w.url(""), {"name": "Acme 2"}, format="json")),
    Case("member.role_changed", lambda w: w.client().patch(w.url(f"members/{w.cast.member.id}"), {"role": "admin"}, format="json")),
    Case("member.removed", lambda w: w.client().delete(w.url(f"members/{w.cast.viewer.id}"))),
    Case("member.left", lambda w: w.client("viewer").delete(w.url(f"members/{w.cast.viewer.id}")), actor="viewer"),
    Case("invitation.created", lambda w: w.client().post(w.url("invitations/"), {"email": "new@example.test"}, format="json")),
    Case("invitation.revoked", lambda w: w.client().delete(w.url(f"invitations/{w.made['invitation'].id}")), _invited, secrets=("token",)),
    Case("invitation.accepted", lambda w: w.made["invitee_client"].post("/api/v1/invitations/accept", {"token": w.made["token"]}, format="json"), _invited, actor="invitee", secrets=("token",)),
    Case("group.created", lambda w: w.client().post(w.url("groups/"), {"name": "ops", "permissions": ["flow.view"], "members": [str(w.cast.member.id)]}, format="json")),
    Case("group.updated", lambda w: w.client().put(w.url(f"groups/{w.made['group'].id}"), {"name": "ops", "permissions": ["flow.edit"]}, format="json"), _group),
    Case("group.deleted", lambda w: w.client().delete(w.url(f"groups/{w.made['group'].id}")), _group),
    Case("api_token.created", lambda w: w.client().post(w.url("tokens/"), {"name": "ci"}, format="json")),
    Case("api_token.revoked", lambda w: w.client().delete(w.url(f"tokens/{w.made['api_token'].id}")), _token, secrets=("token",)),
    Case("workflow.created", lambda w: w.client().post(w.url("workflows/"), {"name": "New", "flow": f.flow()}, format="json")),
    Case("workflow.saved", lambda w: w.client().post(w.url(f"workflows/{w.workflow.id}/revisions/"), {"flow": f.flow(value="2"), "message": "v2"}, format="json")),
    Case("workflow.updated", lambda w: w.client().patch(w.url(f"workflows/{w.workflow.id}/"), {"name": "Invoices"}, format="json")),
    Case("workflow.paused", lambda w: w.client().patch(w.url(f"workflows/{w.workflow.id}/"), {"state": "paused"}, format="json")),
    Case("workflow.archived", lambda w: w.client().delete(w.url(f"workflows/{w.workflow.id}/"))),
    Case("workflow.created", lambda w: w.client().post(w.url(f"workflows/{w.workflow.id}/duplicate"), {}, format="json")),
    Case("workflow.created", lambda w: w.client().post(w.url("workflows/import"), {"document": {"name": "In", **f.flow()}}, format="json")),
    Case("deployment.created", lambda w: w.client().post(w.url(f"workflows/{w.workflow.id}/deployments/"), {"environment": "staging"}, format="json")),
    Case("deployment.rolled_back", lambda w: w.client().post(w.url(f"workflows/{w.workflow.id}/rollback"), {"environment": "development"}, format="json"), _second_revision_deployed),
    Case("deployment.promoted", lambda w: w.client().post(w.url(f"workflows/{w.workflow.id}/promote"), {"source": "development"}, format="json")),
    Case("environment.created", lambda w: w.client().post(w.url("environments/"), {"name": "qa"}, format="json")),
    Case("environment.updated", lambda w: w.client().patch(w.url(f"environments/{w.env('staging').id}/"), {"name": "preprod"}, format="json")),
    Case("environment.deleted", lambda w: w.client().delete(w.url(f"environments/{w.env('staging').id}/"))),
    Case("variable.set", lambda w: w.client().put(w.url(f"environments/{w.env().id}/variables/BASE"), {"value": "https://x"}, format="json")),
    Case("variable.deleted", lambda w: w.client().delete(w.url(f"environments/{w.env().id}/variables/BASE")), lambda w: variable_set(environment=w.env(), name="BASE", value="x")),
    Case("secret.set", lambda w: w.client().put(w.url(f"environments/{w.env().id}/secrets/API_KEY"), {"value": SECRET}, format="json")),
    Case("secret.set", lambda w: _with_token(w, lambda c: c.put(w.url(f"environments/{w.env().id}/secrets/API_KEY"), {"value": SECRET}, format="json")), _token, actor="token", secrets=("token",)),
    Case("secret.deleted", lambda w: w.client().delete(w.url(f"environments/{w.env().id}/secrets/API_KEY")), lambda w: secret_set(environment=w.env(), name="API_KEY", value=SECRET)),
    Case("connection.created", lambda w: w.client().post(w.url("connections/"), {"name": "Mail", "type": "smtp", "fields": {"host": "127.0.0.1", "password": SECRET}}, format="json")),
    Case("connection.updated", lambda w: w.client().patch(w.url(f"connections/{w.made['connection'].id}"), {"fields": {"password": SECRET + "2"}}, format="json"), _connection),
    Case("connection.deleted", lambda w: w.client().delete(w.url(f"connections/{w.made['connection'].id}")), _connection),
    Case("queue.created", lambda w: w.client().post(w.url("queues/"), {"name": "on-prem"}, format="json")),
    Case("queue.code_rotated", lambda w: w.client().post(w.url(f"queues/{w.made['queue'].id}/registration-code")), _queue, secrets=("code",)),
    Case("queue.updated", lambda w: w.client().patch(w.url(f"queues/{w.made['queue'].id}/"), {"name": "edge"}, format="json"), _queue),
    Case("queue.deleted", lambda w: w.client().delete(w.url(f"queues/{w.made['queue'].id}/")), _queue),
    Case("runner.disabled", lambda w: w.client().patch(w.url(f"runners/{w.made['runner'].id}"), {"enabled": False}, format="json"), _runner),
    Case("runner.registered", _register, _queue, actor="runner", secrets=("code",)),
    Case("trigger.paused", lambda w: w.client().post(f"/launch/api/triggers/{w.made['trigger'].public_id}/pause"), _deployed_hook),
    Case("trigger.enabled", lambda w: w.client().post(f"/launch/api/triggers/{w.made['trigger'].public_id}/enable"), _deployed_hook),
    Case("git_sync.connected", lambda w: w.client().put(w.url("git-sync"), {"repository_url": GIT_URL}, format="json")),
    Case("git_sync.updated", lambda w: w.client().put(w.url("git-sync"), {"repository_url": GIT_URL, "branch": "release"}, format="json"), _git_connected, secrets=("webhook_secret",)),
    Case("git_sync.secret_rotated", lambda w: w.client().post(w.url("git-sync/webhook-secret")), _git_connected, secrets=("webhook_secret",)),
    Case("git_sync.disconnected", lambda w: w.client().delete(w.url("git-sync")), _git_connected, secrets=("webhook_secret",)),
    Case("login.succeeded", lambda w: _login(w, PASSWORD), _password, actor=MEMBER_EMAIL, secrets=("password",)),
    Case("login.failed", lambda w: _login(w, SECRET), _password, actor=MEMBER_EMAIL, secrets=("password",), status=401),
    Case("session.revoked", _session_revoke, actor=MEMBER_EMAIL),
]  # fmt: skip


def _expected_actor(world: World, case: Case, entry: m.AuditEntry) -> None:
    if case.actor == "token":
        assert entry.actor_type == "token" and entry.actor_id == str(world.made["api_token"].id)
        assert entry.actor_account == world.cast.owner.id
    elif case.actor == "runner":
        runner = m.Runner.objects.get(queue=world.made["queue"])
        assert (entry.actor_type, entry.actor_id) == ("runner", str(runner.id))
    elif case.actor == MEMBER_EMAIL:
        assert (entry.actor_type, entry.actor_id) == ("user", str(world.cast.member.id))
        assert entry.actor_label == world.cast.member.email
    else:
        account = world.made["invitee"] if case.actor == "invitee" else getattr(world.cast, case.actor)
        assert (entry.actor_type, entry.actor_id, entry.actor_label) == (
            "user",
            str(account.id),
            account.email,
        )
        assert entry.actor_account == account.id


@pytest.mark.parametrize("case", CASES, ids=[f"{n:02}-{c.action}" for n, c in enumerate(CASES)])
def test_each_action_leaves_exactly_one_entry_with_its_actor_and_no_secret(world: World, case: Case) -> None:
    case.prepare(world)
    world.client("owner"), world.client("member"), world.client("viewer")  # signed in before the action
    baseline = m.AuditEntry.objects.order_by("-id").values_list("id", flat=True).first() or 0
    response = case.act(world)
    assert response.status_code in ((case.status,) if case.status else (200, 201, 204)), response.content
    entries = list(m.AuditEntry.objects.filter(id__gt=baseline))
    assert [e.action for e in entries] == [case.action]
    (entry,) = entries
    _expected_actor(world, case, entry)
    if case.actor.startswith("user:"):
        assert entry.organisation_id is None  # identity's events are the platform's
    elif case.action != "organisation.created":
        assert entry.organisation_id == world.cast.organisation.id
    assert entry.user_agent == AGENT and entry.source_ip == "127.0.0.1"
    text = json.dumps([list(entry.__dict__.values())], default=str)
    for secret in (SECRET, *(str(world.made[name]) for name in case.secrets), *_answer_secrets(response)):
        assert secret not in text, f"{secret!r} is in the audit entry"


def _answer_secrets(response: Any) -> list[str]:
    """What an answer shows once (a new token, a registration code, an invitation token)."""
    try:
        body = response.json()
    except (ValueError, TypeError):
        return []
    if not isinstance(body, dict):
        return []
    return [str(body[k]) for k in ("token", "registration_code", "webhook_secret") if body.get(k)]
