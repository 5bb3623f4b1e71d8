"""Retries, timeouts, cancellation, suspend and resume, masking."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from conftest import chain, edge, flow, load_fixture, node, outputs_of, run

from flomation.executor import ExecutorSettings, NodeError, StaticSecrets
from flomation.executor.registry import NodeSpec, register

_calls: dict[str, int] = {}


def _flaky(ctx: Any, inputs: dict[str, Any]) -> dict[str, Any]:
    key = inputs["key"]
    _calls[key] = _calls.get(key, 0) + 1
    if _calls[key] <= int(inputs["fail_times"]):
        raise NodeError(f"attempt {_calls[key]} failed")
    return {"attempts": _calls[key]}


def _stubborn(ctx: Any, inputs: dict[str, Any]) -> dict[str, Any]:
    time.sleep(float(inputs["seconds"]))  # ignores cancellation on purpose
    return {"done": True}


register(NodeSpec("test/flaky", _flaky, name="Flaky", category="test"))
register(NodeSpec("test/stubborn", _stubborn, name="Stubborn", category="test"))


def _quiet(**kwargs: Any) -> ExecutorSettings:
    return ExecutorSettings(log=lambda *a: None, **kwargs)


def test_a_node_with_a_retry_policy_is_retried_until_it_succeeds():
    key = "succeeds-third-time"
    f = chain(
        node("n", "test/flaky", {"key": key, "fail_times": 2}, retry={"attempts": 3, "backoff_seconds": 0.01})
    )
    result, events = run(f)
    assert result.status == "succeeded"
    assert outputs_of(result)["attempts"] == 3
    assert events.statuses("n") == ["running", "retrying", "running", "retrying", "running", "success"]
    assert result.node_results["n"]["attempt"] == 3


def test_a_node_fails_when_its_retries_run_out():
    key = "always-fails"
    f = chain(
        node("n", "test/flaky", {"key": key, "fail_times": 99}, retry={"attempts": 2, "backoff_seconds": 0})
    )
    result, _ = run(f)
    assert result.status == "failed"
    assert result.error == "attempt 2 failed"
    assert _calls[key] == 2


def test_a_node_without_a_retry_policy_runs_once():
    key = "no-policy"
    result, _ = run(chain(node("n", "test/flaky", {"key": key, "fail_times": 1})))
    assert result.status == "failed" and _calls[key] == 1


def test_a_node_timeout_stops_waiting_for_a_node_that_ignores_cancellation():
    f = chain(node("n", "test/stubborn", {"seconds": 5}, timeout_seconds=0.2))
    started = time.monotonic()
    result, _ = run(f)
    assert time.monotonic() - started < 2
    assert result.status == "failed"
    assert "within its timeout of 0.2 s" in result.error


def test_the_flow_timeout_fails_the_run_during_a_long_node():
    started = time.monotonic()
    result, _ = run(load_fixture("sleep.json"), settings=_quiet(flow_timeout_seconds=0.3))
    assert time.monotonic() - started < 3
    assert result.status == "failed"
    assert "timeout" in result.error
    assert "after" not in result.node_results


def test_cancelling_stops_a_sleeping_node_and_the_run_is_cancelled():
    cancel = threading.Event()
    threading.Timer(0.2, cancel.set).start()
    started = time.monotonic()
    result, _ = run(load_fixture("sleep.json"), cancel=cancel)
    assert time.monotonic() - started < 3
    assert result.status == "cancelled"
    assert outputs_of(result, "s")["cancelled"] is True
    assert result.node_results["after"]["status"] == "cancelled"


def test_a_run_cancelled_before_it_starts_runs_nothing():
    cancel = threading.Event()
    cancel.set()
    result, events = run(load_fixture("flomation_example.json"), cancel=cancel)
    assert result.status == "cancelled"
    assert events.ran() == []


def test_a_wait_suspends_with_a_checkpoint_and_resumes_where_it_stopped():
    f = load_fixture("wait_then_output.json")
    first, events = run(f, trigger_data={"order": "A-1"})
    assert first.status == "suspended"
    checkpoint = first.checkpoint
    assert checkpoint["suspend_info"]["suspend_node_id"] == "w"
    assert checkpoint["suspend_info"]["suspend_reason"] == "wait"
    assert "resume_at" in checkpoint["suspend_info"]
    assert "w" not in checkpoint["node_results"]
    assert first.outputs == {"before": "A-1"}
    assert "after" not in first.node_results

    checkpoint["suspend_info"]["resume_at"] = "2000-01-01T00:00:00Z"  # the time has come
    second, events = run(f, checkpoint=checkpoint)
    assert second.status == "succeeded"
    assert second.outputs == {"before": "A-1", "after": "resumed A-1"}
    assert events.ran() == ["w", "after"]


def test_a_wait_resumed_too_early_suspends_again():
    f = load_fixture("wait_then_output.json")
    first, _ = run(f)
    second, _ = run(f, checkpoint=first.checkpoint)
    assert second.status == "suspended"
    assert second.checkpoint["suspend_info"]["resume_at"] == first.checkpoint["suspend_info"]["resume_at"]


def test_a_pause_resumes_with_the_data_the_api_patched_in():
    f = chain(
        node("p", "common/pause", {"reason": "check the invoice"}),
        node("o", "output/set", {"name": "note", "value": "${p.resume_data.note}"}),
    )
    first, _ = run(f)
    assert first.status == "suspended"
    assert first.checkpoint["suspend_info"]["suspend_reason"] == "manual"
    checkpoint = dict(first.checkpoint, resume_data={"note": "looks fine"})
    second, _ = run(f, checkpoint=checkpoint)
    assert second.outputs == {"note": "looks fine"}


def _approval_flow() -> dict:
    options = [{"key": "Approve", "value": "yes"}, {"key": "Reject", "value": "no"}]
    return flow(
        [
            node("t", "trigger/manual"),
            node(
                "ask",
                "humanintheloop/await",
                {"message": "Ship it?", "options": options, "web_base_url": "https://flo.example"},
            ),
            node("send", "output/set", {"name": "sent", "value": "${ask.message} ${ask.links.yes}"}),
            node("yes", "output/set", {"name": "decision", "value": "approved by ${ask.answered_by}"}),
            node("no", "output/set", {"name": "decision", "value": "rejected"}),
            node("late", "output/set", {"name": "decision", "value": "timed out"}),
        ],
        [
            edge("t", "ask"),
            edge("ask", "send", "delivery"),
            edge("ask", "yes", "option_yes"),
            edge("ask", "no", "option_no"),
            edge("ask", "late", "timeout"),
        ],
    )


def test_human_approval_delivers_then_suspends_then_follows_the_answer():
    first, _ = run(_approval_flow(), context={"execution_id": "exec-1"})
    assert first.status == "suspended"
    assert first.outputs == {"sent": "Ship it? https://flo.example/hitl/exec-1/ask?option=yes"}
    info = first.checkpoint["suspend_info"]
    assert info["suspend_reason"] == "hitl" and info["resume_trigger_type"] == "hitl"
    checkpoint = dict(
        first.checkpoint, resume_data={"answered_option": "yes", "answered_by": "ada@example.test"}
    )
    second, events = run(_approval_flow(), checkpoint=checkpoint)
    assert second.status == "succeeded"
    assert second.outputs["decision"] == "approved by ada@example.test"
    assert "send" not in events.ran()


def test_human_approval_follows_the_timeout_handle_when_the_api_says_it_timed_out():
    first, _ = run(_approval_flow())
    second, _ = run(_approval_flow(), checkpoint=dict(first.checkpoint, resume_data={"outcome": "timeout"}))
    assert second.outputs["decision"] == "timed out"


def test_human_approval_refuses_an_answer_that_is_not_an_option():
    first, _ = run(_approval_flow())
    second, _ = run(
        _approval_flow(), checkpoint=dict(first.checkpoint, resume_data={"answered_option": "maybe"})
    )
    assert second.status == "failed" and "not one of the options" in second.error


def test_a_wait_inside_a_loop_body_fails_clearly():
    f = flow(
        [
            node("t", "trigger/manual"),
            node("loop", "conditional/for", {"count": 2}),
            node("w", "common/wait", {"duration": "1m"}),
        ],
        [edge("t", "loop"), edge("loop", "w", "loop")],
    )
    result, _ = run(f)
    assert result.status == "failed" and "cannot suspend" in result.error


SECRET = "s3cr3t-t0ken-value"


def test_secrets_are_masked_in_events_state_and_logs():
    logs: list[str] = []
    f = chain(
        node("a", "string/concatenate", {"a": "Bearer ${secrets.API_TOKEN}", "b": ""}),
        node("echo", "string/upper_case", {"value": "${a.result}"}),
        node("o", "output/set", {"name": "token", "value": "${secrets.API_TOKEN}"}),
        node("o2", "output/set", {"name": "env", "value": "${env.REGION}"}),
    )
    settings = ExecutorSettings(log=lambda level, message, fields: logs.append(f"{message} {fields}"))
    result, events = run(
        f, secrets=StaticSecrets({"API_TOKEN": SECRET}, {"REGION": "eu-west-2"}), settings=settings
    )
    assert result.status == "succeeded"
    text = repr(result.to_state()) + repr(events.events) + "".join(logs)
    assert SECRET not in text
    assert result.outputs["token"] == "********"
    assert result.outputs["env"] == "eu-west-2"
    assert outputs_of(result, "a")["result"] == "Bearer ********"
    assert result.node_results["a"]["inputs"]["a"] == "********"


def test_a_missing_secret_renders_empty_and_is_logged_without_a_value():
    logs: list[str] = []
    settings = ExecutorSettings(log=lambda level, message, fields: logs.append(f"{level} {message} {fields}"))
    result, _ = run(
        chain(node("o", "output/set", {"name": "x", "value": "[${secrets.NOPE}]"})), settings=settings
    )
    assert result.outputs == {"x": "[]"}
    assert any("${secrets.NOPE}" in line for line in logs)


def test_strict_templates_turn_a_miss_into_a_node_failure():
    result, _ = run(
        chain(node("o", "output/set", {"name": "x", "value": "${nothing.here}"})),
        settings=_quiet(strict_templates=True),
    )
    assert result.status == "failed" and "${nothing.here}" in result.error


@pytest.mark.parametrize("status", ["succeeded"])
def test_to_state_has_the_documented_keys(status):
    result, _ = run(load_fixture("flomation_example.json"))
    state = result.to_state()
    assert state["status"] == status
    assert {"status", "outputs", "node_results", "duration_ms"} <= set(state)
    record = state["node_results"]["o1"]
    assert {"id", "action", "label", "status", "inputs", "outputs", "duration_ms"} <= set(record)
