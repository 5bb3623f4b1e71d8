"""script/bash: only when the runner allows shell. Not sandboxed beyond a temporary directory,
a clean environment, a timeout and an output cap."""

from __future__ import annotations

import os
import time

from flomation.executor.engine.errors import Cancelled, NodeError, NodeTimeout
from flomation.executor.registry import Input, node

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from flomation.executor.engine.context import NodeContext

MAX_OUTPUT_BYTES = 1 << 20


@node(
    "script/bash",
    name="Run Bash Script",
    category="script",
    description="Run a Bash script in a temporary directory (only on runners configured to allow shell).",
    inputs=(
        Input("script", "text", required=True),
        Input("timeout_seconds", "integer", default=60),
        Input(
            "sandboxed",
            "boolean",
            default=True,
            description="Kept for Flomation flows: always a temporary directory.",
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
    import shutil
    import subprocess
    import tempfile

    timeout = max(1, min(300, inputs["timeout_seconds"]))
    workdir = tempfile.mkdtemp(prefix="flomation-bash-")
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": workdir, "LANG": "C.UTF-8"}
    for key, value in inputs.get("environment_variables") or []:
        if key:
            env[key] = "" if value is None else str(value)
    try:
        script = os.path.join(workdir, ".flomation-script.sh")
        with open(script, "w", encoding="utf-8") as handle:
            handle.write(inputs["script"])
        with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
            process = subprocess.Popen(
                ["/bin/bash", script],
                cwd=workdir,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
                start_new_session=True,
            )
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
                    os.killpg(process.pid, 9)
                    process.wait()
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
            "working_directory": workdir,
        }
        if process.returncode != 0:
            raise NodeError(f"the script exited with code {process.returncode}: {stderr.strip()[-2000:]}")
        return outputs
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def _read(handle: Any) -> str:
    handle.seek(0)
    return handle.read(MAX_OUTPUT_BYTES).decode("utf-8", errors="replace")
