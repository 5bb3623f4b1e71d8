"""Helpers for executor tests: flows in Flomation's format, a loopback HTTP server, run helpers."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from flomation.executor import ExecutorSettings, RunResult, run_flow
from flomation.executor.registry import lookup
from flomation.lib.egress import EgressPolicy

FIXTURES = Path(__file__).parent / "fixtures"


def load_fixture(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / name).read_text())


def node(
    node_id: str,
    action: str,
    inputs: dict[str, Any] | None = None,
    class_type: int | None = None,
    **config: Any,
) -> dict[str, Any]:
    """A node as Flomation's editor writes it."""
    if class_type is None:
        spec = lookup(action)
        class_type = spec.class_type if spec is not None else 2
    connections = [{"name": k, "type": "string", "value": v} for k, v in (inputs or {}).items()]
    return {
        "id": node_id,
        "type": action,
        "position": {"x": 0, "y": 0},
        "data": {
            "id": node_id,
            "label": action,
            "config": {
                "id": node_id,
                "name": None,
                "type": class_type,
                "plugin": action,
                "inputs": connections,
                "outputs": [],
                **config,
            },
        },
    }


def edge(source: str, target: str, handle: str | None = None) -> dict[str, Any]:
    item: dict[str, Any] = {
        "id": f"{source}-{target}-{handle or ''}",
        "type": "default",
        "source": source,
        "target": target,
    }
    if handle is not None:
        item["sourceHandle"] = handle
    return item


def flow(nodes: list[dict[str, Any]], edges: list[dict[str, Any]]) -> dict[str, Any]:
    return {"nodes": nodes, "edges": edges}


def chain(*nodes: dict[str, Any]) -> dict[str, Any]:
    """A straight line t -> n1 -> n2 ... starting with a manual trigger called t."""
    all_nodes = [node("t", "trigger/manual"), *nodes]
    edges = [edge(a["id"], b["id"]) for a, b in zip(all_nodes, all_nodes[1:], strict=False)]
    return flow(all_nodes, edges)


class Recorder:
    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []

    def __call__(self, event: dict[str, Any]) -> None:
        self.events.append(event)

    def statuses(self, node_id: str) -> list[str]:
        return [e["status"] for e in self.events if e["id"] == node_id]

    def ran(self) -> list[str]:
        return [e["id"] for e in self.events if e["status"] == "success"]


# The loopback test servers are reached the way an operator would allow a range: through the policy.
# Tests of the egress policy itself pass their own settings (the strict default).
LOOPBACK_ALLOWED = EgressPolicy.build(allow=["127.0.0.0/8"])


def run(flow_: dict[str, Any], **kwargs: Any) -> tuple[RunResult, Recorder]:
    recorder = Recorder()
    kwargs.setdefault(
        "settings", ExecutorSettings(log=lambda level, message, fields: None, egress=LOOPBACK_ALLOWED)
    )
    result = run_flow(flow_, on_event=recorder, **kwargs)
    return result, recorder


def run_node(action: str, inputs: dict[str, Any], **kwargs: Any) -> RunResult:
    """Run one node after a manual trigger; its record is result.node_results['n']."""
    result, _ = run(chain(node("n", action, inputs)), **kwargs)
    return result


def outputs_of(result: RunResult, node_id: str = "n") -> dict[str, Any]:
    return result.node_results[node_id].get("outputs") or {}


class _Handler(BaseHTTPRequestHandler):
    server: Any

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        pass

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        self.server.requests.append(
            {"method": self.command, "path": self.path, "headers": dict(self.headers), "body": body}
        )
        route = self.server.routes.get(self.path.split("?")[0])
        if route is None:
            self.send_response(404)
            self.end_headers()
            self.wfile.write(b"not found")
            return
        status, headers, payload = route(self) if callable(route) else route
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle


@pytest.fixture
def http_server():
    """A real HTTP server on 127.0.0.1; set ``server.routes[path] = (status, headers, body)``."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.routes = {}
    server.requests = []
    server.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
