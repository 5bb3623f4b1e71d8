"""Going on after a lost runner: a checkpoint after each finished node, restored by the next attempt so the
nodes that finished do not run again; and the idempotency key a node with outside effects hands on."""

from __future__ import annotations

import json
from typing import Any

from flomation.executor.registry import lookup
from tests.executor.conftest import chain, edge, flow, node, outputs_of, run


def _post(node_id: str, url: str, **inputs: Any) -> dict[str, Any]:
    return node(node_id, "web/request", {"method": "POST", "url": url, "json": '{"n": 1}', **inputs})


def _three_posts(url: str) -> dict[str, Any]:
    return chain(_post("a", url + "/a"), _post("b", url + "/b"), _post("c", url + "/c"))


def _answer(server: Any) -> None:
    for path in ("/a", "/b", "/c"):
        server.routes[path] = (200, {"Content-Type": "application/json"}, {"ok": True})


def test_a_run_hands_on_a_checkpoint_after_each_node_of_the_main_pass(http_server):
    _answer(http_server)
    checkpoints: list[dict[str, Any]] = []
    result, _ = run(_three_posts(http_server.url), on_progress=checkpoints.append)
    assert result.status == "succeeded"
    assert [sorted(c["node_results"]) for c in checkpoints] == [
        ["t"],
        ["a", "t"],
        ["a", "b", "t"],
        ["a", "b", "c", "t"],
    ]
    json.dumps(checkpoints)  # each goes to the API as JSON


def test_a_run_given_the_last_checkpoint_goes_on_after_the_last_finished_node(http_server):
    _answer(http_server)
    checkpoints: list[dict[str, Any]] = []
    run(_three_posts(http_server.url), on_progress=checkpoints.append, context={"execution_id": "e1"})
    first = [r["path"] for r in http_server.requests]
    http_server.requests.clear()

    # The runner was lost while "b" ran: the API kept the checkpoint taken after "a".
    after_a = json.loads(json.dumps(checkpoints[1]))
    again: list[dict[str, Any]] = []
    result, recorder = run(
        _three_posts(http_server.url),
        checkpoint=after_a,
        on_progress=again.append,
        context={"execution_id": "e1"},
    )

    assert first == ["/a", "/b", "/c"]
    assert result.status == "succeeded"
    assert [r["path"] for r in http_server.requests] == ["/b", "/c"]  # "a" did not run again
    assert recorder.ran() == ["b", "c"]
    assert sorted(result.node_results) == ["a", "b", "c", "t"]  # the record still shows every node
    assert outputs_of(result, "a")["status_code"] == 200
    assert [sorted(c["node_results"]) for c in again] == [["a", "b", "t"], ["a", "b", "c", "t"]]


def test_a_resumed_branch_keeps_the_route_its_condition_took(http_server):
    _answer(http_server)
    nodes = [
        node("t", "trigger/manual"),
        node("if", "conditional/if", {"value_a": "x", "operator": "equals", "value_b": "x"}),
        _post("yes", http_server.url + "/a"),
        _post("no", http_server.url + "/b"),
        _post("end", http_server.url + "/c"),
    ]
    edges = [
        edge("t", "if"),
        edge("if", "yes", "true-branch"),
        edge("if", "no", "false-branch"),
        edge("yes", "end"),
        edge("no", "end"),
    ]
    checkpoints: list[dict[str, Any]] = []
    run(flow(nodes, edges), on_progress=checkpoints.append)
    taken = [r["path"] for r in http_server.requests]
    http_server.requests.clear()
    after_condition = next(c for c in checkpoints if sorted(c["node_results"]) == ["if", "t"])
    result, recorder = run(flow(nodes, edges), checkpoint=after_condition)
    assert taken == ["/a", "/c"]
    assert [r["path"] for r in http_server.requests] == ["/a", "/c"]
    assert recorder.ran() == ["yes", "end"]
    assert result.status == "succeeded"


def test_a_post_carries_the_same_idempotency_key_on_every_attempt_of_a_node(http_server):
    _answer(http_server)
    context = {"execution_id": "7d4c3a4e-0000-4000-8000-000000000001"}
    run(_three_posts(http_server.url), context=context)
    run(_three_posts(http_server.url), context=context)  # the same execution, another attempt
    run(_three_posts(http_server.url), context={"execution_id": "another"})
    keys: dict[str, list[str]] = {}
    for request in http_server.requests:
        keys.setdefault(request["path"], []).append(request["headers"]["Idempotency-Key"])
    assert keys["/a"][0] == keys["/a"][1] != keys["/a"][2]
    assert len({keys["/a"][0], keys["/b"][0], keys["/c"][0]}) == 3  # one per node
    assert all(key.startswith("flo-") for key in keys["/a"])


def test_an_idempotency_key_set_by_the_author_or_a_get_is_left_alone(http_server):
    _answer(http_server)
    flow_ = chain(
        _post("a", http_server.url + "/a", headers="Idempotency-Key: mine"),
        node("b", "web/request", {"method": "GET", "url": http_server.url + "/b", "headers": "Accept: */*"}),
        _post("c", http_server.url + "/c", idempotency_key="false"),
    )
    run(flow_, context={"execution_id": "e2"})
    headers = {r["path"]: r["headers"] for r in http_server.requests}
    assert headers["/a"]["Idempotency-Key"] == "mine"
    assert "Idempotency-Key" not in headers["/b"]
    assert "Idempotency-Key" not in headers["/c"]


def test_nodes_with_outside_effects_declare_it_in_the_manifest():
    unsafe = {"web/request", "messaging/email/send", "messagebrokers/amqp/publish", "sql/postgresql"}
    assert all(lookup(action).to_manifest()["idempotent"] is False for action in unsafe)
    assert lookup("common/sleep").to_manifest()["idempotent"] is True
