"""Templates render as Flomation's executor renders them, so an imported flow gives the same text."""

from __future__ import annotations

import re
import time

from conftest import chain, node, outputs_of, run

from flomation.executor.nodes.triggers import rfc1123
from flomation.executor.templates import MISSING, compile_template, render, walk


def _resolver(values):
    def resolve(ref):
        value = values.get(ref.head, MISSING)
        return walk(value, ref.path) if ref.path and value is not MISSING else value

    return resolve


def test_spaces_around_a_single_token_that_is_a_string_are_kept():
    resolve = _resolver({"a": {"b": "x"}})
    assert render(compile_template("  ${a.b} "), resolve) == "  x "
    assert render(compile_template("${a.b}"), resolve) == "x"


def test_spaces_around_a_single_token_that_misses_or_is_null_are_kept_and_it_is_text():
    resolve = _resolver({"a": {"b": None}})
    assert render(compile_template("  ${a.nope} "), resolve) == "   "
    assert render(compile_template(" ${a.b}"), resolve) == " "
    assert render(compile_template("${a.b}"), resolve) == ""


def test_an_object_written_into_text_is_json_with_sorted_keys():
    resolve = _resolver({"o": {"zeta": 1, "alpha": {"y": 2, "x": [3, {"d": 4, "c": 5}]}}})
    assert render(compile_template("o=${o}"), resolve) == 'o={"alpha":{"x":[3,{"c":5,"d":4}],"y":2},"zeta":1}'
    assert render(compile_template("${o}"), resolve) == {
        "zeta": 1,
        "alpha": {"y": 2, "x": [3, {"d": 4, "c": 5}]},
    }


def test_the_manual_trigger_start_is_go_rfc1123_in_utc():
    assert rfc1123(time.gmtime(0)) == "Thu, 01 Jan 1970 00:00:00 UTC"
    result, _ = run(chain(node("o", "output/set", {"name": "start", "value": "${t.start}"})))
    assert re.fullmatch(
        r"[A-Z][a-z]{2}, \d\d [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d UTC", result.outputs["start"]
    )


def test_a_missing_key_inside_a_scripts_inputs_reaches_the_script_as_empty_text_not_null():
    code = "return {'kinds': {k: type(v).__name__ for k, v in inputs.items()}, 'values': inputs}"
    first = node("s0", "script/python", {"code": "return {'present': None}"})
    script = node(
        "n",
        "script/python",
        {
            "code": code,
            "inputs_data": {
                "missing": "${t.nope}",
                "null": "${s0.result.present}",
                "nested": {"m": "${nope}"},
            },
            "input_vars": [{"key": "var", "value": "${s0.nope}"}],
        },
    )
    result, _ = run(chain(first, script))
    out = outputs_of(result)["result"]
    assert out["values"] == {"missing": "", "null": "", "nested": {"m": ""}, "var": ""}
    assert out["kinds"] == {"missing": "str", "null": "str", "nested": "dict", "var": "str"}
