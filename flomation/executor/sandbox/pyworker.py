"""The Python sandbox worker. Runs as ``python -I -S -B pyworker.py MEMORY_MB CPU_SECONDS``.

Standard library only. It preloads the modules scripts may import, then locks itself down
(resource limits, an unprivileged uid when started as root, a seccomp filter that refuses opening
files, sockets, new processes and signals to other processes), then serves requests: 4-byte
big-endian length + JSON, one request and one reply at a time over stdin/stdout.
"""

from __future__ import annotations

import ast
import base64
import bisect
import builtins
import collections
import copy
import csv
import ctypes
import datetime
import functools
import heapq
import io
import itertools
import json
import linecache
import math
import operator
import os
import random
import re
import resource
import statistics
import string
import struct
import sys
import textwrap
import time
import traceback
import unicodedata

ALLOWED_MODULES = frozenset(
    {
        "base64",
        "bisect",
        "collections",
        "copy",
        "csv",
        "datetime",
        "functools",
        "heapq",
        "itertools",
        "json",
        "math",
        "operator",
        "random",
        "re",
        "statistics",
        "string",
        "textwrap",
        "time",
        "unicodedata",
        "decimal",
        "fractions",
        "collections.abc",
    }
)
_PRELOADED = (
    base64,
    bisect,
    collections,
    copy,
    csv,
    datetime,
    functools,
    heapq,
    itertools,
    math,
    operator,
    random,
    re,
    statistics,
    string,
    textwrap,
    time,
    unicodedata,
)
REMOVED_BUILTINS = ("open", "input", "breakpoint", "help", "exit", "quit", "copyright", "credits", "license")
MAX_REPLY_BYTES = 1 << 20
_real_import = builtins.__import__

# x86_64 and aarch64 syscall numbers refused with EPERM once the worker is locked down, by purpose.
_DENY = {
    0xC000003E: (  # x86_64
        *(2, 85, 257, 437, 303, 304),  # open, creat, openat, openat2, name/open_by_handle_at
        *(41, 42, 43, 49, 50, 53, 288),  # socket, connect, accept, bind, listen, socketpair, accept4
        *(56, 57, 58, 59, 322, 435),  # clone, fork, vfork, execve, execveat, clone3
        *(62, 200, 234, 101, 310, 311),  # kill, tkill, tgkill, ptrace, process_vm_readv/writev
        # file system changes, mounts, namespaces, keys, bpf, perf, io_uring, pidfd
        *(76, 82, 83, 84, 86, 87, 88, 90, 92, 133, 259, 263, 264, 265, 266, 268, 316),
        *(161, 165, 166, 272, 308, 321, 298, 323, 425, 434, 438, 248, 249, 250),
    ),
    0xC00000B7: (  # aarch64
        *(56, 437, 265),  # openat, openat2, open_by_handle_at
        *(198, 199, 200, 201, 202, 203, 242),  # socket, socketpair, bind, listen, accept, connect, accept4
        *(220, 221, 281, 435),  # clone, execve, execveat, clone3
        *(129, 130, 131, 117, 270, 271),  # kill, tkill, tgkill, ptrace, process_vm_readv/writev
        # file system changes, mounts, namespaces, keys, bpf, perf, io_uring, pidfd
        *(33, 34, 35, 36, 37, 38, 45, 53, 54, 276, 51, 40, 39, 97, 268, 280, 241, 282),
        *(425, 434, 438, 217, 218, 219),
    ),
}


def _install_seccomp() -> bool:
    """A deny-list filter; returns True when installed."""
    machine = os.uname().machine
    arch = {"x86_64": 0xC000003E, "aarch64": 0xC00000B7}.get(machine)
    if arch is None:
        return False
    deny = _DENY[arch]
    errno_eperm = 0x00050000 | 1
    allow = 0x7FFF0000
    program = [(0x20, 0, 0, 4), (0x15, 1, 0, arch), (0x06, 0, 0, errno_eperm), (0x20, 0, 0, 0)]
    if arch == 0xC000003E:
        program.append((0x35, 0, 1, 0x40000000))  # x32 syscalls: refuse
        program.append((0x06, 0, 0, errno_eperm))
    for number in deny:
        program.append((0x15, 0, 1, number))
        program.append((0x06, 0, 0, errno_eperm))
    program.append((0x06, 0, 0, allow))

    class SockFilter(ctypes.Structure):
        _fields_ = [
            ("code", ctypes.c_ushort),
            ("jt", ctypes.c_ubyte),
            ("jf", ctypes.c_ubyte),
            ("k", ctypes.c_uint),
        ]

    class SockFprog(ctypes.Structure):
        _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.POINTER(SockFilter))]

    filters = (SockFilter * len(program))(*[SockFilter(*item) for item in program])
    fprog = SockFprog(len(program), filters)
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(38, 1, 0, 0, 0) != 0:  # PR_SET_NO_NEW_PRIVS
        return False
    # seccomp(SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_SPEC_ALLOW): without the flag the kernel
    # also turns on speculative-store-bypass mitigation, which makes pure Python ~2x slower.
    number = {0xC000003E: 317, 0xC00000B7: 277}[arch]
    if libc.syscall(number, 1, 4, ctypes.byref(fprog)) == 0:
        return True
    return libc.prctl(22, 2, ctypes.byref(fprog), 0, 0) == 0  # PR_SET_SECCOMP, SECCOMP_MODE_FILTER


