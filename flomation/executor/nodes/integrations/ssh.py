"""ssh/run and SFTP (filetransfer/upload, filetransfer/download) over an SSH connection.

The connection is opened by `flomation.lib.connections.ssh.open_transport` (egress-checked address, host key
pinned before a credential is sent); paramiko is imported only when one of these nodes runs. Local files are
in the run's workspace (/work), remote paths are the server's.
"""

from __future__ import annotations

import time

from flomation.executor.connections import connection_fields, connection_input
from flomation.executor.engine.errors import NodeError
from flomation.executor.nodes.integrations import workdir
from flomation.executor.registry import Input, node

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from flomation.executor.engine.context import NodeContext

MAX_OUTPUT_BYTES = 1 << 20
CONNECT_TIMEOUT = 30.0
CHUNK = 1 << 16
FIELDS = ("host", "port", "username", "password", "private_key", "passphrase", "host_key_fingerprint",
          "trust_on_first_use")  # fmt: skip
SECRET_FIELDS = ("password", "private_key", "passphrase")

CONNECTION_INPUTS = (
    connection_input("ssh"),
    Input("host", "string", description="The server's name or address (when no connection is picked)."),
    Input("port", "integer", default=22, description="The SSH port."),
    Input("username", "string", description="The user to log in as."),
    Input("password", "secret", description="The user's password (or use a private key)."),
    Input("private_key", "secret", description="An OpenSSH or PEM private key."),
    Input("passphrase", "secret", description="The private key's passphrase, if it is encrypted."),
    Input(
        "host_key_fingerprint",
        "string",
        description="The server's host key fingerprint (SHA256:..., from ssh-keygen -lf); others are refused.",
    ),
    Input(
        "trust_on_first_use",
        "boolean",
        default=False,
        description="Accept an unknown host key when no fingerprint is set (its fingerprint is an output).",
    ),
)


def _fields(ctx: NodeContext, inputs: dict[str, Any]) -> dict[str, Any]:
    return connection_fields(ctx, inputs, "ssh", inline=FIELDS, secret=SECRET_FIELDS)


def with_transport(
    ctx: NodeContext,
    inputs: dict[str, Any],
    work: Callable[[Any], dict[str, Any]],
    connect_timeout: float = CONNECT_TIMEOUT,
) -> dict[str, Any]:
    """Opens the SSH transport, runs `work(transport)` in a cancellable thread, closes the transport.

    A refusal of the egress policy is logged once; every failure becomes a NodeError saying what failed."""
    from flomation.lib.connections import ConnectionFailed
    from flomation.lib.connections.ssh import fingerprint, open_transport
    from flomation.lib.egress import EgressDenied

    fields = _fields(ctx, inputs)
    opened: list[Any] = []

    def run() -> dict[str, Any]:
        transport = open_transport(fields, ctx.egress, ctx.remaining(connect_timeout) or connect_timeout)
        opened.append(transport)
        try:
            result = work(transport)
            result["host_key_fingerprint"] = fingerprint(transport.get_remote_server_key())
            return result
        finally:
            transport.close()

    def abort() -> None:
        for transport in opened:
            transport.close()

    try:
        return ctx.call_blocking(run, on_abort=abort)
    except EgressDenied as refused:
        ctx.egress_refused(refused)
        raise NodeError(str(refused)) from None
    except ConnectionFailed as error:
        raise NodeError(str(error)) from None


@node(
    "ssh/run",
    name="SSH Command",
    category="ssh",
    description="Run a command on a server over SSH and capture its output and exit code.",
    inputs=(
        *CONNECTION_INPUTS,
        Input("command", "text", required=True, description="The command line the server's shell runs."),
        Input("stdin", "text", description="Text sent to the command's standard input."),
        Input(
            "timeout", "number", default=60, description="Seconds the command may run before it is stopped."
        ),
    ),
    outputs=(
        "stdout:string",
        "stderr:string",
        "exit_code:integer",
        "success:boolean",
        "truncated:boolean",
        "host_key_fingerprint:string",
    ),
    idempotent=False,
)
def ssh_run(ctx: NodeContext, inputs: dict[str, Any]) -> dict[str, Any]:
    command = inputs["command"]
    timeout = float(inputs.get("timeout") or 60)
    if timeout <= 0:
        raise NodeError("input 'timeout' must be a positive number of seconds")
    stdin = (inputs.get("stdin") or "").encode()

    def work(transport: Any) -> dict[str, Any]:
        channel = transport.open_session(timeout=CONNECT_TIMEOUT)
        try:
            channel.exec_command(command)
            if stdin:
                channel.sendall(stdin)
            channel.shutdown_write()
            return _collect(channel, timeout)
        finally:
            channel.close()

    # The timeout bounds connecting and logging in too: an unanswering server fails as fast as a slow command.
    return with_transport(ctx, inputs, work, min(CONNECT_TIMEOUT, timeout))


