"""`/launch/test/<workflow>/<node>?token=…`: a test request for the editor's "Listen for test event".

Any method; the request is captured for the author who is listening and nothing runs."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from flomation.launch.ingress import Refused, read_body
from flomation.launch.services.test_events import TestEventRefused, test_event_capture


@csrf_exempt
def test_event(request: HttpRequest, workflow_id: str, node_id: str) -> JsonResponse:
    token = request.GET.get("token") or request.headers.get("X-Flomation-Test-Token", "")
    if not token:
        return JsonResponse({"error": "this test URL needs its token (listen for a test event)"}, status=403)
    try:
        body = read_body(request, settings.LAUNCH_TEST_MAX_BODY_BYTES)
        test_event_capture(
            workflow_id=workflow_id,
            node_id=node_id,
            token=token,
            method=request.method or "GET",
            headers=dict(request.headers),
            query={key: request.GET.getlist(key) for key in request.GET if key != "token"},
            body=body,
        )
    except Refused as refused:
        return refused.response()
    except TestEventRefused as refused:
        return JsonResponse({"error": refused.message}, status=refused.status)
    return JsonResponse({"status": "captured", "message": "Test event received; nothing was run."})
