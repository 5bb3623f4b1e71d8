"""Flomation's runner invoking this executor as it invokes its own: Go-style flags, no command word.

    executor --output json --path execution.flow --entry NODE --id EXEC --flow FLOW --api URL
             --runner NAME [--environment ENV] [--trigger-data FILE] [--context FILE]
             [--checkpoint FILE] [--key FILE]
    executor --version          # the bare version, no newline (the runner stores it as is)
    executor --manifest FILE    # the node catalogue written to FILE

The run writes `state.json` in the working directory with Flomation's fields and numeric status (0 succeeded,
1 failed, 2 cancelled, 3 suspended, as its runner reads it) and exits 0 once a state was written, 1 when the
flow cannot be loaded, as Flomation's executor does. Secrets are not fetched from Flomation's API with the
runner's key: they come from FLOMATION_SECRET_<NAME> / FLOMATION_ENV_<NAME>, as for any run of this executor.
"""

from __future__ import annotations

import json
import sys
import time

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

# Flomation's state.json status numbers.
FLOMATION_STATUS = {"succeeded": 0, "failed": 1, "cancelled": 2, "suspended": 3}

# Go flag name -> takes a value. Flags read from Flomation's executor; the ones marked ignored are accepted
# so its runner's command line works, and logged once.
_FLAGS = {
    "path": True,
    "entry": True,
    "id": True,
    "flow": True,
    "api": True,
    "environment": True,
    "runner": True,
    "output": True,
    "user": True,
    "password": True,
    "token": True,
    "key": True,
    "identity": True,
    "trigger-data": True,
    "context": True,
    "checkpoint": True,
    "manifest": True,
    "version": False,
    "debug": False,
}
_IGNORED = ("api", "environment", "user", "password", "token", "key", "identity")


class InvocationError(Exception):
    pass


def is_flomation_invocation(argv: list[str]) -> bool:
    """True when the first argument is one of Flomation's flags (ours start with a command word)."""
    if not argv or not argv[0].startswith("-"):
        return False
    return argv[0].lstrip("-").partition("=")[0] in _FLAGS


def parse_go_flags(argv: list[str]) -> dict[str, Any]:
    """Go's flag syntax: `-name value`, `--name value`, `-name=value`; booleans alone or `=true/false`.
    Parsing stops at the first argument that is not a flag, as Go's does; such arguments are refused."""
    flags: dict[str, Any] = {}
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg == "--":
            i += 1
            break
        if not arg.startswith("-") or arg == "-":
            break
        name, eq, value = arg.lstrip("-").partition("=")
        if name not in _FLAGS:
            raise InvocationError(f"flag provided but not defined: -{name}")
        if _FLAGS[name]:
            if not eq:
                i += 1
                if i >= len(argv):
                    raise InvocationError(f"flag needs an argument: -{name}")
                value = argv[i]
            flags[name] = value
        else:
            flags[name] = value.lower() not in ("false", "0", "f") if eq else True
        i += 1
    if i < len(argv):
        raise InvocationError(f"unexpected argument {argv[i]!r}")
    return flags


def run_options(flags: dict[str, Any]) -> dict[str, Any]:
    """Our `run` options for Flomation's flags."""
    options: dict[str, Any] = {"--flow": flags["path"], "--state": "state.json", "--numeric-status": True}
    for name in ("entry", "trigger-data", "context", "checkpoint"):
        if flags.get(name):
            options[f"--{name}"] = flags[name]
    return options


def flomation_state(state: dict[str, Any], *, execution_id: str, flow_id: str) -> dict[str, Any]:
    """Our state.json with Flomation's field names and numeric status added (ours kept beside them)."""
    duration = state.get("duration_ms") or 0
    converted = {
        **state,
        "id": execution_id,
        "flow_id": flow_id,
        "status": FLOMATION_STATUS.get(str(state.get("status")), 1),
        "duration": duration,
        "billingDuration": duration,
    }
    return converted


def json_log(level: str, message: str, fields: dict[str, Any]) -> None:
    """A log line as Flomation's executor writes with `--output json` (logrus' JSON formatter)."""
    entry = {
        **fields,
        "level": level,
        "msg": message,
        "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    sys.stderr.write(json.dumps(entry, default=str, sort_keys=True) + "\n")
    sys.stderr.flush()


def ignored_flags(flags: dict[str, Any]) -> list[str]:
    """The flags that would make Flomation's executor fetch an environment's secrets from its API (an
    environment other than "default"); this executor reads them from its own environment instead."""
    if flags.get("environment") in (None, "", "default"):
        return []
    return [name for name in _IGNORED if flags.get(name)]


def flomation_main(argv: list[str]) -> int:
    """Flomation's runner's invocation (see flomation_invocation): exit 0 once state.json is written."""
    from flomation.executor.cli import EXIT_SUCCEEDED, UsageError, _stderr_log, command_run

    try:
        flags = parse_go_flags(argv)
    except InvocationError as exc:
        sys.stderr.write(f"flomation-executor: {exc}\n")
        return 2  # what Go's flag package exits with
    if flags.get("version"):
        from flomation import __version__

        sys.stdout.write(__version__)  # bare, no newline, as Flomation's executor prints it
        return EXIT_SUCCEEDED
    if flags.get("manifest"):
        from flomation.executor.registry import manifest

        with open(flags["manifest"], "w", encoding="utf-8") as handle:
            json.dump(manifest(), handle, sort_keys=True, default=str)
        return EXIT_SUCCEEDED
    log = json_log if str(flags.get("output", "")).lower() == "json" else _stderr_log
    if not flags.get("path"):
        log("error", "no path specified", {})
        return 1
    for name in ignored_flags(flags):
        log(
            "warning",
            "environment values are read from FLOMATION_SECRET_<NAME>/FLOMATION_ENV_<NAME>, not fetched",
            {"flag": name},
        )
    options = run_options(flags)
    options.update(_log=log, _id=flags.get("id", ""), _flow=flags.get("flow", ""))
    try:
        command_run(options)
    except UsageError as exc:
        log("error", "Unable to load flow", {"error": str(exc)})
        return 1
    return EXIT_SUCCEEDED
