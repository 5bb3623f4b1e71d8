"""The bubblewrap command around a script process: what the sandbox's file system holds, its identity, and
(when the operator allows scripts the network) the relay to the run's egress proxy. Standard library only.
The model is described in ``isolation``."""

from __future__ import annotations

import os
import shutil
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from flomation.executor.sandbox.workspace import Workspace
    from flomation.executor.settings import ExecutorSettings

SANDBOX_UID = 1000  # the script's uid inside a user namespace (non-root executors)
PACKAGES_MOUNT = "/opt/flomation/packages"
NET_MOUNT = "/opt/flomation/net"
RELAY = os.path.join(os.path.dirname(os.path.abspath(__file__)), "netrelay.py")
RELAY_MOUNT = "/opt/flomation/netrelay.py"
PROXY_PORT = 3128
PROXY_URL = f"http://127.0.0.1:{PROXY_PORT}"


def interpreter(settings: ExecutorSettings) -> tuple[str, str]:
    """(the real path of the Python that runs scripts, its installation prefix)."""
    executable = os.path.realpath(settings.python_executable or sys.executable)
    prefix = os.path.dirname(os.path.dirname(executable))
    if settings.python_executable is None:
        prefix = os.path.realpath(sys.base_prefix)
    return executable, prefix


def packages_dir(settings: ExecutorSettings) -> str | None:
    path = settings.script_packages_dir
    return path if path and os.path.isdir(path) else None


def _mount_with_parents(arguments: list[str], source: str, kind: str = "--ro-bind") -> None:
    """Binds ``source`` at the same path, its parents created world-traversable (bubblewrap would copy a
    private parent's mode, e.g. /root's 0700, and hide the interpreter from the unprivileged script)."""
    parts = source.strip("/").split("/")
    for depth in range(1, len(parts)):
        arguments += ["--perms", "0755", "--dir", "/" + "/".join(parts[:depth])]
    arguments += [kind, source, source]


def filesystem(settings: ExecutorSettings) -> list[str]:
    arguments = ["--ro-bind", "/usr", "/usr"]
    for name in ("bin", "sbin", "lib", "lib32", "lib64", "libx32"):
        path = f"/{name}"
        if os.path.islink(path):
            arguments += ["--symlink", os.readlink(path), path]
        elif os.path.isdir(path):
            arguments += ["--ro-bind", path, path]
    arguments += ["--perms", "0755", "--dir", "/etc"]
    arguments += ["--ro-bind-try", "/etc/ld.so.cache", "/etc/ld.so.cache"]
    arguments += ["--ro-bind-try", "/etc/localtime", "/etc/localtime"]
    _, prefix = interpreter(settings)
    if prefix != "/usr" and not prefix.startswith("/usr/"):
        _mount_with_parents(arguments, prefix)
    arguments += ["--perms", "0755", "--dir", "/opt", "--perms", "0755", "--dir", "/opt/flomation"]
    packages = packages_dir(settings)
    if packages is not None:
        arguments += ["--ro-bind", packages, PACKAGES_MOUNT]
    arguments += ["--proc", "/proc", "--dev", "/dev"]
    return arguments


def bwrap_command(
    settings: ExecutorSettings,
    workspace: Workspace,
    command: list[str],
    environ: dict[str, str],
    seccomp_fd: int,
    extra_mounts: tuple[str, ...] | list[str] = (),
) -> list[str]:
    arguments = [
        settings.script_bwrap,
        "--unshare-ipc",
        "--unshare-pid",
        "--unshare-net",
        "--unshare-uts",
        "--unshare-cgroup-try",
        "--hostname",
        "flomation",
        "--die-with-parent",
        "--new-session",
    ]
    uid = workspace.uid
    if uid is None:  # not root: a user namespace maps the script to our own user, with no capabilities
        arguments += ["--unshare-user", "--uid", str(SANDBOX_UID), "--gid", str(SANDBOX_UID)]
    arguments += filesystem(settings)
    arguments += extra_mounts
    relay: list[str] = []
    if workspace.net_dir:  # the network through the run's egress proxy (netrelay.py, egress_proxy.py)
        arguments += ["--ro-bind", workspace.net_dir, NET_MOUNT, "--ro-bind", RELAY, RELAY_MOUNT]
        # The public certificate authorities, so HTTPS through the tunnel verifies (no name resolution is
        # needed inside: clients hand the proxy the host name).
        arguments += ["--ro-bind-try", "/etc/ssl", "/etc/ssl"]
        arguments += ["--ro-bind-try", "/etc/ca-certificates", "/etc/ca-certificates"]
        environ = {**environ, **proxy_environment()}
        executable, _ = interpreter(settings)
        socket_path = f"{NET_MOUNT}/proxy.sock"
        relay = [executable, "-I", "-S", "-B", RELAY_MOUNT, socket_path, str(PROXY_PORT), "--"]
    arguments += ["--bind", workspace.path, "/work", "--chdir", "/work", "--remount-ro", "/"]
    arguments += ["--clearenv"]
    for key, value in environ.items():
        arguments += ["--setenv", key, value]
    arguments += ["--seccomp", str(seccomp_fd)]
    if uid is None:
        arguments += ["--cap-drop", "ALL", "--"]
        return arguments + relay + command
    # Root: no user namespace (the run's own uid is a real host uid); setpriv drops to it inside.
    arguments += ["--cap-drop", "ALL", "--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"]
    arguments += ["--cap-add", "CAP_SETPCAP", "--"]
    return arguments + setpriv(uid) + relay + command


def proxy_environment() -> dict[str, str]:
    """What tells a script's HTTP clients (urllib, requests, pip, curl, wget) to use the run's proxy."""
    names = ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY", "all_proxy")
    return {**dict.fromkeys(names, PROXY_URL), "NO_PROXY": "", "no_proxy": ""}


def setpriv(uid: int) -> list[str]:
    return [
        shutil.which("setpriv") or "/usr/bin/setpriv",
        f"--reuid={uid}",
        f"--regid={uid}",
        "--clear-groups",
        "--inh-caps=-all",
        "--bounding-set=-all",
        "--no-new-privs",
        "--",
    ]
