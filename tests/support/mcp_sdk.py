"""The official MCP Python SDK on loopback, for tests: a Streamable HTTP server run by uvicorn in a thread,
and the SDK's client driven from synchronous test code."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any


@contextlib.contextmanager
def sdk_server(
    server: Any, *, path: str = "/mcp", seen: list[dict[str, Any]] | None = None, **app_options: Any
) -> Iterator[str]:
    """Serves the SDK's `MCPServer` on 127.0.0.1 (a free port); yields the endpoint's URL. Each request's
    method, path and headers are appended to `seen` when given."""
    import uvicorn

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    inner = server.streamable_http_app(streamable_http_path=path, **app_options)

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http" and seen is not None:
            headers = {key.decode().lower(): value.decode() for key, value in scope["headers"]}
            seen.append({"method": scope["method"], "path": scope["path"], "headers": headers})
        await inner(scope, receive, send)

    runner = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=runner.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not runner.started:
        if time.monotonic() > deadline:
            raise RuntimeError("the MCP SDK server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}{path}"
    finally:
        runner.should_exit = True
        thread.join(timeout=10)


def sdk_client(url: str, token: str, work: Any) -> Any:
    """Connects the SDK's client to `url` with a bearer token, initialises, and returns `await work(session)`."""
    import anyio
    import httpx2
    from mcp.client.session import ClientSession
    from mcp.client.streamable_http import streamable_http_client

    async def main() -> Any:
        async with (
            httpx2.AsyncClient(headers={"Authorization": f"Bearer {token}"}, timeout=60) as http,
            streamable_http_client(url, http_client=http) as streams,
            ClientSession(streams[0], streams[1]) as session,
        ):
            await session.initialize()
            return await work(session)

    return anyio.run(main)
