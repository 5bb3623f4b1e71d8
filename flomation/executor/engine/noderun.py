"""Running one node: parent merge, input rendering and coercion, retries, timeout, recording."""

from __future__ import annotations

import time

from flomation.executor.coerce import is_blank
from flomation.executor.engine import control
from flomation.executor.engine.context import NodeContext
from flomation.executor.engine.errors import (
    Cancelled,
    FlowTimeout,
    InputError,
    NodeError,
    NodeFailure,
    NodeTimeout,
    Suspend,
)
from flomation.executor.engine.inputs import prepare_inputs
from flomation.executor.graph import SUBFLOW_INVOKE

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from flomation.executor.engine.execution import Execution
    from flomation.executor.graph import FlowNode

DONE, PENDING = "done", "pending"
_PASS_THROUGH = (4, 5, 6, 7)


def merge_flat(parents: list[tuple[str, dict[str, Any]]]) -> dict[str, Any]:
    """Later parents win, except that an empty value never overwrites a non-empty one."""
    if not parents:
        return {}
    if len(parents) == 1:
        return parents[0][1]
    flat: dict[str, Any] = {}
    for _, outputs in parents:
        for key, value in outputs.items():
            if (value is None or value == "") and not is_blank(flat.get(key)):
                continue
            flat[key] = value
    return flat


def run_node(ex: Execution, node: FlowNode, kind: str, *, iteration: int = 0) -> Any:
    """Run ``node`` (with its retry policy). Returns DONE, PENDING (suspended) or the set of
    delivery children an await node hands over to before it suspends."""
    spec = node.spec
    assert spec is not None
    parents = ex.active_parents(node)
    flat = merge_flat(parents)
    try:
        inputs, shown = prepare_inputs(ex, node, flat, parents)
    except InputError as exc:
        ex.record(node, "failed", inputs=dict(node.inputs), error=str(exc))
        raise NodeFailure(node.id, node.label, node.action, str(exc)) from None
    policy = node.retry or {}
    attempts = int(policy.get("attempts", 1))
    attempt = 1
    while True:
        ex.record(node, "running", inputs=shown, attempt=attempt)
        started = time.perf_counter()
        ctx = NodeContext(
            ex,
            node,
            parents=parents,
            parent_outputs=flat,
            deadline=_deadline(ex, node),
            iteration=iteration,
            attempt=attempt,
        )
        outputs: Any = None
        error = None
        try:
            outputs = _call(ex, node, ctx, inputs)
        except Suspend as signal:
            return _suspended(ex, node, kind, signal, flat, shown, _ms(started))
        except Cancelled:
            ex.record(
                node, "cancelled", inputs=shown, error="the run was cancelled", duration_ms=_ms(started)
            )
            raise
        except NodeFailure:
            raise
        except NodeTimeout as exc:
            if ex.deadline is not None and time.monotonic() >= ex.deadline:
                ex.record(
                    node, "failed", inputs=shown, error="the flow ran out of time", duration_ms=_ms(started)
                )
                raise FlowTimeout() from None
            error = str(exc) or "the node timed out"
        except NodeError as exc:
            error = str(exc)
        except Exception as exc:  # any bug in a node becomes that node's failure, never a crash
            error = f"{type(exc).__name__}: {exc}"
            ex.log("error", "node raised an unexpected exception", node=node.id, error=error)
        duration = _ms(started)
        outputs = _normalise(outputs) if error is None else None
        soft = outputs is not None and outputs.get("success") is False
        retryable = error is not None or (soft and bool(policy))
        if not retryable or attempt >= attempts:
            break
        message = error or _soft_error(outputs)
        ex.record(node, "retrying", inputs=shown, error=message, duration_ms=duration, attempt=attempt)
        _backoff(ex, node, policy, attempt)
        attempt += 1
    if error is not None or (soft and node.fail_on_unsuccessful):
        message = error or _soft_error(outputs)
        ex.record(
            node,
            "failed",
            inputs=shown,
            outputs=outputs,
            error=message,
            duration_ms=duration,
            attempt=attempt,
        )
        raise NodeFailure(node.id, node.label, node.action, message)
    return _finish(ex, node, kind, outputs, flat, parents, shown, duration, attempt, iteration, soft)


