"""Stand-ins for the chat and SMS services' HTTP APIs on loopback: each route answers what the service's
documentation says it answers, in turn (so a 429 can come before a success), and every request is kept for
the test to assert on."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from typing import Any

BOT_TOKEN = "xoxb-1111-2222-secretvalue"
TELEGRAM_TOKEN = "123456:ABC-telegram-secret"
TWILIO_SID = "AC0123456789abcdef0123456789abcdef"
TWILIO_TOKEN = "twilio-auth-secret"
TEAMS_SECRET = "teams-client-secret-value"


def answers(*replies: tuple[int, dict[str, str], Any]) -> Any:
    """A route answering each request with the next reply; the last one repeats."""
    queue = list(replies)

    def route(handler: Any) -> tuple[int, dict[str, str], Any]:
        return queue.pop(0) if len(queue) > 1 else queue[0]

    return route


def ok(payload: Any, status: int = 200) -> tuple[int, dict[str, str], Any]:
    return status, {"Content-Type": "application/json"}, payload


def limited(seconds: str = "0", body: Any = None) -> tuple[int, dict[str, str], Any]:
    headers = {"Content-Type": "application/json"}
    if seconds:
        headers["Retry-After"] = seconds
    return 429, headers, body if body is not None else {"ok": False, "error": "ratelimited"}


def body_json(request: dict[str, Any]) -> Any:
    return json.loads(request["body"])


def form(request: dict[str, Any]) -> dict[str, list[str]]:
    from urllib.parse import parse_qs

    return parse_qs(request["body"].decode(), keep_blank_values=True)


def basic(user: str, password: str) -> str:
    import base64

    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def multipart(request: dict[str, Any]) -> dict[str, tuple[str | None, bytes]]:
    """A multipart/form-data body as {field: (filename or None, content)}."""
    from email.parser import BytesParser
    from email.policy import HTTP

    head = f"Content-Type: {request['headers']['Content-Type']}\r\n\r\n".encode()
    message = BytesParser(policy=HTTP).parsebytes(head + request["body"])
    return {
        part.get_param("name", header="content-disposition"): (
            part.get_filename(),
            part.get_payload(decode=True),
        )
        for part in message.iter_parts()
    }


@contextlib.contextmanager
def serving() -> Iterator[Any]:
    """The executor tests' loopback HTTP server (`routes`, `requests`, `url`) outside a fixture."""
    import threading
    from http.server import ThreadingHTTPServer

    from tests.executor.conftest import _Handler

    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.routes, server.requests = {}, []  # type: ignore[attr-defined]
    server.url = f"http://127.0.0.1:{server.server_address[1]}"  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
