"""The node registry and manifest, flow validation, and templates."""

from __future__ import annotations

import importlib

import pytest
from conftest import chain, edge, flow, node

from flomation.executor import FlowError, manifest, validate_flow
from flomation.executor import registry as registry_module
from flomation.executor.nodes import BUILTIN_INDEX
from flomation.executor.registry import Input, NodeSpec, lookup
from flomation.executor.templates import MISSING, compile_template, render, split_path, walk


def test_the_builtin_index_matches_what_each_module_registers():
    for module in set(BUILTIN_INDEX.values()):
        importlib.import_module(f"flomation.executor.nodes.{module}")
    registered = {
        action
        for action, spec in registry_module._REGISTRY.items()
        if not action.startswith("test/") and not action.startswith("acme/")
    }
    assert registered == set(BUILTIN_INDEX)


def test_the_manifest_describes_every_node_with_inputs_outputs_and_handles():
    catalogue = manifest()
    entries = {entry["action"]: entry for entry in catalogue["nodes"]}
    assert set(BUILTIN_INDEX) <= set(entries)
    for entry in entries.values():
        assert {"action", "name", "category", "description", "type", "inputs", "outputs", "handles"} <= set(
            entry
        )
        assert isinstance(entry["type"], int)
        for item in entry["inputs"]:
            keys = {"name", "type", "required", "default", "options", "description", "accepts"}
            optional = {"shown_when"} | ({"connection"} if item["type"] == "connection" else set())
            assert keys <= set(item) <= keys | optional
    assert entries["conditional/if"]["handles"] == ["true-branch", "false-branch"]
    assert entries["conditional/if"]["type"] == 4
    assert [i["name"] for i in entries["web/request"]["inputs"]][:5] == [
        "method",
        "url",
        "headers",
        "query",
        "body",
    ]


def test_a_third_party_node_registers_through_the_entry_point_group(monkeypatch):
    def shout(ctx, inputs):
        return {"result": inputs["text"].upper() + "!"}

    spec = NodeSpec(
        "acme/shout",
        shout,
        name="Shout",
        category="acme",
        inputs=(Input("text", required=True),),
        outputs=("result",),
    )

    class FakeEntryPoint:
        value = "acme_nodes:SHOUT"

        def load(self):
            return spec

    seen_groups = []

    def fake_entry_points(group):
        seen_groups.append(group)
        return [FakeEntryPoint()]

    import importlib.metadata

    monkeypatch.setattr(importlib.metadata, "entry_points", fake_entry_points)
    monkeypatch.setitem(registry_module._state, "entry_points", False)
    assert lookup("acme/shout") is spec
    assert seen_groups == ["flomation.nodes"]
    from conftest import outputs_of, run_node

    assert outputs_of(run_node("acme/shout", {"text": "hi"}))["result"] == "HI!"


def _errors(f) -> set[tuple]:
    return {(e.node_id, e.field) for e in validate_flow(f)}


def test_a_valid_flow_has_no_errors():
    assert validate_flow(chain(node("a", "string/trim", {"value": "x"}))) == []


@pytest.mark.parametrize("bad", [None, [], "flow", 3])
def test_a_flow_that_is_not_an_object_is_refused(bad):
    errors = validate_flow(bad)
    assert errors and errors[0].node_id is None and "JSON object" in errors[0].message


def test_missing_nodes_or_edges_are_reported():
    assert (None, "nodes") in _errors({"edges": []})
    assert (None, "edges") in _errors({"nodes": [node("t", "trigger/manual")]})


def test_errors_name_the_node_and_the_field():
    f = chain(
        node("unknown", "acme/nothing"),
        node("trimmed", "string/trim", {"value": "x"}),
        node("req", "string/repeat", {"count": 2}),
        node("typed", "arithmetic/addition", {"a": "x", "b": 1}),
        node("opt", "web/request", {"method": "FETCH", "url": "http://x"}),
    )
    found = validate_flow(f)
    by_key = {(e.node_id, e.field): e.message for e in found}
    assert by_key[("unknown", "type")] == "unknown node type 'acme/nothing'"
    assert by_key[("req", "value")] == "input 'value' is required"
    assert "expects a number" in by_key[("typed", "a")]
    assert "must be one of" in by_key[("opt", "method")]
    assert isinstance(found[0], FlowError)
    assert found[0].to_dict() == {
        "node_id": found[0].node_id,
        "field": found[0].field,
        "message": found[0].message,
    }


