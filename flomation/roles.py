"""The one registry of roles: what each component contributes to a process (URL set and background loops).

Each component declares its own role in a `role.py` module it owns (`ROLE = Role(...)`); this module only
knows where those declarations live. Nothing else in the code asks which role is running: `urls.py` asks
for the enabled roles' URL patterns, and `serve`/`runserver` ask for the enabled roles' loops.

This module imports nothing from Django at import time, because settings.py uses `parse_roles`.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import threading

ALL = "all"

# Where each role is declared. Order is the order URL sets are mounted and loops are started.
_DECLARATIONS: dict[str, str] = {
    "identity": "flomation.identity.role",
    "api": "flomation.core.role",
    "launch": "flomation.launch.role",
    "editor": "flomation.editor.role",
    "runner": "flomation.runner.role",
    "worker": "flomation.worker",
}
ROLE_NAMES: tuple[str, ...] = tuple(_DECLARATIONS)


class RoleError(ValueError):
    pass


@dataclass(frozen=True)
class Role:
    """What one component adds to a process.

    `urlconf` is a module whose `urlpatterns` carry their full paths (the api role's include both
    `/api/v1/` and the operators' `/admin/`); `prefix` is the role's main path, "" for the root (mounted
    last so that prefixed roles win).
    `loops` are dotted paths to callables `run(stop: threading.Event) -> None` that return soon after
    `stop` is set (see flomation.loops.PollingLoop for the usual shape).
    """

    name: str
    default_port: int | None = None
    urlconf: str | None = None
    prefix: str = ""
    loops: tuple[str, ...] = field(default_factory=tuple)
    description: str = ""

    @property
    def serves_http(self) -> bool:
        return self.urlconf is not None


def parse_roles(value: str | Iterable[str]) -> frozenset[str]:
    """Turns 'api,launch' (or 'all') into the set of role names; unknown names raise RoleError."""
    names = [part.strip().lower() for part in (value.split(",") if isinstance(value, str) else value)]
    names = [name for name in names if name]
    if not names:
        raise RoleError("no role given; choose from " + ", ".join((*ROLE_NAMES, ALL)))
    unknown = sorted(set(names) - set(ROLE_NAMES) - {ALL})
    if unknown:
        raise RoleError(f"unknown role {', '.join(unknown)}; choose from {', '.join((*ROLE_NAMES, ALL))}")
    if ALL in names:
        return frozenset(ROLE_NAMES)
    return frozenset(names)


def get_role(name: str) -> Role:
    module = importlib.import_module(_DECLARATIONS[name])
    role: Role = module.ROLE
    if role.name != name:
        raise RoleError(f"{_DECLARATIONS[name]} declares role {role.name!r}, expected {name!r}")
    return role


def enabled_roles(names: Iterable[str]) -> list[Role]:
    wanted = set(names)
    return [get_role(name) for name in ROLE_NAMES if name in wanted]


def default_port(names: Iterable[str]) -> int:
    """The port a process serving these roles listens on by default (the seed's ports; 8080 for several)."""
    ports = {role.default_port for role in enabled_roles(names) if role.serves_http and role.default_port}
    return ports.pop() if len(ports) == 1 else 8080


def loop_callables(names: Iterable[str]) -> list[tuple[str, Callable[[threading.Event], None]]]:
    found: list[tuple[str, Callable[[threading.Event], None]]] = []
    for role in enabled_roles(names):
        for path in role.loops:
            module_name, _, attr = path.rpartition(".")
            target = getattr(importlib.import_module(module_name), attr)
            found.append((f"{role.name}:{attr}", target))
    return found


_served_url: str | None = None


def served_url_set(bind: str) -> None:
    """Records the address this process's web server listens on (`host:port`), for loops in the same
    process that call its own web roles (the built-in runner talks to this process's API)."""
    global _served_url
    _served_url = local_url(bind)


def served_url() -> str | None:
    """`http://host:port` of this process's own web server, if it runs one; None otherwise."""
    return _served_url


def local_url(bind: str) -> str | None:
    """A URL this box reaches `bind` at: a wildcard address becomes loopback; a unix socket has none."""
    if not bind or bind.startswith(("unix:", "fd://")):
        return None
    host, _, port = bind.rpartition(":")
    if not port.isdigit():
        return None
    host = host.strip("[]")
    if host in ("", "0.0.0.0", "*"):
        host = "127.0.0.1"
    elif host == "::":
        host = "::1"
    return f"http://{f'[{host}]' if ':' in host else host}:{port}"
