"""A run's progress reported with its steps: kept while it runs, handed to the next attempt when its runner is
lost (which goes on from there and marks the node that runs again a retry), dropped when the attempt ends."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from flomation.core import executions
from flomation.core.models import Execution, ExecutionStep
from flomation.core.protocol.loops import LeaseReclaimLoop
from tests.core.test_protocol_results import claimed, report, runner  # noqa: F401 - the fixture
from tests.runner import factories as f

pytestmark = pytest.mark.django_db

CHECKPOINT = {
    "version": 1,
    "node_results": {"t1": {"name": "ada"}},
    "routes": {},
    "entry_node_id": "t1",
    "reachable_nodes": ["t1", "u1", "o1"],
}


def _steps(sequence: int, *pairs: tuple[str, str]) -> list[dict]:
    return [
        {"sequence": sequence + i, "id": node, "status": status} for i, (node, status) in enumerate(pairs)
    ]


def test_the_last_reported_progress_is_what_the_next_attempt_gets_after_a_lost_runner(client, runner):  # noqa: F811
    execution, job = claimed(runner)
    item = {"id": job["id"], "lease_token": job["lease_token"]}
    report(
        client,
        runner,
        [
            {
                **item,
                "events": _steps(0, ("t1", "running"), ("t1", "success")),
                "progress": {**CHECKPOINT, "node_results": {}},
            }
        ],
    )
    report(client, runner, [{**item, "events": _steps(2, ("u1", "running")), "progress": CHECKPOINT}])
    assert Execution.objects.get(id=execution.id).progress == CHECKPOINT

    # The runner is lost while "u1" runs: the lease runs out and another attempt claims the execution.
    Execution.objects.filter(id=execution.id).update(
        lease_expires_at=timezone.now() - dt.timedelta(seconds=1)
    )
    assert LeaseReclaimLoop().handle_one() is True
    [again] = executions.execution_claim(runner=runner, limit=1)
    assert again["attempt"] == 2
    assert again["checkpoint"] == CHECKPOINT

    item = {"id": again["id"], "lease_token": again["lease_token"]}
    report(
        client,
        runner,
        [{**item, "events": _steps(0, ("u1", "running"), ("u1", "success"), ("o1", "running"))}],
    )
    steps = list(
        ExecutionStep.objects.filter(execution=execution, attempt=2).values_list("node_id", "status", "retry")
    )
    assert steps == [("u1", "running", True), ("u1", "success", True), ("o1", "running", False)]

    report(client, runner, [{**item, "events": [], "result": {"status": "succeeded", "outputs": {}}}])
    assert Execution.objects.get(id=execution.id).progress is None


def test_progress_that_is_not_a_checkpoint_is_refused_and_nothing_is_stored(client, runner):  # noqa: F811
    execution, job = claimed(runner)
    response = f.signed_request(
        client,
        runner.id,
        f.test_key(),
        "POST",
        f"/api/v1/runners/{runner.id}/report",
        {
            "executions": [
                {
                    "id": job["id"],
                    "lease_token": job["lease_token"],
                    "events": _steps(0, ("t1", "running")),
                    "progress": {"nodes": 1},
                }
            ]
        },
    )
    assert response.status_code == 400
    assert "progress" in response.json()["detail"]
    assert not ExecutionStep.objects.filter(execution=execution).exists()
    assert Execution.objects.get(id=execution.id).progress is None


def test_progress_under_a_lease_that_was_taken_over_is_not_kept(client, runner):  # noqa: F811
    execution, job = claimed(runner)
    Execution.objects.filter(id=execution.id).update(lease_token=None)
    answer = report(
        client,
        runner,
        [{"id": job["id"], "lease_token": job["lease_token"], "events": [], "progress": CHECKPOINT}],
    )
    assert answer[job["id"]]["outcome"] == "lost"
    assert Execution.objects.get(id=execution.id).progress is None
