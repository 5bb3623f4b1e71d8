"""Live step events of one execution as server-sent events: GET .../executions/<id>/events.

The stream itself (events `step`, `state`, `end`, shared with the editor's live view) is core's
`flomation.core.executions.events.execution_events`; this module is the API's view of it.
"""

from __future__ import annotations

from typing import Any

from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request

from flomation.core.api.executions import ExecutionView
from flomation.core.api.params import whole_number
from flomation.core.executions.events import execution_events, sse


class EventStreamRenderer(BaseRenderer):
    """Lets clients ask for text/event-stream; errors before the stream starts are sent as one event."""

    media_type = "text/event-stream"
    format = "event-stream"
    charset = "utf-8"

    def render(
        self, data: Any, accepted_media_type: str | None = None, renderer_context: Any = None
    ) -> bytes:
        return sse("error", data)


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
