"""``flomation-executor``: run a flow file, validate it, or print the node manifest.

Kept free of argparse, logging, typing and dataclasses on purpose: the cold start of a small run
is dominated by imports, and the runner may start one process per execution.
"""

from __future__ import annotations

import json
import os
import sys
import time

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

EXIT_SUCCEEDED = 0
EXIT_FAILED = 1
EXIT_CANCELLED = 2
EXIT_SUSPENDED = 3
EXIT_USAGE = 64  # bad arguments, unreadable input files, or a flow that does not validate
EXIT_INTERNAL = 70

EXIT_CODES = {
    "succeeded": EXIT_SUCCEEDED,
    "failed": EXIT_FAILED,
    "cancelled": EXIT_CANCELLED,
    "suspended": EXIT_SUSPENDED,
}

USAGE = """\
usage: flomation-executor run --flow FILE [--trigger-data FILE] [--context FILE] [--entry NODE]
                              [--checkpoint FILE] [--state FILE] [--secrets FILE]
                              [--timeout SECONDS] [--no-shell] [--allow-egress RANGES]
                              [--numeric-status]
       flomation-executor validate --flow FILE
       flomation-executor manifest
       flomation-executor --version     (the bare version)
       flomation-executor --path FILE [--entry NODE] [--output json] ...  (as Flomation's runner calls it)

run       run the flow: one __NODE__:{json} event per line on stdout, logs on stderr,
          the result in --state (default ./state.json); --numeric-status writes Flomation's
          status numbers there (0 succeeded, 1 failed, 2 cancelled, 3 suspended)
validate  check the flow; print {"valid": ..., "errors": [...]} and exit 0 or 64
manifest  print the node catalogue as JSON

egress    outbound connections reach public addresses only; --allow-egress 10.0.0.0/8,127.0.0.1/32
          allows more ranges. FLOMATION_EGRESS_POLICY (JSON, set by the runner) is the whole policy.

exit codes: 0 succeeded, 1 failed, 2 cancelled, 3 suspended, 64 usage error or invalid flow,
            70 internal error
"""

_OPTIONS = {
    "run": {
        "--flow": True,
        "--trigger-data": True,
        "--context": True,
        "--entry": True,
        "--checkpoint": True,
        "--state": True,
        "--secrets": True,
        "--timeout": True,
        "--no-shell": False,
        "--allow-shell": False,  # kept for existing scripts: bash is allowed unless --no-shell
        "--allow-egress": True,
        "--numeric-status": False,
    },
    "validate": {"--flow": True},
    "manifest": {},
}


class UsageError(Exception):
    pass


class HelpRequested(Exception):  # noqa: N818 - not an error
    pass


class CancelFlag:
    """A cancel event set from a signal handler (threading.Event's interface, without threading)."""

    __slots__ = ("_set",)

    def __init__(self) -> None:
        self._set = False

    def set(self) -> None:
        self._set = True

    def is_set(self) -> bool:
        return self._set

    def wait(self, timeout: float | None = None) -> bool:
        end = None if timeout is None else time.monotonic() + timeout
        while not self._set:
            left = 0.05 if end is None else min(0.05, end - time.monotonic())
            if left <= 0:
                break
            time.sleep(left)
        return self._set


def parse_args(argv: list[str]) -> tuple[str, dict[str, Any]]:
    if not argv:
        raise UsageError("a command is needed")
    if argv[0] in ("-h", "--help", "help"):
        raise HelpRequested()
    command = argv[0]
    if command == "--version":
        return "bare-version", {}
    if command == "version":
        return "version", {}
    if command not in _OPTIONS:
        raise UsageError(f"unknown command '{command}'")
    known = _OPTIONS[command]
    options: dict[str, Any] = {}
    i = 1
    while i < len(argv):
        arg = argv[i]
        if arg in ("-h", "--help"):
            raise HelpRequested()
        name, eq, value = arg.partition("=")
        if name not in known:
            raise UsageError(f"unknown option '{name}' for '{command}'")
        if known[name]:
            if not eq:
                i += 1
                if i >= len(argv):
                    raise UsageError(f"option '{name}' needs a value")
                value = argv[i]
            options[name] = value
        else:
            if eq:
                raise UsageError(f"option '{name}' takes no value")
            options[name] = True
        i += 1
    if command in ("run", "validate") and "--flow" not in options:
        raise UsageError(f"'{command}' needs --flow FILE")
    return command, options


