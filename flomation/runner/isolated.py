"""A fresh executor subprocess per execution (`executable_name` set): the executor CLI contract.

    <executable_name> run --flow flow.json --trigger-data trigger.json --context context.json
                          [--entry=NODE] [--checkpoint checkpoint.json] --state state.json

run in the execution's workspace; stdout carries `__NODE__:{json}` events, stderr the executor's log (kept
in executor.log in the workspace, and its tail in a failure message), the exit code says the outcome
(0 succeeded, 1 failed, 2 cancelled, 3 suspended). Cancellation sends SIGTERM, then SIGKILL after
CANCEL_GRACE seconds. Secrets the flow refers to (`${secrets.X}`, `${env.X}`) and the stored connections its
nodes name (a `connection` input) are fetched with signed calls first and passed in the child's environment
only (FLOMATION_SECRET_X, FLOMATION_ENV_X, FLOMATION_CONNECTION_X as JSON), never on disk.
The execution's egress policy goes in FLOMATION_EGRESS_POLICY (JSON).
No Django.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from flomation.executor.events import PROGRESS_PREFIX, PROGRESS_VARIABLE
from flomation.executor.lease import LEASE_FILE_VARIABLE
from flomation.lib.protocol import normalise_result
from flomation.lib.vectors.relay import SOCKET_VARIABLE, VectorRelay
from flomation.runner.jobs import (
    EXIT_STATUSES,
    PROGRESS,
    Job,
    cancelled_result,
    failed_result,
    fence_expired,
)

logger = logging.getLogger(__name__)

CANCEL_GRACE = 1.2
EVENT_PREFIX = "__NODE__:"
_REFERENCE = re.compile(r"\$\{\s*(secrets?|env)\.([A-Za-z_][A-Za-z0-9_.\-]*)")


def referenced_names(flow: Any) -> dict[str, set[str]]:
    """The secret and variable names a flow's templates mention."""
    found: dict[str, set[str]] = {"secrets": set(), "env": set()}
    for kind, name in _REFERENCE.findall(json.dumps(flow)):
        found["env" if kind == "env" else "secrets"].add(name)
    return found


def connection_names(flow: Any) -> set[str]:
    """The stored connections a flow's nodes name in their `connection` input (plain names only)."""
    found: set[str] = set()
    nodes = flow.get("nodes") if isinstance(flow, dict) else None
    for item in nodes if isinstance(nodes, list) else []:
        config = ((item or {}).get("data") or {}).get("config") or {}
        for entry in config.get("inputs") or []:
            if not isinstance(entry, dict) or entry.get("name") != "connection":
                continue
            value = entry.get("value")
            if isinstance(value, str) and value.strip() and "${" not in value:
                found.add(value.strip())
    return found


