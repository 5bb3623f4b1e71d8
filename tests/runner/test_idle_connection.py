"""An idle runner's next call survives the server closing its pooled keep-alive connection just as the call
went out (gunicorn closes idle connections after 5 s, the idle heartbeat's own interval): the client sends
it again once, on a new connection, signed afresh."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from flomation.runner import client as client_module
from flomation.runner.client import ApiClient, ApiUnavailable
from tests.runner import factories as f


class _DropsSecondRequest(BaseHTTPRequestHandler):
    """Keep-alive; on each connection, the second request is read and the connection closed unanswered,
    as a server does that closes an idle connection while the request is on its way."""

    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        pass

    def setup(self) -> None:
        super().setup()
        self.count = 0

    def do_POST(self) -> None:  # noqa: N802 - the base class's name
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.count += 1
        if self.count == 2:
            self.close_connection = True
            self.server.dropped += 1  # type: ignore[attr-defined]
            return
        self.server.nonces.append(self.headers.get("X-Flomation-Nonce") or "")  # type: ignore[attr-defined]
        body = json.dumps({"executions": {}}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def api() -> Iterator[ThreadingHTTPServer]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _DropsSecondRequest)
    server.dropped, server.nonces = 0, []  # type: ignore[attr-defined]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


def client_for(server: ThreadingHTTPServer) -> ApiClient:
    return ApiClient(f"http://127.0.0.1:{server.server_address[1]}", runner_id="r1", key=f.test_key())


def test_a_call_on_an_idle_connection_the_server_dropped_is_sent_again_once(api, monkeypatch):
    monkeypatch.setattr(client_module, "IDLE_SECONDS", 0.2)
    client = client_for(api)
    client.call("POST", "heartbeat", {"executions": []})
    time.sleep(0.3)  # idle, as between two heartbeats of a runner with nothing to do
    assert client.call("POST", "heartbeat", {"executions": []}) == {"executions": {}}
    assert api.dropped == 1
    assert len(api.nonces) == 2 and len(set(api.nonces)) == 2  # signed afresh


def test_a_busy_connection_that_drops_is_reported_not_retried(api, monkeypatch):
    monkeypatch.setattr(client_module, "IDLE_SECONDS", 60)
    client = client_for(api)
    client.call("POST", "heartbeat", {"executions": []})
    with pytest.raises(ApiUnavailable, match="Connection aborted"):
        client.call("POST", "heartbeat", {"executions": []})
