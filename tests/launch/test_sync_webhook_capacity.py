"""lastNode webhooks waiting for their flows hold neither the working threads nor database connections of
`serve`: other requests are answered meanwhile, past the wait budget a request is answered 202 at once,
and one LISTEN connection per web process wakes every waiter."""

from __future__ import annotations

import threading
import time

import psycopg
import requests
from django.db import connection

from flomation.core.executions.channels import EXECUTIONS, execution_key
from flomation.core.executions.listener import listen_params
from tests.launch.conftest import trigger_node
from tests.support.servers import serve


def _listening_backends() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND query ILIKE 'LISTEN%%'"
        )
        return cursor.fetchone()[0]


def _finish_every_pending(outputs: dict[str, object]) -> int:
    """Finishes the pending executions as the runner protocol would: one update, then a NOTIFY each."""
    with psycopg.connect(**listen_params(), autocommit=True) as conn, conn.transaction():
        rows = conn.execute(
            "UPDATE core_execution SET state = 'succeeded', outputs = %s, finished_at = now() "
            "WHERE state = 'pending' RETURNING id",
            [psycopg.types.json.Jsonb(outputs)],
        ).fetchall()
        for (execution_id,) in rows:
            conn.execute("SELECT pg_notify(%s, %s)", [EXECUTIONS, execution_key(execution_id)])
    return len(rows)


def test_waiting_webhooks_leave_the_working_threads_free_and_answer_when_their_flows_finish(
    live_world, tmp_path
):
    live_world.deploy(
        trigger_node("trigger/webhook", {"responseMode": "lastNode", "timeout": "20000"}, "sync"),
        trigger_node("trigger/webhook", {}, "async"),
    )
    sync_url, async_url = (
        f"/launch/webhook/{live_world.trigger(node).public_id}" for node in ("sync", "async")
    )
    env = {"FLOMATION_WEB_THREADS": "2", "FLOMATION_WEB_WAITS": "3"}
    with serve("launch", tmp_path=tmp_path, env=env) as server:
        answers: list[requests.Response] = []

        def call() -> None:
            answers.append(requests.post(server.url + sync_url, json={"n": 1}, timeout=30))

        waiting = [threading.Thread(target=call) for _ in range(3)]
        for thread in waiting:
            thread.start()
        deadline = time.monotonic() + 30  # a freshly started server's first requests load Django
        while len(live_world.executions()) < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(live_world.executions()) == 3
        time.sleep(0.5)  # the three are waiting now, on three of the five threads

        started = time.monotonic()
        for _ in range(6):  # more than the two working threads, one after the other
            assert requests.post(server.url + async_url, json={}, timeout=5).status_code == 202
        assert time.monotonic() - started < 5

        over_budget = requests.post(server.url + sync_url, json={}, timeout=5)
        assert over_budget.status_code == 202 and over_budget.json()["status"] == "accepted"
        assert _listening_backends() == 1  # one listener for the whole process, none per request

        assert _finish_every_pending({"invoice": "INV-1"}) == 3 + 6 + 1
        for thread in waiting:
            thread.join(10)
        assert [answer.status_code for answer in answers] == [200, 200, 200]
        assert all(answer.json()["data"] == {"invoice": "INV-1"} for answer in answers)
    assert server.log().count("wait slots of this process are in use") == 1
