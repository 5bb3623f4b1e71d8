"""A Flomation runner drives flomation-executor with its own command line and reads its state.json."""

from __future__ import annotations

import json

import pytest
from conftest import chain, node
from test_executor_cli import cli

from flomation import __version__


def divide(denominator: str) -> dict:
    return chain(
        node("d", "arithmetic/division", {"numerator": "10", "denominator": denominator}),
        node("o", "output/set", {"name": "answer", "value": "${d.answer}"}),
    )


def flomation_runner_args(*extra: str) -> list[str]:
    """The arguments Flomation's runner passes, in its order."""
    return [
        "--output", "json", "--path", "execution.flow", "--entry", "t", "--id", "exec-1", "--flow", "flow-1",
        "--api", "https://api.example.com", "--runner", "runner-01", *extra,
    ]  # fmt: skip


def test_version_prints_the_bare_version_as_flomations_runner_records_it(tmp_path):
    done = cli("--version", cwd=tmp_path)
    assert done.returncode == 0 and done.stdout == __version__
    assert cli("-version", cwd=tmp_path).stdout == __version__


def test_a_run_invoked_as_flomation_does_writes_its_state_with_numeric_status(tmp_path):
    (tmp_path / "execution.flow").write_text(json.dumps(divide("${t.d}")))
    # Flomation's API sometimes stores trigger data as JSON text inside JSON; its executor unwraps it.
    (tmp_path / "trigger-data.json").write_text(json.dumps(json.dumps({"d": 2})))
    args = flomation_runner_args("--trigger-data", "trigger-data.json", "--environment", "production")
    done = cli(*args, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    state = json.loads((tmp_path / "state.json").read_text())
    assert (state["status"], state["id"], state["flow_id"], state["outputs"]) == (
        0,
        "exec-1",
        "flow-1",
        {"answer": 5},
    )
    assert state["duration"] == state["billingDuration"] >= 0
    assert any(line.startswith("__NODE__:") for line in done.stdout.splitlines())
    logs = [json.loads(line) for line in done.stderr.splitlines()]
    assert all({"level", "msg", "time"} <= set(entry) for entry in logs)
    assert any(entry["msg"] == "Starting Flomation Executor" for entry in logs)
    assert [entry["flag"] for entry in logs if entry["level"] == "warning"] == ["api", "environment"]


@pytest.mark.parametrize(
    "flow, status",
    [
        (divide("0"), 1),
        (chain(node("p", "common/pause")), 3),
    ],
    ids=["failed", "suspended"],
)
def test_a_failed_or_suspended_run_exits_zero_with_flomations_status_number(tmp_path, flow, status):
    (tmp_path / "execution.flow").write_text(json.dumps(flow))
    done = cli(*flomation_runner_args(), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    state = json.loads((tmp_path / "state.json").read_text())
    assert state["status"] == status
    assert ("checkpoint" in state) == (status == 3)


def test_our_run_command_writes_numeric_status_when_asked(tmp_path):
    (tmp_path / "flow.json").write_text(json.dumps(divide("0")))
    done = cli("run", "--flow", "flow.json", "--numeric-status", cwd=tmp_path)
    assert done.returncode == 1
    assert json.loads((tmp_path / "state.json").read_text())["status"] == 1
    assert cli("run", "--flow", "flow.json", cwd=tmp_path).returncode == 1
    assert json.loads((tmp_path / "state.json").read_text())["status"] == "failed"


def test_the_manifest_flag_writes_the_node_catalogue_to_the_file(tmp_path):
    assert cli("--manifest", "manifest.json", cwd=tmp_path).returncode == 0
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert "trigger/manual" in json.dumps(manifest)


def test_a_missing_path_or_an_unknown_flag_fails_as_flomations_executor_does(tmp_path):
    missing = cli("--output", "json", "--id", "x", cwd=tmp_path)
    assert (
        missing.returncode == 1 and json.loads(missing.stderr.splitlines()[-1])["msg"] == "no path specified"
    )
    unknown = cli("--path", "f", "--bogus", "1", cwd=tmp_path)
    assert unknown.returncode == 2 and "flag provided but not defined: -bogus" in unknown.stderr
    unreadable = cli("--path", "nope.flow", cwd=tmp_path)
    assert unreadable.returncode == 1 and not (tmp_path / "state.json").exists()
