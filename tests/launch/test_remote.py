"""Launch apart from the API: executions are created through the API's HTTP interface (a stand-in API on
loopback here), every accepted request is stored first, and what the API could not take is sent later."""

from __future__ import annotations

import json
import threading
import uuid
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from flomation.launch.models import Invocation
from flomation.launch.services.gateway import RemoteGateway, execution_gateway
from tests.launch.conftest import trigger_node


class StandInApi:
    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []
        self.keys: dict[str, str] = {}
        self.down = False
        api = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                if api.down:
                    self.send_response(503)
                    self.end_headers()
                    return
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                api.calls.append(
                    {
                        "path": self.path,
                        "auth": self.headers["Authorization"],
                        "key": self.headers["Idempotency-Key"],
                        "body": body,
                    }
                )
                key = self.headers["Idempotency-Key"]
                created = key not in api.keys
                api.keys.setdefault(key, str(uuid.uuid4()))
                payload = json.dumps({"id": api.keys[key]}).encode()
                self.send_response(201 if created else 200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def api(settings):
    stand_in = StandInApi()
    settings.LAUNCH_API_URL, settings.LAUNCH_API_KEY = stand_in.url, "flo_key_123"
    execution_gateway.cache_clear()
    yield stand_in
    stand_in.server.shutdown()
    execution_gateway.cache_clear()


def test_a_webhook_creates_its_execution_through_the_api(live_world, api, client):
    world = live_world
    world.deploy(trigger_node("trigger/webhook"))
    trigger = world.trigger()
    response = client.post(f"/launch/webhook/{trigger.public_id}", {"a": 1}, content_type="application/json")
    assert response.status_code == 202
    (call,) = api.calls
    assert (
        call["path"]
        == f"/api/v1/organisations/{world.organisation.id}/workflows/{world.workflow.id}/executions"
    )
    assert call["auth"] == "Bearer flo_key_123"
    assert call["body"]["trigger_data"]["body"] == {"a": 1} and call["body"]["environment_id"] == str(
        world.environment.id
    )
    invocation = Invocation.objects.get()
    assert response.json()["execution_id"] == str(invocation.execution_id) == api.keys[call["key"]]
    assert world.executions() == []  # nothing written to core's tables by launch


def test_a_request_accepted_while_the_api_is_down_is_submitted_later(live_world, api, client):
    world = live_world
    world.deploy(trigger_node("trigger/webhook"))
    api.down = True
    response = client.post(
        f"/launch/webhook/{world.trigger().public_id}", {"a": 1}, content_type="application/json"
    )
    assert response.status_code == 202 and response.json()["execution_id"] is None
    invocation = Invocation.objects.get()
    assert response.json()["invocation_id"] == str(invocation.id) and invocation.execution_id is None
    api.down = False
    gateway = execution_gateway()
    assert isinstance(gateway, RemoteGateway)
    assert invocation.error.startswith("the API answered 503 creating an execution")
    assert gateway.submit_pending(older_than=timedelta(0), retry_after=timedelta(0)) == 1
    invocation.refresh_from_db()
    assert invocation.execution_id is not None and invocation.error == "" and len(api.calls) == 1
    assert gateway.submit_pending(older_than=timedelta(0)) == 0
