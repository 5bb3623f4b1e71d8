"""The Python script worker. Runs as ``python -I -S -B pyworker.py CONFIG_JSON`` inside the run's sandbox.

Standard library only. It sets its resource limits (before any script code runs: hard limits cannot be raised
again), puts the operator's script packages on ``sys.path``, moves its request pipes off the standard
descriptors (which then point at ``/dev/null``, so a script or a child process cannot write into the
protocol), and serves requests: 4-byte big-endian length + JSON, one request and one reply at a time.

The boundary is the sandbox around this process (see isolation.py), not this file: a script may import any
module of the standard library, open files (only ``/work`` is writable) and start processes (within the
process limit).
"""

from __future__ import annotations

import _ast
import _json
import _signal
import os
import resource
import sys

# Boot imports are kept to C modules (a booted worker per run is CPU every run pays; `json`, `re`, `enum` and
# `signal` would cost more than the rest of the boot together): the JSON codec is the one `json` itself uses.
# A script's own imports are cached for the rest of its run, and tracebacks load their modules on error.


class _Decoding:
    strict = True
    object_hook = None
    object_pairs_hook = None
    parse_float = float
    parse_int = int

    @staticmethod
    def parse_constant(name: str) -> float:
        return {"NaN": float("nan"), "Infinity": float("inf"), "-Infinity": float("-inf")}[name]


_scan = _json.make_scanner(_Decoding())


def _loads(data: bytes) -> object:
    text = data.decode("utf-8").strip()
    value, end = _scan(text, 0)
    if end != len(text):
        raise ValueError("extra data after the JSON value")
    return value


def _dumps(value: object) -> str:
    """json.dumps(value, default=str, ensure_ascii=False); a fresh encoder each time (its circular-reference
    markers would outlive a failed call)."""
    encode = _json.make_encoder({}, str, _json.encode_basestring, None, ": ", ", ", False, False, True)
    return "".join(encode(value, 0))


def _limit(config: dict) -> None:
    limits = [
        (resource.RLIMIT_CPU, config["cpu_seconds"]),
        (resource.RLIMIT_NPROC, config["max_processes"]),
        (resource.RLIMIT_FSIZE, config["max_file_mb"] << 20),
        (resource.RLIMIT_NOFILE, 256),
        (resource.RLIMIT_CORE, 0),
    ]
    if config["memory_mb"] > 0:
        limits.append((resource.RLIMIT_AS, config["memory_mb"] << 20))
    for which, value in limits:
        hard = value + 1 if which == resource.RLIMIT_CPU else value  # SIGXCPU first, then SIGKILL
        resource.setrlimit(which, (value, hard))
    # As its PID namespace's init the worker would ignore SIGXCPU's default action: end with the status the
    # parent reads as "over its CPU time limit".
    _signal.signal(_signal.SIGXCPU, lambda *_: os._exit(128 + _signal.SIGXCPU))


def _drop_to(uid: int) -> None:
    """Process mode as root: become the run's uid, with no way back (setresuid from root clears the
    capabilities; no_new_privs keeps set-uid programs from restoring any)."""
    import ctypes

    os.setgroups([])
    os.setresgid(uid, uid, uid)
    os.setresuid(uid, uid, uid)
    ctypes.CDLL(None).prctl(38, 1, 0, 0, 0)  # PR_SET_NO_NEW_PRIVS


def _detach_pipes() -> tuple[int, int]:
    """The request and reply pipes on private descriptors; 0, 1 and 2 on /dev/null."""
    requests, replies = os.dup(0), os.dup(1)
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    os.close(null)
    return requests, replies


def _read_exact(fd: int, size: int) -> bytes | None:
    chunks = []
    while size:
        chunk = os.read(fd, min(size, 1 << 20))
        if not chunk:
            return None
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)


