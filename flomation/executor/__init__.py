"""The flow engine and node library. Imports nothing from Django or the other apps.

Public API (imported lazily so ``flomation-executor`` starts fast)::

    validate_flow(flow) -> list[FlowError]
    manifest() -> dict
    run_flow(flow, *, trigger_data=None, context=None, entry=None, checkpoint=None,
             secrets=None, on_event=None, cancel=None, settings=None) -> RunResult
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from flomation.executor.engine import run_flow
    from flomation.executor.engine.errors import NodeError, Suspend
    from flomation.executor.engine.result import RunResult
    from flomation.executor.flow_error import FlowError
    from flomation.executor.providers import EnvironSecrets, SecretProvider, StaticSecrets
    from flomation.executor.registry import Input, NodeSpec, Output, manifest, node
    from flomation.executor.settings import ExecutorSettings
    from flomation.executor.validate import validate_flow

_EXPORTS = {
    "run_flow": "flomation.executor.engine",
    "RunResult": "flomation.executor.engine.result",
    "validate_flow": "flomation.executor.validate",
    "FlowError": "flomation.executor.flow_error",
    "manifest": "flomation.executor.registry",
    "node": "flomation.executor.registry",
    "NodeSpec": "flomation.executor.registry",
    "Input": "flomation.executor.registry",
    "Output": "flomation.executor.registry",
    "ExecutorSettings": "flomation.executor.settings",
    "SecretProvider": "flomation.executor.providers",
    "StaticSecrets": "flomation.executor.providers",
    "EnvironSecrets": "flomation.executor.providers",
    "NodeError": "flomation.executor.engine.errors",
    "Suspend": "flomation.executor.engine.errors",
}

__all__ = [
    "EnvironSecrets",
    "ExecutorSettings",
    "FlowError",
    "Input",
    "NodeError",
    "NodeSpec",
    "Output",
    "RunResult",
    "SecretProvider",
    "StaticSecrets",
    "Suspend",
    "manifest",
    "node",
    "run_flow",
    "validate_flow",
]


def __getattr__(name: str) -> object:
    module_name = _EXPORTS.get(name)
    if module_name is None:
        raise AttributeError(f"module 'flomation.executor' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module_name), name)
    globals()[name] = value
    return value
