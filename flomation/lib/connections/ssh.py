"""SSH: a server reached with a password or a private key, its host key pinned by fingerprint. No Django.

`open_transport` is shared by the `ssh/run` and SFTP nodes and by `test`: the host is resolved and checked
by the egress policy, the TCP connection is made to a checked address and handed to paramiko, and the
server's host key is compared with `host_key_fingerprint` (OpenSSH's `SHA256:...`, as `ssh-keygen -lf`
prints it) before any credential is sent. With no fingerprint the key is refused, unless
`trust_on_first_use` says to accept whatever key the server presents (its fingerprint is reported, so it
can be pinned afterwards).
"""

from __future__ import annotations

import base64
import hashlib
import io
import socket
from typing import Any

from flomation.lib.connections.base import ConnectionFailed, Field

TYPE_CHECKING = False
if TYPE_CHECKING:
    import paramiko

    from flomation.lib.egress import EgressPolicy

KIND = "ssh"
LABEL = "SSH"
FIELDS = (
    Field("host", required=True, description="The server's name or address."),
    Field("port", "integer", default=22),
    Field("username", required=True),
    Field("password", "secret", description="The password, if the server takes one."),
    Field("private_key", "secret", description="An OpenSSH or PEM private key (Ed25519, ECDSA or RSA)."),
    Field("passphrase", "secret", description="The private key's passphrase, if it is encrypted."),
    Field(
        "host_key_fingerprint",
        description="The server's host key, as `ssh-keygen -lf` prints it (SHA256:...). Any other key is refused.",
    ),
    Field(
        "trust_on_first_use",
        "boolean",
        default=False,
        description="Accept the key the server presents when no fingerprint is set (not recommended).",
    ),
)


def fingerprint(key: paramiko.PKey) -> str:
    """OpenSSH's SHA256 fingerprint of a host key: `SHA256:<base64 without padding>`."""
    digest = hashlib.sha256(key.asbytes()).digest()
    return "SHA256:" + base64.b64encode(digest).decode().rstrip("=")


def _normal_fingerprint(value: str) -> str:
    text = value.strip()
    if text.upper().startswith("SHA256:"):
        text = text[7:]
    return text.rstrip("=")


def _port(fields: dict[str, Any], default: int) -> int:
    raw = fields.get("port")
    try:
        port = int(raw) if raw not in (None, "") else default
    except (TypeError, ValueError):
        raise ConnectionFailed(f"the port must be a number, not {str(raw)[:20]!r}") from None
    if not 0 < port < 65536:
        raise ConnectionFailed(f"the port must be between 1 and 65535, not {port}")
    return port


def as_bool(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value)


def load_private_key(text: str, passphrase: str | None) -> paramiko.PKey:
    """The key in `text` (OpenSSH or PEM format); ConnectionFailed says why it cannot be read."""
    import paramiko

    problem = "the private key could not be read (expected an OpenSSH or PEM Ed25519, ECDSA or RSA key)"
    for kind in (paramiko.Ed25519Key, paramiko.ECDSAKey, paramiko.RSAKey):
        try:
            return kind.from_private_key(io.StringIO(text.strip() + "\n"), password=passphrase or None)
        except paramiko.PasswordRequiredException:
            raise ConnectionFailed("the private key is encrypted: set its passphrase") from None
        except (paramiko.SSHException, ValueError, TypeError, IndexError) as error:
            if "passphrase" in str(error).lower() or "decrypt" in str(error).lower():
                problem = "the private key could not be decrypted: check its passphrase"
    raise ConnectionFailed(problem)


def check_host_key(host: str, presented: str, fields: dict[str, Any]) -> None:
    """Refuses a host key that does not match the pinned fingerprint (or any key, with no pin and no TOFU)."""
    pinned = str(fields.get("host_key_fingerprint") or "").strip()
    if pinned:
        if _normal_fingerprint(pinned) != _normal_fingerprint(presented):
            raise ConnectionFailed(
                f"the host key of {host} does not match host_key_fingerprint: the server presented {presented}"
                " (if the server's key was changed on purpose, pin the new one)"
            )
        return
    if not as_bool(fields.get("trust_on_first_use")):
        raise ConnectionFailed(
            f"the host key of {host} is not known: the server presented {presented}; set "
            "host_key_fingerprint to it if it is the server's key (ssh-keygen -lf on the server), or turn "
            "on trust_on_first_use"
        )


