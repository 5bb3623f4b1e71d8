"""Running one node: parent merge, input rendering and coercion, retries, timeout, recording."""

from __future__ import annotations

import time

from flomation.executor.coerce import coerce, is_blank
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
from flomation.executor.graph import SUBFLOW_INVOKE
from flomation.executor.masking import MASK
from flomation.executor.templates import MISSING, render_value, walk

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from flomation.executor.engine.execution import Execution
    from flomation.executor.graph import FlowNode
    from flomation.executor.templates import Ref

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


# -- inputs -----------------------------------------------------------------------------------------
def prepare_inputs(
    ex: Execution, node: FlowNode, flat: dict[str, Any], parents: list[tuple[str, dict[str, Any]]]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The inputs the node's ``run`` gets and the masked copy shown in events and records."""
    spec = node.spec
    assert spec is not None
    misses: list[str] = []
    resolve = None
    values: dict[str, Any] = {}
    shown: dict[str, Any] = {}
    input_map = spec.input_map
    for name, raw in node.inputs.items():
        value = raw
        if (isinstance(raw, str) and "${" in raw) or isinstance(raw, list | dict):
            if resolve is None:
                resolve = make_resolver(ex, flat)
            declared = input_map.get(name)
            escape = node.input_types.get(name) == "rows" or (
                declared is not None and declared.type == "rows"
            )
            value = render_value(raw, resolve, json_escape=escape, on_miss=lambda ref: misses.append(ref.raw))
            if isinstance(raw, str) and ("${secret." in raw or "${secrets." in raw):
                shown[name] = MASK
                values[name] = value
                continue
        values[name] = value
        shown[name] = value
    injected = ex.injected.get(node.id)
    if injected:
        values.update(injected)
        shown.update(injected)
    if misses:
        ex.log("warning", "template resolved to nothing", node=node.id, tokens=",".join(misses))
        if ex.settings.strict_templates:
            raise InputError(f"template {misses[0]} resolved to nothing")
    last = parents[-1][1] if parents else None
    for declared in spec.inputs:
        name = declared.name
        value = values.get(name)
        wired = False
        if is_blank(value) and last is not None and name in last:
            value = last[name]
            shown[name] = value
            wired = True
        try:
            value = coerce(declared.type, value)
        except ValueError as exc:
            if not wired:
                raise InputError(f"input '{name}' {exc}") from None
            value = None  # an auto-wired value that does not fit is ignored, as Flomation does
            shown.pop(name, None)
        if value is None:
            value = declared.default
        if value is None and declared.required:
            raise InputError(f"input '{name}' is required")
        allowed = declared.option_values()
        if (
            allowed is not None
            and value is not None
            and declared.type != "multi_select"
            and value not in allowed
        ):
            raise InputError(f"input '{name}' must be one of: {', '.join(map(str, allowed))} (got {value!r})")
        values[name] = value
    return values, shown


def make_resolver(ex: Execution, flat: dict[str, Any]) -> Callable[[Ref], Any]:
    results = ex.results
    nodes = ex.graph.nodes

    def resolve(ref: Ref) -> Any:
        ns = ref.ns
        if ns == "ref":
            head = ref.head
            value = results.get(head, MISSING) if head in nodes else flat.get(head, MISSING)
        elif ns == "var":
            return _variable(ex.variables, ref)
        elif ns == "flow":
            value = ex.context.get(ref.head, MISSING)
        elif ns == "user":
            user = ex.context.get("user_variables")
            value = user.get(ref.head, MISSING) if isinstance(user, dict) else MISSING
        elif ns == "env":
            value = _provided(ex, "get_variable", ref.head, secret=False)
        elif ns == "secrets":
            value = _provided(ex, "get_secret", ref.head, secret=True)
        else:  # credentials
            value = _provided(ex, "get_credential", ref.head, secret=True)
        if value is MISSING or not ref.path:
            return value
        return walk(value, ref.path)

    return resolve


def _variable(variables: dict[str, Any], ref: Ref) -> Any:
    segments = (ref.head, *ref.path)
    for cut in range(len(segments), 0, -1):
        if not all(isinstance(s, str) for s in segments[:cut]):
            continue
        key = ".".join(segments[:cut])  # type: ignore[arg-type]
        if key in variables:
            return walk(variables[key], segments[cut:]) if cut < len(segments) else variables[key]
    return MISSING


def _provided(ex: Execution, method: str, name: str, *, secret: bool) -> Any:
    key = (method, name)
    if key in ex.value_cache:
        return ex.value_cache[key]
    provider = ex.secrets
    getter = getattr(provider, method, None) if provider is not None else None
    value: Any = MISSING
    if getter is not None:
        try:
            fetched = getter(name)
        except Exception as exc:
            raise InputError(f"could not fetch {method.removeprefix('get_')} '{name}': {exc}") from None
        if fetched is not None:
            value = fetched
            if secret:
                ex.masker.add(fetched if isinstance(fetched, str) else str(fetched))
    ex.value_cache[key] = value
    return value