def _collect(channel: Any, timeout: float) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    out, err = bytearray(), bytearray()
    truncated = False
    while True:
        busy = False
        for ready, receive, buffer in (
            (channel.recv_ready, channel.recv, out),
            (channel.recv_stderr_ready, channel.recv_stderr, err),
        ):
            if ready():
                busy = True
                data = receive(CHUNK)
                room = MAX_OUTPUT_BYTES - len(buffer)
                truncated = truncated or len(data) > room
                buffer.extend(data[: max(0, room)])
        if (
            not busy
            and channel.exit_status_ready()
            and not channel.recv_ready()
            and not channel.recv_stderr_ready()
        ):
            break
        if time.monotonic() > deadline:
            raise NodeError(f"the command did not finish within {timeout:g} s (it was stopped)")
        if not busy:
            time.sleep(0.01)
    code = channel.recv_exit_status()
    return {
        "stdout": out.decode("utf-8", errors="replace"),
        "stderr": err.decode("utf-8", errors="replace"),
        "exit_code": code,
        "success": code == 0,
        "truncated": truncated,
    }


_PROTOCOL = Input(
    "protocol",
    "string",
    default="sftp",
    options=("sftp",),
    description="The transfer protocol (SFTP over SSH).",
)


@node(
    "filetransfer/upload",
    name="SFTP Upload",
    category="ssh",
    description="Copy a file from the run's workspace (/work) to a server over SFTP.",
    inputs=(
        *CONNECTION_INPUTS,
        _PROTOCOL,
        Input(
            "local_path",
            "string",
            required=True,
            description="The file to send: /work/... or relative to /work.",
        ),
        Input("remote_path", "string", required=True, description="Where to write it on the server."),
    ),
    outputs=("remote_path:string", "size:integer", "success:boolean", "host_key_fingerprint:string"),
    idempotent=False,
)
def sftp_upload(ctx: NodeContext, inputs: dict[str, Any]) -> dict[str, Any]:
    import os

    parts = workdir.parts_of(inputs["local_path"], name="local_path")
    remote = _remote_path(inputs["remote_path"])
    ws = workdir.workspace(ctx)

    def work(transport: Any) -> dict[str, Any]:
        import paramiko

        sftp = paramiko.SFTPClient.from_transport(transport)
        size = 0
        try:
            with (
                workdir.open_file(ws, parts, name="local_path", write=False) as fd,
                sftp.open(remote, "wb") as target,
            ):
                while chunk := os.read(fd, CHUNK):
                    target.write(chunk)
                    size += len(chunk)
        except OSError as error:
            raise NodeError(f"the server refused to write {remote}: {error.strerror or error}") from None
        finally:
            sftp.close()
        return {"remote_path": remote, "size": size, "success": True}

    return with_transport(ctx, inputs, work)


@node(
    "filetransfer/download",
    name="SFTP Download",
    category="ssh",
    description="Copy a file from a server over SFTP into the run's workspace (/work).",
    inputs=(
        *CONNECTION_INPUTS,
        _PROTOCOL,
        Input("remote_path", "string", required=True, description="The file to fetch from the server."),
        Input(
            "local_path",
            "string",
            required=True,
            description="Where to write it: /work/... or relative to /work.",
        ),
    ),
    outputs=("local_path:string", "size:integer", "success:boolean", "host_key_fingerprint:string"),
)
def sftp_download(ctx: NodeContext, inputs: dict[str, Any]) -> dict[str, Any]:
    import os

    parts = workdir.parts_of(inputs["local_path"], name="local_path")
    remote = _remote_path(inputs["remote_path"])
    ws = workdir.workspace(ctx)
    limit = int(ctx.settings.script_max_file_mb) << 20

    def work(transport: Any) -> dict[str, Any]:
        import paramiko

        sftp = paramiko.SFTPClient.from_transport(transport)
        size = 0
        try:
            with (
                sftp.open(remote, "rb") as source,
                workdir.open_file(ws, parts, name="local_path", write=True) as fd,
            ):
                while chunk := source.read(CHUNK):
                    size += len(chunk)
                    if size > limit:
                        raise NodeError(
                            f"{remote} is larger than the {limit >> 20} MB a workspace file may hold"
                        )
                    os.write(fd, chunk)
        except OSError as error:
            raise NodeError(f"the server could not send {remote}: {error.strerror or error}") from None
        finally:
            sftp.close()
        return {"local_path": workdir.display(parts), "size": size, "success": True}

    return with_transport(ctx, inputs, work)


def _remote_path(value: str) -> str:
    path = value.strip()
    if not path or "\x00" in path:
        raise NodeError("input 'remote_path' must name a file on the server")
    return path
