"""Each data, logic and output node: its behaviour and its bad inputs."""

from __future__ import annotations

from typing import Any

import pytest
from conftest import outputs_of, run_node

CASES: list[tuple[str, dict[str, Any], dict[str, Any]]] = [
    ("string/concatenate", {"a": "ab", "b": "cd", "c": 1}, {"result": "abcd1", "success": True}),
    ("string/contains", {"value": "Hello", "search": "ell"}, {"result": True, "tool_result": "true"}),
    ("string/contains", {"value": "Hello", "search": "HELL", "case_sensitive": "false"}, {"result": True}),
    ("string/contains", {"value": "Hello", "search": "HELL"}, {"result": False}),
    ("string/join", {"array": '["a", "b", 3]', "separator": "|"}, {"result": "a|b|3"}),
    ("string/join", {"array": ["x", "y"]}, {"result": "x, y"}),
    ("string/lower_case", {"value": "ÀBC"}, {"result": "àbc"}),
    ("string/upper_case", {"value": "straße"}, {"result": "STRASSE"}),
    ("string/repeat", {"value": "ab", "count": 3}, {"result": "ababab"}),
    ("string/repeat", {"value": "ab", "count": -2}, {"result": ""}),
    ("string/replace", {"value": "a-b-c", "search": "-", "replace": "+"}, {"result": "a+b+c", "count": 2}),
    ("string/substring", {"value": "flomation", "start": 2, "end": 5}, {"result": "oma"}),
    ("string/substring", {"value": "flomation", "start": 4}, {"result": "ation"}),
    ("string/trim", {"value": "  x  "}, {"result": "x"}),
    ("string/trim_start", {"value": "  x  "}, {"result": "x  "}),
    ("string/trim_end", {"value": "  x  "}, {"result": "  x"}),
    ("string/split", {"value": "a, b,c"}, {"result": ["a", "b", "c"], "count": 3}),
    ("arithmetic/addition", {"a": "2", "b": 3}, {"answer": 5}),
    ("arithmetic/subtraction", {"a": 2, "b": 3.9}, {"answer": -1}),
    ("arithmetic/multiplication", {"a": 6, "b": 7}, {"answer": 42}),
    ("arithmetic/division", {"numerator": -7, "denominator": 2}, {"answer": -3}),
    ("common/array_find", {"array": [1, 2, 3], "mode": "index", "index": -1}, {"item": 3, "found": True}),
    (
        "common/array_find",
        {
            "array": [{"n": "Ada"}, {"n": "Bob"}, {"n": "ada"}],
            "mode": "all",
            "field": "n",
            "operator": "starts_with",
            "value": "ad",
        },
        {"count": 2, "found": True},
    ),
    (
        "common/array_find",
        {"array": [{"n": "Ada"}], "mode": "first", "field": "n", "value": "Zed"},
        {"found": False, "item": None},
    ),
    ("common/array_index", {"array": "[10, 20]", "index": 1}, {"item": 20}),
    ("common/array_length", {"array": [1, 2, 3]}, {"length": 3, "tool_result": "3"}),
    (
        "common/object_get",
        {"object": '{"a": {"b": [5, 6]}}', "field": "a.b[1]"},
        {"value": 6, "found": True, "value_string": "6"},
    ),
    ("common/object_get", {"object": {"a": 1}, "field": "z"}, {"found": False, "value": None}),
    (
        "array/sort",
        {"array": [{"n": 3}, {"n": 1}, {"n": 2}], "field": "n"},
        {"result": [{"n": 1}, {"n": 2}, {"n": 3}]},
    ),
    ("array/sort", {"array": ["b", "a"], "descending": True}, {"result": ["b", "a"]}),
    ("array/unique", {"array": [1, 1, 2, {"a": 1}, {"a": 1}]}, {"result": [1, 2, {"a": 1}], "removed": 2}),
    ("array/slice", {"array": [1, 2, 3, 4], "start": 1, "end": -1}, {"result": [2, 3], "count": 2}),
    (
        "object/merge",
        {"a": {"x": {"y": 1}}, "b": {"x": {"z": 2}}, "deep": True},
        {"result": {"x": {"y": 1, "z": 2}}},
    ),
    ("object/keys", {"object": {"a": 1, "b": 2}}, {"keys": ["a", "b"], "values": [1, 2], "count": 2}),
    ("object/set", {"object": {"a": 1}, "field": "b.c", "value": 2}, {"result": {"a": 1, "b": {"c": 2}}}),
    ("data/json_parse", {"value": '{"a": [1, true]}'}, {"result": {"a": [1, True]}}),
    ("data/json_stringify", {"value": {"b": 1, "a": [1]}, "sort_keys": True}, {"result": '{"a":[1],"b":1}'}),
    (
        "data/csv_parse",
        {"csv": 'name,age\nAda,36\n"Lovelace, A",37'},
        {
            "count": 2,
            "columns": ["name", "age"],
            "records": [{"name": "Ada", "age": "36"}, {"name": "Lovelace, A", "age": "37"}],
        },
    ),
    ("data/csv_parse", {"csv": "a;b", "delimiter": ";", "has_header": False}, {"rows": [["a", "b"]]}),
    ("data/csv_format", {"data": [{"a": 1, "b": "x,y"}]}, {"result": 'a,b\n1,"x,y"\n', "count": 1}),
    ("data/csv_format", {"data": [[1, 2], [3, 4]], "include_header": False}, {"result": "1,2\n3,4\n"}),
    (
        "data/jmespath",
        {
            "data": {"people": [{"n": "a", "age": 3}, {"n": "b", "age": 50}]},
            "expression": "people[?age > `18`].n",
        },
        {"result": ["b"]},
    ),
    (
        "data/field_map",
        {
            "source": {"user": {"id": 7, "tags": ["x"]}},
            "mapping": [
                {"key": "id", "value": "user.id"},
                {"key": "tag", "value": "user.tags[0]"},
                {"key": "nope", "value": "user.zip"},
            ],
        },
        {"result": {"id": 7, "tag": "x", "nope": None}, "missing": ["nope"]},
    ),
    (
        "common/format_date",
        {"datetime": "2026-03-05T14:07:09Z", "output_format": "friendly", "timezone": "Europe/London"},
        {"result": "05 Mar 2026, 14:07", "day_of_week": "Thursday", "year": 2026},
    ),
    (
        "common/format_date",
        {"datetime": "1700000000", "input_format": "unix", "output_format": "iso8601"},
        {"result": "2023-11-14T22:13:20Z"},
    ),
    (
        "common/format_date",
        {
            "datetime": "05/03/2026",
            "input_format": "custom",
            "custom_input_format": "02/01/2006",
            "output_format": "custom",
            "custom_output_format": "Monday, 2 January 2006",
        },
        {"result": "Thursday, 5 March 2026"},
    ),
    ("conditional/if", {"value_a": "10", "operator": "greater_than", "value_b": "9"}, {"result": True}),
    ("conditional/if", {"value_a": "ten", "operator": "greater_than", "value_b": "9"}, {"result": False}),
    ("conditional/if", {"value_a": " ", "operator": "is_empty"}, {"result": True}),
    (
        "conditional/switch",
        {"value": "order-123", "operator": "regex", "cases": [{"key": "order", "value": "^order-\\d+$"}]},
        {"matched_case": "case_0", "matched": True},
    ),
    ("common/set_variable", {"name": "x", "value": 5}, {"name": "x", "value": 5}),
    ("common/sleep", {"duration": 0}, {"slept_for_seconds": 0, "cancelled": False}),
    (
        "output/web_response",
        {"body": {"ok": True}, "status_code": 201, "headers": "X-A: 1"},
        {"status_code": 201},
    ),
]


