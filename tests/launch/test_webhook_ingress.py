"""The webhook ingress over real HTTP: methods, size cap, rate limit, idempotency, CORS, response modes."""

from __future__ import annotations

import pytest
import requests

from flomation.launch.models import Invocation
from flomation.launch.services.sync import trigger_set_enabled
from tests.launch.conftest import trigger_node


@pytest.fixture
def hook(live_world, live_server):
    def make(**inputs: object) -> str:
        live_world.deploy(trigger_node("trigger/webhook", inputs))
        return f"{live_server.url}/launch/webhook/{live_world.trigger().public_id}"

    return make


def test_an_accepted_request_is_stored_with_the_execution_it_created(hook, live_world):
    response = requests.post(hook(), json={"a": 1}, params={"source": "shop"}, timeout=10)
    assert response.status_code == 202
    invocation = Invocation.objects.get()
    assert str(invocation.execution_id) == response.json()["execution_id"]
    assert invocation.payload["body"] == {"a": 1} and invocation.payload["query"] == {"source": "shop"}
    assert invocation.method == "POST"


def test_a_retry_with_the_same_idempotency_key_creates_nothing_new(hook, live_world):
    url = hook()
    first = requests.post(url, json={"a": 1}, headers={"Idempotency-Key": "order-7"}, timeout=10)
    again = requests.post(url, json={"a": 1}, headers={"Idempotency-Key": "order-7"}, timeout=10)
    assert first.status_code == again.status_code == 202
    assert first.json()["execution_id"] == again.json()["execution_id"]
    assert len(live_world.executions()) == 1 and Invocation.objects.count() == 1


def test_a_method_the_trigger_does_not_allow_is_refused_with_405(hook, live_world):
    url = hook(methods=["PUT", "PATCH"])
    response = requests.post(url, json={}, timeout=10)
    assert response.status_code == 405 and response.headers["Allow"] == "PATCH, PUT"
    assert requests.put(url, json={}, timeout=10).status_code == 202


def test_a_body_over_the_cap_is_refused_with_413(hook, live_world):
    url = hook(max_body_bytes=1000)
    assert requests.post(url, data=b"x" * 1001, timeout=10).status_code == 413
    chunked = requests.post(url, data=iter([b"x" * 600, b"y" * 600]), timeout=10)  # no Content-Length
    assert chunked.status_code == 411  # the development server cannot de-chunk; gunicorn can (test_serve)
    assert requests.post(url, data=b"x" * 1000, timeout=10).status_code == 202
    assert len(live_world.executions()) == 1


def test_requests_past_the_rate_limit_get_429_with_retry_after(hook, live_world):
    url = hook(rate_limit=60, rate_limit_burst=3)  # one a second after a burst of three
    statuses = [requests.post(url, json={}, timeout=10) for _ in range(5)]
    assert [r.status_code for r in statuses] == [202, 202, 202, 429, 429]
    assert int(statuses[-1].headers["Retry-After"]) >= 1
    assert len(live_world.executions()) == 3


def test_a_paused_trigger_answers_503_and_starts_nothing(hook, live_world):
    url = hook()
    trigger_set_enabled(trigger=live_world.trigger(), enabled=False)
    response = requests.post(url, json={}, timeout=10)
    assert response.status_code == 503 and "paused" in response.json()["error"]
    assert live_world.executions() == []


def test_a_trigger_removed_from_the_deployment_answers_410(hook, live_world):
    url = hook()
    live_world.deploy(trigger_node("trigger/manual", node_id="m"))
    assert requests.post(url, json={}, timeout=10).status_code == 410


def test_an_unknown_trigger_answers_404(live_server, transactional_db):
    assert requests.post(f"{live_server.url}/launch/webhook/nosuchtrigger", timeout=10).status_code == 404


def test_invalid_json_is_refused_with_400(hook, live_world):
    response = requests.post(hook(), data=b"{nope", headers={"Content-Type": "application/json"}, timeout=10)
    assert response.status_code == 400 and live_world.executions() == []


