"""The tests' API session sends a request again only when the server closed the connection unanswered."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import pytest
import requests

from tests.http import api_session

ANSWER = b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 4\r\nConnection: close\r\n\r\nbusy"


@pytest.fixture
def server() -> Iterator[tuple[str, list[bytes]]]:
    """A loopback server that closes its first connection without a word and answers 503 to the others;
    it keeps the requests it read."""
    listener = socket.create_server(("127.0.0.1", 0))
    seen: list[bytes] = []

    def serve() -> None:
        while True:
            try:
                connection, _ = listener.accept()
            except OSError:
                return
            with connection:
                seen.append(connection.recv(65536))
                if len(seen) > 1:
                    connection.sendall(ANSWER)

    threading.Thread(target=serve, daemon=True).start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}", seen
    listener.close()


def test_a_post_dropped_unanswered_is_sent_again_and_its_answer_is_kept(server):
    url, seen = server
    answer = api_session().post(url + "/api/v1/organisations/", json={"name": "Acme"}, timeout=5)
    assert answer.status_code == 503 and answer.text == "busy"  # an error answer is not retried
    assert len(seen) == 2 and all(b"POST /api/v1/organisations/" in request for request in seen)


def test_a_refused_connection_is_not_retried():
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    listener.close()
    with pytest.raises(requests.ConnectionError):
        api_session().get(f"http://127.0.0.1:{port}/", timeout=5)
