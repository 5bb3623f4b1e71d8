"""Launch running apart from the API, with real processes: `serve --role identity,api` and
`serve --role launch` (LAUNCH_API_URL and LAUNCH_API_KEY set), sharing only the database here."""

from __future__ import annotations

import pytest
import requests

from flomation.core.models import Account, Execution, MemberRole
from flomation.core.services.tokens import api_token_create
from flomation.launch.models import Invocation
from tests.core import factories as f
from tests.launch.conftest import World, trigger_node
from tests.support.servers import serve

pytestmark = pytest.mark.django_db(transaction=True)


def launch_key(world: World) -> tuple[Account, str]:
    member = f.MembershipFactory(organisation=world.organisation, role=MemberRole.MEMBER).account
    return member, api_token_create(account=member, organisation=world.organisation, name="launch")[1]


def test_a_webhook_to_launch_creates_its_execution_through_the_api_process(live_world, tmp_path):
    live_world.deploy(trigger_node("trigger/webhook"))
    trigger = live_world.trigger()
    with serve("identity,api", tmp_path=tmp_path) as api:
        member, key = launch_key(live_world)
        env = {"LAUNCH_API_URL": api.url, "LAUNCH_API_KEY": key}
        with serve("launch", tmp_path=tmp_path, env=env) as launch:
            url = f"{launch.url}/launch/webhook/{trigger.public_id}"
            first = requests.post(url, json={"order": 7}, headers={"Idempotency-Key": "o-7"}, timeout=10)
            again = requests.post(url, json={"order": 7}, headers={"Idempotency-Key": "o-7"}, timeout=10)
    assert first.status_code == 202, first.text
    execution = Execution.objects.get()
    assert first.json()["execution_id"] == again.json()["execution_id"] == str(execution.id)
    assert execution.trigger_type == "webhook" and execution.trigger_data["body"] == {"order": 7}
    assert execution.environment_id == live_world.environment.id
    assert execution.created_by_id == member.id  # made by the API process, as the key's owner
    invocation = Invocation.objects.get()
    assert invocation.trigger_id == trigger.id and invocation.execution_id == execution.id
    assert invocation.payload["body"] == {"order": 7} and invocation.error == ""


def test_a_wrong_api_key_is_kept_as_an_error_on_the_invocation(live_world, tmp_path):
    live_world.deploy(trigger_node("trigger/webhook"))
    trigger = live_world.trigger()
    with serve("identity,api", tmp_path=tmp_path) as api:
        env = {"LAUNCH_API_URL": api.url, "LAUNCH_API_KEY": "flo_not_a_real_key"}
        with serve("launch", tmp_path=tmp_path, env=env) as launch:
            response = requests.post(f"{launch.url}/launch/webhook/{trigger.public_id}", json={}, timeout=10)
    assert response.status_code == 202 and response.json()["execution_id"] is None
    invocation = Invocation.objects.get(id=response.json()["invocation_id"])
    assert invocation.execution_id is None and "401" in invocation.error
    assert "LAUNCH_API_KEY" in invocation.error
    assert not Execution.objects.exists()
