"""flomation-executor end to end, as a subprocess."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from conftest import FIXTURES, chain, node

ROOT = Path(__file__).resolve().parents[2]


def cli(*args: str, cwd: Path, env: dict | None = None, timeout: float = 60) -> subprocess.CompletedProcess:
    environment = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "flomation.executor", *args],
        cwd=cwd,
        env=environment,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def events(stdout: str) -> list[dict]:
    lines = [line for line in stdout.splitlines() if line.startswith("__NODE__:")]
    return [json.loads(line.removeprefix("__NODE__:")) for line in lines]


def test_run_prints_sorted_compact_events_and_writes_state(tmp_path):
    context = tmp_path / "context.json"
    context.write_text(json.dumps({"triggerer_email": "ada@example.test"}))
    done = cli(
        "run", "--flow", str(FIXTURES / "flomation_example.json"), "--context", str(context), cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr
    lines = [line for line in done.stdout.splitlines() if line]
    assert all(line.startswith("__NODE__:") for line in lines)
    for line in lines:
        body = line.removeprefix("__NODE__:")
        assert body == json.dumps(json.loads(body), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert [(e["id"], e["status"]) for e in events(done.stdout)] == [
        ("t1", "running"),
        ("t1", "success"),
        ("c1", "running"),
        ("c1", "success"),
        ("o1", "running"),
        ("o1", "success"),
    ]
    state = json.loads((tmp_path / "state.json").read_text())
    assert state["status"] == "succeeded"
    assert state["outputs"]["summary"].endswith("by ada@example.test")
    assert "Starting Flomation Executor" in done.stderr


def test_a_failed_run_exits_1_and_names_the_node(tmp_path):
    flow = tmp_path / "flow.json"
    flow.write_text(json.dumps(chain(node("n", "arithmetic/division", {"numerator": 1, "denominator": 0}))))
    done = cli("run", "--flow", str(flow), "--state", str(tmp_path / "out.json"), cwd=tmp_path)
    assert done.returncode == 1
    state = json.loads((tmp_path / "out.json").read_text())
    assert state["status"] == "failed" and state["error_node_id"] == "n"


def test_an_invalid_flow_or_bad_usage_exits_64(tmp_path):
    flow = tmp_path / "flow.json"
    flow.write_text(json.dumps({"nodes": [{"id": "x", "type": "nope/nope", "data": {}}], "edges": []}))
    done = cli("run", "--flow", str(flow), cwd=tmp_path)
    assert done.returncode == 64
    assert "unknown node type 'nope/nope'" in done.stderr
    assert cli("run", cwd=tmp_path).returncode == 64
    assert cli("run", "--flow", str(tmp_path / "missing.json"), cwd=tmp_path).returncode == 64
    assert cli("frobnicate", cwd=tmp_path).returncode == 64
    assert cli("--help", cwd=tmp_path).returncode == 0


def test_validate_prints_errors_as_json(tmp_path):
    flow = tmp_path / "flow.json"
    flow.write_text(json.dumps(chain(node("n", "string/repeat", {"value": "x", "count": "lots"}))))
    done = cli("validate", "--flow", str(flow), cwd=tmp_path)
    assert done.returncode == 64
    report = json.loads(done.stdout)
    assert report["valid"] is False
    assert report["errors"][0]["node_id"] == "n" and report["errors"][0]["field"] == "count"
    assert cli("validate", "--flow", str(FIXTURES / "flomation_example.json"), cwd=tmp_path).returncode == 0


def test_manifest_prints_the_node_catalogue(tmp_path):
    done = cli("manifest", cwd=tmp_path)
    assert done.returncode == 0
    catalogue = json.loads(done.stdout)
    actions = {entry["action"] for entry in catalogue["nodes"]}
    assert {"conditional/if", "web/request", "script/python", "trigger/manual"} <= actions


def test_sigterm_cancels_a_long_node_and_exits_2(tmp_path):
    process = subprocess.Popen(
        [sys.executable, "-m", "flomation.executor", "run", "--flow", str(FIXTURES / "sleep.json")],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 20
    seen = ""
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        seen += line
        if '"id":"s"' in line and '"status":"running"' in line:
            break
    started = time.monotonic()
    process.send_signal(signal.SIGTERM)
    stdout, stderr = process.communicate(timeout=20)
    assert time.monotonic() - started < 5
    assert process.returncode == 2, stderr
    state = json.loads((tmp_path / "state.json").read_text())
    assert state["status"] == "cancelled"
    assert state["node_results"]["after"]["status"] == "cancelled"


def test_a_suspended_run_exits_3_and_resumes_from_its_state_file(tmp_path):
    trigger = tmp_path / "trigger.json"
    trigger.write_text(json.dumps({"order": "A-7"}))
    first = cli(
        "run", "--flow", str(FIXTURES / "wait_then_output.json"), "--trigger-data", str(trigger), cwd=tmp_path
    )
    assert first.returncode == 3, first.stderr
    state = json.loads((tmp_path / "state.json").read_text())
    assert state["status"] == "suspended"
    checkpoint = state["checkpoint"]
    checkpoint["suspend_info"]["resume_at"] = "2001-01-01T00:00:00Z"
    (tmp_path / "checkpoint.json").write_text(json.dumps(checkpoint))
    second = cli(
        "run",
        "--flow",
        str(FIXTURES / "wait_then_output.json"),
        "--checkpoint",
        str(tmp_path / "checkpoint.json"),
        cwd=tmp_path,
    )
    assert second.returncode == 0, second.stderr
    assert json.loads((tmp_path / "state.json").read_text())["outputs"] == {
        "before": "A-7",
        "after": "resumed A-7",
    }


def test_long_strings_are_cut_in_events_and_secrets_are_masked_everywhere(tmp_path):
    flow = tmp_path / "flow.json"
    flow.write_text(
        json.dumps(
            chain(
                node("big", "string/repeat", {"value": "é", "count": 5000}),
                node("tok", "output/set", {"name": "auth", "value": "Bearer ${secrets.TOKEN}"}),
            )
        )
    )
    secret = "tok-9f8e7d6c5b4a"
    done = cli("run", "--flow", str(flow), cwd=tmp_path, env={"FLOMATION_SECRET_TOKEN": secret})
    assert done.returncode == 0, done.stderr
    big = [e for e in events(done.stdout) if e["id"] == "big" and e["status"] == "success"][0]
    assert big["outputs"]["result"].endswith("… [truncated, 10000 bytes total]")
    assert len(big["outputs"]["result"].encode()) < 4200
    state_text = (tmp_path / "state.json").read_text()
    assert secret not in done.stdout + done.stderr + state_text
    assert json.loads(state_text)["outputs"]["auth"] == "Bearer ********"


def test_the_executor_imports_nothing_from_django_or_other_apps(tmp_path):
    code = (
        "import sys, flomation.executor as e, flomation.executor.cli, flomation.executor.engine;"
        "from flomation.executor.registry import load_all; load_all();"
        # flomation.lib is the Django-free library the executor may use; no app, no Django, no client library
        "bad = [m for m in sys.modules if m.split('.')[0] in ('django', 'rest_framework', 'requests') or "
        "(m.startswith('flomation.') and m.split('.')[1] not in ('executor', 'lib'))];"
        "print(bad)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
    )
    assert done.stdout.strip() == "[]", done.stderr


def test_the_command_refuses_loopback_unless_a_range_is_allowed(tmp_path, http_server):
    http_server.routes["/ping"] = (200, {}, {"pong": True})
    flow = tmp_path / "flow.json"
    flow.write_text(json.dumps(chain(node("w", "web/request", {"url": http_server.url + "/ping"}))))
    refused = cli("run", "--flow", str(flow), cwd=tmp_path)
    state = json.loads((tmp_path / "state.json").read_text())
    assert refused.returncode == 1 and "egress refused: 127.0.0.1 is a loopback address" in state["error"]
    assert http_server.requests == []
    allowed = cli("run", "--flow", str(flow), "--allow-egress", "127.0.0.1/32", cwd=tmp_path)
    assert allowed.returncode == 0, allowed.stderr
    policy = json.dumps({"allow": ["127.0.0.0/8"]})
    from_runner = cli("run", "--flow", str(flow), cwd=tmp_path, env={"FLOMATION_EGRESS_POLICY": policy})
    assert from_runner.returncode == 0, from_runner.stderr
    assert len(http_server.requests) == 2
    bad = cli("run", "--flow", str(flow), "--allow-egress", "intranet", cwd=tmp_path)
    assert bad.returncode == 64 and "'intranet' is not an address range" in bad.stderr
