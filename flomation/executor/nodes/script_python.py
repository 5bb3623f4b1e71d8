"""script/python: CPython in the run's kernel sandbox, one worker warm for the whole run.

See docs/executor.md ("Script isolation") for the exact boundary.
"""

from __future__ import annotations

import time

from flomation.executor.engine.errors import NodeError
from flomation.executor.nodes.scripting import (
    COMMON_INPUTS,
    COMMON_OUTPUTS,
    build_outputs,
    check_code,
    declared_outputs,
    script_inputs,
    timeout_for,
    truncate_logs,
)
from flomation.executor.registry import Input, node

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from flomation.executor.engine.context import NodeContext


@node(
    "script/python",
    name="Run Python",
    category="script",
    description=(
        "Run Python 3 with its whole standard library in a kernel sandbox: /work is the run's workspace, "
        "no network, no view of the host; time, CPU, memory and process limits."
    ),
    inputs=(
        Input("code", "code", required=True, description="`inputs` and `outputs` are dicts; `return` works."),
        Input("version", "string", description="Kept for Flomation flows; the runner's Python 3 is used."),
        *COMMON_INPUTS,
    ),
    outputs=COMMON_OUTPUTS,
    dynamic_outputs=True,
)
def run_python(ctx: NodeContext, inputs: dict[str, Any]) -> dict[str, Any]:
    from flomation.executor.sandbox.python import PythonSandbox

    code = inputs["code"]
    check_code(code)
    declared = declared_outputs(inputs)
    sandbox = ctx.resource("python_sandbox", lambda: PythonSandbox(ctx))
    started = time.perf_counter()
    reply = sandbox.run(ctx, code, script_inputs(inputs), timeout_for(ctx, inputs))
    duration = int((time.perf_counter() - started) * 1000)
    logs = truncate_logs(reply.get("logs") or "")
    if not reply.get("ok"):
        message = reply.get("error") or "the script failed"
        trace = reply.get("traceback")
        if logs:
            ctx.log("info", "script output before the failure", output=logs[-2000:])
        raise NodeError(f"{message}\n{trace}".rstrip() if trace else message)
    result = reply.get("outputs") or {}
    outputs = build_outputs(declared, result)
    summary = f"{len(declared)} declared outputs" if declared else f"{len(result)} top-level keys returned"
    outputs.update(
        {
            "tool_result": f"script ran successfully ({summary})",
            "logs": logs,
            "success": True,
            "duration_ms": duration,
        }
    )
    return outputs
