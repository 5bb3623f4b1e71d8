"""Connection types: typed, named credentials an organisation keeps (see ``base``). No Django."""

from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType
from typing import Any

from flomation.lib.connections.base import ConnectionFailed, Field

__all__ = ["ConnectionFailed", "Field", "completed", "get", "types"]

_TYPES: dict[str, ModuleType] | None = None


def types() -> dict[str, ModuleType]:
    """Every connection type module of this package, by ``KIND``."""
    global _TYPES
    if _TYPES is None:
        found: dict[str, ModuleType] = {}
        for info in pkgutil.iter_modules(__path__):
            if info.name.startswith("_") or info.name == "base":
                continue
            module = importlib.import_module(f"{__name__}.{info.name}")
            kind = getattr(module, "KIND", None)
            if kind:
                found[kind] = module
        _TYPES = dict(sorted(found.items()))
    return _TYPES


def get(kind: str) -> ModuleType | None:
    return types().get(kind)


def completed(stored: dict[str, Any], inline: dict[str, Any]) -> dict[str, Any]:
    """A stored connection's fields, each one it leaves blank filled from the node's or trigger's own input."""
    fields = dict(stored)
    for key, value in inline.items():
        if fields.get(key) in (None, "") and value not in (None, ""):
            fields[key] = value
    return fields
