"""The ssh program git runs for the git nodes (GIT_SSH_COMMAND): paramiko, to an address and a host key
fixed beforehand. Standard library and paramiko only: it runs as its own script, with the run's uid when
the executor is root (OpenSSH's client refuses a uid without a passwd entry, which those uids are).

The executor has already resolved the host through the egress policy, connected to a checked address and
compared the server's key with the pinned fingerprint; it passes that address and the exact key here in the
environment (FLOMATION_SSH_ADDRESS, FLOMATION_SSH_PORT, FLOMATION_SSH_HOST_KEY) with the private key's file
(FLOMATION_SSH_KEY_FILE, 0600). Nothing else is read: not ~/.ssh, not an agent, not a config file.

git calls it as `<this> [-o SendEnv=GIT_PROTOCOL] [-p <port>] [-4|-6] <user@host> <command>`.
"""

from __future__ import annotations

import os
import sys
import threading


def _arguments(args: list[str]) -> tuple[str, str]:
    """(user, command) from git's ssh arguments."""
    index = 0
    while index < len(args) and args[index].startswith("-"):
        if args[index] == "--":
            index += 1
            break
        index += 2 if args[index] in ("-o", "-p", "-l", "-i", "-F") else 1
    rest = args[index:]
    if len(rest) < 2:
        raise SystemExit("flomation git ssh: expected a host and a command")
    user = rest[0].rpartition("@")[0] if "@" in rest[0] else "git"
    return user, " ".join(rest[1:])


def main(args: list[str]) -> int:
    import paramiko

    user, command = _arguments(args)
    address = os.environ["FLOMATION_SSH_ADDRESS"]
    port = int(os.environ["FLOMATION_SSH_PORT"])
    expected = os.environ["FLOMATION_SSH_HOST_KEY"]
    import socket

    sock = socket.create_connection((address, port), timeout=30)
    transport = paramiko.Transport(sock)
    transport.start_client(timeout=30)
    presented = transport.get_remote_server_key()
    if f"{presented.get_name()} {presented.get_base64()}" != expected:
        sys.stderr.write("flomation git ssh: the server's host key changed since it was checked\n")
        return 255
    key = None
    for kind in (paramiko.Ed25519Key, paramiko.ECDSAKey, paramiko.RSAKey):
        try:
            key = kind.from_private_key_file(os.environ["FLOMATION_SSH_KEY_FILE"])
            break
        except (paramiko.SSHException, ValueError):
            continue
    try:
        if key is None:
            raise paramiko.AuthenticationException
        transport.auth_publickey(user, key)
    except paramiko.AuthenticationException:
        sys.stderr.write(f"flomation git ssh: authentication failed for user '{user}' (Permission denied)\n")
        return 255
    channel = transport.open_session()
    if os.environ.get("GIT_PROTOCOL"):
        channel.set_environment_variable("GIT_PROTOCOL", os.environ["GIT_PROTOCOL"])
    channel.exec_command(command)

    def forward_stdin() -> None:
        while chunk := os.read(0, 65536):
            channel.sendall(chunk)
        channel.shutdown_write()

    def forward_stderr() -> None:
        while chunk := channel.recv_stderr(65536):
            os.write(2, chunk)

    threading.Thread(target=forward_stdin, daemon=True).start()
    errors = threading.Thread(target=forward_stderr, daemon=True)
    errors.start()
    while chunk := channel.recv(65536):
        view = memoryview(chunk)
        while view:
            view = view[os.write(1, view) :]
    status = channel.recv_exit_status()
    errors.join(timeout=5)
    transport.close()
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
