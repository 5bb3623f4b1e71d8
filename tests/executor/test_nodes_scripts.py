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
        ("x = 'a' * (1 << 30)", "memory limit"),
        ("def broken(:\n  pass", "SyntaxError"),
        ("raise ValueError('nope')", "ValueError: nope"),
    ],
)
def test_python_errors_are_clear(code, message):
    result = py(code)
    assert result.status == "failed"
    assert message in result.error


def test_python_has_the_whole_standard_library():
    code = """
import base64, csv, dataclasses, enum, hashlib, io, json, struct, typing, uuid, zlib
from urllib.parse import urlencode, urlparse
from zoneinfo import ZoneInfo
import datetime

@dataclasses.dataclass
class Order:
    id: int
    total: float

class Colour(enum.Enum):
    RED = 1

when = datetime.datetime(2026, 12, 4, 12, 0, tzinfo=ZoneInfo("UTC")).astimezone(ZoneInfo("Europe/Paris"))
return {
    "sha256": hashlib.sha256(b"flomation").hexdigest(),
    "uuid5": str(uuid.uuid5(uuid.NAMESPACE_DNS, "flomation.example")),
    "paris": when.isoformat(),
    "order": dataclasses.asdict(Order(7, 9.5)),
    "colour": Colour.RED.name,
    "query": urlencode({"q": "a b", "page": 2}),
    "host": urlparse("https://user@example.com:8443/x?y=1").hostname,
    "crc": zlib.crc32(b"abc"),
    "packed": struct.pack(">I", 258).hex(),
    "typed": typing.get_type_hints(Order)["id"].__name__,
}
"""
    import hashlib
    import uuid

    out = outputs_of(py(code))["result"]
    assert out == {
        "sha256": hashlib.sha256(b"flomation").hexdigest(),
        "uuid5": str(uuid.uuid5(uuid.NAMESPACE_DNS, "flomation.example")),
        "paris": "2026-12-04T13:00:00+01:00",
        "order": {"id": 7, "total": 9.5},
        "colour": "RED",
        "query": "q=a+b&page=2",
        "host": "example.com",
        "crc": 891568578,
        "packed": "00000102",
        "typed": "int",
    }


def test_a_csv_written_to_work_is_read_back_by_a_later_node_and_removed_after_the_run():
    write = (
        "import csv\n"
        "with open('/work/orders.csv', 'w', newline='') as handle:\n"
        "    writer = csv.writer(handle)\n"
        "    writer.writerow(['id', 'total'])\n"
        "    writer.writerows([[1, 9.5], [2, 3.25]])\n"
        "import os\nreturn {'cwd': os.getcwd()}"
    )
    read = (
        "import csv\n"
        "with open('/work/orders.csv', newline='') as handle:\n"
        "    rows = list(csv.DictReader(handle))\n"
        "return {'total': sum(float(row['total']) for row in rows), 'rows': len(rows)}"
    )
    f = chain(
        node("w", "script/python", {"code": write}),
        node("s", "script/bash", {"script": "wc -l < /work/orders.csv"}),
        node("r", "script/python", {"code": read}),
    )
    result, _ = run(f)
    assert result.status == "succeeded", result.error
    assert outputs_of(result, "w")["result"] == {"cwd": "/work"}
    assert outputs_of(result, "s")["stdout"] == "3"
    assert outputs_of(result, "r")["result"] == {"total": 12.75, "rows": 2}
    import glob
    import tempfile

    with_file = glob.glob(f"{tempfile.gettempdir()}/flomation-work-*/orders.csv")
    assert with_file == []


def test_a_python_node_returns_a_json_result_of_10_mb():
    code = "rows = [{'id': i, 'name': 'x' * 90} for i in range(100_000)]\nreturn {'rows': rows}"
    result = py(code)
    assert result.status == "succeeded", result.error
    rows = outputs_of(result)["result"]["rows"]
    assert len(rows) == 100_000 and rows[-1] == {"id": 99_999, "name": "x" * 90}
    import json

    assert len(json.dumps(rows)) > 10_000_000


def test_print_goes_to_the_logs_and_a_child_process_cannot_corrupt_the_reply():
    code = "import os, subprocess\nprint('from print')\nos.write(1, b'garbage')\nsubprocess.run(['echo', 'child'])\nreturn 1"
    out = outputs_of(py(code))
    assert out["logs"] == "from print\n" and out["result"] == {"result": 1}


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


def test_bash_is_refused_when_the_runner_turns_shell_off():
    result = run_node("script/bash", {"script": "echo hi"}, settings=ExecutorSettings(allow_shell=False))
    assert result.status == "failed" and "shell is not allowed" in result.error


def test_bash_runs_in_work_with_its_environment():
    settings = ExecutorSettings(log=lambda *a: None)
    result = run_node(
        "script/bash",
        {"script": "echo $GREETING; pwd", "environment_variables": [{"key": "GREETING", "value": "hi"}]},
        settings=settings,
    )
    out = outputs_of(result)
    assert out["stdout"].splitlines()[0] == "hi"
    assert out["stdout"].splitlines()[1] == "/work" and out["working_directory"] == "/work"
    failing = run_node("script/bash", {"script": "echo oops >&2; exit 3"}, settings=settings)
    assert failing.status == "failed" and "exited with code 3: oops" in failing.error
    slow = run_node("script/bash", {"script": "sleep 5", "timeout_seconds": 1}, settings=settings)
    assert "timeout of 1 seconds" in slow.error
