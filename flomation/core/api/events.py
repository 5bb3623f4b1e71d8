"""Live step events of one execution as server-sent events.

GET .../executions/<id>/events streams `step` events (id: the step's id, so a reconnect with
Last-Event-ID or ?after= resumes where it stopped), `state` events when the execution's state changes and
a final `end` event. Between batches it waits on PostgreSQL LISTEN for the execution's channel (the
runner protocol NOTIFYs it on every batch and result), on a connection of its own, never polling in a
tight loop. A stream lasts at most STREAM_SECONDS; EventSource reconnects by itself.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import psycopg
from django.db import connection
from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request

from flomation.core.api.executions import ExecutionView
from flomation.core.api.params import whole_number
from flomation.core.api.serializers.executions import StepSerializer
from flomation.core.models import ExecutionState
from flomation.core.selectors.executions import execution_steps_after, execution_stream_state
from flomation.core.services.executions import execution_channel

STREAM_SECONDS = 300.0
HEARTBEAT_SECONDS = 15.0
BATCH = 200


class EventStreamRenderer(BaseRenderer):
    """Lets clients ask for text/event-stream; errors before the stream starts are sent as one event."""

    media_type = "text/event-stream"
    format = "event-stream"
    charset = "utf-8"

    def render(
        self, data: Any, accepted_media_type: str | None = None, renderer_context: Any = None
    ) -> bytes:
        return sse("error", data)


def sse(event: str, data: Any, event_id: int | None = None) -> bytes:
    lines = [f"event: {event}"]
    if event_id is not None:
        lines.append(f"id: {event_id}")
    lines.append("data: " + json.dumps(data, default=str, separators=(",", ":")))
    return ("\n".join(lines) + "\n\n").encode()


def listen_connection() -> psycopg.Connection[Any]:
    """A connection of its own for LISTEN, with the same server and database as Django's."""
    # Only libpq parameters (strings and numbers): Django's adapters, cursor class and pool options stay out.
    params = {
        key: value
        for key, value in connection.get_connection_params().items()
        if isinstance(value, str | int)
        and not isinstance(value, bool)
        and key not in ("prepare_threshold", "pool")
    }
    return psycopg.connect(**params, autocommit=True)


def execution_events(
    *,
    execution_id: Any,
    after: int | None,
    max_seconds: float = STREAM_SECONDS,
    heartbeat: float = HEARTBEAT_SECONDS,
) -> Iterator[bytes]:
    """Yields SSE frames until the execution has finished and every step is sent, or max_seconds pass."""
    deadline = time.monotonic() + max_seconds
    with listen_connection() as listener:
        # LISTEN before the first read, so a NOTIFY between the read and the wait is not lost.
        listener.execute(f'LISTEN "{execution_channel(execution_id)}"')
        yield b"retry: 2000\n\n"
        cursor = after or 0
        last_state: dict[str, Any] | None = None
        while True:
            steps = execution_steps_after(execution_id=execution_id, after=cursor, limit=BATCH)
            for step in steps:
                yield sse("step", StepSerializer(step).data, event_id=step.id)
                cursor = step.id
            if len(steps) == BATCH:
                continue
            state = execution_stream_state(execution_id=execution_id)
            if state is None:
                yield sse("end", {"state": "deleted"})
                return
            if state != last_state:
                yield sse("state", state)
                last_state = state
            if state["state"] in ExecutionState.finished():
                yield sse("end", {"state": state["state"]})
                return
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            woke = any(True for _ in listener.notifies(timeout=min(heartbeat, remaining), stop_after=1))
            if not woke:
                yield b": keep-alive\n\n"


def _cursor(request: Request) -> int | None:
    raw = request.headers.get("Last-Event-ID") or request.query_params.get("after")
    if raw in (None, ""):
        return None
    return whole_number(str(raw), name="after")


class ExecutionEventsView(ExecutionView):
    permissions = {"GET": "execution.view"}
    renderer_classes = [JSONRenderer, EventStreamRenderer]

    @extend_schema(
        tags=["executions"],
        summary="Live step events (server-sent events)",
        parameters=[
            OpenApiParameter("after", int, description="resume after this event id"),
            OpenApiParameter(
                "Last-Event-ID", str, OpenApiParameter.HEADER, description="as sent by EventSource"
            ),
        ],
        responses={
            (200, "text/event-stream"): OpenApiResponse(OpenApiTypes.STR, description="step/state/end events")
        },
    )
    def get(self, request: Request, org_id: str, execution_id: str) -> StreamingHttpResponse:
        execution = self.execution(execution_id)
        response = StreamingHttpResponse(
            execution_events(execution_id=execution.id, after=_cursor(request)),
            content_type="text/event-stream",
        )
        response["Cache-Control"] = "no-cache"
        response["X-Accel-Buffering"] = "no"
        return response
