"""The warm executor: one long-lived process per slot that imports the engine once and runs flows in turn.

The parent sends a job over a pipe; the child runs `flomation.executor.run_flow` in the job's workspace and
sends back each step event and then the result. Cancellation sets a shared event the engine polls; if the
child has not finished within CANCEL_GRACE seconds it is killed (and replaced before the next job), so a
cancelled execution always stops within 2 s. A child that dies (a node crashed the interpreter, OOM) fails
its execution with a readable error and is replaced. No Django.
"""

from __future__ import annotations

import logging
import math
import multiprocessing
import os
import time
from collections.abc import Callable
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import Any

from flomation.lib.protocol import normalise_result
from flomation.runner.jobs import (
    PROGRESS,
    Job,
    cancelled_result,
    failed_result,
    fence_expired,
)

logger = logging.getLogger(__name__)

CANCEL_GRACE = 1.2
_context = multiprocessing.get_context("spawn")


def _child_main(conn: Connection, cancel: Any, api: tuple[Any, ...], lease_deadline: Any = None) -> None:
    """The child's loop: ("run", job) -> ("event", dict)* then ("result", dict); ("stop",) ends it."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when this process stops
    from flomation.executor import ExecutorSettings, run_flow  # imported once: the point of a warm process
    from flomation.lib.egress import EgressPolicy

    try:  # a booted, isolated Python worker waits for this process's first script node
        from flomation.executor.sandbox.python import prestart

        prestart(ExecutorSettings())
    except Exception:
        logger.exception("could not boot a Python script worker ahead of the first run")

    client = None
    home = os.getcwd()
    conn.send(("ready",))
    while True:
        try:
            message = conn.recv()
        except EOFError:
            return
        if message[0] != "run":
            return
        job: dict[str, Any] = message[1]
        if client is None:
            client = _api_client(*api)
        from flomation.runner.secrets import ApiSecretProvider

        def on_event(event: dict[str, Any]) -> None:
            conn.send(("event", event))

        def on_progress(checkpoint: dict[str, Any]) -> None:
            conn.send(("event", {PROGRESS: checkpoint}))

        try:
            os.chdir(job["workspace"])
            result = run_flow(
                job["flow"],
                trigger_data=job["trigger_data"],
                context=job["context"],
                entry=job["entry"],
                checkpoint=job["checkpoint"],
                secrets=ApiSecretProvider(client, job["id"], job["lease_token"]),
                on_event=on_event,
                on_progress=on_progress,
                cancel=cancel,
                fence=None if lease_deadline is None else _lease_fence(lease_deadline),
                settings=ExecutorSettings(egress=EgressPolicy.from_dict(job.get("egress"))),
            )
            state = result.to_state()
        except Exception as error:  # the engine reports node errors itself; this is an engine bug
            logger.exception("execution %s: the executor raised", job["id"])
            state = failed_result(f"The executor failed unexpectedly: {error.__class__.__name__}: {error}")
        finally:
            os.chdir(home)
        conn.send(("result", state))


def _lease_fence(lease_deadline: Any) -> Callable[[], bool]:
    """The engine's fence: True while the parent's lease on the execution may still hold. Read here, in
    this process, so that a node never starts after the lease ran out even when the parent has not run
    since (both frozen together and resumed: this process may get the CPU first)."""

    def fence() -> bool:
        return time.monotonic() < lease_deadline.value

    return fence


def warm_api(config: Any, runner_id: str) -> tuple[Any, ...]:
    """What a warm process needs to reach the API as this runner (picklable): URL, id, key, client TLS."""
    return (config.api_url, runner_id, str(config.key_path), config.tls)


def _api_client(api_url: str, runner_id: str, key_path: str, tls: Any = None) -> Any:
    from flomation.lib.signing import load_or_create_key
    from flomation.runner.client import ApiClient

    key = load_or_create_key(Path(key_path))
    return ApiClient(api_url, runner_id=runner_id, key=key, pool_size=2, tls=tls)


class WarmExecutor:
    """One slot's executor process, started on first use and replaced when it dies or is killed."""

    def __init__(self, api: tuple[Any, ...]) -> None:
        self._api = api
        self._process: multiprocessing.process.BaseProcess | None = None
        self._conn: Connection | None = None
        self._cancel = _context.Event()
        # The running job's lease deadline (monotonic; inf without one), shared with the child.
        self._lease_deadline = _context.Value("d", math.inf, lock=False)

    def start(self) -> None:
        if self._process is not None and self._process.is_alive():
            return
        parent, child = _context.Pipe()
        self._process = _context.Process(
            target=_child_main,
            args=(child, self._cancel, self._api, self._lease_deadline),
            name="flomation-executor",
            daemon=True,
        )
        self._process.start()
        child.close()
        self._conn = parent
        if not parent.poll(60) or parent.recv() != ("ready",):
            self.kill()
            raise RuntimeError("the executor process did not start (is flomation.executor installed?)")

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def kill(self) -> None:
        if self._process is not None and self._process.is_alive():
            self._process.kill()
            self._process.join(2)
        if self._conn is not None:
            self._conn.close()
        self._process, self._conn = None, None

    def close(self) -> None:
        if self._conn is not None and self._process is not None and self._process.is_alive():
            try:
                self._conn.send(("stop",))
                self._process.join(1)
            except (OSError, ValueError):
                pass
        self.kill()

    def run(self, job: Job, workspace: Path, emit: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
        try:
            self.start()
        except Exception as error:
            return failed_result(f"The runner could not start an executor: {error}")
        assert self._conn is not None and self._process is not None
        self._cancel.clear()
        self._lease_deadline.value = job.lease_deadline
        payload = {
            "id": job.id,
            "lease_token": job.lease_token,
            "workspace": str(workspace),
            "flow": job.flow,
            "trigger_data": job.trigger_data,
            "context": job.context,
            "entry": job.entry,
            "checkpoint": job.resume_checkpoint,
            "egress": job.egress,
        }
        try:
            self._conn.send(("run", payload))
        except (OSError, ValueError) as error:
            self.kill()
            return failed_result(f"The executor process could not take the execution: {error}")
        kill_at: float | None = None
        while True:
            self._lease_deadline.value = job.lease_deadline  # renewed by the heartbeat meanwhile
            fence_expired([job])
            if job.cancel.is_set() and kill_at is None:
                self._cancel.set()
                kill_at = time.monotonic() + CANCEL_GRACE
            ready = wait([self._conn, self._process.sentinel], timeout=0.05 if kill_at else 0.1)
            if self._conn in ready:
                try:
                    kind, body = self._conn.recv()
                except (EOFError, OSError):
                    ready = [self._process.sentinel]
                else:
                    if kind == "event":
                        emit(body)
                        continue
                    return normalise_result(body)
            if self._process.sentinel in ready:
                code = self._process.exitcode
                self.kill()
                if kill_at is not None:
                    return cancelled_result()
                return failed_result(f"The executor process exited unexpectedly (exit code {code}).")
            if kill_at is not None and time.monotonic() >= kill_at:
                logger.warning("execution %s: the executor did not stop when cancelled; killing it", job.id)
                self.kill()
                return cancelled_result("The execution was cancelled; the executor was stopped.")
