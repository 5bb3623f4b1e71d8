"""Run-time limits and switches for the engine (the runner's configuration maps onto these)."""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

_FIELDS = {
    # script/bash runs only when True: it is not sandboxed beyond a temporary directory.
    "allow_shell": False,
    # The executor's hard cap for any loop (a node's own max_iterations stops it normally;
    # reaching this cap fails the loop node).
    "max_loop_iterations": 10_000,
    # Nested or recursive sub-flow calls per sub-flow name.
    "max_subflow_depth": 10,
    # Whole-run wall-clock limit in seconds (None: no limit).
    "flow_timeout_seconds": None,
    # Script nodes: default and maximum wall-clock time per node, and memory.
    "script_timeout_seconds": 30.0,
    "script_max_timeout_seconds": 300.0,
    "script_memory_mb": 128,
    # CPU seconds the persistent Python sandbox may use over one run (RLIMIT_CPU).
    "python_cpu_seconds": 300,
    # Keep one unused Python sandbox booting in the background for the next run (long-lived
    # processes such as the runner's warm pool; the CLI turns it off).
    "python_prestart": True,
    # Interpreter for the Python sandbox (defaults to the one running the engine).
    "python_executable": None,
    # web/request: the ceiling for a node's timeout_seconds.
    "http_max_timeout_seconds": 300.0,
    # A template miss fails the node instead of rendering "".
    "strict_templates": False,
    # Strings longer than this (UTF-8 bytes) are cut in events.
    "max_event_string_bytes": 4096,
    # Log sink: log(level, message, fields). None: the standard logging module.
    "log": None,
}


class ExecutorSettings:
    """Keyword-only settings; unknown names are refused so a typo never goes unnoticed."""

    __slots__ = tuple(_FIELDS)

    allow_shell: bool
    max_loop_iterations: int
    max_subflow_depth: int
    flow_timeout_seconds: float | None
    script_timeout_seconds: float
    script_max_timeout_seconds: float
    script_memory_mb: int
    python_cpu_seconds: int
    python_prestart: bool
    python_executable: str | None
    http_max_timeout_seconds: float
    strict_templates: bool
    max_event_string_bytes: int
    log: Callable[[str, str, dict[str, Any]], None] | None

    def __init__(self, **values: Any) -> None:
        unknown = set(values) - set(_FIELDS)
        if unknown:
            raise TypeError(f"unknown executor setting(s): {', '.join(sorted(unknown))}")
        for name, default in _FIELDS.items():
            setattr(self, name, values.get(name, default))

    def replace(self, **values: Any) -> ExecutorSettings:
        current = {name: getattr(self, name) for name in _FIELDS}
        current.update(values)
        return ExecutorSettings(**current)

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={getattr(self, name)!r}" for name in _FIELDS if name != "log")
        return f"ExecutorSettings({fields})"
