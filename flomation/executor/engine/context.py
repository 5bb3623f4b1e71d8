"""NodeContext: what a node's ``run(ctx, inputs)`` may see and do."""

from __future__ import annotations

import time

from flomation.executor.engine.errors import Cancelled, NodeTimeout, Suspend

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from flomation.executor.engine.execution import Execution
    from flomation.executor.graph import FlowNode
    from flomation.executor.settings import ExecutorSettings
    from flomation.lib.egress import EgressDenied, EgressPolicy

_POLL = 0.05


class NodeContext:
    """Per node run. Blocking work should go through :meth:`sleep` or :meth:`call_blocking` so it
    stops promptly on cancellation and on the node's or the flow's timeout."""

    __slots__ = (
        "_execution",
        "node",
        "iteration",
        "parents",
        "parent_outputs",
        "deadline",
        "attempt",
        "_abandoned",
    )

    def __init__(
        self,
        execution: Execution,
        node: FlowNode,
        *,
        parents: list[tuple[str, dict[str, Any]]],
        parent_outputs: dict[str, Any],
        deadline: float | None,
        iteration: int = 0,
        attempt: int = 1,
    ) -> None:
        self._execution = execution
        self.node = node
        self.parents = parents
        self.parent_outputs = parent_outputs
        self.deadline = deadline
        self.iteration = iteration
        self.attempt = attempt
        self._abandoned = False

    # -- identity and data ----------------------------------------------------------------------
    @property
    def node_id(self) -> str:
        return self.node.id

    @property
    def settings(self) -> ExecutorSettings:
        return self._execution.settings

    @property
    def idempotency_key(self) -> str:
        """The same key for this node of this execution (and loop iteration) on every try and every attempt
        after a lost runner: a service that honours it does the node's effect once."""
        import hashlib

        execution_id = str(self.context.get("execution_id") or "")
        if not execution_id:  # a run outside the platform: one key per run
            execution_id = self._execution.run_id
        seed = f"{execution_id}\x00{self.node.id}\x00{self.iteration}"
        return "flo-" + hashlib.sha256(seed.encode()).hexdigest()[:40]

    @property
    def context(self) -> dict[str, Any]:
        """The execution context (``${flow.*}``): flow_id, execution_id, api_url, ..."""
        return self._execution.context

    @property
    def variables(self) -> dict[str, Any]:
        return self._execution.variables

    def set_variable(self, name: str, value: Any) -> None:
        self._execution.variables[name] = value

    def set_output(self, name: str, value: Any) -> None:
        """Set a flow output (what ends up in ``state.json`` ``outputs``)."""
        self._execution.outputs[name] = value

    @property
    def trigger_data(self) -> dict[str, Any] | None:
        execution = self._execution
        return execution.trigger_data if execution.trigger_target == self.node.id else None

    @property
    def resume_data(self) -> Any:
        """The data the API patched into the checkpoint, when this node is the one resumed."""
        execution = self._execution
        if execution.resume_info and execution.resume_info.get("suspend_node_id") == self.node.id:
            return execution.resume_data
        return None

    @property
    def resume_info(self) -> dict[str, Any] | None:
        """The ``suspend_info`` this node wrote before, when this run resumes it."""
        info = self._execution.resume_info
        if info and info.get("suspend_node_id") == self.node.id:
            return info
        return None

    @property
    def secrets(self) -> Any:
        return self._execution.secrets

    @property
    def egress(self) -> EgressPolicy:
        """The policy every outbound connection of this node goes through (strict unless configured)."""
        policy = self._execution.settings.egress
        if policy is None:
            from flomation.lib.egress import EgressPolicy

            policy = EgressPolicy()
        return policy

    def egress_refused(self, error: EgressDenied) -> None:
        """Logs a refused connection once, with the organisation and this node (never a secret)."""
        from flomation.lib.egress import refusal_logged

        context = self._execution.context
        execution = context.get("execution_id")
        source = f"execution {execution} node {self.node.id}" if execution else f"node {self.node.id}"
        refusal_logged(error, organisation=context.get("organisation_id") or "(none)", source=source)

    def resource(self, name: str, factory: Callable[[], Any]) -> Any:
        """A per-run object (sandbox process, HTTP session) created on first use, closed at the end."""
        return self._execution.resource(name, factory)

    def mask(self, value: Any) -> None:
        """Treat ``value`` as a secret from now on (masked in events, state and logs)."""
        self._execution.masker.add(value)

    def progress(
        self, status: str, *, inputs: dict[str, Any] | None = None, outputs: dict[str, Any] | None = None
    ) -> None:
        """Report how this node is getting on (a reply being written, a model or tool call of an agent) as
        a step event with its own `status`; the node's own record, and so its result, is left alone."""
        self._execution.record(self.node, status, inputs=inputs, outputs=outputs, emit_only=True)

    def add_usage(self, *, input_tokens: int, output_tokens: int) -> None:
        """Count model tokens this node used toward the run's total (reported with its result)."""
        execution = self._execution
        usage = getattr(execution, "ai_usage", None)
        if usage is None:
            usage = execution.ai_usage = {"input_tokens": 0, "output_tokens": 0}  # type: ignore[attr-defined]
        usage["input_tokens"] += max(0, int(input_tokens))
        usage["output_tokens"] += max(0, int(output_tokens))

    def log(self, level: str, message: str, **fields: Any) -> None:
        self._execution.log(level, message, node=self.node.id, **fields)

    # -- suspension, cancellation, time -----------------------------------------------------------
    def suspend(
        self,
        reason: str,
        *,
        resume_at: str | None = None,
        outputs: dict[str, Any] | None = None,
        **extra: Any,
    ) -> Suspend:
        """Build the Suspend signal; the node ``raise``s it."""
        return Suspend(reason, resume_at=resume_at, outputs=outputs, **extra)

    def cancelled(self) -> bool:
        if self._abandoned:
            return True
        cancel = self._execution.cancel
        return cancel is not None and cancel.is_set()

    def remaining(self, limit: float | None = None) -> float | None:
        """Seconds left before the node's (or the flow's) deadline, capped at ``limit``."""
        if self.deadline is None:
            return limit
        left = max(0.0, self.deadline - time.monotonic())
        return left if limit is None else min(left, limit)

    def check(self) -> None:
        """Raise if the run was cancelled or the deadline passed."""
        if self.cancelled():
            raise Cancelled()
        if self.deadline is not None and time.monotonic() >= self.deadline:
            raise NodeTimeout("the node ran out of time")

    def sleep(self, seconds: float) -> bool:
        """Sleep up to ``seconds``; False when cancelled first. Raises NodeTimeout at the deadline."""
        end = time.monotonic() + max(0.0, seconds)
        cancel = self._execution.cancel
        while True:
            if self.cancelled():
                return False
            now = time.monotonic()
            if self.deadline is not None and now >= self.deadline and self.deadline < end:
                raise NodeTimeout("the node ran out of time")
            if now >= end:
                return True
            step = min(end - now, _POLL if cancel is None else 0.25)
            if self.deadline is not None:
                step = min(step, max(0.0, self.deadline - now))
            if cancel is not None:
                cancel.wait(step)
            else:
                time.sleep(step)

    def call_blocking(self, fn: Callable[[], Any], *, on_abort: Callable[[], None] | None = None) -> Any:
        """Run ``fn`` in a helper thread, polling for cancellation and the deadline meanwhile.

        On cancel or timeout ``on_abort`` is called (close the socket, kill the process) and
        Cancelled / NodeTimeout is raised; ``fn``'s late result is dropped.
        """
        import threading

        box: dict[str, Any] = {}
        done = threading.Event()

        def target() -> None:
            try:
                box["value"] = fn()
            except BaseException as exc:  # handed back to the caller below
                box["error"] = exc
            finally:
                done.set()

        thread = threading.Thread(target=target, name=f"flomation-node-{self.node.id}", daemon=True)
        thread.start()
        while not done.wait(_POLL):
            try:
                self.check()
            except (Cancelled, NodeTimeout):
                if on_abort is not None:
                    on_abort()
                raise
        if "error" in box:
            raise box["error"]
        return box.get("value")
