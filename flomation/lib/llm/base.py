"""What a model call returns, how it fails, and the HTTP exchange both wire protocols share."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

# A 429 is retried this many times, waiting what the server's Retry-After asks but never longer than
# RETRY_AFTER_CEILING seconds per wait (nor past the caller's deadline).
RATE_LIMIT_RETRIES = 3
RETRY_AFTER_CEILING = 30.0
DEFAULT_RETRY_AFTER = 1.0
# A reply (or a whole stream) larger than this is refused: a model API never needs more, a hostile one could.
MAX_RESPONSE_BYTES = 16 << 20
MAX_LINE_BYTES = 1 << 20


class ModelError(Exception):
    """The model API could not answer: names the endpoint and the reason, never the key."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        self.status = status
        super().__init__(message)


@dataclass
class ToolCall:
    id: str
    name: str
    arguments: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "arguments": self.arguments}


@dataclass
class ChatResult:
    text: str = ""
    model: str = ""
    input_tokens: int = 0
    output_tokens: int = 0
    stop_reason: str = ""
    tool_calls: list[ToolCall] = field(default_factory=list)

    def assistant_message(self) -> dict[str, Any]:
        """This reply as a message of the neutral conversation shape."""
        message: dict[str, Any] = {"role": "assistant", "content": self.text}
        if self.tool_calls:
            message["tool_calls"] = [call.to_dict() for call in self.tool_calls]
        return message


@dataclass
class ChatRequest:
    """One model turn as the caller asks for it (neutral message shape; see the package docstring)."""

    model: str
    messages: list[dict[str, Any]]
    system: str = ""
    temperature: float | None = None
    max_tokens: int | None = None
    tools: list[dict[str, Any]] = field(default_factory=list)
    json_schema: dict[str, Any] | None = None
    on_token: Callable[[str], None] | None = None


@dataclass
class Exchange:
    """One model API's HTTP settings for a call: session, deadline, secrets to scrub, how to sleep."""

    session: Any
    timeout: float = 120.0
    deadline: float | None = None  # time.monotonic() past which nothing more is sent
    secrets: tuple[str, ...] = ()
    sleep: Callable[[float], None] = time.sleep

    def remaining(self) -> float:
        if self.deadline is None:
            return self.timeout
        return max(0.1, min(self.timeout, self.deadline - time.monotonic()))

    def scrub(self, text: str) -> str:
        for secret in self.secrets:
            if secret and len(secret) >= 3:
                text = text.replace(secret, "***")
        return text

    def post(self, url: str, *, headers: dict[str, str], body: dict[str, Any], stream: bool = False) -> Any:
        """The reply to a POST (status 2xx), after waiting out up to RATE_LIMIT_RETRIES 429 answers."""
        return self._send("POST", url, headers=headers, body=body, stream=stream)

    def get(self, url: str, *, headers: dict[str, str]) -> Any:
        return self._send("GET", url, headers=headers, body=None, stream=False)

    def _send(self, method: str, url: str, *, headers: dict[str, str], body: Any, stream: bool) -> Any:
        import requests

        where = _where(url)
        attempt = 0
        while True:
            attempt += 1
            try:
                reply = self.session.request(
                    method,
                    url,
                    headers=headers,
                    json=body,
                    timeout=self.remaining(),
                    stream=True,  # read in bounded pieces (see read_capped), never all at once
                    allow_redirects=False,
                )
            except requests.Timeout:
                raise ModelError(f"the model API at {where} did not answer in time") from None
            except requests.ConnectionError as error:
                raise ModelError(
                    f"cannot reach the model API at {where}: {self.scrub(_short(error))}"
                ) from None
            if reply.status_code == 429 and attempt <= RATE_LIMIT_RETRIES:
                wait = retry_after(reply.headers.get("Retry-After"))
                reply.close()
                if self.deadline is not None and time.monotonic() + wait > self.deadline:
                    raise ModelError(
                        f"the model API at {where} is rate limiting (429) past the time left", status=429
                    )
                self.sleep(wait)
                continue
            if reply.status_code >= 400:
                raise ModelError(self._failure(reply, where), status=reply.status_code)
            return reply

    def _failure(self, reply: Any, where: str) -> str:
        text = read_capped(reply, 4000, where, cut=True).decode("utf-8", errors="replace")
        said = text.strip()
        try:
            parsed = json.loads(text)
            error = parsed.get("error") if isinstance(parsed, dict) else None
            if isinstance(error, dict):
                said = str(error.get("message") or error.get("type") or said)
            elif isinstance(error, str):
                said = error
        except ValueError:
            pass
        hint = ""
        if reply.status_code in (401, 403):
            hint = " (check the API key)"
        elif reply.status_code == 429:
            hint = " (rate limited; retried and gave up)"
        return self.scrub(f"the model API at {where} answered {reply.status_code}{hint}: {said[:500]}")

    def json_of(self, reply: Any, where: str) -> dict[str, Any]:
        raw = read_capped(reply, MAX_RESPONSE_BYTES, _where(where))
        try:
            parsed = json.loads(raw)
        except ValueError:
            raise ModelError(
                f"the model API at {_where(where)} answered with something that is not JSON"
            ) from None
        if not isinstance(parsed, dict):
            raise ModelError(f"the model API at {_where(where)} answered JSON that is not an object")
        return parsed


