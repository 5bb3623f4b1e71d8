"""Where ``${env.*}`` and ``${secrets.*}`` come from.

The runner supplies a provider that calls the API for the execution's environment; the CLI on its
own reads a JSON file (``--secrets``) or ``FLOMATION_SECRET_<NAME>`` / ``FLOMATION_ENV_<NAME>``
environment variables. A provider may also offer ``get_credential(name)`` for ``${credentials.*}``.
"""

from __future__ import annotations

import os
from typing import Protocol, runtime_checkable


@runtime_checkable
class SecretProvider(Protocol):
    def get_secret(self, name: str) -> str | None:
        """The environment secret ``name`` or None when it does not exist."""

    def get_variable(self, name: str) -> str | None:
        """The environment property ``name`` (``${env.NAME}``) or None."""


class StaticSecrets:
    """A provider over two dictionaries (tests, embedding, the CLI's ``--secrets`` file)."""

    def __init__(
        self,
        secrets: dict[str, str] | None = None,
        variables: dict[str, str] | None = None,
        connections: dict[str, dict] | None = None,
    ) -> None:
        self._secrets = dict(secrets or {})
        self._variables = dict(variables or {})
        self._connections = dict(connections or {})
        self._memories: dict[str, dict] = {}

    def get_secret(self, name: str) -> str | None:
        return self._secrets.get(name)

    def get_variable(self, name: str) -> str | None:
        return self._variables.get(name)

    def get_connection(self, name: str) -> dict | None:
        """A stored connection as ``{"type": ..., "fields": {...}}`` (see executor/connections.py)."""
        return self._connections.get(name)

    def get_memory(self, key: str) -> dict | None:
        """An agent's conversation memory under `key` (kept in this object: one process, no platform)."""
        import copy

        return copy.deepcopy(self._memories.get(key))

    def save_memory(self, key: str, memory: dict) -> None:
        import copy

        self._memories[key] = copy.deepcopy(memory)


class EnvironSecrets:
    """``FLOMATION_SECRET_<NAME>``, ``FLOMATION_ENV_<NAME>`` and ``FLOMATION_CONNECTION_<NAME>`` from the
    process environment."""

    def __init__(self, environ: dict[str, str] | None = None, fallback: SecretProvider | None = None) -> None:
        self._environ = environ if environ is not None else dict(os.environ)
        self._fallback = fallback

    def get_secret(self, name: str) -> str | None:
        value = self._environ.get(f"FLOMATION_SECRET_{name}")
        if value is None and self._fallback is not None:
            return self._fallback.get_secret(name)
        return value

    def get_variable(self, name: str) -> str | None:
        value = self._environ.get(f"FLOMATION_ENV_{name}")
        if value is None and self._fallback is not None:
            return self._fallback.get_variable(name)
        return value

    def get_connection(self, name: str) -> dict | None:
        """``FLOMATION_CONNECTION_<NAME>``: the stored connection as JSON ``{"type": ..., "fields": {...}}``."""
        import json

        raw = self._environ.get(f"FLOMATION_CONNECTION_{name}")
        if raw is None:
            fallback = getattr(self._fallback, "get_connection", None)
            return fallback(name) if fallback is not None else None
        try:
            value = json.loads(raw)
        except ValueError:
            return None
        return value if isinstance(value, dict) else None

    def vector_store(self, operation: str, payload: dict) -> dict:
        """The organisation's vector store, through the runner's socket (``FLOMATION_VECTOR_SOCKET``) when
        the runner started this process for an execution."""
        path = self._environ.get("FLOMATION_VECTOR_SOCKET")
        if not path:
            from flomation.lib.vectors.schema import OUTSIDE_A_RUNNER, VectorError

            raise VectorError(OUTSIDE_A_RUNNER)
        from flomation.lib.vectors.relay import relay_call

        return relay_call(path, operation, payload)
