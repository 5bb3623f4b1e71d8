"""The runner's HTTP client: registration, and signed JSON requests to the API. No Django."""

from __future__ import annotations

import http.client
import json
import logging
import os
import threading
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import requests
import urllib3
from cryptography.hazmat.primitives.asymmetric import rsa

from flomation.lib import protocol, signing
from flomation.runner.config import ClientTls

logger = logging.getLogger(__name__)

PROTOCOL_PREFIX = "/api/v1/runners"


class ApiUnavailable(Exception):
    """The API could not be reached or answered with a server error; try again later."""


class ApiRefused(Exception):
    """The API answered with a 4xx; `status` and `code` say why and the message is the API's own words."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message


# A pooled connection unused for longer than this may have been closed by the server (gunicorn's keep-alive
# is 5 s, the idle heartbeat's interval too; proxies have their own) just as a request went out on it.
IDLE_SECONDS = 1.0


def _dropped_idle_connection(error: requests.RequestException) -> bool:
    """True when the request failed because the server had closed the (reused) connection: reset, or
    closed without an answer. Every runner call is safe to send again then (heartbeats and reports are
    idempotent, a repeated result is acknowledged as a duplicate): the server never read this one."""
    if not isinstance(error, requests.ConnectionError) or isinstance(error, requests.ConnectTimeout):
        return False
    cause = error.args[0] if error.args else None
    if not isinstance(cause, urllib3.exceptions.ProtocolError):
        return False
    reason = cause.args[1] if len(cause.args) > 1 else None
    return isinstance(reason, ConnectionResetError | BrokenPipeError | http.client.RemoteDisconnected)


def _json_body(payload: Any) -> bytes:
    return json.dumps(payload, separators=(",", ":"), default=str).encode() if payload is not None else b""


class ApiClient:
    """Talks to `/api/v1/runners/...`; safe to share between threads (one requests.Session per thread).

    `runner_id` and `key` are set after registration; until then only `register` may be called.
    Network failures and 5xx answers raise ApiUnavailable (retry later); 4xx answers raise ApiRefused.
    """

    def __init__(
        self,
        api_url: str,
        *,
        runner_id: str = "",
        key: rsa.RSAPrivateKey | None = None,
        timeout: float = 10.0,
        pool_size: int = 8,
        tls: ClientTls | None = None,
    ) -> None:
        self.api_url = api_url.rstrip("/")
        self.base_path = urlsplit(self.api_url).path.rstrip("/")
        self.runner_id = runner_id
        self.key = key
        self.timeout = timeout
        self._local = threading.local()
        self._pool_size = pool_size
        self.tls = tls

    @property
    def session(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None:
            session = requests.Session()
            adapter = requests.adapters.HTTPAdapter(pool_connections=1, pool_maxsize=self._pool_size)
            session.mount("http://", adapter)
            session.mount("https://", adapter)
            session.headers["User-Agent"] = "flomation-runner"
            # The proxy and CA-bundle variables are read once here rather than on every request (requests
            # merges them per request, a large share of a runner's CPU under load); .netrc is not used.
            session.proxies.update(requests.utils.get_environ_proxies(self.api_url))
            bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
            if bundle:
                session.verify = bundle
            if self.tls is not None:  # mutual TLS: present the runner's certificate on every connection
                session.cert = (self.tls.cert, self.tls.key)
                if self.tls.ca:
                    session.verify = self.tls.ca
            session.trust_env = False
            self._local.session = session
        return session

    def register(self, payload: Mapping[str, Any]) -> dict[str, Any]:
        return self._send("POST", f"{PROTOCOL_PREFIX}/register", payload, signed=False)

    def call(
        self,
        method: str,
        path: str,
        payload: Any = None,
        *,
        timeout: float | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> dict[str, Any]:
        """A signed request to `/api/v1/runners/<runner id>/<path>`; returns the JSON answer."""
        return self._send(
            method, f"{PROTOCOL_PREFIX}/{self.runner_id}/{path}", payload, timeout=timeout, extra=headers
        )

    def _send(
        self,
        method: str,
        path: str,
        payload: Any,
        *,
        signed: bool = True,
        timeout: float | None = None,
        extra: Mapping[str, str] | None = None,
    ) -> dict[str, Any]:
        body = _json_body(payload)
        full_path = self.base_path + path
        headers = {
            "Content-Type": "application/json",
            "Accept": "application/json",
            protocol.HEADER: str(protocol.VERSION),
            **(extra or {}),
        }
        if signed and not (self.key and self.runner_id):
            raise RuntimeError("the runner is not registered yet")
        # Idle seconds of this thread's pooled connection (0: none yet, so nothing stale to retry past).
        idle = time.monotonic() - getattr(self._local, "last_used", time.monotonic())
        for attempt in (1, 2):
            if signed:  # signed afresh for a retry: the API refuses a nonce it has seen
                assert self.key is not None
                headers.update(
                    signing.sign_headers(
                        self.key, runner_id=self.runner_id, method=method, path=full_path, body=body
                    )
                )
            try:
                response = self.session.request(
                    method,
                    self.api_url + path,
                    data=body or None,
                    headers=headers,
                    timeout=timeout or self.timeout,
                )
                break
            except requests.RequestException as error:
                if attempt == 1 and idle > IDLE_SECONDS and _dropped_idle_connection(error):
                    logger.debug(
                        "%s %s: the idle connection was closed by the server; retrying", method, path
                    )
                    continue
                raise ApiUnavailable(f"{method} {path}: {error.__class__.__name__}: {error}") from None
            finally:
                self._local.last_used = time.monotonic()
        if response.status_code >= 500:
            raise ApiUnavailable(f"{method} {path}: the API answered {response.status_code}")
        try:
            answer = response.json() if response.content else {}
        except ValueError:
            if response.status_code >= 400:
                raise ApiRefused(response.status_code, "error", response.text[:200]) from None
            raise ApiUnavailable(f"{method} {path}: the answer is not JSON (is the URL the API's?)") from None
        if response.status_code >= 400:
            detail = answer if isinstance(answer, dict) else {}
            raise ApiRefused(
                response.status_code,
                str(detail.get("code") or "error"),
                str(detail.get("detail") or detail.get("message") or response.reason),
            )
        return answer if isinstance(answer, dict) else {"data": answer}