def _connected(host: str, port: int, addresses: list[str], timeout: float) -> socket.socket:
    from flomation.lib.egress import connect

    try:
        return connect(addresses, port, timeout=timeout)
    except TimeoutError:
        raise ConnectionFailed(f"timed out connecting to {host} port {port}") from None
    except ConnectionRefusedError:
        raise ConnectionFailed(f"{host} refused the connection on port {port}") from None
    except OSError as error:
        raise ConnectionFailed(
            f"could not connect to {host} port {port}: {error.strerror or error}"
        ) from None


def _handshake(sock: socket.socket, host: str, port: int, timeout: float) -> paramiko.Transport:
    import paramiko

    transport = paramiko.Transport(sock)
    transport.banner_timeout = transport.auth_timeout = transport.handshake_timeout = timeout
    late = ConnectionFailed(f"{host} port {port} did not complete the SSH handshake in time")
    try:
        transport.start_client(timeout=timeout)
    except (paramiko.SSHException, EOFError, OSError) as error:
        transport.close()
        if isinstance(error, socket.timeout) or "banner" in str(error).lower():
            raise late from None
        raise ConnectionFailed(f"the SSH handshake with {host} port {port} failed: {error}") from None
    if not transport.is_active() or transport.host_key is None:  # start_client gave up waiting
        transport.close()
        raise late
    return transport


def pinned_host_key(
    host: str, port: int, fields: dict[str, Any], policy: EgressPolicy, timeout: float
) -> tuple[str, paramiko.PKey]:
    """(address, host key) of an SSH server whose key matches the fields' pin (see `check_host_key`), for a
    client that verifies the key itself (OpenSSH, for git): connect it to the address returned."""
    try:
        addresses = policy.check_host(host, port)
    except OSError as error:
        raise ConnectionFailed(str(error)) from None
    sock = _connected(host, port, addresses, timeout)
    address = str(sock.getpeername()[0])
    transport = _handshake(sock, host, port, timeout)
    try:
        key = transport.get_remote_server_key()
        check_host_key(host, fingerprint(key), fields)
    finally:
        transport.close()
    return address, key


def open_transport(fields: dict[str, Any], policy: EgressPolicy, timeout: float) -> paramiko.Transport:
    """An authenticated SSH transport to the server the fields name.

    Raises EgressDenied when the policy refuses the host, ConnectionFailed (DNS, refused, timeout,
    host key, authentication) otherwise; messages never hold a password or key."""
    host = str(fields.get("host") or "").strip()
    username = str(fields.get("username") or "").strip()
    if not host:
        raise ConnectionFailed("set the host to connect to")
    if not username:
        raise ConnectionFailed("set the username to log in as")
    port = _port(fields, 22)
    key_text = str(fields.get("private_key") or "")
    password = str(fields.get("password") or "")
    if not key_text and not password:
        raise ConnectionFailed("set a password or a private key to log in with")
    key = load_private_key(key_text, fields.get("passphrase")) if key_text else None
    try:
        addresses = policy.check_host(host, port)
    except OSError as error:
        raise ConnectionFailed(str(error)) from None
    transport = _handshake(_connected(host, port, addresses, timeout), host, port, timeout)
    try:
        check_host_key(host, fingerprint(transport.get_remote_server_key()), fields)
        _authenticate(transport, username, key, password, host)
    except BaseException:
        transport.close()
        raise
    return transport


def _authenticate(
    transport: paramiko.Transport, username: str, key: paramiko.PKey | None, password: str, host: str
) -> None:
    import paramiko

    failed = ConnectionFailed(f"authentication failed for user '{username}' on {host}")
    try:
        if key is not None:
            try:
                transport.auth_publickey(username, key)
            except paramiko.AuthenticationException:
                if not password:
                    raise
        if not transport.is_authenticated() and password:
            transport.auth_password(username, password)
    except paramiko.AuthenticationException:
        raise failed from None
    except (paramiko.SSHException, EOFError, OSError) as error:
        raise ConnectionFailed(f"the SSH session with {host} ended during login: {error}") from None
    if not transport.is_authenticated():
        raise failed


def test(fields: dict[str, Any], policy: EgressPolicy, timeout: float) -> str:
    transport = open_transport(fields, policy, timeout)
    try:
        presented = fingerprint(transport.get_remote_server_key())
    finally:
        transport.close()
    return f"logged in to {fields.get('host')} as {fields.get('username')} (host key {presented})"