def _lock_down(memory_mb: int, cpu_seconds: int) -> dict:
    limits = [
        (resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 1)),
        (resource.RLIMIT_FSIZE, (0, 0)),
        (resource.RLIMIT_CORE, (0, 0)),
        (resource.RLIMIT_NPROC, (0, 0)),
        (resource.RLIMIT_NOFILE, (3, 3)),
    ]
    if memory_mb > 0:
        limits.append((resource.RLIMIT_AS, (memory_mb << 20, memory_mb << 20)))
    for which, value in limits:
        try:  # noqa: SIM105 - contextlib would be one more import in a worker that starts per run
            resource.setrlimit(which, value)
        except (ValueError, OSError):
            pass
    dropped = False
    if os.getuid() == 0:
        try:
            os.setgroups([])
            os.setgid(65534)
            os.setuid(65534)
            dropped = True
        except OSError:
            dropped = False
    try:
        seccomp = _install_seccomp()
    except Exception:
        seccomp = False
    return {"seccomp": seccomp, "uid": os.getuid(), "dropped_root": dropped}


def _guarded_import(
    name: str, globals: dict | None = None, locals: dict | None = None, fromlist: tuple = (), level: int = 0
) -> object:  # noqa: A002
    if level != 0 or name not in ALLOWED_MODULES:
        raise ImportError(f"module '{name}' is not available in the sandbox")
    return _real_import(name, globals, locals, fromlist, level)


def _safe_builtins() -> dict:
    table = dict(builtins.__dict__)
    for name in REMOVED_BUILTINS:
        table.pop(name, None)
    table["__import__"] = _guarded_import
    return table


def _read_exact(size: int) -> bytes | None:
    chunks = []
    while size:
        chunk = os.read(0, size)
        if not chunk:
            return None
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)


def _send(message: dict) -> None:
    data = json.dumps(message, default=str, ensure_ascii=False).encode("utf-8")
    if len(data) > MAX_REPLY_BYTES:
        data = json.dumps(
            {
                "ok": False,
                "error": f"the script's outputs are larger than {MAX_REPLY_BYTES} bytes",
                "logs": "",
            }
        ).encode("utf-8")
    payload = struct.pack(">I", len(data)) + data
    while payload:
        written = os.write(1, payload)
        payload = payload[written:]


_compiled = {}


def _compile(source: str) -> object:
    code = _compiled.get(source)
    if code is None:
        tree = ast.parse(source, filename="<script>")
        wrapper = ast.parse("def __flomation_main(inputs, outputs):\n    pass\n")
        if tree.body:
            wrapper.body[0].body = tree.body
        ast.fix_missing_locations(wrapper)
        code = compile(wrapper, "<script>", "exec")
        linecache.cache["<script>"] = (len(source), None, source.splitlines(True), "<script>")
        if len(_compiled) > 256:
            _compiled.clear()
        _compiled[source] = code
    return code


def _run(request: dict, builtins_table: dict) -> dict:
    logs = io.StringIO()
    outputs = {}
    real_out, real_err = sys.stdout, sys.stderr
    sys.stdout = sys.stderr = logs
    try:
        code = _compile(request["code"])
        linecache.cache["<script>"] = (
            len(request["code"]),
            None,
            request["code"].splitlines(True),
            "<script>",
        )
        namespace = {"__builtins__": builtins_table, "__name__": "__flomation__"}
        exec(code, namespace)
        result = namespace["__flomation_main"](request.get("inputs") or {}, outputs)
        if isinstance(result, dict):
            outputs.update(result)
        elif result is not None:
            outputs["result"] = result
        json.dumps(outputs, default=str)
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
        frames = traceback.format_exception(type(exc), exc, exc.__traceback__)
        detail = "".join(line for line in frames if "pyworker.py" not in line)
        return {
            "ok": False,
            "error": f"{type(exc).__name__}: {exc}",
            "traceback": detail,
            "logs": logs.getvalue(),
        }
    finally:
        sys.stdout, sys.stderr = real_out, real_err


def main() -> None:
    memory_mb = int(sys.argv[1]) if len(sys.argv) > 1 else 128
    cpu_seconds = int(sys.argv[2]) if len(sys.argv) > 2 else 300
    import decimal  # noqa: F401 - preloaded for scripts
    import fractions  # noqa: F401 - preloaded for scripts

    builtins_table = _safe_builtins()
    status = _lock_down(memory_mb, cpu_seconds)
    _send({"ready": True, **status})
    while True:
        header = _read_exact(4)
        if header is None:
            return
        (size,) = struct.unpack(">I", header)
        body = _read_exact(size)
        if body is None:
            return
        try:
            request = json.loads(body)
        except ValueError:
            _send({"ok": False, "error": "the sandbox received a malformed request", "logs": ""})
            continue
        _send(_run(request, builtins_table))


if __name__ == "__main__":
    main()
