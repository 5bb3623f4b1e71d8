"""script/python, script/javascript and script/bash."""

from __future__ import annotations

import time

import pytest
from conftest import chain, node, outputs_of, run, run_node

from flomation.executor import ExecutorSettings


def py(code: str, **inputs):
    return run_node("script/python", {"code": code, **inputs})


def test_python_returns_a_dict_and_reads_its_inputs():
    result = py(
        "print('hello')\noutputs['twice'] = inputs['n'] * 2\nreturn {'n': inputs['n']}",
        inputs_data={"n": 4},
        input_vars=[{"key": "n", "value": 5}],
    )
    out = outputs_of(result)
    assert out["result"] == {"twice": 10, "n": 5}
    assert out["logs"] == "hello\n" and out["success"] is True


def test_python_declared_outputs_are_a_contract():
    result = py(
        "return {'total': 3, 'extra': 1}",
        outputs=[{"key": "total", "value": "number"}, {"key": "label", "value": "string"}],
    )
    out = outputs_of(result)
    assert out["total"] == 3 and out["label"] == "" and "extra" not in out


def test_python_nodes_share_one_warm_sandbox_within_a_run():
    f = chain(
        node("a", "script/python", {"code": "import math\nmath.flomation_marker = 41\nreturn 1"}),
        node("b", "script/python", {"code": "import math\nreturn {'marker': math.flomation_marker + 1}"}),
    )
    result, _ = run(f)
    assert outputs_of(result, "b")["result"] == {"marker": 42}


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("open('/etc/passwd')", "NameError"),
        ("import socket", "not available in the sandbox"),
        ("import os", "not available in the sandbox"),
        ("import subprocess", "not available in the sandbox"),
        (
            "sys = [c for c in ().__class__.__base__.__subclasses__() if c.__name__ == '_wrap_close'][0].__init__.__globals__['sys']\nsys.modules['os'].listdir('/')",
            "Operation not permitted",
        ),
        (
            "sys = [c for c in ().__class__.__base__.__subclasses__() if c.__name__ == '_wrap_close'][0].__init__.__globals__['sys']\nsys.modules['os'].fork()",
            "Operation not permitted",
        ),
        ("x = 'a' * (1 << 30)", "memory limit"),
        ("def broken(:\n  pass", "SyntaxError"),
        ("raise ValueError('nope')", "ValueError: nope"),
    ],
)
def test_python_cannot_reach_files_network_or_processes_and_errors_are_clear(code, message):
    result = py(code)
    assert result.status == "failed"
    assert message in result.error


def test_python_is_stopped_at_its_timeout():
    started = time.monotonic()
    result = py("while True:\n    pass", timeout_seconds=0.5)
    assert time.monotonic() - started < 3
    assert "timeout of 0.5 seconds" in result.error


def test_python_recovers_after_a_timeout_in_the_same_run():
    f = chain(
        node(
            "a",
            "script/python",
            {"code": "while True:\n    pass", "timeout_seconds": 0.3},
            retry={"attempts": 2},
        )
    )
    f["nodes"][1]["data"]["config"]["inputs"][0]["value"] = "while True:\n    pass"
    result, events = run(f)
    assert events.statuses("a").count("retrying") == 1


def test_scripts_refuse_literal_secrets():
    result = py("token = 'ghp_abcdefghijklmnopqrstuvwxyz0123'\nreturn 1")
    assert "literal secret" in result.error


def test_javascript_returns_an_object_and_captures_console():
    result = run_node(
        "script/javascript",
        {
            "code": "console.log('n is', inputs.n); outputs.a = 1; return {b: inputs.n * 2}",
            "inputs_data": {"n": 21},
        },
    )
    out = outputs_of(result)
    assert out["result"] == {"a": 1, "b": 42}
    assert out["logs"] == "n is 21"


def test_javascript_non_object_return_becomes_result():
    assert outputs_of(run_node("script/javascript", {"code": "return [1, 2]"}))["result"] == {
        "result": [1, 2]
    }


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("require('fs')", "require is not defined"),
        ("return fetch('http://127.0.0.1')", "fetch is not defined"),
        ("throw new Error('bad thing')", "bad thing"),
        ("return {", "SyntaxError"),
    ],
)
def test_javascript_has_no_file_or_network_access_and_errors_are_clear(code, message):
    result = run_node("script/javascript", {"code": code})
    assert result.status == "failed" and message in result.error


def test_javascript_is_stopped_at_its_timeout_and_memory_limit():
    result = run_node("script/javascript", {"code": "while (true) {}", "timeout_seconds": 0.3})
    assert "timeout" in result.error
    hog = "let a = []; while (true) { a.push(new Array(100000).fill(1)); }"
    result = run_node(
        "script/javascript",
        {"code": hog, "timeout_seconds": 20},
        settings=ExecutorSettings(script_memory_mb=64, log=lambda *a: None),
    )
    assert "memory limit" in result.error


def test_bash_is_refused_unless_the_runner_allows_shell():
    result = run_node("script/bash", {"script": "echo hi"})
    assert result.status == "failed" and "shell is not allowed" in result.error


def test_bash_runs_in_a_temporary_directory_with_its_environment_when_allowed():
    settings = ExecutorSettings(allow_shell=True, log=lambda *a: None)
    result = run_node(
        "script/bash",
        {"script": "echo $GREETING; pwd", "environment_variables": [{"key": "GREETING", "value": "hi"}]},
        settings=settings,
    )
    out = outputs_of(result)
    assert out["stdout"].splitlines()[0] == "hi"
    assert (
        out["stdout"].splitlines()[1].startswith("/tmp/flomation-bash-") or "flomation-bash-" in out["stdout"]
    )
    failing = run_node("script/bash", {"script": "echo oops >&2; exit 3"}, settings=settings)
    assert failing.status == "failed" and "exited with code 3: oops" in failing.error
    slow = run_node("script/bash", {"script": "sleep 5", "timeout_seconds": 1}, settings=settings)
    assert "timeout of 1 seconds" in slow.error
