"""HTTP through the egress policy: a `requests` session whose every connection is checked and pinned.

Each new connection (the first request, every redirect hop, every retry) resolves the host, checks every
address with the policy and connects to a checked address, so neither a redirect nor a DNS answer that
changes after the check can reach a refused address; the Host header and the TLS server name stay the
URL's name. Proxies and .netrc from the environment are ignored: a proxy would make the connection on our
behalf, past the check. No Django.
"""

from __future__ import annotations

from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, NameResolutionError, NewConnectionError
from urllib3.util import connection as urllib3_connection

from flomation.lib.egress import EgressPolicy

HTTP_SCHEMES = {"http": 80, "https": 443}


class _Pinned:
    """Mixed into urllib3's connection classes: connect only to addresses the policy checked."""

    egress_policy: EgressPolicy
    # Provided by urllib3's HTTPConnection.
    _dns_host: str
    host: str
    port: int
    timeout: Any
    source_address: Any
    socket_options: Any

    def _new_conn(self) -> Any:
        import socket

        try:
            addresses = self.egress_policy.check_host(self._dns_host, self.port)
        except OSError as error:
            raise NameResolutionError(self.host, self, socket.gaierror(str(error))) from error  # type: ignore[arg-type]
        last: Exception | None = NewConnectionError(self, f"no address to connect to for {self.host}")  # type: ignore[arg-type]
        for address in addresses:
            try:
                return urllib3_connection.create_connection(
                    (address, self.port),
                    self.timeout,
                    source_address=self.source_address,
                    socket_options=self.socket_options,
                )
            except TimeoutError as error:
                last = ConnectTimeoutError(
                    self, f"Connection to {self.host} timed out. (connect timeout={self.timeout})"
                )
                last.__cause__ = error
            except OSError as error:
                last = NewConnectionError(self, f"Failed to establish a new connection: {error}")  # type: ignore[arg-type]
                last.__cause__ = error
        raise last


class EgressAdapter(HTTPAdapter):
    """A transport adapter whose connection pools use pinned, checked connections."""

    def __init__(self, policy: EgressPolicy, **kwargs: Any) -> None:
        self.egress_policy = policy  # before super().__init__, which builds the pool manager
        super().__init__(**kwargs)

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        policy = self.egress_policy
        http = type("EgressHTTPConnection", (_Pinned, HTTPConnection), {"egress_policy": policy})
        https = type("EgressHTTPSConnection", (_Pinned, HTTPSConnection), {"egress_policy": policy})
        self.poolmanager.pool_classes_by_scheme = {
            "http": type("EgressHTTPConnectionPool", (HTTPConnectionPool,), {"ConnectionCls": http}),
            "https": type("EgressHTTPSConnectionPool", (HTTPSConnectionPool,), {"ConnectionCls": https}),
        }

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> Any:
        raise requests.exceptions.InvalidURL("proxies are not used for connections under the egress policy")


def egress_session(policy: EgressPolicy) -> requests.Session:
    """A requests Session under `policy` (redirects followed by requests pass through the same check)."""
    session = requests.Session()
    session.trust_env = False
    adapter = EgressAdapter(policy)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session
