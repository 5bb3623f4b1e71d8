"""A loopback server speaking the documented model APIs: OpenAI's `/v1/chat/completions`, `/v1/embeddings`,
`/v1/models` and Anthropic's `/v1/messages`, `/v1/models`.

A test queues the replies a route gives, in order (`server.reply(path, ...)`), and reads back every request
as it arrived (`server.requests`: method, path, headers, parsed JSON body) to assert the exact request.
A reply is a JSON object, raw bytes (malformed bodies), or a list of server-sent events (streaming).
"""

from __future__ import annotations

import json
import threading
import time
from collections import defaultdict, deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Reply:
    status: int = 200
    body: Any = None  # dict -> JSON; bytes -> as is; list of (event, data) -> SSE
    headers: dict[str, str] = field(default_factory=dict)
    pause: float = 0.0  # SSE only: seconds between events, sent as they come (the connection then closes)
    gate: threading.Event | None = None  # SSE only: after the first event, wait (up to 5 s) for it to be set


@dataclass
class ModelApi:
    url: str
    queues: dict[str, deque[Reply]]
    requests: list[dict[str, Any]]
    gate_timed_out: bool | None = None  # a gated reply's: whether its client never saw the first event

    def reply(
        self,
        path: str,
        body: Any = None,
        *,
        status: int = 200,
        headers: dict[str, str] | None = None,
        pause: float = 0.0,
        gate: threading.Event | None = None,
    ) -> None:
        self.queues[path].append(Reply(status, body, headers or {}, pause, gate))

    def bodies(self, path: str) -> list[Any]:
        return [r["json"] for r in self.requests if r["path"].split("?")[0] == path]


def openai_completion(text: str = "", *, model: str = "gpt-test", tool_calls: list[dict[str, Any]] | None = None,
                      prompt_tokens: int = 11, completion_tokens: int = 7, finish: str = "stop") -> dict[str, Any]:  # fmt: skip
    message: dict[str, Any] = {"role": "assistant", "content": text or None}
    if tool_calls:
        message["tool_calls"] = [
            {
                "id": c["id"],
                "type": "function",
                "function": {"name": c["name"], "arguments": json.dumps(c["arguments"])},
            }
            for c in tool_calls
        ]
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 1,
        "model": model,
        "choices": [{"index": 0, "message": message, "finish_reason": finish}],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        },  # fmt: skip
    }


def anthropic_message(text: str = "", *, model: str = "claude-test", tool_uses: list[dict[str, Any]] | None = None,
                      input_tokens: int = 13, output_tokens: int = 5, stop: str = "end_turn") -> dict[str, Any]:  # fmt: skip
    content: list[dict[str, Any]] = [{"type": "text", "text": text}] if text else []
    for use in tool_uses or []:
        content.append({"type": "tool_use", "id": use["id"], "name": use["name"], "input": use["arguments"]})
    return {
        "id": "msg_1",
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": content,
        "stop_reason": stop,
        "stop_sequence": None,
        "usage": {"input_tokens": input_tokens, "output_tokens": output_tokens},
    }


class _Handler(BaseHTTPRequestHandler):
    server: Any
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        pass

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            parsed = json.loads(raw) if raw else None
        except ValueError:
            parsed = None
        path = self.path.split("?")[0]
        self.server.api.requests.append(
            {"method": self.command, "path": self.path, "headers": dict(self.headers), "json": parsed}
        )
        queue = self.server.api.queues.get(path)
        reply = queue.popleft() if queue else Reply(404, {"error": {"type": "not_found", "message": path}})
        self.send_response(reply.status)
        for key, value in reply.headers.items():
            self.send_header(key, value)
        if isinstance(reply.body, list) and (reply.pause or reply.gate):
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Connection", "close")
            self.end_headers()
            for number, (event, payload) in enumerate(reply.body):
                text = payload if isinstance(payload, str) else json.dumps(payload)
                self.wfile.write(
                    (f"event: {event}\n" if event else "").encode() + f"data: {text}\n\n".encode()
                )
                self.wfile.flush()
                if reply.gate is not None and number == 0:
                    self.server.api.gate_timed_out = not reply.gate.wait(5)
                time.sleep(reply.pause)
            self.close_connection = True
            return
        if isinstance(reply.body, list):
            data = b"".join(
                (f"event: {event}\n" if event else "").encode()
                + f"data: {payload if isinstance(payload, str) else json.dumps(payload)}\n\n".encode()
                for event, payload in reply.body
            )
            self.send_header("Content-Type", "text/event-stream")
        elif isinstance(reply.body, bytes):
            data = reply.body
            self.send_header("Content-Type", "application/json")
        else:
            data = json.dumps(reply.body).encode()
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = _handle


@contextmanager
def model_api() -> Iterator[ModelApi]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    server.api = ModelApi(f"http://127.0.0.1:{server.server_address[1]}", defaultdict(deque), [])
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.api
    finally:
        server.shutdown()
        server.server_close()
