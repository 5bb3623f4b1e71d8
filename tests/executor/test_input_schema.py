"""The manual trigger's input schema: where a flow keeps it, the ways it may be written, and the checks."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from conftest import edge, flow, node, run

from flomation.executor.input_schema import (
    SchemaError,
    inputs_check,
    node_schema_fields,
    schema_fields,
)

SEED_SCHEMA = {
    "customerId": {"type": "string", "required": True, "description": "Customer ID to process"},
    "action": {"type": "string", "enum": ["activate", "deactivate", "update"], "required": True},
    "priority": {"type": "number", "default": 5, "min": 1, "max": 10},
}
AS_LIST = [{"name": name, **spec} for name, spec in SEED_SCHEMA.items()]


def trigger(*, inputs: list[dict] | None = None, **config: object) -> dict:
    body = {"id": "t1", "type": 1, "inputs": inputs or [], "outputs": [], **config}
    return {
        "id": "t1",
        "type": "trigger/manual",
        "data": {"id": "t1", "label": "trigger/manual", "config": body},
    }


@pytest.mark.parametrize("written", [SEED_SCHEMA, AS_LIST, json.dumps(AS_LIST), json.dumps(SEED_SCHEMA)])
def test_a_schema_written_as_a_list_an_object_or_json_text_means_the_same_fields(written):
    fields = schema_fields(written)
    assert [f.name for f in fields] == ["customerId", "action", "priority"]
    customer, action, priority = fields
    assert customer.required and customer.description == "Customer ID to process"
    assert action.enum == ["activate", "deactivate", "update"]
    assert (priority.type, priority.default, priority.minimum, priority.maximum) == ("number", 5, 1, 10)


def test_the_nodes_input_schema_input_is_read_before_the_older_inputschema_setting():
    editor_written = [{"name": "input_schema", "type": "object", "value": json.dumps([{"name": "email"}])}]
    both = trigger(inputs=editor_written, inputSchema=SEED_SCHEMA)
    assert [f.name for f in node_schema_fields(both)] == ["email"]
    assert [f.name for f in node_schema_fields(trigger(inputSchema=SEED_SCHEMA))][0] == "customerId"
    blank_input = [{"name": "input_schema", "type": "object", "value": ""}]
    assert len(node_schema_fields(trigger(inputs=blank_input, inputSchema=SEED_SCHEMA))) == 3
    assert node_schema_fields(trigger()) == []


@pytest.mark.parametrize(
    ("written", "complaint"),
    [
        ("[{not json", "not valid JSON"),
        ([{"type": "string"}], "each with a name"),
        ([{"name": "a"}, {"name": "a"}], "declares a more than once"),
        ({"colour": {"enum": "red"}}, "enum of colour must be a list"),
    ],
)
def test_a_malformed_schema_is_refused_saying_what_to_fix(written, complaint):
    with pytest.raises(SchemaError, match=complaint):
        schema_fields(written)


def test_inputs_are_converted_defaults_filled_in_and_each_wrong_field_named():
    fields = schema_fields(
        [
            *AS_LIST,
            {"name": "dryRun", "type": "boolean"},
            {"name": "tags", "type": "array"},
            {"name": "extra", "type": "object"},
            {"name": "copies", "type": "integer"},
        ]
    )
    good = inputs_check(
        fields=fields,
        inputs={"customerId": "c-1", "action": "update", "dryRun": "on", "tags": '["a"]', "copies": "2"},
    )
    assert good.ok
    assert good.values == {
        "customerId": "c-1", "action": "update", "priority": 5, "dryRun": True, "tags": ["a"], "copies": 2,
    }  # fmt: skip
    bad = inputs_check(
        fields=fields,
        inputs={"action": "explode", "priority": "11", "extra": "[1]", "copies": 2.5, "colour": "red"},
    )
    assert bad.errors == {
        "colour": "is not an input of this workflow "
        "(expected: action, copies, customerId, dryRun, extra, priority, tags)",
        "customerId": "is required",
        "action": "must be one of 'activate', 'deactivate', 'update'",
        "priority": "must be at most 10",
        "extra": "must be an object",
        "copies": "must be a whole number",
    }


def test_a_field_without_a_type_takes_the_kind_of_its_allowed_values():
    (size,) = schema_fields({"size": {"enum": [1, 2, 3]}})
    assert size.type == "integer"
    assert inputs_check(fields=[size], inputs={"size": "2"}).values == {"size": 2}


def test_the_manual_trigger_refuses_a_run_whose_data_breaks_the_schema_in_its_input():
    schema = {"count": {"type": "integer", "min": 1, "required": True}}
    f = flow(
        [
            node("t", "trigger/manual", {"input_schema": schema}),
            node("o", "output/set", {"name": "n", "value": "${count}"}),
        ],
        [edge("t", "o")],
    )
    assert run(f, trigger_data={"count": "4", "__triggering_user_id": "u1"})[0].outputs == {"n": 4}
    refused = run(f, trigger_data={"count": 0})[0]
    assert refused.status == "failed" and "'count' must be at least 1" in refused.error


def test_the_schema_module_loads_without_django():
    code = "import sys, flomation.executor.input_schema; print('django' in sys.modules)"
    shown = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert shown.stdout.strip() == "False"
