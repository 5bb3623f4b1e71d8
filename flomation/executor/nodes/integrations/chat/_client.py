"""The HTTP exchange of the chat nodes: the run's egress session, the node's time limit and cancellation,
bounded waits on rate limits (`flomation.lib.connections._http`), and the soft-failure outputs."""

from __future__ import annotations

import functools
import json
from typing import Any

from flomation.executor.connections import connection_fields
from flomation.executor.engine.errors import NodeError
from flomation.executor.nodes.integrations._common import refused, timeout_of
from flomation.lib.connections._http import Reply, ServiceFailed, exchange, host_of, send, unreachable

MAX_FILE_BYTES = 50 * 1024 * 1024  # Telegram's and Slack's bots upload at most this much

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

    from flomation.executor.engine.context import NodeContext


class Client:
    """Requests for one node run. `call` returns the service's reply (after waiting out 429s); a
    connection failure becomes ServiceFailed naming the host (never the URL: Telegram's carries the token)."""

    def __init__(self, ctx: NodeContext, inputs: dict[str, Any]) -> None:
        from flomation.executor.nodes.web import _session

        self.ctx = ctx
        self.timeout = timeout_of(ctx, inputs)
        self.session = _session(ctx)

    def call(self, method: str, url: str, *, what: str, **kwargs: Any) -> Reply:
        import requests

        def attempt() -> Reply:
            limit = self.ctx.remaining(self.timeout) or self.timeout
            return self.ctx.call_blocking(
                lambda: send(self.session, method, url, timeout=max(1.0, limit), **kwargs),
                on_abort=self.session.close,
            )

        def pause(seconds: float) -> bool:
            if self.ctx.sleep(seconds):
                return True
            self.ctx.check()  # cancelled while waiting: the node ends as cancelled, not as failed
            return False

        try:
            return exchange(attempt, sleep=pause, what=what)
        except requests.RequestException as error:
            raise ServiceFailed(f"{what} failed: {unreachable(error, host_of(url))}") from None


def service_fields(
    ctx: NodeContext, inputs: dict[str, Any], kind: str, inline: tuple[str, ...], secret: tuple[str, ...]
) -> dict[str, Any]:
    """The connection's fields completed by the node's inline inputs. The base URL is never an input: with
    a stored connection that would let a flow send the connection's secret elsewhere, so it comes from the
    connection only (inline credentials reach the service's public address)."""
    return connection_fields(ctx, inputs, kind, inline=inline, secret=secret)


def soft(*outputs: str) -> Callable[[Callable[..., dict[str, Any]]], Callable[..., dict[str, Any]]]:
    """Runs a node so that the service's refusal is Flomation's soft failure: `success: false`, `error`
    and `tool_result` saying why, and the node's other `outputs` empty. An egress refusal and a
    configuration error (ConnectionFailed raised before anything was sent) fail the node."""

    def wrap(fn: Callable[..., dict[str, Any]]) -> Callable[..., dict[str, Any]]:
        @functools.wraps(fn)
        def run(ctx: NodeContext, inputs: dict[str, Any]) -> dict[str, Any]:
            from flomation.lib.connections import ConnectionFailed
            from flomation.lib.egress import EgressDenied

            try:
                return fn(ctx, inputs)
            except EgressDenied as error:
                refused(ctx, error)
            except ServiceFailed as failed:
                message = str(failed)
                ctx.log("warning", message)
                return {**dict.fromkeys(outputs), "tool_result": message, "success": False, "error": message}
            except ConnectionFailed as failed:
                raise NodeError(str(failed)) from None

        return run

    return wrap


def required(inputs: dict[str, Any], *names: str) -> str:
    """The first of `names` given (Flomation reads `channel_id`, then `chat_id`); NodeError if none is."""
    for name in names:
        value = inputs.get(name)
        if value not in (None, ""):
            return str(value).strip()
    raise NodeError(f"input '{names[0]}' is required")


def json_list(value: Any, name: str, wrapper: str | None = None) -> list[Any] | None:
    """A JSON array input (Block Kit blocks, attachments): a list, or its JSON text, optionally inside the
    `{"<wrapper>": [...]}` object Slack's Block Kit Builder exports, or in a Markdown code fence."""
    if value in (None, ""):
        return None
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("```"):
            text = text.split("\n", 1)[1] if "\n" in text else ""
            text = text.rstrip().removesuffix("```").strip()
        if not text:
            return None
        try:
            value = json.loads(text)
        except ValueError as error:
            raise NodeError(f"input '{name}' is not valid JSON: {error}") from None
    if isinstance(value, dict) and wrapper and isinstance(value.get(wrapper), list):
        value = value[wrapper]
    if not isinstance(value, list):
        raise NodeError(f"input '{name}' must be a JSON array")
    return value


def json_object(value: Any, name: str) -> dict[str, Any] | None:
    if value in (None, ""):
        return None
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError as error:
            raise NodeError(f"input '{name}' is not valid JSON: {error}") from None
    if not isinstance(value, dict):
        raise NodeError(f"input '{name}' must be a JSON object")
    return value


def file_bytes(ctx: NodeContext, inputs: dict[str, Any], *, text: str | None = None) -> bytes:
    """The bytes to upload: `file_base64`, else `file_blob` (a path in the run's /work, or the content
    itself), else the text `content`."""
    import base64
    import binascii

    encoded = inputs.get("file_base64")
    if encoded:
        try:
            return base64.b64decode(str(encoded).strip(), validate=False)
        except (binascii.Error, ValueError):
            raise NodeError("input 'file_base64' is not valid base64") from None
    blob = inputs.get("file_blob")
    if blob:
        return _workspace_or_raw(ctx, str(blob))
    if text:
        return text.encode("utf-8")
    raise NodeError(
        "give the file: 'file_base64', 'file_blob' (a path in /work)"
        + (" or 'content'" if text is not None else "")
    )


def _workspace_or_raw(ctx: NodeContext, value: str) -> bytes:
    """A `/work/...` path names a file of the run's workspace (read without following symlinks); anything
    else is the content itself, as Flomation passes a resolved blob."""
    import os

    from flomation.executor.nodes.integrations import workdir

    if not value.startswith("/work/"):
        return value.encode("utf-8")
    parts = workdir.parts_of(value, name="file_blob")
    ws = workdir.workspace(ctx)
    with (
        workdir.open_file(ws, parts, name="file_blob", write=False) as fd,
        os.fdopen(os.dup(fd), "rb") as handle,
    ):
        content = handle.read(MAX_FILE_BYTES + 1)
    if len(content) > MAX_FILE_BYTES:
        raise NodeError(f"input 'file_blob': {value[:120]} is larger than {MAX_FILE_BYTES >> 20} MB")
    return content
