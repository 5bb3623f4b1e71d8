"""The flow engine: ``run_flow`` validates a flow, then walks it (see ``execution``)."""

from __future__ import annotations

from flomation.executor.engine.execution import Execution
from flomation.executor.engine.fence import FencedCancel
from flomation.executor.engine.result import FAILED, RunResult
from flomation.executor.graph import Graph
from flomation.executor.registry import lookup
from flomation.executor.settings import ExecutorSettings
from flomation.executor.validate import check_graph, to_flow_errors

TYPE_CHECKING = False
if TYPE_CHECKING:
    import threading
    from collections.abc import Callable
    from typing import Any

    from flomation.executor.providers import SecretProvider


def run_flow(
    flow: dict[str, Any],
    *,
    trigger_data: dict[str, Any] | None = None,
    context: dict[str, Any] | None = None,
    entry: str | None = None,
    checkpoint: dict[str, Any] | None = None,
    secrets: SecretProvider | None = None,
    on_event: Callable[[dict[str, Any]], None] | None = None,
    cancel: threading.Event | None = None,
    settings: ExecutorSettings | None = None,
    fence: Callable[[], bool] | None = None,
    on_progress: Callable[[dict[str, Any]], None] | None = None,
) -> RunResult:
    """Run ``flow`` once and return its result. Re-entrant and thread-safe: every piece of run
    state lives in this call; nothing global is touched (signal handling is the CLI's job).

    An invalid flow does not run: the result is ``failed`` with ``validation_errors`` set.

    ``fence`` is polled wherever cancellation is (before every node, and by waiting nodes): once it
    returns False no further node starts and the run ends ``cancelled`` (a runner passes one that holds
    while its lease on the execution may still be valid: past it, another runner may own the execution).

    ``on_progress`` receives a checkpoint after each node of the main pass finishes; a run given the
    last one as ``checkpoint`` goes on after that node (see ``checkpoints``).
    """
    settings = settings or ExecutorSettings()
    graph = Graph(flow, lookup)
    problems = check_graph(graph)
    if problems:
        errors = to_flow_errors(problems)
        summary = "; ".join(str(e) for e in errors[:5])
        return RunResult(FAILED, error=f"the flow is not valid: {summary}", validation_errors=errors)
    if fence is not None:
        cancel = FencedCancel(cancel, fence)  # type: ignore[assignment]
    execution = Execution(
        graph,
        trigger_data=trigger_data,
        context=context,
        entry=entry,
        checkpoint=checkpoint,
        secrets=secrets,
        on_event=on_event,
        cancel=cancel,
        settings=settings,
        on_progress=on_progress,
    )
    result = execution.run()
    result.usage = dict(getattr(execution, "ai_usage", None) or {})
    return result


__all__ = ["RunResult", "run_flow"]
