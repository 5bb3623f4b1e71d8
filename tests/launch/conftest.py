"""Launch fixtures: deployed workflows with trigger nodes, a stand-in runner, and clean rate limits.

Deployments are made the way core's deploy does (a current Deployment row and `deployment_activated`);
once core has `workflow_deploy`, `deploy` should call it instead.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import psycopg
import pytest
from django.db import connection, transaction

from flomation.core.executions.channels import EXECUTIONS, execution_key
from flomation.core.models import Deployment, Environment, Execution, Organisation, Revision, Workflow
from flomation.core.signals import deployment_activated
from flomation.launch.models import Trigger
from flomation.launch.ratelimit import buckets
from tests.launch.chat_api import chat_api  # noqa: F401 - a fixture: the loopback Slack/Telegram API


def trigger_node(action: str, inputs: dict[str, Any] | None = None, node_id: str = "t1") -> dict[str, Any]:
    return {
        "id": node_id,
        "type": action,
        "data": {
            "id": node_id,
            "label": action,
            "config": {
                "id": node_id,
                "type": 1,
                "inputs": [
                    {"name": name, "type": "secret" if name.endswith("secret") else "string", "value": value}
                    for name, value in (inputs or {}).items()
                ],
                "outputs": [],
            },
        },
    }


def flow_with(*nodes: dict[str, Any]) -> dict[str, Any]:
    output = {
        "id": "o1",
        "type": "output/set",
        "data": {"id": "o1", "label": "output/set", "config": {"type": 3, "inputs": []}},
    }
    return {
        "nodes": [*nodes, output],
        "edges": [{"id": f"e{n['id']}", "source": n["id"], "target": "o1"} for n in nodes],
    }


class World:
    """One organisation with a production environment and a workflow to deploy revisions of."""

    def __init__(self) -> None:
        suffix = uuid.uuid4().hex[:8]
        self.organisation = Organisation.objects.create(name="Acme", slug=f"acme-{suffix}")
        self.environment = Environment.objects.create(
            organisation=self.organisation, name="production", position=2
        )
        self.workflow = Workflow.objects.create(organisation=self.organisation, name="Orders")

    def deploy(
        self, *nodes: dict[str, Any], kind: str = "deploy", revision: Revision | None = None
    ) -> Deployment:
        with transaction.atomic():
            if revision is None:
                number = self.workflow.latest_revision + 1
                revision = Revision.objects.create(
                    workflow=self.workflow, number=number, flow=flow_with(*nodes)
                )
                Workflow.objects.filter(id=self.workflow.id).update(latest_revision=number)
                self.workflow.latest_revision = number
            Deployment.objects.filter(
                workflow=self.workflow, environment=self.environment, is_current=True
            ).update(is_current=False)
            deployment = Deployment.objects.create(
                workflow=self.workflow, environment=self.environment, revision=revision, kind=kind
            )
            deployment_activated.send(sender=Deployment, deployment=deployment)
        return deployment

    def trigger(self, node_id: str = "t1") -> Trigger:
        return Trigger.objects.get(workflow=self.workflow, environment=self.environment, node_id=node_id)

    def executions(self) -> list[Execution]:
        return list(Execution.objects.filter(workflow=self.workflow).order_by("created_at"))


@pytest.fixture
def world(db: None) -> World:
    return World()


@pytest.fixture
def live_world(transactional_db: None) -> World:
    return World()


@pytest.fixture
def local_servers_allowed(settings) -> None:
    """Pollers may reach servers on loopback, local repositories and the test database server: allowed
    the way an operator would allow them (platform-wide settings)."""
    settings.EGRESS_ALLOW = ["127.0.0.0/8"]
    settings.EGRESS_ALLOW_LOCAL = True
    settings.EGRESS_ALLOW_PLATFORM = True


@pytest.fixture(autouse=True)
def launch_urls(settings) -> None:
    settings.ROOT_URLCONF = "tests.launch.urls"


@pytest.fixture(autouse=True)
def fresh_rate_limits() -> Iterator[None]:
    buckets.reset()
    yield
    buckets.reset()


def listen_params() -> dict[str, Any]:
    return {
        key: value
        for key, value in connection.get_connection_params().items()
        if key not in {"cursor_factory", "context", "prepare_threshold", "server_side_binding"}
    }


@pytest.fixture
def fake_runner() -> Iterator[Callable[..., threading.Thread]]:
    """finish(outputs=..., state=...) starts a thread that waits for the next pending execution and records
    its result the way the runner protocol does: update the row, NOTIFY the execution's channel."""
    params = listen_params()
    threads: list[threading.Thread] = []

    def finish(*, outputs: dict[str, Any], state: str = "succeeded", delay: float = 0.2) -> threading.Thread:
        def work() -> None:
            with psycopg.connect(**params, autocommit=True) as conn:
                deadline = time.monotonic() + 10
                while time.monotonic() < deadline:
                    row = conn.execute(
                        "SELECT id FROM core_execution WHERE state = 'pending' ORDER BY created_at DESC LIMIT 1"
                    ).fetchone()
                    if row:
                        break
                    time.sleep(0.02)
                else:
                    return
                time.sleep(delay)
                with conn.transaction():
                    conn.execute(
                        "UPDATE core_execution SET state = %s, outputs = %s, finished_at = now() WHERE id = %s",
                        [state, psycopg.types.json.Jsonb(outputs), row[0]],
                    )
                    conn.execute("SELECT pg_notify(%s, %s)", [EXECUTIONS, execution_key(row[0])])

        thread = threading.Thread(target=work, daemon=True)
        thread.start()
        threads.append(thread)
        return thread

    yield finish
    for thread in threads:
        thread.join(5)
