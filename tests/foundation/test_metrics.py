"""Operators' view over real HTTP: `/metrics` of a served deployment is off without a token, refuses a
wrong one, and shows what happened (executions by trigger and state, queue depth, webhook latency) summed
over every gunicorn worker; JSON logs with LOG_FORMAT=json."""

from __future__ import annotations

import json
import re

import pytest
import requests

from tests.launch.conftest import trigger_node
from tests.support.servers import _wait_until_up, serve

pytestmark = pytest.mark.django_db(transaction=True)
TOKEN = "metrics-token-for-tests-0123456789"


def sample(text: str, name: str, **labels: str) -> float:
    """The value of one sample of the exposition text (0 when absent)."""
    wanted = ",".join(f'{key}="{value}"' for key, value in sorted(labels.items()))
    for line in text.splitlines():
        match = re.match(r"^([a-z_]+)(?:\{(.*)\})? ([0-9.e+-]+)$", line)
        if match and match.group(1) == name:
            found = ",".join(sorted((match.group(2) or "").split(","))) if match.group(2) else ""
            if found == wanted:
                return float(match.group(3))
    return 0.0


def test_metrics_are_token_protected_and_count_every_workers_webhooks(tmp_path):
    from tests.launch.conftest import World

    world = World()
    world.deploy(trigger_node("trigger/webhook", {}, "hook"))
    hook = f"/launch/webhook/{world.trigger('hook').public_id}"
    env = {"METRICS_TOKEN": TOKEN, "LOG_FORMAT": "json"}
    with serve("api,launch", tmp_path=tmp_path, workers=2, env=env, wait_path="") as server:
        _wait_until_up(server, "/healthz", timeout=120)  # two workers boot slowly on a busy machine
        for _ in range(6):  # spread over both workers by the kernel
            assert requests.post(server.url + hook, json={"n": 1}, timeout=10).status_code == 202
        assert requests.get(server.url + "/metrics", timeout=10).status_code == 401
        wrong = requests.get(server.url + "/metrics", headers={"Authorization": "Bearer nope"}, timeout=10)
        assert wrong.status_code == 401
        scraped = requests.get(
            server.url + "/metrics", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10
        )
        assert scraped.status_code == 200 and scraped.headers["Content-Type"].startswith("text/plain")
        text = scraped.text
    assert sample(text, "flomation_executions_created_total", trigger_type="webhook") == 6
    assert sample(text, "flomation_webhook_request_seconds_count", status="202") == 6
    depths = [
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith("flomation_queue_depth{")
    ]
    assert sum(depths) == 6  # nothing runs them here: all six wait in their queue
    refusals = [
        json.loads(line)
        for line in server.log().splitlines()
        if line.startswith("{") and "refused a scrape" in line
    ]
    assert (
        len(refusals) == 2
        and refusals[0]["level"] == "WARNING"
        and refusals[0]["logger"] == "flomation.metrics"
    )
    assert TOKEN not in server.log()


def test_without_a_token_metrics_are_off(tmp_path):
    with serve("api", tmp_path=tmp_path) as server:
        response = requests.get(
            server.url + "/metrics", headers={"Authorization": "Bearer anything"}, timeout=10
        )
    assert response.status_code == 404 and "METRICS_TOKEN" in response.json()["detail"]


def test_a_json_log_line_carries_the_execution_and_organisation_ids():
    import logging

    from flomation.logs import JsonFormatter

    record = logging.LogRecord("flomation.test", logging.WARNING, __file__, 1, "refused %s", ("x",), None)
    record.execution_id, record.organisation_id = "e-1", "o-1"
    line = json.loads(JsonFormatter().format(record))
    assert line["message"] == "refused x" and line["level"] == "WARNING"
    assert (line["execution_id"], line["organisation_id"]) == ("e-1", "o-1")
