"""The organisation's vector store for an executor run in its own process (isolation configured).

That process holds no runner credentials, so the runner listens on a Unix socket of its own (mode 0600 in a
private directory) for the execution's lifetime and makes each call for it with the execution's signed
provider; the API still takes the organisation from the execution. One JSON line in, one JSON line out.
No Django.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import socket
import tempfile
import threading
from collections.abc import Callable
from typing import Any

logger = logging.getLogger(__name__)

SOCKET_VARIABLE = "FLOMATION_VECTOR_SOCKET"
MAX_LINE_BYTES = 16 << 20


class VectorRelay:
    def __init__(self, call: Callable[[str, dict[str, Any]], dict[str, Any]]) -> None:
        self._call = call
        self._directory = tempfile.mkdtemp(prefix="flo-v-")  # short: a socket path has at most 107 bytes
        self.path = os.path.join(self._directory, "store.sock")
        self._server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._server.bind(self.path)
        os.chmod(self.path, 0o600)
        self._server.listen(8)
        threading.Thread(target=self._serve, daemon=True, name="vector-relay").start()

    def _serve(self) -> None:
        while True:
            try:
                client, _ = self._server.accept()
            except OSError:
                return  # closed
            threading.Thread(target=self._answer, args=(client,), daemon=True).start()

    def _answer(self, client: socket.socket) -> None:
        from flomation.lib.vectors.schema import VectorError

        with client, client.makefile("rwb") as stream:
            line = stream.readline(MAX_LINE_BYTES + 1)
            try:
                request = json.loads(line)
                answer: dict[str, Any] = {
                    "ok": self._call(str(request["operation"]), dict(request["payload"]))
                }
            except VectorError as error:
                answer = {"error": str(error)}
            except Exception:
                logger.exception("vector store call for an isolated executor failed")
                answer = {"error": "the organisation's vector store could not be reached"}
            stream.write(json.dumps(answer, default=str).encode() + b"\n")

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self._server.close()
        shutil.rmtree(self._directory, ignore_errors=True)


def relay_call(path: str, operation: str, payload: dict[str, Any], timeout: float = 120.0) -> dict[str, Any]:
    """The executor's side: one operation through the runner's socket. Raises VectorError with its sentence."""
    from flomation.lib.vectors.schema import VectorError

    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout)
        sock.connect(path)
        with sock.makefile("rwb") as stream:
            stream.write(json.dumps({"operation": operation, "payload": payload}).encode() + b"\n")
            stream.flush()
            answer = json.loads(stream.readline(MAX_LINE_BYTES + 1) or b"{}")
    if "error" in answer or not isinstance(answer.get("ok"), dict):
        raise VectorError(str(answer.get("error") or "the runner gave no answer from the vector store"))
    return answer["ok"]
