"""Over real HTTP against `manage.py serve`: clients that trickle a body tie up no worker thread."""

from __future__ import annotations

import contextlib
import socket
import threading
import time

import pytest
import requests

from tests.launch.conftest import World, trigger_node
from tests.support.servers import serve

pytestmark = pytest.mark.django_db(transaction=True)

TRICKLERS = 40


def trickle(url: str, path: str, stop: threading.Event) -> list[socket.socket]:
    """Opens TRICKLERS connections that announce a 1000-byte body and send it a byte a second."""
    host, port = url.removeprefix("http://").split(":")
    sockets = []
    for _ in range(TRICKLERS):
        sock = socket.create_connection((host, int(port)), timeout=10)
        sock.sendall(
            f"POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
            "Content-Length: 1000\r\n\r\n[".encode()
        )
        sockets.append(sock)

    def drip() -> None:
        while not stop.wait(1):
            for sock in sockets:
                with contextlib.suppress(OSError):
                    sock.send(b" ")

    threading.Thread(target=drip, daemon=True).start()
    return sockets


def answer_of(sock: socket.socket, timeout: float) -> bytes:
    """What the server sent before it closed the connection (b"" if it only closed it)."""
    sock.settimeout(timeout)
    received = b""
    with contextlib.suppress(OSError):
        while chunk := sock.recv(4096):
            received += chunk
    return received


def test_health_checks_answer_while_clients_trickle_bodies_and_the_tricklers_get_408(tmp_path):
    world = World()
    world.deploy(trigger_node("trigger/webhook"))
    path = f"/launch/webhook/{world.trigger().public_id}"
    env = {"FLOMATION_WEB_THREADS": "4", "FLOMATION_REQUEST_BODY_TIMEOUT": "4"}
    stop = threading.Event()
    with serve("launch", tmp_path=tmp_path, env=env, workers=1) as server:
        sockets = trickle(server.url, path, stop)
        try:
            time.sleep(1.5)  # every trickler has started its body
            for _ in range(3):
                started = time.monotonic()
                assert requests.get(server.url + "/healthz", timeout=2).json() == {"status": "ok"}
                assert time.monotonic() - started < 1
                time.sleep(0.5)

            answers = [answer_of(sock, timeout=6) for sock in sockets]
            assert all(answer.startswith(b"HTTP/1.1 408 ") for answer in answers), answers[0]
            assert world.executions() == []

            fine = requests.post(server.url + path, json={"a": 1}, timeout=5)
            assert fine.status_code == 202
        finally:
            stop.set()
            for sock in sockets:
                sock.close()


def test_keep_alive_expect_continue_chunked_and_large_bodies_still_arrive_whole(tmp_path):
    world = World()
    world.deploy(trigger_node("trigger/webhook", {"max_body_bytes": 3 << 20}))
    path = f"/launch/webhook/{world.trigger().public_id}"
    with serve("launch", tmp_path=tmp_path, env={"FLOMATION_REQUEST_BODY_TIMEOUT": "4"}) as server:
        with requests.Session() as session:  # one kept-alive connection, several requests
            statuses = [
                session.post(server.url + path, json={"n": n}, timeout=5).status_code for n in range(3)
            ]
        assert statuses == [202, 202, 202]

        large = b'"' + b"x" * (2 << 20) + b'"'  # past the event loop's buffer: the thread reads the rest
        assert requests.post(server.url + path, data=large, timeout=10).status_code == 202
        chunked = requests.post(server.url + path, data=iter([b"[1,", b"2]"]), timeout=10)
        assert chunked.status_code == 202

        host, port = server.url.removeprefix("http://").split(":")
        with socket.create_connection((host, int(port)), timeout=5) as sock:
            sock.sendall(
                f"POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
                "Content-Length: 7\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n".encode()
            )
            assert sock.recv(4096).startswith(b"HTTP/1.1 100 Continue")  # the client may send the body now
            sock.sendall(b'{"a":1}')
            assert b"HTTP/1.1 202 " in answer_of(sock, timeout=5)
    bodies = [execution.trigger_data["body"] for execution in world.executions()]
    assert bodies[:3] == [{"n": 0}, {"n": 1}, {"n": 2}] and bodies[3] == large.decode()
    assert bodies[4:] == ["[1,2]", {"a": 1}]