def _finish(
    ex: Execution,
    node: FlowNode,
    kind: str,
    outputs: dict[str, Any],
    flat: dict[str, Any],
    parents: list[tuple[str, dict[str, Any]]],
    shown: dict[str, Any],
    duration: int,
    attempt: int,
    iteration: int,
    soft: bool,
) -> str:
    injected = ex.injected.get(node.id)
    if injected and node.is_trigger:
        for key, value in injected.items():
            outputs.setdefault(key, value)
    if node.class_type in _PASS_THROUGH and flat:
        merged = dict(flat)
        merged.update(outputs)
        outputs = merged
    if node.class_type == 5:
        outputs["current_index"] = iteration
        outputs["iterations"] = iteration + 1
    try:
        if node.action == SUBFLOW_INVOKE:
            outputs = control.run_subflow(ex, node, outputs, flat, kind)
        route = control.route_for(ex, node, outputs)
    except NodeError as exc:
        ex.record(node, "failed", inputs=shown, outputs=outputs, error=str(exc), duration_ms=duration)
        raise NodeFailure(node.id, node.label, node.action, str(exc)) from None
    ex.results[node.id] = outputs
    ex.routes[node.id] = route
    if soft:
        ex.record(
            node,
            "failed",
            inputs=shown,
            outputs=outputs,
            error=_soft_error(outputs),
            duration_ms=duration,
            attempt=attempt,
        )
    else:
        ex.record(node, "success", inputs=shown, outputs=outputs, duration_ms=duration, attempt=attempt)
    return DONE


def _suspended(
    ex: Execution,
    node: FlowNode,
    kind: str,
    signal: Suspend,
    flat: dict[str, Any],
    shown: dict[str, Any],
    duration: int,
) -> Any:
    if kind not in ("main", "error"):
        message = "a node inside a loop body or a sub-flow cannot suspend; move the wait out of the loop or sub-flow"
        ex.record(node, "failed", inputs=shown, error=message, duration_ms=duration)
        raise NodeFailure(node.id, node.label, node.action, message)
    info: dict[str, Any] = {"suspend_node_id": node.id, "suspend_reason": signal.reason}
    if signal.resume_at:
        info["resume_at"] = signal.resume_at
    info.update(signal.extra)
    if ex.suspend_info is None:
        ex.suspend_info = info
    ex.suspended_nodes.add(node.id)
    ex.record(node, "suspended", inputs=shown, outputs=signal.outputs or None, duration_ms=duration)
    delivery = frozenset(e.target for e in ex.graph.out_edges[node.id] if e.handle == "delivery")
    if not delivery:
        return PENDING
    pending = dict(flat)
    pending.update(signal.outputs)
    ex.results[node.id] = pending
    ex.routes[node.id] = frozenset({"delivery"})
    return delivery


def _call(ex: Execution, node: FlowNode, ctx: NodeContext, inputs: dict[str, Any]) -> Any:
    run = node.spec.run  # type: ignore[union-attr]
    if node.timeout is None:
        return run(ctx, inputs)
    # A node with its own timeout runs in a helper thread so the engine can stop waiting for it
    # at the deadline even when the node ignores cancellation; its late result is dropped.
    import threading

    box: dict[str, Any] = {}
    done = threading.Event()

    def target() -> None:
        try:
            box["value"] = run(ctx, inputs)
        except BaseException as exc:  # handed back to the engine below
            box["error"] = exc
        finally:
            done.set()

    threading.Thread(target=target, name=f"flomation-node-{node.id}", daemon=True).start()
    while not done.wait(0.02):
        if ex.cancel is not None and ex.cancel.is_set():
            ctx._abandoned = True
            done.wait(0.5)
            raise Cancelled()
        if ctx.deadline is not None and time.monotonic() >= ctx.deadline:
            ctx._abandoned = True
            if ex.deadline is not None and time.monotonic() >= ex.deadline:
                raise NodeTimeout("the flow ran out of time")
            raise NodeTimeout(f"the node did not finish within its timeout of {node.timeout:g} s")
    if "error" in box:
        raise box["error"]
    return box.get("value")


def _deadline(ex: Execution, node: FlowNode) -> float | None:
    deadline = ex.deadline
    if node.timeout is not None:
        own = time.monotonic() + node.timeout
        deadline = own if deadline is None else min(deadline, own)
    return deadline


def _backoff(ex: Execution, node: FlowNode, policy: dict[str, Any], attempt: int) -> None:
    base = float(policy.get("backoff_seconds", 0) or 0)
    factor = float(policy.get("backoff_multiplier", 2) or 1)
    ceiling = float(policy.get("max_backoff_seconds", 300) or 300)
    delay = min(ceiling, base * factor ** (attempt - 1))
    end = time.monotonic() + delay
    while True:
        ex.check_stop(None)
        left = end - time.monotonic()
        if left <= 0:
            return
        step = min(left, 0.25)
        if ex.cancel is not None:
            ex.cancel.wait(step)
        else:
            time.sleep(step)


def _normalise(outputs: Any) -> dict[str, Any]:
    if outputs is None:
        return {}
    if isinstance(outputs, dict):
        return outputs
    return {"result": outputs}


def _soft_error(outputs: dict[str, Any] | None) -> str:
    message = (outputs or {}).get("error")
    return str(message) if message else "the node reported success: false"


def _ms(started: float) -> int:
    return int((time.perf_counter() - started) * 1000)