class TestCors:
    def test_an_allowed_origin_gets_a_preflight_and_the_allow_origin_header(self, hook):
        url = hook(cors_origins="https://app.example.com", methods="POST")
        preflight = requests.options(
            url,
            headers={
                "Origin": "https://app.example.com",
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "content-type",
            },
            timeout=10,
        )
        assert preflight.status_code == 204
        assert preflight.headers["Access-Control-Allow-Origin"] == "https://app.example.com"
        assert preflight.headers["Access-Control-Allow-Methods"] == "POST"
        response = requests.post(url, json={}, headers={"Origin": "https://app.example.com"}, timeout=10)
        assert (
            response.status_code == 202
            and response.headers["Access-Control-Allow-Origin"] == "https://app.example.com"
        )

    def test_an_origin_off_the_list_is_refused(self, hook, live_world):
        url = hook(cors_origins=["https://app.example.com"])
        assert (
            requests.options(url, headers={"Origin": "https://evil.example"}, timeout=10).status_code == 403
        )
        response = requests.post(url, json={}, headers={"Origin": "https://evil.example"}, timeout=10)
        assert response.status_code == 403 and "Access-Control-Allow-Origin" not in response.headers
        assert live_world.executions() == []


class TestLastNode:
    def test_it_answers_with_the_flows_outputs(self, hook, live_world, fake_runner):
        url = hook(responseMode="lastNode", timeout=10000)
        fake_runner(outputs={"invoice": "INV-456", "__internal": 1})
        response = requests.post(url, json={"order": 1}, timeout=15)
        assert response.status_code == 200
        body = response.json()
        assert body["status"] == "completed" and body["data"] == {"invoice": "INV-456"}
        assert body["executionId"] == str(live_world.executions()[0].id)

    def test_it_answers_what_web_response_set(self, hook, fake_runner):
        url = hook(responseMode="lastNode", timeout=10000)
        fake_runner(
            outputs={
                "__web_response__": {
                    "status_code": 201,
                    "headers": "X-Order: 42\nContent-Type: text/csv",
                    "body": "a,b\n1,2\n",
                }
            }
        )
        response = requests.post(url, json={}, timeout=15)
        assert response.status_code == 201
        assert response.headers["X-Order"] == "42" and response.headers["Content-Type"] == "text/csv"
        assert response.text == "a,b\n1,2\n"

    def test_a_web_response_with_a_structured_body_is_json(self, hook, fake_runner):
        url = hook(responseMode="lastNode", timeout=10000)
        fake_runner(
            outputs={"__web_response__": {"status_code": 200, "headers": {"X-Id": "7"}, "body": {"ok": True}}}
        )
        response = requests.post(url, json={}, timeout=15)
        assert response.json() == {"ok": True} and response.headers["X-Id"] == "7"

    def test_a_failed_flow_answers_502_without_its_error_text(self, hook, fake_runner):
        url = hook(responseMode="lastNode", timeout=10000)
        fake_runner(outputs={}, state="failed")
        response = requests.post(url, json={}, timeout=15)
        assert response.status_code == 502 and response.json()["status"] == "failed"

    def test_it_answers_202_when_the_flow_does_not_finish_within_the_timeout(self, hook, live_world):
        url = hook(responseMode="lastNode", timeout=1000)
        response = requests.post(url, json={}, timeout=15)
        assert response.status_code == 202
        assert response.json()["execution_id"] == str(live_world.executions()[0].id)


def test_a_saas_webhook_trigger_is_served_at_the_webhook_address(live_world, live_server):
    live_world.deploy(trigger_node("trigger/github", {"authentication": "none"}))
    trigger = live_world.trigger()
    response = requests.post(
        f"{live_server.url}/launch/webhook/{trigger.public_id}", json={"ref": "refs/heads/main"}, timeout=10
    )
    assert response.status_code == 202 and trigger.kind == "other"
    assert live_world.executions()[0].trigger_data["body"] == {"ref": "refs/heads/main"}


def test_a_form_trigger_is_not_reachable_as_a_webhook(live_world, live_server):
    live_world.deploy(trigger_node("trigger/form"))
    response = requests.post(
        f"{live_server.url}/launch/webhook/{live_world.trigger().public_id}", json={}, timeout=10
    )
    assert response.status_code == 404