def send_chat(
    exchange: Exchange,
    url: str,
    *,
    headers: dict[str, str],
    body: dict[str, Any],
    model: str,
    on_token: Callable[[str], None] | None,
    streamed: Callable[[Any, str, str, Callable[[str], None]], ChatResult],
    whole: Callable[[dict[str, Any], str, str], ChatResult],
) -> ChatResult:
    """Sends a chat request (the body already asks to stream when `on_token` is set) and reads the reply
    with the protocol's `streamed` or `whole` reader: a server that does not stream answers all at once."""
    if on_token is None:
        return whole(exchange.json_of(exchange.post(url, headers=headers, body=body), url), url, model)
    reply = exchange.post(url, headers={**headers, "Accept": "text/event-stream"}, body=body, stream=True)
    if "text/event-stream" not in reply.headers.get("Content-Type", ""):
        return whole(exchange.json_of(reply, url), url, model)
    try:
        return streamed(reply, url, model, on_token)
    finally:
        reply.close()


def retry_after(value: str | None) -> float:
    """Seconds a Retry-After header asks for (seconds or an HTTP date), bounded by RETRY_AFTER_CEILING."""
    if not value:
        return DEFAULT_RETRY_AFTER
    try:
        seconds = float(value)
    except ValueError:
        from email.utils import parsedate_to_datetime

        try:
            seconds = parsedate_to_datetime(value).timestamp() - time.time()
        except (TypeError, ValueError):
            seconds = DEFAULT_RETRY_AFTER
    return min(max(0.0, seconds), RETRY_AFTER_CEILING)


def read_capped(reply: Any, limit: int, where: str, *, cut: bool = False) -> bytes:
    """The body, read in pieces: past `limit` bytes it is cut (`cut`) or refused with a ModelError."""
    chunks, size = [], 0
    try:
        for chunk in reply.iter_content(65536):
            chunks.append(chunk)
            size += len(chunk)
            if size > limit:
                if cut:
                    break
                raise ModelError(f"the model API at {where} answered more than {limit // (1 << 20)} MB")
    finally:
        reply.close()
    return b"".join(chunks)[:limit]


def _arriving(reply: Any) -> Iterator[bytes]:
    """The body in the pieces the network delivers them, each passed on at once: a read that waited to fill
    a buffer would hold a streamed reply back until its end."""
    raw = getattr(reply, "raw", None)
    read1 = getattr(raw, "read1", None)
    if read1 is None:
        yield from reply.iter_content(8192)
        return
    while True:
        data = read1(8192)
        if not data:
            return
        yield data


def _lines(reply: Any, where: str) -> Iterator[bytes]:
    """The body's lines as they arrive, each and all of them bounded (MAX_LINE_BYTES, MAX_RESPONSE_BYTES)."""
    buffer, total = b"", 0
    for chunk in _arriving(reply):
        total += len(chunk)
        if total > MAX_RESPONSE_BYTES:
            raise ModelError(
                f"the model API at {_where(where)} streamed more than {MAX_RESPONSE_BYTES >> 20} MB"
            )
        buffer += chunk
        *lines, buffer = buffer.split(b"\n")
        for line in lines:
            yield line.rstrip(b"\r")
        if len(buffer) > MAX_LINE_BYTES:
            raise ModelError(
                f"the model API at {_where(where)} streamed a line longer than {MAX_LINE_BYTES >> 20} MB"
            )
    if buffer:
        yield buffer.rstrip(b"\r")


def sse_events(reply: Any, where: str = "") -> Iterator[tuple[str, str]]:
    """(event, data) pairs of a server-sent-events body; `event` is "" when the stream names none."""
    event, data = "", []
    for raw in _lines(reply, where):
        line = raw.decode("utf-8", errors="replace")
        if not line:
            if data:
                yield event, "\n".join(data)
            event, data = "", []
            continue
        if line.startswith(":"):
            continue
        name, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if name == "event":
            event = value
        elif name == "data":
            data.append(value)
    if data:
        yield event, "\n".join(data)


def parse_json_event(data: str, where: str) -> dict[str, Any]:
    try:
        parsed = json.loads(data)
    except ValueError:
        raise ModelError(f"the model API at {_where(where)} streamed an event that is not JSON") from None
    return parsed if isinstance(parsed, dict) else {}


def parse_arguments(text: str | dict[str, Any] | None) -> dict[str, Any]:
    """A tool call's arguments; a model that wrote broken JSON gets them back under `_raw` to see."""
    if isinstance(text, dict):
        return text
    if not text:
        return {}
    try:
        parsed = json.loads(text)
    except ValueError:
        return {"_raw": text}
    return parsed if isinstance(parsed, dict) else {"_value": parsed}


def _where(url: str) -> str:
    parts = urlsplit(url)
    return parts.netloc or url[:60]


def _short(error: BaseException) -> str:
    return str(error)[:300]
