"""script/javascript: a V8 isolate (mini-racer) per run; no file system, network or require."""

from __future__ import annotations

import json
import time

from flomation.executor.engine.errors import Cancelled, NodeError, NodeTimeout
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

_WRAPPER = """(function(){
const __logs = [];
const __fmt = (v) => typeof v === 'string' ? v : (v === undefined ? 'undefined' : JSON.stringify(v));
const __log = (prefix) => (...args) => { __logs.push((prefix ? prefix + ' ' : '') + args.map(__fmt).join(' ')); };
const console = {log: __log(''), info: __log(''), debug: __log(''), warn: __log('[warn]'), error: __log('[error]')};
const inputs = JSON.parse(%s);
const outputs = {};
const __result = (function(inputs, outputs, console){
%s
})(inputs, outputs, console);
const merged = Object.assign({}, outputs);
if (__result !== undefined && __result !== null) {
  if (typeof __result === 'object' && !Array.isArray(__result)) { Object.assign(merged, __result); }
  else if (Object.keys(outputs).length === 0) { merged.result = __result; }
}
return JSON.stringify({outputs: merged, logs: __logs.join('\\n')});
})()"""


class JavaScriptSandbox:
    def __init__(self, memory_mb: int) -> None:
        self.memory_mb = int(memory_mb)
        self.racer: Any = None

    def _racer(self) -> Any:
        if self.racer is None:
            from py_mini_racer import MiniRacer

            self.racer = MiniRacer()
            self.racer.set_hard_memory_limit(self.memory_mb << 20)
        return self.racer

    def _abandon(self, future: Any) -> None:
        """Stop the running evaluation and drop the isolate (a fresh one serves the next node)."""
        import contextlib

        future.cancel()
        with contextlib.suppress(BaseException):  # cancelled or failed: either way it has stopped
            future.result(timeout=2)
        self.close()

    def evaluate(self, ctx: NodeContext, source: str, timeout: float) -> Any:
        """Evaluate with a timeout; stops the isolate's task on cancellation."""
        import asyncio

        from py_mini_racer import JSTimeoutException

        racer = self._racer()
        inner = getattr(racer, "_ctx", None)
        if inner is None or not hasattr(inner, "eval_cancelable"):
            try:
                return racer.eval(source, timeout_sec=timeout)
            except JSTimeoutException:
                raise NodeTimeout(f"the JavaScript exceeded its timeout of {timeout:g} seconds") from None

        async def run() -> Any:
            return await inner.eval_cancelable(source)

        future = asyncio.run_coroutine_threadsafe(run(), inner.event_loop)
        deadline = time.monotonic() + timeout
        while True:
            try:
                return future.result(timeout=0.05)
            except TimeoutError:
                pass
            if ctx.cancelled():
                self._abandon(future)
                raise Cancelled()
            now = time.monotonic()
            if now >= deadline or (ctx.deadline is not None and now >= ctx.deadline):
                self._abandon(future)
                raise NodeTimeout(f"the JavaScript exceeded its timeout of {timeout:g} seconds")

    def close(self) -> None:
        racer, self.racer = self.racer, None
        if racer is not None:
            racer.close()


@node(
    "script/javascript",
    name="Run JavaScript",
    category="script",
    description="Run JavaScript in a V8 isolate (no network, no file system; time and memory limits).",
    inputs=(
        Input(
            "code", "code", required=True, description="`inputs` and `outputs` are objects; `return` works."
        ),
        Input("version", "string", description="Kept for Flomation flows; V8 (ES2023) is used."),
        *COMMON_INPUTS,
    ),
    outputs=COMMON_OUTPUTS,
    dynamic_outputs=True,
)
def run_javascript(ctx: NodeContext, inputs: dict[str, Any]) -> dict[str, Any]:
    from py_mini_racer import JSEvalException

    code = inputs["code"]
    check_code(code)
    declared = declared_outputs(inputs)
    payload = json.dumps(json.dumps(script_inputs(inputs), default=str))
    sandbox = ctx.resource("javascript", lambda: JavaScriptSandbox(ctx.settings.script_memory_mb))
    started = time.perf_counter()
    try:
        raw = sandbox.evaluate(ctx, _WRAPPER % (payload, code), timeout_for(ctx, inputs))
    except JSEvalException as exc:
        reason = (
            "it went over its memory limit"
            if sandbox.racer.was_hard_memory_limit_reached()
            else str(exc).strip()
        )
        raise NodeError(f"the JavaScript failed: {reason}") from None
    duration = int((time.perf_counter() - started) * 1000)
    reply = json.loads(raw)
    result = reply.get("outputs") or {}
    outputs = build_outputs(declared, result)
    summary = f"{len(declared)} declared outputs" if declared else f"{len(result)} top-level keys returned"
    outputs.update(
        {
            "tool_result": f"script ran successfully ({summary})",
            "logs": truncate_logs(reply.get("logs") or ""),
            "success": True,
            "duration_ms": duration,
        }
    )
    return outputs
