"""Run-time limits and switches for the engine (the runner's configuration maps onto these).

The script sandbox's settings that an operator sets per host default to environment variables
(``FLOMATION_SCRIPT_*``, see ``_ENVIRON``); a value passed to ExecutorSettings wins.
"""

from __future__ import annotations

import os

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from flomation.lib.egress import EgressPolicy

_FIELDS = {
    # script/bash runs only when True (it runs in the same kernel sandbox as Python).
    "allow_shell": True,
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
    # How scripts are isolated: "namespaces" (bubblewrap; scripts are refused where it cannot run) or
    # "process" (the operator's explicit opt-in to plain processes where the kernel has no namespaces).
    "script_isolation": "namespaces",
    # Network for scripts: "none" (their namespace has only its own loopback) or "egress" (an HTTP proxy on
    # their loopback, HTTP(S)_PROXY set, every destination checked by the run's egress policy).
    "script_network": "none",
    # Memory of all of one run's script processes together, in MB (a cgroup per run; 0: no such cap, each
    # process keeps script_memory_mb).
    "script_run_memory_mb": 0,
    # The bubblewrap program.
    "script_bwrap": "bwrap",
    # When the executor runs as root each run gets its own uid from this range (never a real user's).
    "script_uid_base": 1_500_000_000,
    "script_uid_count": 10_000,
    # Where runs' workspaces (/work) are created (None: the system's temporary directory).
    "script_workspace_root": None,
    # The operator's read-only script packages (a directory `manage.py install_script_packages` fills).
    "script_packages_dir": None,
    # Per sandbox: processes (RLIMIT_NPROC), largest file written (MB), largest result a script returns (MB).
    "script_max_processes": 64,
    "script_max_file_mb": 256,
    "script_max_output_mb": 32,
    # git/* nodes may use file:// URLs and local paths (repositories on the runner's own disk), and only
    # where the egress policy allows local access as well.
    "git_allow_file_urls": False,
    # web/request: the ceiling for a node's timeout_seconds.
    "http_max_timeout_seconds": 300.0,
    # What outbound connections may reach (flomation.lib.egress.EgressPolicy). None: the strict default
    # (public addresses only); the runner passes the platform's and organisation's policy, or its own.
    "egress": None,
    # A template miss fails the node instead of rendering "".
    "strict_templates": False,
    # Strings longer than this (UTF-8 bytes) are cut in events.
    "max_event_string_bytes": 4096,
    # Log sink: log(level, message, fields). None: the standard logging module.
    "log": None,
}


# setting -> (environment variable, type)
_ENVIRON = {
    "script_isolation": ("FLOMATION_SCRIPT_ISOLATION", str),
    "script_network": ("FLOMATION_SCRIPT_NETWORK", str),
    "script_run_memory_mb": ("FLOMATION_SCRIPT_RUN_MEMORY_MB", int),
    "script_bwrap": ("FLOMATION_SCRIPT_BWRAP", str),
    "script_uid_base": ("FLOMATION_SCRIPT_UID_BASE", int),
    "script_uid_count": ("FLOMATION_SCRIPT_UID_COUNT", int),
    "script_workspace_root": ("FLOMATION_SCRIPT_WORKSPACE_ROOT", str),
    "script_packages_dir": ("FLOMATION_SCRIPT_PACKAGES_DIR", str),
    "git_allow_file_urls": ("FLOMATION_GIT_ALLOW_FILE_URLS", "bool"),
}


def _from_environ(name: str, default: Any) -> Any:
    variable, kind = _ENVIRON[name]
    raw = os.environ.get(variable, "").strip()
    if not raw:
        return default
    if kind == "bool":
        if raw.lower() in ("1", "true", "yes", "on"):
            return True
        if raw.lower() in ("0", "false", "no", "off"):
            return False
        raise ValueError(f"{variable}={raw!r} is not valid: expected true or false")
    try:
        return kind(raw)
    except ValueError:
        raise ValueError(f"{variable}={raw!r} is not valid: expected {kind.__name__}") from None


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
    script_isolation: str
    script_network: str
    script_run_memory_mb: int
    script_bwrap: str
    script_uid_base: int
    script_uid_count: int
    script_workspace_root: str | None
    script_packages_dir: str | None
    script_max_processes: int
    script_max_file_mb: int
    script_max_output_mb: int
    git_allow_file_urls: bool
    http_max_timeout_seconds: float
    egress: EgressPolicy | None
    strict_templates: bool
    max_event_string_bytes: int
    log: Callable[[str, str, dict[str, Any]], None] | None

    def __init__(self, **values: Any) -> None:
        unknown = set(values) - set(_FIELDS)
        if unknown:
            raise TypeError(f"unknown executor setting(s): {', '.join(sorted(unknown))}")
        for name, default in _FIELDS.items():
            if name not in values and name in _ENVIRON:
                default = _from_environ(name, default)
            setattr(self, name, values.get(name, default))

    def replace(self, **values: Any) -> ExecutorSettings:
        current = {name: getattr(self, name) for name in _FIELDS}
        current.update(values)
        return ExecutorSettings(**current)

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={getattr(self, name)!r}" for name in _FIELDS if name != "log")
        return f"ExecutorSettings({fields})"
