"""Launch's management API: members read a workflow's triggers (addresses, state, a schedule's next fire
times, a poller's last poll and error), editors pause and enable them; outsiders learn nothing."""

from __future__ import annotations

from datetime import datetime

import pytest
from django.utils import timezone

from flomation.core.models import Environment, MemberRole
from flomation.launch.models import Trigger
from tests.core import factories as f
from tests.core.conftest import client_for
from tests.launch.conftest import World, trigger_node

HOOK = trigger_node("trigger/webhook", {"auth": "api_key", "api_key": "sk-very-secret-1"}, "hook")
CRON = trigger_node("trigger/schedule", {"cron": "30 9 * * 1-5", "timezone": "Europe/London"}, "cron")
GIT = trigger_node(
    "trigger/git_poll", {"url": "https://git.example.com/acme/repo.git", "branch": "main"}, "git"
)


@pytest.fixture
def deployed(world: World) -> World:
    world.deploy(HOOK, CRON, GIT)
    return world


def person(world: World, role: str):
    account = f.MembershipFactory(organisation=world.organisation, role=role).account
    return client_for(account)


def outsider():
    return client_for(f.MembershipFactory(role=MemberRole.OWNER).account)


def test_a_member_lists_the_workflows_triggers_with_addresses_schedule_and_poller_state(deployed):
    Trigger.objects.filter(node_id="git").update(
        last_error="git ls-remote failed: repository not found", last_polled_at=timezone.now()
    )
    response = person(deployed, MemberRole.VIEWER).get(
        f"/launch/api/triggers?workflow={deployed.workflow.id}"
    )
    assert response.status_code == 200, response.content
    by_node = {t["node_id"]: t for t in response.json()["results"]}
    hook, cron, git = by_node["hook"], by_node["cron"], by_node["git"]
    assert hook["kind"] == "webhook" and hook["url"].endswith(f"/launch/webhook/{hook['id']}")
    assert hook["enabled"] is True and hook["environment"]["name"] == "production" and hook["revision"] == 1
    assert cron["schedule"]["cron"] == "30 9 * * 1-5" and cron["schedule"]["timezone"] == "Europe/London"
    fire_times = [datetime.fromisoformat(at) for at in cron["schedule"]["next_fire_times"]]
    assert len(fire_times) == 5 and fire_times == sorted(fire_times) and fire_times[0] > timezone.now()
    assert all(at.weekday() < 5 for at in fire_times)
    assert git["poller"]["last_error"] == "git ls-remote failed: repository not found"
    assert git["poller"]["last_polled_at"] is not None and cron["poller"] is None
    assert b"sk-very-secret-1" not in response.content and b"frt_" not in response.content


def test_the_list_can_be_narrowed_to_one_environment(deployed):
    Environment.objects.create(organisation=deployed.organisation, name="staging", position=1)
    client = person(deployed, MemberRole.MEMBER)
    url = f"/launch/api/triggers?workflow={deployed.workflow.id}&environment="
    assert client.get(url + "staging").json()["results"] == []
    assert len(client.get(url + str(deployed.environment.id)).json()["results"]) == 3


def test_a_member_pauses_and_enables_a_schedule(deployed, client):
    cron = deployed.trigger("cron")
    editor = person(deployed, MemberRole.MEMBER)
    paused = editor.post(f"/launch/api/triggers/{cron.public_id}/pause")
    assert paused.status_code == 200, paused.content
    assert paused.json()["enabled"] is False and paused.json()["schedule"]["next_fire_times"] == []
    assert Trigger.objects.get(id=cron.id).enabled is False
    enabled = editor.post(f"/launch/api/triggers/{cron.public_id}/enable")
    assert enabled.json()["enabled"] is True and len(enabled.json()["schedule"]["next_fire_times"]) == 5


def test_a_paused_webhook_stops_answering_until_enabled(deployed, client):
    hook = deployed.trigger("hook")
    editor = person(deployed, MemberRole.MEMBER)
    editor.post(f"/launch/api/triggers/{hook.public_id}/pause")
    headers = {"HTTP_X_API_KEY": "sk-very-secret-1"}
    assert (
        client.post(f"/launch/webhook/{hook.public_id}", {}, "application/json", **headers).status_code == 503
    )
    editor.post(f"/launch/api/triggers/{hook.public_id}/enable")
    assert (
        client.post(f"/launch/webhook/{hook.public_id}", {}, "application/json", **headers).status_code == 202
    )


def test_a_viewer_may_read_a_trigger_but_not_pause_it(deployed):
    hook = deployed.trigger("hook")
    viewer = person(deployed, MemberRole.VIEWER)
    assert viewer.get(f"/launch/api/triggers/{hook.public_id}").json()["id"] == hook.public_id
    refused = viewer.post(f"/launch/api/triggers/{hook.public_id}/pause")
    assert refused.status_code == 403 and "flow.edit" in refused.json()["detail"]
    assert Trigger.objects.get(id=hook.id).enabled is True


def test_an_outsider_finds_neither_the_workflow_nor_its_triggers(deployed):
    hook = deployed.trigger("hook")
    stranger = outsider()
    assert stranger.get(f"/launch/api/triggers?workflow={deployed.workflow.id}").status_code == 404
    assert stranger.get(f"/launch/api/triggers/{hook.public_id}").status_code == 404
    assert stranger.post(f"/launch/api/triggers/{hook.public_id}/pause").status_code == 404
    assert Trigger.objects.get(id=hook.id).enabled is True


def test_an_anonymous_caller_is_asked_to_sign_in(deployed, client):
    hook = deployed.trigger("hook")
    assert client.get(f"/launch/api/triggers/{hook.public_id}").status_code == 401
    assert client.post(f"/launch/api/triggers/{hook.public_id}/pause").status_code == 401


def test_an_unknown_workflow_or_trigger_is_not_found(deployed):
    member = person(deployed, MemberRole.MEMBER)
    assert member.get("/launch/api/triggers?workflow=not-a-uuid").status_code == 404
    assert member.get("/launch/api/triggers").status_code == 400
    assert member.get("/launch/api/triggers/AAAAAAAAAAAAAAAA").status_code == 404
