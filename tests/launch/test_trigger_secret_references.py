"""A trigger's secret given as a stored reference or as `${secrets.NAME}`, checked over real HTTP: the
stored value or the environment's secret is what a caller must present, read where the trigger runs."""

from __future__ import annotations

import logging

import pytest
import requests

from flomation.core.services.secrets import secret_set
from flomation.core.services.workflows import workflow_save
from tests.launch.conftest import flow_with, trigger_node

BODY = b'{"order": 1}'


def post(url: str, key: str) -> requests.Response:
    headers = {"Content-Type": "application/json", "X-API-Key": key}
    return requests.post(url, data=BODY, headers=headers, timeout=10)


@pytest.fixture
def hook_with(live_world, live_server):
    def make(api_key: str) -> str:
        node = trigger_node("trigger/webhook", {"authentication": "api_key", "api_key": api_key})
        revision = workflow_save(workflow=live_world.workflow, flow=flow_with(node), author=None)
        live_world.workflow.refresh_from_db()
        live_world.deploy(revision=revision)
        return f"{live_server.url}/launch/webhook/{live_world.trigger().public_id}"

    return make


def test_a_key_saved_with_the_flow_is_what_callers_must_send(hook_with, live_world):
    url = hook_with("key-typed-into-the-flow")
    stored = live_world.workflow.revisions.get().flow
    assert "key-typed-into-the-flow" not in str(stored)
    assert post(url, "key-typed-into-the-flow").status_code == 202
    assert post(url, "a-guess").status_code == 401


def test_an_environment_secret_reference_is_read_from_the_triggers_environment(hook_with, live_world):
    secret_set(environment=live_world.environment, name="HOOK_KEY", value="key-from-the-environment")
    url = hook_with("${secrets.HOOK_KEY}")
    assert post(url, "${secrets.HOOK_KEY}").status_code == 401  # the reference itself is not the key
    assert post(url, "key-from-the-environment").status_code == 202
    # Rotating the environment's secret takes effect without a new deployment.
    secret_set(environment=live_world.environment, name="HOOK_KEY", value="rotated-key")
    assert post(url, "key-from-the-environment").status_code == 401
    assert post(url, "rotated-key").status_code == 202


def test_a_reference_to_a_missing_environment_secret_refuses_and_is_logged(hook_with, live_world, caplog):
    url = hook_with("${secrets.NOT_THERE}")
    with caplog.at_level(logging.WARNING, logger="flomation.launch.services.secrets"):
        assert post(url, "").status_code == 401
    messages = [r.getMessage() for r in caplog.records if "NOT_THERE" in r.getMessage()]
    assert messages and str(live_world.organisation.id) in messages[0]
