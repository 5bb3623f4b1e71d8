"""`manage.py serve --role launch`: gunicorn serves the ingress and the launch loop runs beside it."""

from __future__ import annotations

import time
from datetime import timedelta

import requests
from django.utils import timezone

from flomation.launch.models import ScheduleFire, Trigger
from tests.launch.conftest import trigger_node
from tests.support.servers import serve


def test_the_launch_role_serves_webhooks_and_fires_due_schedules(live_world, tmp_path):
    live_world.deploy(trigger_node("trigger/webhook", {"max_body_bytes": 1000}, "hook"))
    live_world.deploy(
        trigger_node("trigger/webhook", {"max_body_bytes": 1000}, "hook"),
        trigger_node("trigger/schedule", {"cron": "0 0 1 1 *"}, "cron"),
    )
    hook = live_world.trigger("hook")
    Trigger.objects.filter(id=live_world.trigger("cron").id).update(
        next_run_at=timezone.now() - timedelta(seconds=1)
    )
    with serve("launch", tmp_path=tmp_path) as server:
        url = f"{server.url}/launch/webhook/{hook.public_id}"
        assert requests.post(url, json={"a": 1}, timeout=10).status_code == 202
        assert requests.post(url, data=iter([b"x" * 600, b"y" * 600]), timeout=10).status_code == 413
        assert requests.post(url, data=iter([b"x" * 300, b"y" * 300]), timeout=10).status_code == 202
        deadline = time.monotonic() + 20
        while not ScheduleFire.objects.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert ScheduleFire.objects.count() == 1
    webhook_runs = [e for e in live_world.executions() if e.trigger_type == "webhook"]
    assert len(webhook_runs) == 2 and webhook_runs[1].trigger_data["body"] == "x" * 300 + "y" * 300