class SubprocessExecutor:
    def __init__(self, command: list[str], secrets_for: Callable[[Job], Any] | None = None) -> None:
        self._command = command
        self._secrets_for = secrets_for

    def close(self) -> None:
        """Nothing stays running between executions."""

    def _environment(self, job: Job) -> dict[str, str]:
        environ = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("FLOMATION_SECRET_", "FLOMATION_CONNECTION_", "FLOMATION_VECTOR_SOCKET"))
        }
        environ["FLOMATION_EXECUTION_ID"] = job.id
        environ["FLOMATION_EGRESS_POLICY"] = json.dumps(job.egress or {})
        if self._secrets_for is None:
            return environ
        provider = self._secrets_for(job)
        names = referenced_names(job.flow)
        for name in names["secrets"]:
            value = provider.get_secret(name)
            if value is not None:
                environ[f"FLOMATION_SECRET_{name}"] = value
        for name in names["env"]:
            value = provider.get_variable(name)
            if value is not None:
                environ[f"FLOMATION_ENV_{name}"] = value
        get_connection = getattr(provider, "get_connection", None)
        for name in connection_names(job.flow) if get_connection is not None else ():
            found = get_connection(name)
            if found is not None:
                environ[f"FLOMATION_CONNECTION_{name}"] = json.dumps(found)
        return environ

    def run(self, job: Job, workspace: Path, emit: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
        files = {"flow": job.flow, "trigger-data": job.trigger_data or {}, "context": job.context}
        if job.checkpoint is not None:
            files["checkpoint"] = job.resume_checkpoint
        arguments = [*self._command, "run"]
        for option, content in files.items():
            path = workspace / f"{option}.json"
            path.write_text(json.dumps(content))
            arguments += [f"--{option}", str(path)]
        if job.entry:
            # One word: the node id (from a re-run request) stays the option's value for any option parser,
            # even one that would read a following "--no-shell" as an option of its own.
            arguments.append(f"--entry={job.entry}")
        state_path = workspace / "state.json"
        arguments += ["--state", str(state_path)]
        try:
            environ = self._environment(job)
        except Exception as error:
            return failed_result(f"The secrets of the execution could not be fetched: {error}")
        # The lease's end on the monotonic clock, kept current: the executor starts no node past it.
        lease_path = workspace / "lease"
        self._write_lease(lease_path, job.lease_deadline)
        environ[LEASE_FILE_VARIABLE] = str(lease_path)
        environ[PROGRESS_VARIABLE] = "1"
        relay = self._vector_relay(job)
        if relay is not None:
            environ[SOCKET_VARIABLE] = relay.path
        try:
            return self._run_process(arguments, workspace, environ, job, emit, state_path, lease_path)
        finally:
            if relay is not None:
                relay.close()

    def _vector_relay(self, job: Job) -> VectorRelay | None:
        call = getattr(self._secrets_for(job), "vector_store", None) if self._secrets_for else None
        return VectorRelay(call) if call is not None else None

    def _run_process(
        self,
        arguments: list[str],
        workspace: Path,
        environ: dict[str, str],
        job: Job,
        emit: Callable[[dict[str, Any]], None],
        state_path: Path,
        lease_path: Path,
    ) -> dict[str, Any]:
        log_path = workspace / "executor.log"
        try:
            with open(log_path, "wb") as log:
                process = subprocess.Popen(
                    arguments,
                    cwd=workspace,
                    stdout=subprocess.PIPE,
                    stderr=log,
                    env=environ,
                    start_new_session=True,
                )
        except OSError as error:
            return failed_result(f"The executor {self._command[0]!r} could not be started: {error}")
        reader = threading.Thread(target=self._read_events, args=(process, emit), daemon=True)
        reader.start()
        cancelled = self._wait(process, job, lease_path)
        reader.join(2)
        if cancelled and process.returncode not in (0, 1, 3):
            return cancelled_result()
        state: Any = None
        if state_path.exists():
            try:
                state = json.loads(state_path.read_text())
            except ValueError:
                state = None
        if isinstance(state, dict):
            return normalise_result(state)
        status = EXIT_STATUSES.get(process.returncode or 0, "failed")
        tail = log_path.read_text(errors="replace")[-800:] if log_path.exists() else ""
        return failed_result(
            f"The executor exited with code {process.returncode} ({status}) without writing state.json."
            + (f" Its log ends with: {tail}" if tail else "")
        )

    @staticmethod
    def _write_lease(path: Path, deadline: float) -> None:
        spare = path.with_suffix(".new")
        spare.write_text(repr(deadline))
        os.replace(spare, path)

    def _wait(self, process: subprocess.Popen[bytes], job: Job, lease_path: Path) -> bool:
        kill_at: float | None = None
        written = job.lease_deadline
        while True:
            try:
                process.wait(0.05 if kill_at else 0.1)
                return kill_at is not None
            except subprocess.TimeoutExpired:
                pass
            if job.lease_deadline != written:  # renewed by the heartbeat
                written = job.lease_deadline
                with contextlib.suppress(OSError):
                    self._write_lease(lease_path, written)
            fence_expired([job])
            if job.cancel.is_set() and kill_at is None:
                self._signal(process, signal.SIGTERM)
                kill_at = time.monotonic() + CANCEL_GRACE
            elif kill_at is not None and time.monotonic() >= kill_at:
                logger.warning("execution %s: the executor ignored SIGTERM; killing it", job.id)
                self._signal(process, signal.SIGKILL)

    @staticmethod
    def _signal(process: subprocess.Popen[bytes], signum: int) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signum)

    @staticmethod
    def _read_events(process: subprocess.Popen[bytes], emit: Callable[[dict[str, Any]], None]) -> None:
        assert process.stdout is not None
        for raw in process.stdout:
            line = raw.decode(errors="replace").strip()
            progress = line.startswith(PROGRESS_PREFIX)
            if not progress and not line.startswith(EVENT_PREFIX):
                continue
            try:
                event = json.loads(line[len(PROGRESS_PREFIX if progress else EVENT_PREFIX) :])
            except ValueError:
                logger.warning("an executor event was not valid JSON: %.200s", line)
                continue
            if isinstance(event, dict):
                emit({PROGRESS: event} if progress else event)
