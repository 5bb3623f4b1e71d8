"""The live step stream (server-sent events) against a real HTTP server, woken by NOTIFY."""

from __future__ import annotations

import json
import threading
import time

import pytest
import requests
from django.db import connection, transaction
from django.utils import timezone

from flomation.core import models as m
from flomation.core.executions.create import notify_execution
from tests.core import factories as f
from tests.core.conftest import identity_token

pytestmark = pytest.mark.django_db(transaction=True)

# Shorter than the stream's 15 s heartbeat: a stream that is not woken by NOTIFY times out the test.
READ_TIMEOUT = 8


def read_events(response: requests.Response) -> list[tuple[str, str | None, dict]]:
    events, name, event_id, data = [], None, None, None
    for line in response.iter_lines(decode_unicode=True):
        if line.startswith("event: "):
            name = line[7:]
        elif line.startswith("id: "):
            event_id = line[4:]
        elif line.startswith("data: "):
            data = json.loads(line[6:])
        elif line == "" and name:
            events.append((name, event_id, data))
            if name == "end":
                break
            name, event_id, data = None, None, None
    return events


def record_steps_later(execution: m.Execution, delay: float) -> threading.Thread:
    """Plays the runner protocol: a batch of steps, then the final result, each followed by NOTIFY."""

    def work() -> None:
        try:
            time.sleep(delay)
            with transaction.atomic():
                f.StepFactory(execution=execution, sequence=1, node_id="t1")
                f.StepFactory(execution=execution, sequence=2, node_id="o1", action="output/set")
                notify_execution(execution.id)
            time.sleep(delay)
            with transaction.atomic():
                m.Execution.objects.filter(id=execution.id).update(
                    state="succeeded", finished_at=timezone.now()
                )
                notify_execution(execution.id)
        finally:
            connection.close()

    thread = threading.Thread(target=work)
    thread.start()
    return thread


@pytest.fixture
def running(cast):
    workflow = f.WorkflowFactory(organisation=cast.organisation)
    return f.ExecutionFactory(workflow=workflow, state="running")


def test_the_stream_delivers_steps_as_they_are_recorded_and_then_the_end(live_server, cast, running):
    url = f"{live_server.url}{cast.url(f'executions/{running.id}/events')}"
    headers = {"Authorization": "Bearer " + identity_token(cast.viewer), "Accept": "text/event-stream"}
    writer = record_steps_later(running, delay=0.5)
    with requests.get(url, headers=headers, stream=True, timeout=(5, READ_TIMEOUT)) as response:
        assert response.status_code == 200
        assert response.headers["Content-Type"].startswith("text/event-stream")
        events = read_events(response)
    writer.join()
    names = [name for name, _, _ in events]
    assert names[0] == "state" and events[0][2]["state"] == "running"
    steps = [(event_id, data["node_id"]) for name, event_id, data in events if name == "step"]
    assert [node for _, node in steps] == ["t1", "o1"]
    assert [data["state"] for name, _, data in events if name == "state"][-1] == "succeeded"
    assert names[-1] == "end"

    # A reconnect with Last-Event-ID gets only what came after.
    headers["Last-Event-ID"] = steps[0][0]
    with requests.get(url, headers=headers, stream=True, timeout=(5, READ_TIMEOUT)) as response:
        again = read_events(response)
    assert [data["node_id"] for name, _, data in again if name == "step"] == ["o1"]


def test_steps_committed_with_the_result_between_the_streams_reads_come_before_the_end(
    live_server, cast, running, monkeypatch
):
    """A short run's report carries its last steps and its result in one transaction; landing just after
    the stream read the steps and before it read the state, it must not end the stream without them."""
    from flomation.core.executions import events

    read_state = events.execution_stream_state
    landed = []

    def report_lands_first(*, execution_id):
        if not landed:
            landed.append(True)
            with transaction.atomic():
                f.StepFactory(execution=running, sequence=1, node_id="t1")
                f.StepFactory(execution=running, sequence=2, node_id="b", action="output/set")
                m.Execution.objects.filter(id=running.id).update(
                    state="succeeded", finished_at=timezone.now()
                )
                notify_execution(running.id)
        return read_state(execution_id=execution_id)

    monkeypatch.setattr(events, "execution_stream_state", report_lands_first)
    url = f"{live_server.url}{cast.url(f'executions/{running.id}/events')}"
    headers = {"Authorization": "Bearer " + identity_token(cast.viewer), "Accept": "text/event-stream"}
    with requests.get(url, headers=headers, stream=True, timeout=(5, READ_TIMEOUT)) as response:
        events_seen = read_events(response)
    assert [data["node_id"] for name, _, data in events_seen if name == "step"] == ["t1", "b"]
    assert [name for name, _, _ in events_seen][-1] == "end"


def test_an_outsider_cannot_open_the_stream(live_server, cast, running):
    url = f"{live_server.url}{cast.url(f'executions/{running.id}/events')}"
    headers = {"Authorization": "Bearer " + identity_token(cast.outsider), "Accept": "text/event-stream"}
    response = requests.get(url, headers=headers, timeout=5)
    assert response.status_code == 404