def _send(fd: int, message: dict, max_bytes: int) -> None:
    data = _dumps(message).encode("utf-8")
    if len(data) > max_bytes:
        error = f"the script's outputs are {len(data)} bytes, more than the limit of {max_bytes} bytes"
        data = _dumps({"ok": False, "error": error, "logs": message.get("logs", "")[-4096:]}).encode()
    view = memoryview(len(data).to_bytes(4, "big") + data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


_compiled: dict[str, object] = {}


def _compile(source: str) -> object:
    code = _compiled.get(source)
    if code is None:
        tree = compile(source, "<script>", "exec", _ast.PyCF_ONLY_AST)
        wrapper = compile(
            "def __flomation_main(inputs, outputs):\n    pass\n", "<script>", "exec", _ast.PyCF_ONLY_AST
        )
        if tree.body:
            wrapper.body[0].body = tree.body
        code = compile(wrapper, "<script>", "exec")
        if len(_compiled) > 256:
            _compiled.clear()
        _compiled[source] = code
    return code


class _Logs:
    """What print() writes during a script (io.StringIO without importing io at boot)."""

    def __init__(self) -> None:
        self.parts: list[str] = []

    def write(self, text: str) -> int:
        self.parts.append(text)
        return len(text)

    def flush(self) -> None:
        pass

    def getvalue(self) -> str:
        return "".join(self.parts)


def _run(request: dict) -> dict:
    logs = _Logs()
    outputs: dict = {}
    real_out, real_err = sys.stdout, sys.stderr
    sys.stdout = sys.stderr = logs
    source = request["code"]
    try:
        code = _compile(source)
        # A real module named __main__, as for any script: dataclasses, pickle and `if __name__ ==
        # "__main__"` look the script's module up in sys.modules.
        module = type(sys)("__main__")
        sys.modules["__main__"] = module
        namespace = module.__dict__
        exec(code, namespace)
        result = namespace["__flomation_main"](request.get("inputs") or {}, outputs)
        if isinstance(result, dict):
            outputs.update(result)
        elif result is not None:
            outputs["result"] = result
        return {"ok": True, "outputs": outputs, "logs": logs.getvalue()}
    except SyntaxError as exc:
        return {"ok": False, "error": f"SyntaxError: {exc.msg} (line {exc.lineno})", "logs": logs.getvalue()}
    except MemoryError:
        return {
            "ok": False,
            "error": "MemoryError: the script went over its memory limit",
            "logs": logs.getvalue(),
        }
    except BaseException as exc:
        import linecache
        import traceback

        linecache.cache["<script>"] = (len(source), None, source.splitlines(True), "<script>")
        frames = traceback.extract_tb(exc.__traceback__)
        script_frames = [frame for frame in frames if frame.filename != __file__]
        detail = "".join(traceback.format_list(script_frames)) + "".join(
            traceback.format_exception_only(type(exc), exc)
        )
        return {
            "ok": False,
            "error": f"{type(exc).__name__}: {exc}",
            "traceback": "Traceback (most recent call last):\n" + detail,
            "logs": logs.getvalue(),
        }
    finally:
        sys.stdout, sys.stderr = real_out, real_err


def main() -> None:
    config = _loads(sys.argv[1].encode())
    if config.get("packages"):
        import site

        site.addsitedir(config["packages"])
    os.chdir(config["work"])
    if config.get("uid") is not None and os.getuid() == 0:
        _drop_to(config["uid"])
    requests, replies = _detach_pipes()
    _limit(config)
    max_bytes = config["max_output_mb"] << 20
    _send(replies, {"ready": True, "uid": os.getuid(), "pid": os.getpid()}, max_bytes)
    while True:
        header = _read_exact(requests, 4)
        if header is None:
            return
        size = int.from_bytes(header, "big")
        body = _read_exact(requests, size)
        if body is None:
            return
        try:
            request = _loads(body)
        except (ValueError, StopIteration):
            _send(
                replies,
                {"ok": False, "error": "the sandbox received a malformed request", "logs": ""},
                max_bytes,
            )
            continue
        reply = _run(request)
        try:
            _send(replies, reply, max_bytes)
        except (TypeError, ValueError, RecursionError) as exc:
            _send(
                replies,
                {"ok": False, "error": f"the script's outputs are not JSON: {exc}", "logs": ""},
                max_bytes,
            )
        except MemoryError:
            error = "MemoryError: the script's outputs do not fit in its memory limit"
            _send(replies, {"ok": False, "error": error, "logs": ""}, max_bytes)


if __name__ == "__main__":
    main()
