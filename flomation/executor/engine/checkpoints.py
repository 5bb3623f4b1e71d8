"""Checkpoints: the state a run needs to go on elsewhere, taken when it suspends and after each node.

A suspended run (wait, pause, approval) writes one and is resumed from it. A runner that asks for progress
(`on_progress`) also gets one after every node of the main pass that finished, and the API keeps the last:
when the runner is lost and the execution is claimed again, the new attempt restores it and goes on after
the last node that finished, so only the node that was in flight runs again. Values are masked like the
events are, so a checkpoint never carries a secret.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from flomation.executor.engine.execution import Execution

VERSION = 1


def snapshot(ex: Execution) -> dict[str, Any]:
    """The run's state as a JSON-safe dict (see `restore`)."""
    results = {k: v for k, v in ex.results.items() if k not in ex.suspended_nodes}
    routes = {
        k: (sorted(v) if v is not None else None)
        for k, v in ex.routes.items()
        if k in results and v is not None
    }
    mask = ex.masker.data
    return {
        "version": VERSION,
        "node_results": mask(results),
        "routes": routes,
        "variables": mask(ex.variables),
        "outputs": mask(ex.outputs),
        "node_execution_results": mask(ex.records),
        "entry_node_id": ex.start_id,
        "reachable_nodes": sorted(ex.main_scope),
        "in_error_chain": ex.in_error_chain,
        "had_error": ex.had_error,
        "error": ex.masker.text(ex.error) if ex.error else None,
        "error_node_id": ex.error_node_id,
        "suspend_info": ex.suspend_info,
        "resume_data": None,
    }


def restore(ex: Execution, checkpoint: dict[str, Any]) -> None:
    """Puts a checkpoint's state back; the nodes it holds results for do not run again."""
    ex.results = {
        k: dict(v) for k, v in (checkpoint.get("node_results") or {}).items() if isinstance(v, dict)
    }
    ex.routes = {k: frozenset(v) for k, v in (checkpoint.get("routes") or {}).items() if isinstance(v, list)}
    ex.variables = dict(checkpoint.get("variables") or {})
    ex.outputs = dict(checkpoint.get("outputs") or {})
    ex.records = dict(checkpoint.get("node_execution_results") or {})
    ex.in_error_chain = bool(checkpoint.get("in_error_chain"))
    ex.had_error = bool(checkpoint.get("had_error"))
    ex.error = checkpoint.get("error")
    ex.error_node_id = checkpoint.get("error_node_id")
    info = checkpoint.get("suspend_info")
    ex.resume_info = info if isinstance(info, dict) else None
    ex.resume_data = checkpoint.get("resume_data")
    if ex.resume_info:
        ex.results.pop(ex.resume_info.get("suspend_node_id"), None)
    for node_id in list(ex.results):  # the flow may have changed since: drop unknown nodes
        if node_id not in ex.graph.nodes:
            ex.results.pop(node_id)
    ex.restored = frozenset(ex.results)


def progressed(ex: Execution, node_id: str) -> None:
    """Hands the runner a checkpoint after `node_id` finished in the main pass (when it asked for them)."""
    if ex.on_progress is None or ex.in_error_chain or node_id in ex.restored:
        return
    if node_id not in ex.results or node_id in ex.suspended_nodes:
        return
    ex.on_progress(snapshot(ex))