@pytest.mark.parametrize(
    ("action", "inputs", "expected"), CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)]
)
def test_a_node_gives_the_documented_outputs(
    action: str, inputs: dict[str, Any], expected: dict[str, Any]
) -> None:
    result = run_node(action, inputs)
    assert result.status == "succeeded", result.error
    outputs = outputs_of(result)
    for key, value in expected.items():
        assert outputs[key] == value, key


BAD: list[tuple[str, dict[str, Any], str]] = [
    ("arithmetic/division", {"numerator": 1, "denominator": 0}, "division by zero"),
    ("arithmetic/addition", {"a": "two", "b": 1}, "input 'a' expects a number"),
    ("string/repeat", {"value": "x", "count": "many"}, "input 'count' expects a number"),
    (
        "string/contains",
        {"value": "x", "search": "y", "case_sensitive": "perhaps"},
        "input 'case_sensitive' expects a boolean",
    ),
    ("common/array_index", {"array": "[1]", "index": 5}, "out of range"),
    ("common/array_length", {"array": "not an array"}, "expects an array"),
    ("common/array_find", {"array": [1], "mode": "first"}, "input 'field' is required"),
    ("common/object_get", {"object": "[1,2]", "field": "a"}, "expects an object"),
    ("data/json_parse", {"value": "{nope"}, "not valid JSON"),
    ("data/csv_parse", {"csv": "a", "delimiter": "::"}, "single character"),
    ("data/csv_format", {"data": [1, 2]}, "list of rows"),
    ("data/jmespath", {"data": {}, "expression": "[[["}, "not a valid JMESPath"),
    ("common/format_date", {"datetime": "yesterday-ish"}, "cannot read"),
    ("common/format_date", {"timezone": "Mars/Olympus"}, "unknown timezone"),
    (
        "conditional/switch",
        {"value": "x", "operator": "regex", "cases": [{"key": "bad", "value": "("}]},
        "invalid regular expression",
    ),
    (
        "conditional/switch",
        {"value": "x", "operator": "shouts", "cases": [{"key": "a", "value": "b"}]},
        "must be one of",
    ),
    ("common/wait", {}, "either duration or resume_at"),
    ("common/wait", {"duration": "soon"}, "expects a duration"),
    ("common/wait", {"resume_at": "next tuesday"}, "RFC 3339"),
    ("output/web_response", {"status_code": 42}, "HTTP status"),
    ("common/start_flow", {"flow_id": "f-1"}, "needs the API"),
    ("object/merge", {"a": "[1]", "b": {}}, "input 'a' expects an object"),
]


