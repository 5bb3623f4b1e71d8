"""`serve --bind`: the built-in runner talks to the server its own process runs, wherever that listens."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.support.servers import free_port, serve

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def other_install() -> Iterator[tuple[str, list[str]]]:
    """Another server on this box, where FLOMATION_PUBLIC_URL points: it records what reaches it."""
    received: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            received.append(self.path)
            self.send_response(503)
            self.end_headers()

        do_GET = do_POST

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", received
    server.shutdown()
    server.server_close()


def test_the_built_in_runner_registers_with_the_address_serve_binds(tmp_path, other_install):
    other_url, received = other_install
    port = free_port()
    env = {
        "FLOMATION_PUBLIC_URL": other_url,  # the .env's URL, not where this server listens
        "FLOMATION_BIND": "",
        "LOG_LEVEL": "INFO",
        "FLOMATION_RUNNER_STATE_DIRECTORY": str(tmp_path / "runner"),
        "FLOMATION_RUNNER_EXECUTION_DIRECTORY": str(tmp_path / "runner" / "workspace"),
    }
    args = ("--bind", f"127.0.0.1:{port}")
    with serve("all", tmp_path=tmp_path, env=env, port=port, args=args) as server:
        deadline = time.monotonic() + 90
        while "registered as runner" not in server.log() and time.monotonic() < deadline:
            time.sleep(0.2)
        log = server.log()
    assert "registered as runner" in log, log
    assert f"API http://127.0.0.1:{port}" in log
    assert received == [], "the runner called another server"
