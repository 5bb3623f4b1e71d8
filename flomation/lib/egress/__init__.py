"""The egress policy: the one check every outbound connection of a flow or a trigger goes through. No Django.

By default a connection may reach public addresses only. Refused unless an operator allows them:
loopback, link-local (cloud metadata at 169.254.169.254 included), private and shared (CGNAT) ranges,
unspecified, multicast and other non-public addresses, in IPv4 and IPv6 and in the IPv6 forms that carry an
IPv4 address (mapped, compatible, NAT64, 6to4, Teredo); unix sockets and file paths; and the platform's own
database and API endpoints, even inside an allowed range.

A name is resolved first and EVERY address it resolves to is checked; callers then connect to the checked
addresses (`check_host` returns them), never to the name again, so a DNS answer that changes between the
check and the connection (DNS rebinding) cannot take them elsewhere. Host headers and TLS server names stay
the name.

`EgressDenied` names the host and the reason, never a credential. Callers log a refusal once, with the
organisation and the trigger or node it came from (`refusal_logged`).

Connection strings (libpq, MySQL, git URLs) are checked in `targets`, HTTP in `http` (it imports requests).
"""

from __future__ import annotations

import ipaddress
import logging
import socket
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlsplit

logger = logging.getLogger("flomation.egress")

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

HOW_TO_ALLOW = "an operator can allow it (see 'Egress policy' in docs/security.md)"

_BLOCKED: tuple[tuple[IPNetwork, str], ...] = tuple(
    (ipaddress.ip_network(network), reason)
    for network, reason in (
        ("0.0.0.0/8", "an unspecified address"),
        ("127.0.0.0/8", "a loopback address"),
        ("169.254.0.0/16", "a link-local address (where cloud metadata services answer)"),
        ("10.0.0.0/8", "a private address"),
        ("172.16.0.0/12", "a private address"),
        ("192.168.0.0/16", "a private address"),
        ("100.64.0.0/10", "a shared (carrier-grade NAT) address"),
        ("224.0.0.0/4", "a multicast address"),
        ("240.0.0.0/4", "a reserved address"),
        ("::/128", "an unspecified address"),
        ("::1/128", "a loopback address"),
        ("fe80::/10", "a link-local address"),
        ("fc00::/7", "a private (unique local) address"),
        ("ff00::/8", "a multicast address"),
    )
)
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_COMPATIBLE = ipaddress.ip_network("::/96")


class EgressDenied(Exception):  # noqa: N818 - reads as what happened: "egress denied"
    """The policy refuses this connection. The message names the host and why, never a secret.

    Deliberately not an OSError: HTTP and database clients retry or wrap OSErrors, and a refusal must
    reach the caller as itself, at once.
    """

    def __init__(self, host: str, reason: str) -> None:
        self.host = host
        self.reason = reason
        super().__init__(f"egress refused: {host} is {reason}; {HOW_TO_ALLOW}")


def parse_networks(
    values: Iterable[str] | str | None, *, where: str = "egress allow list"
) -> list[IPNetwork]:
    """CIDR ranges (or single addresses) from a list or a comma/whitespace-separated string.

    Raises ValueError naming the bad entry."""
    if values is None:
        return []
    if isinstance(values, str):
        values = values.replace(",", " ").split()
    networks = []
    for value in values:
        text = str(value).strip()
        if not text:
            continue
        try:
            networks.append(ipaddress.ip_network(text, strict=False))
        except ValueError:
            raise ValueError(
                f"{where}: {text!r} is not an address range (write it as CIDR, e.g. 10.20.0.0/16 or fd00::/8)"
            ) from None
    return networks