def test_edges_to_missing_nodes_cycles_and_missing_triggers_are_reported():
    f = flow(
        [node("t", "trigger/manual"), node("a", "string/trim", {"value": "x"})],
        [edge("t", "a"), edge("a", "ghost")],
    )
    assert any("missing node 'ghost'" in e.message for e in validate_flow(f))
    cyclic = flow(
        [
            node("t", "trigger/manual"),
            node("a", "string/trim", {"value": "x"}),
            node("b", "string/trim", {"value": "y"}),
        ],
        [edge("t", "a"), edge("a", "b"), edge("b", "a")],
    )
    cycle = [e for e in validate_flow(cyclic) if "cycle" in e.message]
    assert cycle and cycle[0].node_id in {"a", "b"}
    no_trigger = flow([node("a", "string/trim", {"value": "x"})], [])
    assert any("no start node" in e.message for e in validate_flow(no_trigger))


def test_a_loop_back_edge_is_not_a_cycle():
    f = flow(
        [
            node("t", "trigger/manual"),
            node("l", "conditional/for", {"count": 2}),
            node("b", "string/trim", {"value": "x"}),
        ],
        [edge("t", "l"), edge("l", "b", "loop"), edge("b", "l")],
    )
    assert validate_flow(f) == []


def test_unknown_handles_and_subflow_names_are_reported():
    f = flow(
        [
            node("t", "trigger/manual"),
            node("c", "conditional/if", {"value_a": "a", "operator": "equals", "value_b": "a"}),
            node("i", "subflow/invoke", {"sub_flow_name": "nowhere"}),
        ],
        [edge("t", "c"), edge("c", "i", "maybe-branch")],
    )
    errors = _errors(f)
    assert ("c", "edges[c-i-maybe-branch].sourceHandle") in errors
    assert ("i", "sub_flow_name") in errors


def test_bad_retry_and_timeout_settings_are_reported():
    f = chain(node("a", "string/trim", {"value": "x"}, retry={"attempts": 0}, timeout_seconds=-1))
    errors = _errors(f)
    assert ("a", "data.config.retry.attempts") in errors and ("a", "data.config.timeout_seconds") in errors


def _resolver(values):
    def resolve(ref):
        value = values.get(ref.head, MISSING)
        return walk(value, ref.path) if ref.path and value is not MISSING else value

    return resolve


def test_a_whole_value_reference_keeps_its_type_and_an_embedded_one_is_json():
    resolve = _resolver({"items": [1, {"a": True}], "n": 2.0})
    assert render(compile_template("${items}"), resolve) == [1, {"a": True}]
    assert render(compile_template(" ${items} "), resolve) == [1, {"a": True}]
    assert render(compile_template("n=${n} items=${items}"), resolve) == 'n=2 items=[1,{"a":true}]'


def test_json_text_is_parsed_on_the_way_down_a_path():
    resolve = _resolver({"fetch": {"response_body": '{"user": {"id": 7, "tags": ["x"]}}'}})
    assert render(compile_template("${fetch.response_body.user.id}"), resolve) == 7
    assert render(compile_template("${fetch.response_body.user.tags[0]}"), resolve) == "x"


def test_a_miss_renders_empty_whole_or_embedded():
    resolve = _resolver({})
    misses = []
    assert render(compile_template("${nope.x}"), resolve, on_miss=lambda r: misses.append(r.raw)) == ""
    assert render(compile_template("a${nope}b"), resolve) == "ab"
    assert misses == ["${nope.x}"]


def test_templates_are_compiled_once_and_nesting_is_not_a_token():
    assert compile_template("x ${a.b} y") is compile_template("x ${a.b} y")
    assert compile_template("plain") is None
    template = compile_template("${a${b}}")
    assert [p.raw for p in template.refs] == ["${b}"]


def test_paths_accept_dots_indexes_and_quoted_keys():
    assert split_path('a.b[0]["c d"]') == ["a", "b", 0, "c d"]


@pytest.mark.parametrize(
    "namespace",
    [
        "env.NOPE",
        "secrets.NOPE",
        "secret.NOPE",
        "var.nope",
        "flow.nope",
        "user.nope",
        "credentials.nope",
        "ghost.key",
        "key",
    ],
)
def test_a_miss_is_the_empty_string_in_every_namespace(namespace):
    from conftest import run

    result, _ = run(
        chain(node("o", "output/set", {"name": "v", "value": f"[${{{namespace}}}]"})),
        context={"user_variables": {}},
    )
    assert result.outputs == {"v": "[]"}