@pytest.mark.parametrize(("action", "inputs", "message"), BAD, ids=[f"{b[0]}-{i}" for i, b in enumerate(BAD)])
def test_a_node_refuses_bad_inputs_with_a_clear_error(
    action: str, inputs: dict[str, Any], message: str
) -> None:
    result = run_node(action, inputs)
    assert result.status == "failed"
    assert message in result.error
    assert result.error_node_id == "n" or any(e.node_id == "n" for e in result.validation_errors)


def test_set_outputs_copies_every_parent_output():
    from conftest import chain, node, run

    result, _ = run(
        chain(node("a", "common/set_variable", {"name": "k", "value": "v"}), node("o", "output/set_outputs"))
    )
    assert result.outputs == {"name": "k", "value": "v"}


def test_web_response_is_stored_under_the_reserved_output_key():
    result = run_node(
        "output/web_response",
        {"body": "hi", "content_type": "text/plain", "headers": [{"key": "X-A", "value": "1"}]},
    )
    assert result.outputs["__web_response__"] == {
        "body": "hi",
        "status_code": 200,
        "content_type": "text/plain",
        "headers": {"X-A": "1"},
    }


def test_data_combine_extract_and_rename_read_the_parents():
    from conftest import edge, flow, node, run

    f = flow(
        [
            node("t", "trigger/manual"),
            node("a", "common/set_variable", {"name": "first", "value": "1"}),
            node("b", "string/upper_case", {"value": "x"}),
            node("combine", "common/data_combine"),
            node("extract", "common/data_extract", {"keys": "result, missing"}),
            node("rename", "common/data_rename", {"input_key": "result", "output_key": "renamed"}),
        ],
        [
            edge("t", "a"),
            edge("t", "b"),
            edge("a", "combine"),
            edge("b", "combine"),
            edge("b", "extract"),
            edge("b", "rename"),
        ],
    )
    result, _ = run(f)
    assert outputs_of(result, "combine")["combined"]["name"] == "first"
    assert outputs_of(result, "combine")["combined"]["result"] == "X"
    assert outputs_of(result, "extract") == {"extracted": {"result": "X"}}
    assert outputs_of(result, "rename") == {"renamed": "X"}


def test_every_trigger_passes_its_trigger_data_on():
    from conftest import node, run

    from flomation.executor.nodes import BUILTIN_INDEX

    for action in [a for a in BUILTIN_INDEX if a.startswith("trigger/") and a != "trigger/manual"]:
        f = {
            "nodes": [
                node("t", action),
                node("o", "output/set", {"name": "got", "value": "${t.payload.id}"}),
            ],
            "edges": [{"id": "e", "source": "t", "target": "o"}],
        }
        result, _ = run(f, trigger_data={"payload": {"id": 9}})
        assert result.outputs == {"got": 9}, action
