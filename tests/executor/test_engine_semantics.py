"""The engine's semantics on small flows: routing, joins, pruning, loops, sub-flows, On Error."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from conftest import chain, edge, flow, load_fixture, node, outputs_of, run

from flomation.executor import ExecutorSettings


def test_it_runs_a_flomation_flow_and_prunes_the_unmatched_branch():
    result, events = run(
        load_fixture("flomation_example.json"), context={"triggerer_email": "ada@example.test"}
    )
    assert result.status == "succeeded"
    assert result.outputs["summary"].startswith("Run at ")
    assert result.outputs["summary"].endswith(" by ada@example.test")
    assert "o2" not in result.node_results
    assert "unexpected" not in result.outputs
    assert events.statuses("c1") == ["running", "success"]


def test_a_routing_node_passes_its_parents_outputs_through():
    result, _ = run(load_fixture("flomation_example.json"))
    assert "quote" in outputs_of(result, "c1")


def test_it_follows_the_false_branch_when_the_condition_fails():
    f = load_fixture("flomation_example.json")
    f["nodes"][1]["data"]["config"]["inputs"][2]["value"] = "no such words"
    result, _ = run(f)
    assert result.outputs == {"unexpected": "the false branch ran"}
    assert "o1" not in result.node_results


def test_a_join_runs_once_after_both_parents():
    result, events = run(load_fixture("loop_join.json"))
    assert result.status == "succeeded"
    assert events.statuses("join") == ["running", "success"]
    assert result.outputs["joined"] == "LEFT-right-012"


def test_a_join_with_one_pruned_parent_still_runs_once():
    f = flow(
        [
            node("t", "trigger/manual"),
            node("c", "conditional/if", {"value_a": "1", "operator": "equals", "value_b": "1"}),
            node("yes", "string/upper_case", {"value": "yes"}),
            node("no", "string/upper_case", {"value": "no"}),
            node("after_no", "string/upper_case", {"value": "deep"}),
            node("join", "output/set", {"name": "got", "value": "${result}"}),
        ],
        [
            edge("t", "c"),
            edge("c", "yes", "true-branch"),
            edge("c", "no", "false-branch"),
            edge("no", "after_no"),
            edge("yes", "join"),
            edge("after_no", "join"),
        ],
    )
    result, events = run(f)
    assert result.outputs == {"got": "YES"}
    assert "no" not in result.node_results and "after_no" not in result.node_results
    assert events.statuses("join") == ["running", "success"]


def test_a_switch_follows_the_first_matching_case_and_falls_back_to_default():
    def build(value: str) -> dict:
        cases = [{"key": "greeting", "value": "hello"}, {"key": "farewell", "value": "bye"}]
        return flow(
            [
                node("t", "trigger/manual"),
                node("s", "conditional/switch", {"value": value, "operator": "contains", "cases": cases}),
                node("a", "output/set", {"name": "route", "value": "greeting"}),
                node("b", "output/set", {"name": "route", "value": "farewell"}),
                node("d", "output/set", {"name": "route", "value": "default"}),
            ],
            [edge("t", "s"), edge("s", "a", "case_0"), edge("s", "b", "case_1"), edge("s", "d", "default")],
        )

    assert run(build("Well, HELLO there"))[0].outputs == {"route": "greeting"}
    assert run(build("goodbye"))[0].outputs == {"route": "farewell"}
    assert run(build("what?"))[0].outputs == {"route": "default"}


def test_a_for_loop_runs_its_body_count_times_then_the_output_branch():
    result, events = run(load_fixture("loop_join.json"))
    assert events.statuses("step").count("success") == 3
    assert result.node_results["loop"]["outputs"]["result"] is False


def test_a_while_loop_stops_at_its_own_max_iterations():
    f = flow(
        [
            node("t", "trigger/manual"),
            node(
                "w",
                "conditional/while",
                {"value_a": "a", "operator": "equals", "value_b": "a", "max_iterations": 4},
            ),
            node("body", "common/set_variable", {"name": "n", "value": "${var.loop.iteration}"}),
            node("out", "output/set", {"name": "n", "value": "${var.n}"}),
        ],
        [edge("t", "w"), edge("w", "body", "loop"), edge("w", "out", "output")],
    )
    result, _ = run(f)
    assert result.status == "succeeded"
    assert result.outputs == {"n": 4}  # a whole-value reference keeps its type


def test_a_loop_that_never_ends_fails_at_the_executor_cap():
    f = flow(
        [
            node("t", "trigger/manual"),
            node(
                "w",
                "conditional/while",
                {"value_a": "a", "operator": "equals", "value_b": "a", "max_iterations": 1000000},
            ),
            node("body", "string/trim", {"value": "x"}),
        ],
        [edge("t", "w"), edge("w", "body", "loop")],
    )
    result, _ = run(f, settings=ExecutorSettings(max_loop_iterations=25, log=lambda *a: None))
    assert result.status == "failed"
    assert "cap of 25 iterations" in result.error
    assert result.error_node_id == "w"


def test_for_each_runs_once_per_item_with_the_item_available():
    f = flow(
        [
            node("t", "trigger/manual"),
            node("each", "conditional/for_each", {"items": "${t.names}"}),
            node("up", "string/upper_case", {"value": "${each.item}"}),
            node("acc", "common/set_variable", {"name": "all", "value": "${var.all}${up.result};"}),
            node("out", "output/set", {"name": "all", "value": "${var.all}"}),
        ],
        [edge("t", "each"), edge("each", "up", "loop"), edge("up", "acc"), edge("each", "out", "output")],
    )
    result, _ = run(f, trigger_data={"names": ["ada", "grace", "linus"]})
    assert result.outputs == {"all": "ADA;GRACE;LINUS;"}
    assert result.node_results["each"]["outputs"]["total"] == 3


def test_a_loop_body_may_close_the_loop_with_an_edge_back_to_the_loop_node():
    f = flow(
        [
            node("t", "trigger/manual"),
            node("loop", "conditional/for", {"count": 2}),
            node("body", "common/set_variable", {"name": "i", "value": "${var.loop.index}"}),
        ],
        [edge("t", "loop"), edge("loop", "body", "loop"), edge("body", "loop")],
    )
    result, events = run(f)
    assert result.status == "succeeded"
    assert events.statuses("body").count("success") == 2


def test_nested_loops_run_the_inner_body_for_every_outer_iteration():
    f = flow(
        [
            node("t", "trigger/manual"),
            node("outer", "conditional/for", {"count": 2}),
            node("inner", "conditional/for", {"count": 3}),
            node("body", "common/set_variable", {"name": "hits", "value": "${var.hits}x"}),
            node("out", "output/set", {"name": "hits", "value": "${var.hits}"}),
        ],
        [
            edge("t", "outer"),
            edge("outer", "inner", "loop"),
            edge("inner", "body", "loop"),
            edge("outer", "out", "output"),
        ],
    )
    result, _ = run(f)
    assert result.outputs == {"hits": "xxxxxx"}


def _subflow(name_called: str = "double") -> dict:
    return flow(
        [
            node("t", "trigger/manual"),
            node("call", "subflow/invoke", {"sub_flow_name": name_called, "x": "${t.x}"}),
            node("out", "output/set", {"name": "answer", "value": "${call.return_value}"}),
            node("begin", "subflow/begin", {"name": "double"}),
            node("mul", "arithmetic/multiplication", {"a": "${begin.x}", "b": 2}),
            node("end", "subflow/end", {"return_value": "${mul.answer}"}),
        ],
        [edge("t", "call"), edge("call", "out"), edge("begin", "mul"), edge("mul", "end")],
    )


def test_a_subflow_invoke_runs_the_named_begin_and_returns_what_end_got():
    result, events = run(_subflow(), trigger_data={"x": 21})
    assert result.status == "succeeded"
    assert result.outputs == {"answer": 42}
    assert events.statuses("call")[-1] == "success"


def test_a_recursive_subflow_stops_at_the_depth_cap():
    f = flow(
        [
            node("t", "trigger/manual"),
            node("call", "subflow/invoke", {"sub_flow_name": "again"}),
            node("begin", "subflow/begin", {"name": "again"}),
            node("recurse", "subflow/invoke", {"sub_flow_name": "again"}),
        ],
        [edge("t", "call"), edge("begin", "recurse")],
    )
    result, _ = run(f, settings=ExecutorSettings(max_subflow_depth=3, log=lambda *a: None))
    assert result.status == "failed"
    assert "nested more than 3 deep" in result.error


def test_the_on_error_chain_runs_with_the_failed_node_and_the_run_stays_failed():
    f = flow(
        [
            node("t", "trigger/manual"),
            node("boom", "arithmetic/division", {"numerator": 1, "denominator": 0}),
            node("never", "output/set", {"name": "never", "value": "x"}),
            node("oops", "error/on_error"),
            node(
                "report", "output/set", {"name": "report", "value": "${error_node_id}: ${oops.error_message}"}
            ),
        ],
        [edge("t", "boom"), edge("boom", "never"), edge("oops", "report")],
    )
    result, _ = run(f)
    assert result.status == "failed"
    assert result.outputs == {"report": "boom: division by zero: the denominator is 0"}
    assert result.node_results["boom"]["status"] == "failed"
    assert "never" not in result.node_results


def test_a_node_reference_that_is_not_a_parent_waits_for_that_node():
    f = flow(
        [
            node("t", "trigger/manual"),
            node("slow_side", "string/upper_case", {"value": "side"}),
            node("mid", "string/trim", {"value": " m "}),
            node("uses", "output/set", {"name": "v", "value": "${mid.result}+${slow_side.result}"}),
        ],
        [edge("t", "mid"), edge("mid", "uses"), edge("t", "slow_side")],
    )
    f["nodes"] = [f["nodes"][0], f["nodes"][2], f["nodes"][3], f["nodes"][1]]
    result, _ = run(f)
    assert result.outputs == {"v": "m+SIDE"}


def test_rootless_constant_nodes_run_before_the_nodes_that_use_them():
    f = flow(
        [
            node("t", "trigger/manual"),
            node("const", "string/upper_case", {"value": "constant"}),
            node("use", "output/set", {"name": "v", "value": "${const.result}"}),
        ],
        [edge("t", "use"), edge("const", "use")],
    )
    result, _ = run(f)
    assert result.outputs == {"v": "CONSTANT"}


def test_a_blank_input_is_auto_wired_from_the_last_parents_output_of_the_same_name():
    f = chain(
        node("a", "common/set_variable", {"name": "k", "value": "wired"}),
        node("b", "string/upper_case", {"value": ""}),
    )
    result, _ = run(f)
    assert outputs_of(result, "b")["result"] == "WIRED"


def test_an_auto_wired_value_of_the_wrong_type_is_ignored():
    result, _ = run(chain(node("loop", "conditional/for", {"count": 1, "start": ""})))
    assert result.status == "succeeded"


def test_trigger_data_is_injected_into_the_trigger_and_passed_on():
    f = chain(node("o", "output/set", {"name": "who", "value": "${t.user.name} via ${channel}"}))
    result, _ = run(f, trigger_data={"user": {"name": "Ada"}, "channel": "api", "__node_id": "t"})
    assert result.outputs == {"who": "Ada via api"}
    assert "__node_id" not in outputs_of(result, "t")


def test_the_entry_option_starts_from_the_named_trigger():
    f = flow(
        [
            node("first", "trigger/manual"),
            node("second", "trigger/webhook"),
            node("a", "output/set", {"name": "from", "value": "first"}),
            node("b", "output/set", {"name": "from", "value": "second"}),
        ],
        [edge("first", "a"), edge("second", "b")],
    )
    assert run(f)[0].outputs == {"from": "first"}
    assert run(f, entry="second")[0].outputs == {"from": "second"}


def test_an_invalid_flow_does_not_run_and_reports_its_errors():
    result, events = run({"nodes": [node("x", "no/such")], "edges": []})
    assert result.status == "failed"
    assert "x" in {e.node_id for e in result.validation_errors}
    assert events.events == []


def test_runs_in_parallel_threads_do_not_share_state():
    results = {}

    def go(value: int) -> None:
        f = chain(
            node("v", "common/set_variable", {"name": "x", "value": str(value)}),
            node("o", "output/set", {"name": "x", "value": "${var.x}"}),
        )
        results[value] = run(f)[0].outputs["x"]

    threads = [threading.Thread(target=go, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == {i: str(i) for i in range(8)}


def test_a_soft_failure_marks_the_node_failed_but_the_flow_goes_on():
    f = chain(
        node("n", "common/array_length", {"array": "[1,2]"}),
        node("o", "output/set", {"name": "x", "value": "done"}),
    )
    f["nodes"][1]["data"]["config"]["inputs"][0]["value"] = "[1,2]"
    result, _ = run(f)
    assert result.status == "succeeded"


def test_the_manual_trigger_checks_trigger_data_against_its_input_schema():
    schema = [
        {"name": "count", "type": "integer", "required": True},
        {"name": "colour", "type": "string", "default": "red", "enum": ["red", "blue"]},
    ]
    f = flow(
        [
            node("t", "trigger/manual", {"input_schema": schema}),
            node("o", "output/set", {"name": "got", "value": "${count}-${colour}"}),
        ],
        [edge("t", "o")],
    )
    assert run(f, trigger_data={"count": "3"})[0].outputs == {"got": "3-red"}
    missing = run(f, trigger_data={})[0]
    assert missing.status == "failed" and "'count' is required" in missing.error
    wrong = run(f, trigger_data={"count": 1, "colour": "green"})[0]
    assert "'colour' must be one of 'red', 'blue'" in wrong.error


TRIGGER_KINDS = [
    "trigger/webhook",
    "trigger/web",
    "trigger/schedule",
    "trigger/form",
    "trigger/qr",
    "trigger/image",
    "trigger/email",
    "trigger/git_poll",
    "trigger/database_row",
    "trigger/queue",
    "trigger/manual",
]


def two_trigger_flow(second: str) -> dict[str, Any]:
    """A manual trigger and `second`, both feeding one node that says which trigger it was reached from."""
    return flow(
        [
            node("manual", "trigger/manual"),
            node("other", second),
            node("o", "output/set", {"name": "came_from", "value": "${who}"}),
        ],
        [edge("manual", "o"), edge("other", "o")],
    )


@pytest.mark.parametrize("kind", TRIGGER_KINDS)
def test_a_flow_with_two_triggers_starts_at_the_one_that_fired(kind):
    result, recorder = run(two_trigger_flow(kind), trigger_data={"__node_id": "other", "who": kind})
    assert result.status == "succeeded"
    assert result.outputs == {"came_from": kind}
    assert "other" in recorder.ran() and "manual" not in recorder.ran()


def test_without_a_named_trigger_the_first_trigger_runs():
    result, recorder = run(two_trigger_flow("trigger/webhook"), trigger_data={"who": "nobody named"})
    assert result.outputs == {"came_from": "nobody named"}
    assert "manual" in recorder.ran() and "other" not in recorder.ran()


def test_an_explicit_entry_wins_over_the_trigger_data():
    result, recorder = run(
        two_trigger_flow("trigger/webhook"), trigger_data={"__node_id": "other", "who": "x"}, entry="manual"
    )
    assert "manual" in recorder.ran() and "other" not in recorder.ran()