def _embedded_ipv4(ip: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address carries (mapped, compatible, NAT64, 6to4, Teredo), if any."""
    if not isinstance(ip, ipaddress.IPv6Address):
        return None
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]
    if ip in _NAT64 or (ip in _COMPATIBLE and int(ip) > 1):
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def address_refusal(ip: IPAddress) -> str | None:
    """Why the default policy refuses `ip` ("a loopback address", ...), or None for a public address."""
    candidates = [candidate for candidate in (_embedded_ipv4(ip), ip) if candidate is not None]
    for candidate in candidates:
        for network, reason in _BLOCKED:
            if candidate.version == network.version and candidate in network:
                return reason
    if any(not candidate.is_global for candidate in candidates):
        return "a non-public address"
    return None


def _parse_ip(text: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(text.strip("[]"))
    except ValueError:
        return None


@dataclass(frozen=True)
class Endpoint:
    """One of the platform's own endpoints: `host` and `port`, or a unix socket (`host` is its path or
    directory, port None or the socket's port). `what` names it in refusals ("the platform's database")."""

    host: str
    port: int | None
    what: str

    @property
    def is_socket(self) -> bool:
        return self.host.startswith("/")


Resolver = Callable[[str, int], list[str]]


def resolve(host: str, port: int) -> list[str]:
    """Every address `host` resolves to for a TCP connection, in the resolver's order, without repeats."""
    try:
        answers = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as error:
        raise OSError(f"cannot resolve {host}: {getattr(error, 'strerror', None) or error}") from None
    found: list[str] = []
    for _family, _type, _proto, _name, sockaddr in answers:
        address = str(sockaddr[0])
        if address not in found:
            found.append(address)
    return found


@dataclass(frozen=True)
class EgressPolicy:
    """What outbound connections may reach. The default (no arguments) is the strict policy.

    `allow`: ranges an operator allowed (for the platform, an organisation or a dedicated runner);
    `allow_local`: unix sockets, file paths and local repositories may be used;
    `allow_platform`: the platform's own endpoints (`platform`) may be reached when their range is allowed.
    """

    allow: tuple[IPNetwork, ...] = ()
    allow_local: bool = False
    allow_platform: bool = False
    platform: tuple[Endpoint, ...] = ()
    resolver: Resolver = field(default=resolve, compare=False, repr=False)
    _platform_addresses: dict[Endpoint, frozenset[str]] = field(
        default_factory=dict, compare=False, repr=False
    )

    # --- building and passing on -----------------------------------------------------------------

    @classmethod
    def build(
        cls,
        *,
        allow: Iterable[str] | str | None = None,
        allow_local: bool = False,
        allow_platform: bool = False,
        platform: Iterable[Endpoint] = (),
    ) -> EgressPolicy:
        return cls(
            allow=tuple(parse_networks(allow)),
            allow_local=bool(allow_local),
            allow_platform=bool(allow_platform),
            platform=tuple(platform),
        )

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able form, for the runner protocol and the executor (`from_dict` reads it back)."""
        return {
            "allow": [str(network) for network in self.allow],
            "allow_local": self.allow_local,
            "allow_platform": self.allow_platform,
            "platform": [{"host": e.host, "port": e.port, "what": e.what} for e in self.platform],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> EgressPolicy:
        """The policy `to_dict` wrote; None or {} is the strict default. Raises ValueError when malformed."""
        if not data:
            return cls()
        if not isinstance(data, Mapping):
            raise ValueError("an egress policy must be an object")
        platform = []
        for item in data.get("platform") or []:
            port = item.get("port")
            platform.append(
                Endpoint(str(item["host"]), int(port) if port not in (None, "") else None, str(item["what"]))
            )
        return cls.build(
            allow=data.get("allow") or [],
            allow_local=bool(data.get("allow_local")),
            allow_platform=bool(data.get("allow_platform")),
            platform=platform,
        )

    def with_allowed(self, ranges: Iterable[str] | str | None) -> EgressPolicy:
        """This policy with more allowed ranges (an organisation's on top of the platform's)."""
        extra = tuple(network for network in parse_networks(ranges) if network not in self.allow)
        return EgressPolicy(
            allow=self.allow + extra,
            allow_local=self.allow_local,
            allow_platform=self.allow_platform,
            platform=self.platform,
            resolver=self.resolver,
        )

    # --- the checks ------------------------------------------------------------------------------

    def allows(self, ip: IPAddress) -> bool:
        """True if `ip` lies in an allowed range (directly or as the IPv4 address it carries)."""
        embedded = _embedded_ipv4(ip)
        return any(
            (ip.version == network.version and ip in network)
            or (embedded is not None and network.version == 4 and embedded in network)
            for network in self.allow
        )

    def _platform_endpoint(self, host: str, ip: IPAddress, port: int) -> Endpoint | None:
        for endpoint in self.platform:
            if endpoint.is_socket or (endpoint.port is not None and endpoint.port != port):
                continue
            if endpoint.host.strip("[]").lower() == host.strip("[]").lower().rstrip("."):
                return endpoint
            if str(ip) in self._addresses_of(endpoint):
                return endpoint
        return None

    def _addresses_of(self, endpoint: Endpoint) -> frozenset[str]:
        known = self._platform_addresses.get(endpoint)
        if known is None:
            literal = _parse_ip(endpoint.host)
            if literal is not None:
                known = frozenset({str(literal)})
            else:
                try:
                    known = frozenset(self.resolver(endpoint.host, endpoint.port or 0))
                except OSError:
                    known = frozenset()
            self._platform_addresses[endpoint] = known
        return known

    def check_address(self, host: str, address: str, port: int) -> str:
        """Checks one address `host` resolved to; returns it (normalised) or raises EgressDenied."""
        ip = _parse_ip(address)
        if ip is None:
            raise EgressDenied(host, f"resolved to {address!r}, which is not an IP address")
        shown = host if _parse_ip(host) is not None else f"{host} ({ip})"
        if not self.allow_platform:
            endpoint = self._platform_endpoint(host, ip, port)
            if endpoint is not None:
                raise EgressDenied(f"{shown} port {port}", endpoint.what)
        reason = address_refusal(ip)
        if reason is not None and not self.allows(ip):
            raise EgressDenied(shown, reason)
        return str(ip)

    def check_host(self, host: str, port: int) -> list[str]:
        """Resolves `host` and checks every address; returns them all (connect to these, not to the name).

        Raises EgressDenied if ANY address is refused (a name that resolves to a public and a private
        address is refused: the client could pick either), OSError if the name does not resolve."""
        name = (host or "").strip().strip("[]")
        if not name:
            raise EgressDenied("an empty host", "no address to connect to (a local socket is used instead)")
        if name.startswith("/"):
            self.check_path(name, what="a unix socket")
            return []
        if not 0 < int(port) < 65536:
            raise EgressDenied(name, f"not reachable on port {port}")
        literal = _parse_ip(name)
        addresses = [str(literal)] if literal is not None else self.resolver(name, int(port))
        if not addresses:
            raise OSError(f"cannot resolve {name}: no addresses")
        return [self.check_address(name, address, int(port)) for address in addresses]

    def check_path(self, path: str, *, what: str = "a file path") -> None:
        """Unix sockets, file paths and local repositories: refused unless `allow_local`; the platform's
        own database socket stays refused unless `allow_platform` as well."""
        if not self.allow_local:
            raise EgressDenied(shorten(path), f"{what} on this machine")
        if not self.allow_platform:
            for endpoint in self.platform:
                if endpoint.is_socket and _same_or_inside(path, endpoint.host):
                    raise EgressDenied(shorten(path), endpoint.what)

    def check_url(self, url: str, *, schemes: Mapping[str, int]) -> tuple[str, int, list[str]]:
        """Checks the host of `url` (scheme one of `schemes`, mapped to its default port).

        Returns (host, port, addresses)."""
        parts = urlsplit(url.strip())
        scheme = parts.scheme.lower()
        if scheme not in schemes:
            raise EgressDenied(f"a {scheme or 'scheme-less'} URL", "not a network address this check knows")
        try:
            port = parts.port or schemes[scheme]
        except ValueError:
            raise EgressDenied(
                parts.hostname or "a URL", "written with a port that is not a number"
            ) from None
        host = unquote(parts.hostname or "")
        return host, port, self.check_host(host, port)


def shorten(text: str) -> str:
    """`text` cut to 120 characters for an error message."""
    return text if len(text) <= 120 else text[:117] + "..."


def _same_or_inside(path: str, directory: str) -> bool:
    import os.path

    path, directory = os.path.normpath(path), os.path.normpath(directory)
    return path == directory or path.startswith(directory.rstrip("/") + "/")


def connect(addresses: list[str], port: int, *, timeout: float | None) -> socket.socket:
    """A TCP connection to the first checked address that answers (the addresses `check_host` returned)."""
    last: OSError | None = None
    for address in addresses:
        try:
            return socket.create_connection((address, port), timeout=timeout)
        except OSError as error:
            last = error
    raise last or OSError("no address to connect to")


def refusal_logged(
    error: EgressDenied, *, organisation: object, source: str, log: logging.Logger | None = None
) -> None:
    """Logs one refusal with the organisation and the trigger or node (`source`) it came from."""
    (log or logger).warning(
        "egress refused for organisation %s, %s: %s is %s", organisation, source, error.host, error.reason
    )


from flomation.lib.egress.targets import (  # noqa: E402 - they build on the policy above
    GIT_SCHEMES,
    git_url_checked,
    mysql_params_checked,
    postgres_params_checked,
)

__all__ = [
    "GIT_SCHEMES",
    "EgressDenied",
    "EgressPolicy",
    "Endpoint",
    "address_refusal",
    "connect",
    "git_url_checked",
    "mysql_params_checked",
    "parse_networks",
    "postgres_params_checked",
    "refusal_logged",
    "resolve",
]
