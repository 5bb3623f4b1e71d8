"""One run of a flow: state, the scheduler that walks the graph, events, checkpoints.

The walk is a ready-queue over a *scope* (the main pass, a loop body, a sub-flow, the On Error
chain). A node becomes ready once every in-scope parent (and every in-scope node its templates
reference) has either run or been pruned; it runs if at least one incoming edge is active
(its parent ran and, for a routing node, the edge leaves through the chosen handle), otherwise it is
pruned and its own children are considered in turn. So joins run once and unmatched branches are
pruned without a node ever waiting on a branch that will not come.
"""

from __future__ import annotations

import time
import uuid
from collections import deque

from flomation.executor.engine import checkpoints, control, noderun
from flomation.executor.engine.errors import Cancelled, FlowTimeout, NodeFailure
from flomation.executor.engine.plan import Plan
from flomation.executor.engine.result import CANCELLED, FAILED, SUCCEEDED, SUSPENDED, RunResult
from flomation.executor.events import truncate_strings
from flomation.executor.masking import Masker

TYPE_CHECKING = False
if TYPE_CHECKING:
    import threading
    from collections.abc import Callable
    from typing import Any

    from flomation.executor.graph import FlowNode, Graph
    from flomation.executor.settings import ExecutorSettings

_SKIP_TRIGGER_KEYS = frozenset({"system_prompt", "__node_id", "__triggering_user_id"})
DONE, PENDING = "done", "pending"


