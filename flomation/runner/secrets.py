"""Secrets and variables for one execution, fetched from the API with signed calls. Never logged. No Django.

Implements the executor's SecretProvider protocol (get_secret, get_variable), `get_connection(name)`
({type, fields} of a stored connection, resolved for the execution's organisation and environment). A name the environment does
not have gives None; an API that cannot be reached raises, so the node fails with a clear error instead of
running with an empty secret.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from flomation.lib.vectors.schema import VectorError
from flomation.runner.client import ApiClient, ApiRefused


class ApiSecretProvider:
    def __init__(self, client: ApiClient, execution_id: str, lease_token: str) -> None:
        self._client = client
        self._execution_id = execution_id
        self._lease_token = lease_token
        self._cache: dict[tuple[str, str], str | None] = {}
        self._connections: dict[str, dict[str, Any] | None] = {}

    def __repr__(self) -> str:
        return f"ApiSecretProvider(execution={self._execution_id})"

    def _call(self, kind: str, name: str) -> dict[str, Any]:
        path = f"executions/{self._execution_id}/{kind}/{quote(name, safe='')}"
        try:
            answer = self._client.call("GET", path, headers={"X-Flomation-Lease": self._lease_token})
        except ApiRefused as error:
            if error.status != 404:
                raise
            return {}
        return answer if isinstance(answer, dict) else {}

    def _fetch(self, kind: str, name: str) -> str | None:
        key = (kind, name)
        if key not in self._cache:
            value = self._call(kind, name).get("value")
            self._cache[key] = value if isinstance(value, str) else None
        return self._cache[key]

    def get_secret(self, name: str) -> str | None:
        return self._fetch("secrets", name)

    def get_variable(self, name: str) -> str | None:
        return self._fetch("variables", name)

    def get_connection(self, name: str) -> dict[str, Any] | None:
        """{"type": ..., "fields": {...}} of the stored connection `name`, or None when there is none."""
        if name not in self._connections:
            answer = self._call("connections", name)
            fields = answer.get("fields")
            found = {"type": answer.get("type"), "fields": fields} if isinstance(fields, dict) else None
            self._connections[name] = found
        return self._connections[name]

    def get_memory(self, key: str) -> dict[str, Any] | None:
        """An agent's conversation memory under `key` in the execution's organisation and environment."""
        memory = self._call("memory", key).get("memory")
        return memory if isinstance(memory, dict) else None

    def save_memory(self, key: str, memory: dict[str, Any]) -> None:
        path = f"executions/{self._execution_id}/memory/{quote(key, safe='')}"
        self._client.call("PUT", path, {"memory": memory}, headers={"X-Flomation-Lease": self._lease_token})

    def vector_store(self, operation: str, payload: dict[str, Any]) -> dict[str, Any]:
        """One operation on the platform's vector store of the execution's organisation (the API decides
        which, from the execution). Raises VectorError with the API's sentence when it refuses."""
        path = f"executions/{self._execution_id}/vectors/{quote(operation, safe='')}"
        try:
            answer = self._client.call(
                "POST", path, payload, headers={"X-Flomation-Lease": self._lease_token}
            )
        except ApiRefused as error:
            if error.status in (400, 404):
                raise VectorError(error.message) from None
            raise
        return answer if isinstance(answer, dict) else {}
