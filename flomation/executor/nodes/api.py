"""Calls from nodes back to the platform's API (start_flow).

The runner's provider may implement ``start_flow(flow_id, inputs, wait, timeout) -> dict``; without
it the node uses ``context["api_url"]`` and ``context["api_token"]`` with Flomation's internal
endpoints.
"""

from __future__ import annotations

import time

from flomation.executor.coerce import to_str
from flomation.executor.engine.errors import NodeError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from flomation.executor.engine.context import NodeContext

_DONE = {"succeeded", "success", "completed", "failed", "cancelled", "canceled", "timed_out", "error"}


def start_flow_via_api(ctx: NodeContext, inputs: dict[str, Any]) -> dict[str, Any]:
    flow_id = inputs["flow_id"]
    wait = bool(inputs["wait_for_completion"])
    timeout = max(1, int(inputs["timeout_seconds"]))
    payload = inputs.get("inputs") or {}
    hook = getattr(ctx.secrets, "start_flow", None)
    if hook is not None:
        result = ctx.call_blocking(lambda: hook(flow_id, payload, wait, timeout))
        return dict(result or {})
    api_url = to_str(ctx.context.get("api_url")).rstrip("/")
    if not api_url:
        raise NodeError(
            "start_flow needs the API: run it through a runner (no api_url in the execution context)"
        )
    import requests

    session = requests.Session()
    token = to_str(ctx.context.get("api_token"))
    if token:
        session.headers["Authorization"] = f"Bearer {token}"
        ctx.mask(token)

    def post() -> Any:
        reply = session.post(f"{api_url}/api/v1/internal/flo/{flow_id}/execute", json=payload, timeout=30)
        reply.raise_for_status()
        return reply.json()

    started = ctx.call_blocking(post, on_abort=session.close)
    execution_id = to_str(started.get("execution_id") or started.get("id"))
    outputs = {
        "execution_id": execution_id,
        "status": to_str(started.get("status") or "pending"),
        "result": None,
    }
    if not wait:
        return outputs
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not ctx.sleep(2):
            outputs["status"] = "cancelled"
            return outputs

        def poll() -> Any:
            reply = session.get(f"{api_url}/api/v1/internal/execution/{execution_id}", timeout=30)
            reply.raise_for_status()
            return reply.json()

        state = ctx.call_blocking(poll, on_abort=session.close)
        status = to_str(state.get("status") or state.get("state"))
        if status in _DONE:
            return {
                "execution_id": execution_id,
                "status": status,
                "result": state.get("result", state.get("outputs")),
            }
    raise NodeError(f"the started flow did not finish within {timeout} s")
