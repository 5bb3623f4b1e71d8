"""script/bash: Bash in the run's kernel sandbox (the same one as script/python: /work shared, no network, no
view of the host), with the same limits, a clean environment, a timeout and an output cap."""

from __future__ import annotations

import time

from flomation.executor.engine.errors import Cancelled, NodeError, NodeTimeout
from flomation.executor.registry import Input, node

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from flomation.executor.engine.context import NodeContext

MAX_OUTPUT_BYTES = 1 << 20
MAX_SCRIPT_BYTES = 100_000  # passed as one argument: the kernel takes at most 128 KiB


@node(
    "script/bash",
    name="Run Bash Script",
    category="script",
    description="Run a Bash script in the run's kernel sandbox: /work is the run's workspace, no network.",
    inputs=(
        Input("script", "text", required=True),
        Input("timeout_seconds", "integer", default=60),
        Input(
            "sandboxed",
            "boolean",
            default=True,
            description="Kept for Flomation flows: scripts always run in the sandbox.",
        ),
        Input("environment_variables", "key_value_array"),
    ),
    outputs=(
        "stdout:string",
        "stderr:string",
        "exit_code:integer",
        "success:boolean",
        "working_directory:string",
    ),
)
def run_bash(ctx: NodeContext, inputs: dict[str, Any]) -> dict[str, Any]:
    if not ctx.settings.allow_shell:
        raise NodeError("script/bash is disabled on this runner (shell is not allowed in its configuration)")
    import subprocess
    import tempfile

    from flomation.executor.sandbox import isolation

    settings = ctx.settings
    script = inputs["script"]
    if len(script.encode("utf-8")) > MAX_SCRIPT_BYTES:
        raise NodeError(f"the script is longer than {MAX_SCRIPT_BYTES} bytes; split it into several nodes")
    isolation.require(settings, ctx)
    timeout = max(1, min(300, inputs["timeout_seconds"]))
    run = isolation.RunIsolation.of(ctx)
    workspace = run.ensure_workspace()
    work = isolation.work_path(settings, workspace)
    env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": work, "TMPDIR": work, "LANG": "C.UTF-8"}
    for key, value in inputs.get("environment_variables") or []:
        if key:
            env[key] = "" if value is None else str(value)
    memory = int(settings.script_memory_mb) << 20
    cpu = int(settings.python_cpu_seconds)
    limits = [
        f"--cpu={cpu}:{cpu + 1}",
        f"--nproc={int(settings.script_max_processes)}",
        f"--fsize={int(settings.script_max_file_mb) << 20}",
        "--nofile=256",
        "--core=0",
        *([f"--as={memory}"] if memory > 0 else []),
    ]
    command = ["/usr/bin/prlimit", *limits, "--", "/bin/bash", "-c", script, "script"]
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        process = run.spawn(command, environ=env, stdin=subprocess.DEVNULL, stdout=out, stderr=err)
        deadline = time.monotonic() + timeout
        while process.poll() is None:
            try:  # noqa: SIM105 - keeps the poll loop free of an extra import
                process.wait(0.05)
            except subprocess.TimeoutExpired:
                pass
            if (
                ctx.cancelled()
                or time.monotonic() >= deadline
                or (ctx.deadline and time.monotonic() >= ctx.deadline)
            ):
                isolation.kill(process)
                if ctx.cancelled():
                    raise Cancelled()
                raise NodeTimeout(f"the script exceeded its timeout of {timeout} seconds")
        stdout = _read(out)
        stderr = _read(err)
    outputs = {
        "stdout": stdout.strip(),
        "stderr": stderr.strip(),
        "exit_code": process.returncode,
        "success": process.returncode == 0,
        "working_directory": work,
    }
    if process.returncode != 0:
        if run.memory_exceeded():
            limit = int(settings.script_run_memory_mb)
            raise NodeError(
                f"the run's scripts went over their memory limit of {limit} MB (FLOMATION_SCRIPT_RUN_MEMORY_MB); "
                f"the script exited with code {process.returncode}"
            )
        raise NodeError(f"the script exited with code {process.returncode}: {stderr.strip()[-2000:]}")
    return outputs


def _read(handle: Any) -> str:
    handle.seek(0)
    return handle.read(MAX_OUTPUT_BYTES).decode("utf-8", errors="replace")
