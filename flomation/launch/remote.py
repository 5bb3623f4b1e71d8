"""The API client launch uses when it runs apart from the API (its own database, `automate.url` + key).

Contract with the api role (see docs/launch.md and docs/api.md); the organisation is the trigger's, and the
key is a personal API token (`flo_...`) of that organisation whose owner may run its workflows:
* `POST {api}/api/v1/organisations/{org}/workflows/{workflow_id}/executions` with JSON {environment_id,
  deployment_id, trigger_type, trigger_data}, headers `Authorization: Bearer <key>` and `Idempotency-Key`;
  answers 201 (created) or 200 (the idempotency key matched) with the execution ({"id": ...}).
* `GET {api}/api/v1/organisations/{org}/executions/{id}/` answers the execution ({"id", "state",
  "outputs", ...}).
"""

from __future__ import annotations

import os
import threading
import uuid
from dataclasses import dataclass
from typing import Any

import requests
from django.conf import settings


class RemoteError(Exception):
    """The API did not accept the call; the invocation stays pending and is submitted again later."""


def launch_api_settings() -> tuple[str, str]:
    """(url, key) of the API launch talks to when apart; an empty url means launch shares the database."""
    url = getattr(settings, "LAUNCH_API_URL", None) or os.environ.get("LAUNCH_API_URL", "")
    key = getattr(settings, "LAUNCH_API_KEY", None) or os.environ.get("LAUNCH_API_KEY", "")
    return url.rstrip("/"), key


@dataclass(frozen=True)
class RemoteExecution:
    id: uuid.UUID
    created: bool


class ApiClient:
    def __init__(self, base_url: str, api_key: str, timeout: float = 10.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self._headers = {"Authorization": f"Bearer {api_key}", "Accept": "application/json"}
        self._local = threading.local()

    @property
    def _session(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = requests.Session()
            session.headers.update(self._headers)
        return session

    def execution_create(
        self,
        *,
        organisation_id: uuid.UUID,
        workflow_id: uuid.UUID,
        environment_id: uuid.UUID,
        deployment_id: uuid.UUID | None,
        trigger_type: str,
        trigger_data: dict[str, Any],
        idempotency_key: str,
    ) -> RemoteExecution:
        body = {
            "environment_id": str(environment_id),
            "deployment_id": str(deployment_id) if deployment_id else None,
            "trigger_type": trigger_type,
            "trigger_data": trigger_data,
        }
        try:
            response = self._session.post(
                f"{self.base_url}/api/v1/organisations/{organisation_id}/workflows/{workflow_id}/executions",
                json=body,
                headers={"Idempotency-Key": idempotency_key},
                timeout=self.timeout,
            )
        except requests.RequestException as error:
            raise RemoteError(
                f"the API at {self.base_url} cannot be reached: {type(error).__name__}"
            ) from None
        if response.status_code not in (200, 201):
            raise RemoteError(_refusal(response, "creating an execution"))
        return RemoteExecution(id=uuid.UUID(str(response.json()["id"])), created=response.status_code == 201)

    def execution_get(self, *, organisation_id: uuid.UUID, execution_id: uuid.UUID) -> dict[str, Any]:
        try:
            response = self._session.get(
                f"{self.base_url}/api/v1/organisations/{organisation_id}/executions/{execution_id}/",
                timeout=self.timeout,
            )
        except requests.RequestException as error:
            raise RemoteError(
                f"the API at {self.base_url} cannot be reached: {type(error).__name__}"
            ) from None
        if response.status_code != 200:
            raise RemoteError(_refusal(response, "reading an execution"))
        return response.json()


_HINTS = {
    401: "check LAUNCH_API_KEY: it must be a valid, unrevoked API token (flo_...)",
    403: "the API token's owner needs the permission flow.execute in the trigger's organisation",
    404: "the API token must belong to the trigger's organisation, and the workflow must exist there",
}


def _refusal(response: requests.Response, doing: str) -> str:
    """A sentence for the invocation's error: the status, the API's own detail and what to change."""
    try:
        detail = str(response.json().get("detail") or "")
    except (ValueError, AttributeError):
        detail = ""
    message = f"the API answered {response.status_code} {doing}"
    if detail:
        message += f": {detail[:300]}"
    hint = _HINTS.get(response.status_code)
    return f"{message} ({hint})" if hint else message
