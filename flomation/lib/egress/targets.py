"""Connection strings and repository URLs through the egress policy: libpq (URI or key=value), MySQL
parameters and git URLs. No Django."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from typing import Any

from flomation.lib.egress import EgressDenied, EgressPolicy, shorten

# libpq parameters that name files on the connecting machine (read as keys, certificates, passwords or
# service definitions): a tenant's connection string could probe or read the platform's files with them.
_PG_FILE_PARAMETERS = (
    "service",
    "servicefile",
    "passfile",
    "sslkey",
    "sslcert",
    "sslrootcert",
    "sslcrl",
    "sslcrldir",
)


def postgres_params_checked(params: Mapping[str, str], policy: EgressPolicy) -> dict[str, str]:
    """Checks parsed libpq parameters (psycopg's `conninfo_to_dict`, URI or key=value) and returns them
    pinned: every host with the checked address as `hostaddr` and an explicit port, so libpq connects to
    exactly what was checked and nothing comes from the environment (PGHOST, PGHOSTADDR, service files).

    Several hosts (`host=a,b`) are each checked; a host starting with `/` or `@`, or no host at all, is a
    unix socket: refused unless the policy allows local connections."""
    checked = {key: str(value) for key, value in params.items() if value is not None}
    for key in _PG_FILE_PARAMETERS:
        if checked.get(key):
            policy.check_path(checked[key], what=f"a file ({key}) on this machine")
    hosts = _split(checked.get("host", ""))
    hostaddrs = _split(checked.get("hostaddr", ""))
    count = max(len(hosts), len(hostaddrs), 1)
    ports = _split(checked.get("port", "")) or ["5432"]
    if len(ports) == 1:
        ports *= count
    if len(ports) != count or (hosts and len(hosts) != count) or (hostaddrs and len(hostaddrs) != count):
        raise EgressDenied(
            "the connection string", "listing a different number of hosts, addresses and ports"
        )
    targets = []
    for index in range(count):
        host = hosts[index] if hosts else ""
        given = hostaddrs[index] if hostaddrs else ""
        try:
            port = int(ports[index] or 5432)
        except ValueError:
            raise EgressDenied(host or "the connection string", "given a port that is not a number") from None
        if given:
            policy.check_address(host or given, given, port)
        elif not host or host.startswith(("/", "@")):
            policy.check_path(host or "the default socket directory", what="a unix socket")
        targets.append((host, given, port))
    # Local targets are refused above before any name is resolved; now every name is resolved and checked.
    out_hosts, out_addrs, out_ports = [], [], []
    for host, given, port in targets:
        if given:
            addresses = [str(ipaddress.ip_address(given))]
        elif not host or host.startswith(("/", "@")):  # allowed: a unix socket
            out_hosts.append(host)
            out_addrs.append("")
            out_ports.append(str(port))
            continue
        else:
            addresses = policy.check_host(host, port)
        for address in addresses:
            out_hosts.append(host or address)
            out_addrs.append(address)
            out_ports.append(str(port))
    checked["host"] = ",".join(out_hosts)
    checked["hostaddr"] = ",".join(out_addrs)
    checked["port"] = ",".join(out_ports)
    if not any(out_addrs):
        checked.pop("hostaddr")
    return checked


def mysql_params_checked(params: Mapping[str, Any], policy: EgressPolicy) -> dict[str, Any]:
    """MySQL/MariaDB connection parameters (`host`, `port`, `unix_socket`): a socket is refused unless
    allowed; a host is checked and pinned to its first checked address."""
    checked = dict(params)
    if checked.get("unix_socket") or str(checked.get("host") or "").startswith("/"):
        policy.check_path(str(checked.get("unix_socket") or checked["host"]), what="a unix socket")
        return checked
    host = str(checked.get("host") or "")
    if not host or host == "localhost":  # MySQL clients read "localhost" as the local socket
        policy.check_path(host or "localhost", what="a unix socket (the default MySQL socket)")
        return checked
    port = int(checked.get("port") or 3306)
    checked["host"] = policy.check_host(host, port)[0]
    checked["port"] = port
    return checked


def _split(value: str) -> list[str]:
    return [part.strip() for part in value.split(",")] if value.strip() else []


# Git transports that reach the network (and their default ports); anything else (file://, a local path,
# `ext::` and other remote helpers) runs locally.
GIT_SCHEMES = {
    "https": 443,
    "http": 80,
    "ssh": 22,
    "git+ssh": 22,
    "ssh+git": 22,
    "git": 9418,
    "ftp": 21,
    "ftps": 990,
}


def git_url_checked(url: str, policy: EgressPolicy) -> None:
    """Checks the host of a repository URL: https/http/ssh/git/ftp URLs and scp-like `user@host:path`.

    `file://` URLs and local paths are refused unless local access is allowed; remote helpers
    (`transport::address`) and other transports (`fd://`, ...) run a program on this machine and are
    always refused."""
    text = url.strip()
    shown = shorten(_URL_CREDENTIALS.sub(r"\1", text))
    if _GIT_HELPER.match(text):
        raise EgressDenied(shown, "a git remote helper (it runs a program on this machine)")
    if "://" in text:
        scheme = text.split("://", 1)[0].lower()
        if scheme == "file":
            policy.check_path(shown, what="a local repository")
        elif scheme in GIT_SCHEMES:
            policy.check_url(text, schemes=GIT_SCHEMES)
        else:
            raise EgressDenied(shown, f"a {scheme or 'scheme-less'} repository URL (not a network transport)")
        return
    scp = _GIT_SCP.match(text)
    if scp:  # scp-like [user@]host:path, over ssh
        policy.check_host(scp.group(1).strip("[]"), 22)
        return
    policy.check_path(shown, what="a local repository")


_GIT_HELPER = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*::")
# [user@]host:path with the colon before any slash (a one-letter "host" is a Windows drive: a local path).
_GIT_SCP = re.compile(r"^(?:[^@/]*@)?(\[[^\]/]*\]|[^:/\[]{2,}):")
_URL_CREDENTIALS = re.compile(r"(://)[^/@\s]+@")
