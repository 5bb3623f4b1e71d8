"""StatelessViewMiddleware: a @stateless view skips the session/auth/CSRF chain, everything else keeps it."""

from __future__ import annotations

import pytest
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from flomation.middleware import stateless

SEEN: dict[str, bool] = {}


@stateless
@csrf_exempt
def lean(request: HttpRequest) -> JsonResponse:
    SEEN["lean_has_session"] = hasattr(request, "session")
    SEEN["lean_has_user"] = hasattr(request, "user")
    return JsonResponse({"ok": True}, status=202)


def full(request: HttpRequest) -> HttpResponse:
    SEEN["full_has_session"] = hasattr(request, "session")
    return HttpResponse("full")


urlpatterns = [path("lean", lean), path("full", full)]

pytestmark = pytest.mark.urls(__name__)


def test_a_stateless_view_is_answered_without_the_session_and_auth_chain(client):
    response = client.post("/lean", data=b"{}", content_type="application/json")
    assert response.status_code == 202 and response.json() == {"ok": True}
    assert SEEN["lean_has_session"] is False and SEEN["lean_has_user"] is False
    assert response.headers["Content-Length"] == str(len(response.content))
    assert response.headers["X-Frame-Options"] == "DENY"
    # SecurityMiddleware still ran before it.
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_any_other_view_goes_down_the_whole_chain(client):
    assert client.get("/full").status_code == 200
    assert SEEN["full_has_session"] is True


def test_an_unknown_path_still_gets_the_chains_404(client):
    assert client.get("/nowhere").status_code == 404


def test_a_stateless_post_needs_no_csrf_token_even_with_csrf_checks_on():
    from django.test import Client

    response = Client(enforce_csrf_checks=True).post("/lean", data=b"{}", content_type="application/json")
    assert response.status_code == 202
