"""A webhook body with a NUL character, which PostgreSQL cannot store, is refused with 400 over real HTTP
(it once answered 500), whatever its content type; nothing is recorded and no execution starts."""

from __future__ import annotations

import logging

import pytest
import requests

from flomation.launch.models import Invocation
from tests.launch.conftest import trigger_node

MESSAGE = "the body contains a NUL character (\\u0000), which cannot be stored; remove it"


@pytest.mark.parametrize(
    "body",
    [
        {"json": {"order": {"note": "gift\x00wrap"}}},
        {"json": {"gift\x00wrap": True}},
        {"data": {"note": "gift\x00wrap"}},
        {"data": "gift\x00wrap", "headers": {"Content-Type": "text/plain"}},
    ],
    ids=["json-value", "json-key", "form", "text"],
)
def test_a_webhook_body_with_a_nul_character_is_refused(live_world, live_server, caplog, body):
    live_world.deploy(trigger_node("trigger/webhook"))
    trigger = live_world.trigger()
    with caplog.at_level(logging.WARNING, logger="flomation.launch.views.webhook"):
        response = requests.post(f"{live_server.url}/launch/webhook/{trigger.public_id}", timeout=10, **body)
    assert response.status_code == 400
    assert response.json() == {"error": MESSAGE}
    assert not Invocation.objects.exists() and live_world.executions() == []
    assert [r.getMessage() for r in caplog.records if r.name == "flomation.launch.views.webhook"] == [
        f"webhook {trigger.public_id} (organisation {trigger.organisation_id}) refused: a NUL character in the body"
    ]