def _read_json(path: str, what: str, *, want_object: bool = True) -> Any:
    try:
        if path == "-":
            text = sys.stdin.read()
        else:
            with open(path, encoding="utf-8") as handle:
                text = handle.read()
    except OSError as exc:
        raise UsageError(f"cannot read the {what} file {path!r}: {exc.strerror or exc}") from None
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise UsageError(f"the {what} file {path!r} is not valid JSON: {exc}") from None
    if want_object and not isinstance(value, dict):
        raise UsageError(f"the {what} file {path!r} must hold a JSON object")
    return value


def _read_json_text(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text


def _stderr_log(level: str, message: str, fields: dict[str, Any]) -> None:
    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    extra = "".join(f" {k}={_field(v)}" for k, v in fields.items())
    sys.stderr.write(f"{stamp} {level.upper()} {message}{extra}\n")
    sys.stderr.flush()


def _field(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return json.dumps(text) if (" " in text or not text) else text


def _write_state(path: str, state: dict[str, Any]) -> None:
    directory = os.path.dirname(os.path.abspath(path))
    tmp = os.path.join(directory, f".{os.path.basename(path)}.{os.getpid()}.tmp")
    with open(tmp, "w", encoding="utf-8") as handle:
        json.dump(state, handle, ensure_ascii=False, default=str, indent=2, sort_keys=True)
        handle.write("\n")
    os.replace(tmp, path)


def _install_signal_handlers(flag: CancelFlag) -> None:
    import signal

    def handler(signum: int, frame: Any) -> None:
        flag.set()
        _stderr_log("warning", "received a stop signal; cancelling the run", {"signal": signum})
        signal.signal(signum, signal.SIG_DFL)  # a second signal stops the process at once

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)


def command_run(options: dict[str, Any]) -> int:
    from flomation import __version__

    flow = _read_json(options["--flow"], "flow")
    trigger_data = _read_trigger_data(options["--trigger-data"]) if "--trigger-data" in options else None
    context = _read_json(options["--context"], "context") if "--context" in options else None
    checkpoint = _read_json(options["--checkpoint"], "checkpoint") if "--checkpoint" in options else None
    if checkpoint is not None and isinstance(checkpoint.get("checkpoint"), dict):
        checkpoint = checkpoint["checkpoint"]  # a whole state.json was given
    timeout = None
    if "--timeout" in options:
        try:
            timeout = float(options["--timeout"])
        except ValueError:
            raise UsageError("--timeout needs a number of seconds") from None
    from flomation.executor.providers import EnvironSecrets, StaticSecrets

    fallback = None
    if "--secrets" in options:
        data = _read_json(options["--secrets"], "secrets")
        fallback = StaticSecrets(
            data.get("secrets") or {}, data.get("variables") or {}, data.get("connections") or {}
        )
    secrets = EnvironSecrets(fallback=fallback)
    state_path = options.get("--state", "state.json")

    log = options.get("_log", _stderr_log)
    flag = CancelFlag()
    _install_signal_handlers(flag)
    log("info", "Starting Flomation Executor", {"version": __version__, "pid": os.getpid()})

    from flomation.executor.engine import run_flow
    from flomation.executor.events import PROGRESS_PREFIX, PROGRESS_VARIABLE, event_line
    from flomation.executor.lease import LEASE_FILE_VARIABLE, lease_file_fence
    from flomation.executor.settings import ExecutorSettings

    out = sys.stdout

    def on_event(event: dict[str, Any]) -> None:
        out.write(event_line(event, None) + "\n")  # the engine has cut long strings already
        out.flush()

    on_progress = None
    if os.environ.get(PROGRESS_VARIABLE):

        def on_progress(checkpoint: dict[str, Any]) -> None:
            out.write(PROGRESS_PREFIX + json.dumps(checkpoint, separators=(",", ":")) + "\n")
            out.flush()

    settings = ExecutorSettings(
        egress=_egress_policy(options),
        allow_shell=not options.get("--no-shell"),
        flow_timeout_seconds=timeout,
        log=log,
        python_prestart=False,  # one run per process: a spare sandbox would only be thrown away
    )
    result = run_flow(
        flow,
        trigger_data=trigger_data,
        context=context,
        entry=options.get("--entry"),
        checkpoint=checkpoint,
        secrets=secrets,
        on_event=on_event,
        on_progress=on_progress,
        cancel=flag,  # type: ignore[arg-type]
        settings=settings,
        fence=lease_file_fence(os.environ[LEASE_FILE_VARIABLE])
        if os.environ.get(LEASE_FILE_VARIABLE)
        else None,
    )
    state = result.to_state()
    if options.get("--numeric-status"):
        from flomation.executor.flomation_invocation import flomation_state

        state = flomation_state(state, execution_id=options.get("_id", ""), flow_id=options.get("_flow", ""))
    _write_state(state_path, state)
    if result.validation_errors:
        for error in result.validation_errors:
            log("error", "invalid flow", error.to_dict())
        return EXIT_USAGE
    if result.error:
        log("error", "the run did not succeed", {"status": result.status, "error": result.error})
    return EXIT_CODES.get(result.status, EXIT_FAILED)


def _read_trigger_data(path: str) -> Any:
    """The trigger data object; JSON text holding an object (Flomation's API stores it double-encoded
    at times, and its executor unwraps it) is unwrapped."""
    value = _read_json(path, "trigger data", want_object=False)
    if isinstance(value, str) and value.lstrip().startswith("{"):
        value = _read_json_text(value)
    if not isinstance(value, dict):
        raise UsageError(f"the trigger data file {path!r} must hold a JSON object")
    return value


def _egress_policy(options: dict[str, Any]) -> Any:
    """The runner's policy from FLOMATION_EGRESS_POLICY, else the strict default plus --allow-egress."""
    from flomation.lib.egress import EgressPolicy

    raw = os.environ.get("FLOMATION_EGRESS_POLICY", "")
    try:
        policy = EgressPolicy.from_dict(json.loads(raw)) if raw else EgressPolicy()
    except (ValueError, TypeError, KeyError) as exc:
        raise UsageError(f"FLOMATION_EGRESS_POLICY is not a valid egress policy: {exc}") from None
    try:
        return policy.with_allowed(options.get("--allow-egress"))
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def command_validate(options: dict[str, Any]) -> int:
    from flomation.executor.validate import validate_flow

    errors = validate_flow(_read_json(options["--flow"], "flow"))
    sys.stdout.write(
        json.dumps({"valid": not errors, "errors": [e.to_dict() for e in errors]}, indent=2) + "\n"
    )
    return EXIT_SUCCEEDED if not errors else EXIT_USAGE


def command_manifest(options: dict[str, Any]) -> int:
    from flomation.executor.registry import manifest

    sys.stdout.write(json.dumps(manifest(), indent=2, sort_keys=True, default=str) + "\n")
    return EXIT_SUCCEEDED


def main(argv: list[str] | None = None) -> int:
    arguments = sys.argv[1:] if argv is None else argv
    from flomation.executor.flomation_invocation import is_flomation_invocation

    if is_flomation_invocation(arguments) and arguments[0] != "--version":
        from flomation.executor.flomation_invocation import flomation_main

        return flomation_main(arguments)
    try:
        command, options = parse_args(arguments)
        if command == "bare-version":
            from flomation import __version__

            sys.stdout.write(__version__)  # bare, no newline: what Flomation's runner records
            return EXIT_SUCCEEDED
        if command == "version":
            from flomation import __version__

            sys.stdout.write(f"flomation-executor {__version__}\n")
            return EXIT_SUCCEEDED
        handler = {"run": command_run, "validate": command_validate, "manifest": command_manifest}[command]
        return handler(options)
    except HelpRequested:
        sys.stdout.write(USAGE)
        return EXIT_SUCCEEDED
    except UsageError as exc:
        sys.stderr.write(f"flomation-executor: {exc}\n\n{USAGE}")
        return EXIT_USAGE
    except KeyboardInterrupt:
        return EXIT_CANCELLED
    except Exception as exc:  # the last line of defence: say what happened, exit 70
        import traceback

        traceback.print_exc()
        sys.stderr.write(f"flomation-executor: internal error: {exc}\n")
        return EXIT_INTERNAL
