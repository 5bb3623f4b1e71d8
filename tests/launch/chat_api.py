"""A loopback stand-in for the Slack Web API and the Telegram Bot API that records every request exactly
and answers as the documented endpoints do (`{"ok": true, ...}`, or an error body the test sets)."""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest


class _Handler(BaseHTTPRequestHandler):
    server: Any

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        pass

    def do_POST(self) -> None:  # noqa: N802 - the base class's name
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        self.server.requests.append(
            {
                "path": self.path,
                "headers": {k.lower(): v for k, v in self.headers.items()},
                "json": json.loads(body or b"null"),
            }
        )
        status, answer = self.server.answers.get(
            self.path.rsplit("/", 1)[-1], (200, {"ok": True, "result": True})
        )
        data = json.dumps(answer).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@contextlib.contextmanager
def chat_api_server() -> Iterator[Any]:
    """`.url`; `.requests` ([{path, headers (lower-case names), json}]); `.answers[method] = (status, body)`."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.requests, server.answers = [], {}
    server.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def chat_api() -> Iterator[Any]:
    with chat_api_server() as server:
        yield server
