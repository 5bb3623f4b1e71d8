"""Inside a script sandbox whose network the operator allows: the proxy port scripts see on their own loopback.

    python -I -S -B netrelay.py SOCKET PORT -- COMMAND...

The sandbox's network namespace has only its own loopback interface, so no connection can leave it. This
program listens on 127.0.0.1:PORT there, relays every connection byte for byte to the unix socket SOCKET
(the run's egress proxy in the executor, outside the sandbox, which checks each destination against the
egress policy), then becomes COMMAND. It decides nothing: whatever a script does to it, the only way out is
the proxy. Standard library only, run as a single file.
"""

from __future__ import annotations

import contextlib
import os
import socket
import sys
import threading

CHUNK = 65536


def pipe(source: socket.socket, target: socket.socket) -> None:
    """Copies ``source`` to ``target`` until ``source`` ends, then ends ``target``'s sending side."""
    try:
        while True:
            data = source.recv(CHUNK)
            if not data:
                break
            target.sendall(data)
    except OSError:
        pass
    finally:
        with contextlib.suppress(OSError):
            target.shutdown(socket.SHUT_WR)


def _relay(client: socket.socket, path: str) -> None:
    upstream = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        upstream.connect(path)
    except OSError:
        upstream.close()
        client.close()
        return
    back = threading.Thread(target=pipe, args=(upstream, client), daemon=True)
    back.start()
    pipe(client, upstream)
    back.join()
    upstream.close()
    client.close()


def _serve(listener: socket.socket, path: str) -> None:
    while True:
        try:
            client, _ = listener.accept()
        except OSError:
            continue
        threading.Thread(target=_relay, args=(client, path), daemon=True).start()


def main(argv: list[str]) -> None:
    if len(argv) < 5 or argv[3] != "--":
        sys.stderr.write("usage: netrelay.py SOCKET PORT -- COMMAND...\n")
        sys.exit(2)
    path, port, command = argv[1], int(argv[2]), argv[4:]
    listener = socket.create_server(("127.0.0.1", port), backlog=64)
    if os.fork() == 0:
        null = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(null, fd)
        try:
            _serve(listener, path)
        finally:
            os._exit(0)
    listener.close()
    os.execv(command[0], command)


if __name__ == "__main__":
    main(sys.argv)