class Execution:
    def __init__(
        self,
        graph: Graph,
        *,
        trigger_data: dict[str, Any] | None,
        context: dict[str, Any] | None,
        entry: str | None,
        checkpoint: dict[str, Any] | None,
        secrets: Any,
        on_event: Callable[[dict[str, Any]], None] | None,
        cancel: threading.Event | None,
        settings: ExecutorSettings,
        on_progress: Callable[[dict[str, Any]], None] | None = None,
    ) -> None:
        self.graph = graph
        self.settings = settings
        self.context: dict[str, Any] = context if context is not None else {}
        self.trigger_data = dict(trigger_data or {})
        self.secrets = secrets
        self.on_event = on_event
        self.on_progress = on_progress
        self.restored: frozenset[str] = frozenset()  # nodes whose results came from a checkpoint
        self.run_id = uuid.uuid4().hex
        self.cancel = cancel
        self.entry = entry
        self.checkpoint = checkpoint
        self.results: dict[str, dict[str, Any]] = {}
        self.routes: dict[str, frozenset[str] | None] = {}
        self.records: dict[str, dict[str, Any]] = {}
        self.variables: dict[str, Any] = {}
        self.outputs: dict[str, Any] = {}
        self.masker = Masker()
        self.value_cache: dict[tuple[str, str], Any] = {}
        self.injected: dict[str, dict[str, Any]] = {}
        self.subflow_depth: dict[str, int] = {}
        self.suspend_info: dict[str, Any] | None = None
        self.suspended_nodes: set[str] = set()
        self.resume_info: dict[str, Any] | None = None
        self.resume_data: Any = None
        self.trigger_target: str | None = None
        self.in_error_chain = False
        self.had_error = False
        self.error: str | None = None
        self.error_node_id: str | None = None
        self.deadline: float | None = None
        self._plans: dict[frozenset[str], Plan] = {}
        self._resources: dict[str, Any] = {}
        self._log_sink = settings.log
        self.start_id = ""
        self.main_scope: frozenset[str] = frozenset()

    # -- the run ----------------------------------------------------------------------------------
    def run(self) -> RunResult:
        started = time.time()
        clock = time.monotonic()
        if self.settings.flow_timeout_seconds:
            self.deadline = clock + float(self.settings.flow_timeout_seconds)
        status = SUCCEEDED
        try:
            status = self._run()
        finally:
            self._close_resources()
        duration = int((time.monotonic() - clock) * 1000)
        self.log("info", "Finished processing Flow", status=status, duration_ms=duration)
        mask = self.masker.data
        return RunResult(
            status,
            outputs=mask(self.outputs),
            node_results=mask(self.records),
            checkpoint=checkpoints.snapshot(self) if status == SUSPENDED else None,
            error=self.masker.text(self.error) if self.error else None,
            error_node_id=self.error_node_id,
            started_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started)),
            duration_ms=duration,
        )

    def _run(self) -> str:
        entry = self.entry
        if self.checkpoint:
            entry = entry or self.checkpoint.get("entry_node_id")
            checkpoints.restore(self, self.checkpoint)
        if entry and entry not in self.graph.nodes:
            self.log("warning", "entry node not found; starting from the trigger that fired", entry=entry)
            entry = None
        fired = self._fired_trigger()
        # From the trigger that fired (named in the trigger data, so re-runs too), unless an entry is given.
        start = self.graph.start_node(entry or fired)
        if start is None:
            self.error = "no start node specified"
            return FAILED
        self.start_id = start.id
        self._inject_trigger_data(fired, start)
        try:
            if not self.in_error_chain:
                scope = self.graph.without_loop_bodies(self.graph.reachable(start.id))
                self.main_scope = scope
                self.walk(scope, seeds={start.id}, kind="main")
            else:
                self.main_scope = frozenset(self.checkpoint.get("reachable_nodes") or ())  # type: ignore[union-attr]
                control.run_error_chain(self, None)
        except Cancelled:
            self.error = "the run was cancelled"
            return CANCELLED
        except FlowTimeout:
            self.error = f"the flow exceeded its timeout of {self.settings.flow_timeout_seconds} s"
            return FAILED
        except NodeFailure as failure:
            self.had_error = True
            self.error = failure.message
            self.error_node_id = failure.node_id
            try:
                control.run_error_chain(self, failure)
            except NodeFailure as chain_failure:
                self.log("error", "the On Error chain failed", error=chain_failure.message)
            except (Cancelled, FlowTimeout):
                return CANCELLED if self.cancel is not None and self.cancel.is_set() else FAILED
            if self.suspend_info is not None:
                return SUSPENDED
            return FAILED
        if self.suspend_info is not None:
            return SUSPENDED
        return FAILED if self.had_error else SUCCEEDED

    def _fired_trigger(self) -> str | None:
        """The trigger node the trigger data names: its `__node_id`, else its channel's trigger kind."""
        data, graph = self.trigger_data, self.graph
        named = data.get("__node_id")
        if isinstance(named, str) and named in graph.nodes and graph.nodes[named].is_trigger:
            return named
        if isinstance(data.get("channel_type"), str):
            wanted = {f"trigger/{data['channel_type']}", f"trigger/{data['channel_type'].split('_')[0]}"}
            return next((n.id for n in graph.triggers() if n.action in wanted or n.label in wanted), None)
        return None

    def _inject_trigger_data(self, fired: str | None, start: FlowNode) -> None:
        first = start.id if start.is_trigger else next((n.id for n in self.graph.triggers()), None)
        target = self.trigger_target = fired or first
        if target is not None:
            self.injected[target] = {
                k: v for k, v in self.trigger_data.items() if k not in _SKIP_TRIGGER_KEYS
            }

    # -- the scheduler ----------------------------------------------------------------------------
    def plan(self, scope: frozenset[str]) -> Plan:
        plan = self._plans.get(scope)
        if plan is None:
            plan = self._plans[scope] = Plan(self.graph, scope)
        return plan

    def walk(self, scope: frozenset[str], *, seeds: set[str], kind: str) -> None:
        """Run every node of ``scope`` that the active edges reach; raise on failure."""
        graph = self.graph
        plan = self.plan(scope)
        remaining = dict(plan.deps)
        dependents = plan.dependents
        active: set[str] = set()
        ready: deque[str] = deque()
        pruned: deque[str] = deque()

        def decide(node_id: str) -> None:
            if (
                node_id in active
                or node_id in seeds
                or not graph.in_edges[node_id]
                or self.external_active(node_id, scope)
            ):
                ready.append(node_id)
            else:
                pruned.append(node_id)

        def settle(node_id: str, ran: bool, only: frozenset[str] | None = None) -> None:
            if ran:
                route = self.routes.get(node_id)
                for edge in graph.out_edges[node_id]:
                    if edge.target in scope and (route is None or edge.handle in route):
                        active.add(edge.target)
            for child in dependents[node_id]:
                if only is not None and child not in only:
                    continue
                remaining[child] -= 1
                if remaining[child] == 0:
                    decide(child)

        for node_id in plan.order:
            if remaining[node_id] == 0:
                decide(node_id)
        while ready or pruned:
            if pruned:
                settle(pruned.popleft(), False)
                continue
            node_id = ready.popleft()
            outcome = self.execute(graph.nodes[node_id], kind)
            if outcome is DONE:
                if kind == "main":
                    checkpoints.progressed(self, node_id)
                settle(node_id, True)
            elif outcome is not PENDING:  # suspended with a delivery hand-off: only those children go on
                settle(node_id, True, outcome)

    def external_active(self, node_id: str, scope: frozenset[str]) -> bool:
        for edge in self.graph.in_edges[node_id]:
            source = edge.source
            if source in scope or source not in self.results:
                continue
            route = self.routes.get(source)
            if route is None or edge.handle in route:
                return True
        return False

    def execute(self, node: FlowNode, kind: str) -> Any:
        if node.id in self.results:  # restored from a checkpoint: do not run again
            return DONE
        self.check_stop(node)
        if node.class_type == 5:
            control.run_loop(self, node, kind)
            return DONE
        return noderun.run_node(self, node, kind)

    def check_stop(self, node: FlowNode | None) -> None:
        if self.cancel is not None and self.cancel.is_set():
            if node is not None:
                self.record(node, "cancelled", error="the run was cancelled before this node started")
            raise Cancelled()
        if self.deadline is not None and time.monotonic() >= self.deadline:
            raise FlowTimeout()

    # -- parents, records, events --------------------------------------------------------------------
    def active_parents(self, node: FlowNode) -> list[tuple[str, dict[str, Any]]]:
        parents = []
        seen = set()
        for edge in self.graph.in_edges[node.id]:
            source = edge.source
            if source in seen:
                continue
            outputs = self.results.get(source)
            if outputs is None:
                continue
            route = self.routes.get(source)
            if route is not None and edge.handle not in route:
                continue
            seen.add(source)
            parents.append((source, outputs))
        return parents

    def record(
        self,
        node: FlowNode,
        status: str,
        *,
        inputs: dict[str, Any] | None = None,
        outputs: dict[str, Any] | None = None,
        error: str | None = None,
        duration_ms: int = 0,
        attempt: int = 1,
        emit_only: bool = False,
    ) -> None:
        """Keep the per-node record (last one wins) and emit the matching event."""
        if not emit_only:
            entry: dict[str, Any] = {
                "id": node.id,
                "action": node.action,
                "label": node.label,
                "status": status,
                "duration_ms": duration_ms,
            }
            if inputs is not None:
                entry["inputs"] = inputs
            if outputs is not None:
                entry["outputs"] = outputs
            if error:
                entry["error"] = error
            if attempt > 1:
                entry["attempt"] = attempt
            self.records[node.id] = entry
        if self.on_event is None:
            return
        event: dict[str, Any] = {"id": node.id, "action": node.action, "label": node.label, "status": status}
        if duration_ms > 0:
            event["duration_ms"] = duration_ms
        if error:
            event["error"] = error
        if inputs is not None:
            event["inputs"] = inputs
        if outputs is not None:
            event["outputs"] = outputs
        if attempt > 1:
            event["attempt"] = attempt
        if self.masker:
            event = self.masker.data(event)
        self.on_event(truncate_strings(event, self.settings.max_event_string_bytes))

    def log(self, level: str, message: str, **fields: Any) -> None:
        if self.masker:
            message = self.masker.text(message)
            fields = self.masker.data(fields)
        sink = self._log_sink
        if sink is not None:
            sink(level, message, fields)
            return
        import logging

        logger = logging.getLogger("flomation.executor")
        extra = " ".join(f"{k}={v}" for k, v in fields.items())
        logger.log(getattr(logging, level.upper(), logging.INFO), f"{message} {extra}".rstrip())

    # -- per-run resources ----------------------------------------------------------------------------
    def resource(self, name: str, factory: Callable[[], Any]) -> Any:
        value = self._resources.get(name)
        if value is None:
            value = self._resources[name] = factory()
        return value

    def _close_resources(self) -> None:
        for value in self._resources.values():
            close = getattr(value, "close", None)
            if close is not None:
                try:
                    close()
                except Exception as exc:  # closing must never hide the run's own outcome
                    self.log("warning", "could not close a run resource", error=str(exc))
        self._resources.clear()
