"""Flows made only of inline nodes run in the web process that received their webhook, over real HTTP:
answered from the flow, stored finished with their steps by the web tier's runner row, and everything else
(other nodes, organisations that refuse shared runners, a disabled web runner, a run past its budget)
left to the runners exactly as before. No stand-in runner runs here: an execution a runner would have to
finish stays pending."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from flomation.core.executions import inline
from flomation.core.models import AuditEntry, ExecutionStep, Runner
from flomation.core.services import queues
from flomation.core.services.queues import queue_create
from flomation.core.services.secrets import secret_set
from flomation.executor.registry import lookup
from flomation.launch.models import Invocation


def _node(node_id: str, action: str, kind: int, **inputs: Any) -> dict[str, Any]:
    config = {
        "id": node_id,
        "type": kind,
        "inputs": [{"name": name, "type": "any", "value": value} for name, value in inputs.items()],
        "outputs": [],
    }
    return {"id": node_id, "type": action, "data": {"id": node_id, "label": action, "config": config}}


def _flow(*nodes: dict[str, Any]) -> dict[str, Any]:
    edges = [
        {"id": f"e{index}", "source": a["id"], "target": b["id"]}
        for index, (a, b) in enumerate(zip(nodes, nodes[1:], strict=False))
    ]
    return {"nodes": list(nodes), "edges": edges}


def _hook(mode: str = "lastNode", timeout: int = 10000) -> dict[str, Any]:
    return _node("hook", "trigger/webhook", 1, responseMode=mode, timeout=timeout, rate_limit=0)


def _answer(value: str = "${merge.result}") -> dict[str, Any]:
    return _node("answer", "output/web_response", 3, body=value, status_code=201)


MERGE = _node("merge", "object/merge", 2, a="${hook.body}", b={"handled": True})


@pytest.fixture
def inline_on(settings, monkeypatch) -> None:
    settings.INLINE_RUNS = 4
    settings.INLINE_RUN_BUDGET_MS = 500
    monkeypatch.setattr(inline, "_slot_semaphore", None)
    monkeypatch.setattr(inline, "_runner_cache", None)
    monkeypatch.setattr(inline, "_flow_cache", {})
    monkeypatch.setattr(queues, "_shared_cache", None)  # each test's database starts empty


@pytest.fixture
def deploy(live_world, live_server, inline_on):
    def make(*nodes: dict[str, Any]) -> str:
        from django.db import transaction

        from flomation.core.models import Revision, Workflow

        with transaction.atomic():
            number = live_world.workflow.latest_revision + 1
            revision = Revision.objects.create(
                workflow=live_world.workflow, number=number, flow=_flow(*nodes)
            )
            Workflow.objects.filter(id=live_world.workflow.id).update(latest_revision=number)
            live_world.workflow.latest_revision = number
        live_world.deploy(revision=revision)
        return f"{live_server.url}/launch/webhook/{live_world.trigger('hook').public_id}"

    return make


def test_a_flow_of_inline_nodes_answers_from_the_web_process_and_is_stored_finished(deploy, live_world):
    url = deploy(_hook(), MERGE, _answer())
    response = requests.post(url, json={"order": 42}, timeout=15)
    assert response.status_code == 201 and response.json() == {"order": 42, "handled": True}

    [execution] = live_world.executions()
    assert execution.state == "succeeded" and execution.attempt == 1 and execution.error == ""
    assert execution.runner.name.endswith("(web)") and execution.runner.public_key == ""
    assert execution.started_at <= execution.finished_at and execution.lease_token is None
    steps = ExecutionStep.objects.filter(execution=execution).order_by("sequence")
    assert [(step.node_id, step.status) for step in steps if step.status != "running"] == [
        ("hook", "success"),
        ("merge", "success"),
        ("answer", "success"),
    ]
    assert [step.outputs for step in steps if step.node_id == "merge" and step.outputs] == [
        {"result": {"order": 42, "handled": True}}
    ]
    assert Invocation.objects.get().execution_id == execution.id
    # Its answer is the stored outcome's, read back the way a runner's result would be.
    assert execution.outputs["__web_response__"]["body"] == {"order": 42, "handled": True}


def test_in_immediate_mode_the_202_comes_after_the_run_was_stored(deploy, live_world):
    url = deploy(_hook("immediate"), MERGE, _answer())
    response = requests.post(url, json={"order": 1}, timeout=15)
    assert response.status_code == 202
    [execution] = live_world.executions()
    assert response.json()["execution_id"] == str(execution.id) and execution.state == "succeeded"


def test_a_repeat_with_the_same_idempotency_key_gets_the_first_answer_and_stores_nothing(deploy, live_world):
    url = deploy(_hook(), MERGE, _answer())
    first = requests.post(url, json={"order": 1}, headers={"Idempotency-Key": "k-1"}, timeout=15)
    again = requests.post(url, json={"order": 2}, headers={"Idempotency-Key": "k-1"}, timeout=15)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() == {"order": 1, "handled": True}
    assert len(live_world.executions()) == 1 and Invocation.objects.count() == 1
    assert ExecutionStep.objects.count() == 6  # the first run's steps only


@pytest.mark.parametrize(
    "action",
    ["conditional/switch", "string/repeat", "string/replace", "string/join", "data/json_stringify",
     "data/csv_format", "data/field_map", "object/set", "conditional/for", "conditional/while",
     "script/python", "web/request", "common/sleep", "data/jmespath", "sql/postgresql"],
)  # fmt: skip
def test_nodes_that_could_hold_a_web_thread_or_reach_out_are_not_inline(action):
    # A regular expression (switch) cannot be stopped once it runs; repeat, replace, join, an indent, CSV's
    # columns times rows, a field mapped many times and a deep path can make an output far larger than the
    # request; loops repeat; the rest do I/O or wait: a runner's process can be killed, a web thread cannot.
    spec = lookup(action)
    assert spec is not None and spec.inline is False


def test_a_flow_with_a_node_that_is_not_inline_goes_to_the_runners(deploy, live_world):
    switch = _node("switch", "conditional/switch", 2, value="${hook.body.kind}", operator="regex", cases=[])
    url = deploy(_hook("immediate"), switch, _answer("x"))
    assert requests.post(url, json={"kind": "a" * 30 + "!"}, timeout=15).status_code == 202
    [execution] = live_world.executions()
    assert execution.state == "pending" and execution.runner is None
    assert not ExecutionStep.objects.exists()


def test_a_request_that_would_make_a_replace_node_blow_up_is_not_run_in_the_web_process(deploy, live_world):
    # Every "a" of a 100 KB body replaced by a 1,000-character string the same request chose: 100 MB from one
    # request, and more with a bigger body, made where no one can stop it. It goes to the runners instead.
    bomb = _node(
        "bomb", "string/replace", 2, value="${hook.body.text}", search="a", replace="${hook.body.by}"
    )
    url = deploy(_hook("immediate"), bomb, _answer("${bomb.result}"))
    body = {"text": "a" * 100_000, "by": "b" * 1_000}
    assert requests.post(url, json=body, timeout=15).status_code == 202
    [execution] = live_world.executions()
    assert execution.state == "pending" and execution.runner is None
    assert not ExecutionStep.objects.exists()


def test_an_organisation_on_its_own_queue_is_not_run_inline(deploy, live_world):
    # Its own runners, on its own network, run its work; the web tier is the platform's shared capacity.
    own, _ = queue_create(organisation=live_world.organisation, name="own")
    live_world.organisation.accept_shared_runners = False
    live_world.organisation.save(update_fields=["accept_shared_runners"])
    live_world.workflow.queue = own
    live_world.workflow.save(update_fields=["queue"])
    url = deploy(_hook("immediate"), MERGE, _answer())
    assert requests.post(url, json={}, timeout=15).status_code == 202
    assert [execution.state for execution in live_world.executions()] == ["pending"]


def test_disabling_the_web_runner_turns_inline_runs_off(deploy, live_world, monkeypatch):
    url = deploy(_hook("immediate"), MERGE, _answer())
    assert requests.post(url, json={}, timeout=15).status_code == 202
    web = Runner.objects.get(name__endswith="(web)")
    Runner.objects.filter(id=web.id).update(enabled=False)  # as an operator does in the admin
    monkeypatch.setattr(inline, "_runner_cache", None)  # else within RUNNER_CACHE_SECONDS
    assert requests.post(url, json={}, timeout=15).status_code == 202
    assert [execution.state for execution in live_world.executions()] == ["succeeded", "pending"]


def test_a_secret_an_inline_flow_reads_is_audited_and_never_stored(deploy, live_world):
    secret_set(environment=live_world.environment, name="API_TOKEN", value="tok-7f3a9")
    greet = _node("merge", "object/merge", 2, a="${hook.body}", b={"auth": "Bearer ${secrets.API_TOKEN}"})
    url = deploy(_hook(), greet, _answer())
    response = requests.post(url, json={"order": 5}, timeout=15)
    assert response.status_code == 201 and "tok-7f3a9" not in response.text
    [execution] = live_world.executions()
    stored = str(execution.outputs) + str(list(ExecutionStep.objects.values_list("inputs", "outputs")))
    assert "tok-7f3a9" not in stored and "Bearer" in stored  # the value was used, masked where kept
    used = AuditEntry.objects.get(action="secret.used")
    assert used.target_id == str(execution.id) and used.actor_type == "runner"
    assert "tok-7f3a9" not in str(used.summary)


def test_a_flow_past_its_budget_is_stored_pending_with_its_progress_and_goes_on_from_there(
    deploy, live_world, settings, monkeypatch
):
    import time

    from flomation.core.executions import execution_claim
    from flomation.executor import run_flow

    settings.INLINE_RUN_BUDGET_MS = 200
    spec = lookup("object/keys")
    original = spec.run

    def slow(ctx: Any, inputs: dict[str, Any]) -> dict[str, Any]:  # a node that takes longer than allowed
        time.sleep(0.3)
        return original(ctx, inputs)

    monkeypatch.setattr(spec, "run", slow)
    keys = _node("text", "object/keys", 2, object="${hook.body}")
    url = deploy(_hook(timeout=1000), keys, MERGE, _answer())
    response = requests.post(url, json={"order": 3}, timeout=15)
    assert response.status_code == 202  # no runner here: the request's wait ran out

    [execution] = live_world.executions()
    assert execution.state == "pending" and execution.runner is None and execution.attempt == 1
    assert execution.max_attempts == 4  # the attempt spent here does not count against its retries
    assert set(execution.progress["node_results"]) == {"hook", "text"}
    ran_here = {step.node_id for step in ExecutionStep.objects.filter(execution=execution, attempt=1)}
    assert ran_here == {"hook", "text"}

    # A runner's claim hands the next attempt the progress; the run goes on after "text".
    runner = Runner.objects.create(queue=execution.queue, name="ci runner", public_key="-", slots_total=1)
    [job] = execution_claim(runner=runner, limit=1)
    assert job["attempt"] == 2 and set(job["checkpoint"]["node_results"]) == {"hook", "text"}
    started: list[str] = []
    result = run_flow(
        job["flow"],
        trigger_data=job["trigger_data"],
        checkpoint=job["checkpoint"],
        on_event=lambda event: started.append(event["id"]) if event.get("status") == "running" else None,
    )
    assert result.status == "succeeded" and started == ["merge", "answer"]


def test_no_one_can_act_as_the_web_runner_over_the_runner_protocol(deploy, live_server, settings):
    # It has no key: signed requests in its name are refused, whatever key signed them.
    from cryptography.hazmat.primitives.asymmetric import rsa

    from flomation.lib import protocol, signing

    url = deploy(_hook("immediate"), MERGE, _answer())
    assert requests.post(url, json={}, timeout=15).status_code == 202
    web = Runner.objects.get(name__endswith="(web)")
    settings.ROOT_URLCONF = "flomation.urls"
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    for method, path, body in [
        ("POST", f"/api/v1/runners/{web.id}/claim", b'{"free": 1, "total": 1}'),
        ("GET", f"/api/v1/runners/{web.id}/whoami", b""),
    ]:
        headers = signing.sign_headers(key, runner_id=str(web.id), method=method, path=path, body=body)
        headers.update({protocol.HEADER: str(protocol.VERSION), "Content-Type": "application/json"})
        answer = requests.request(method, live_server.url + path, data=body, headers=headers, timeout=15)
        assert answer.status_code == 401 and answer.json()["code"] == "bad_signature"
