"""Roles that do not share AUTH_SECRET check tokens by asking the identity role, with a short cache."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.test import RequestFactory

from flomation.identity import introspection
from flomation.identity.authentication import authenticate_request, verify_token
from flomation.identity.services.sessions import session_revoke
from flomation.identity.testing import session_token
from flomation.identity.tokens import TokenError, token_decode

GOOD = "good-token"


class _StubIdentity(BaseHTTPRequestHandler):
    calls: list[str] = []

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        _StubIdentity.calls.append(self.headers.get("Authorization", ""))
        if self.path == "/identity/api/user" and self.headers.get("Authorization") == f"Bearer {GOOD}":
            body = json.dumps(
                {
                    "user_id": "7d0c6c43-5b5e-4a53-9b8e-3c3f1f5f0a11",
                    "email": "ada@example.test",
                    "display_name": "Ada",
                }
            ).encode()
            self.send_response(200)
        elif self.path == "/identity/api/user" and self.headers.get("Authorization") == "Bearer broken":
            body = b"<html>oops</html>"
            self.send_response(502)
        else:
            body = b'{"detail": "The token is not valid."}'
            self.send_response(401)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def remote_identity(settings) -> Iterator[str]:
    """A stand-in identity role on loopback; this process has no AUTH_SECRET."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _StubIdentity)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    _StubIdentity.calls = []
    settings.AUTH_SECRET = ""
    settings.TOKEN_VERIFICATION = "introspect"
    settings.IDENTITY_SERVICE = f"http://127.0.0.1:{server.server_address[1]}"
    yield settings.IDENTITY_SERVICE
    server.shutdown()
    server.server_close()


def test_without_the_secret_a_token_is_checked_by_the_identity_role(remote_identity):
    user = verify_token(GOOD)
    assert (user.user_id, user.email, user.display_name) == (
        "7d0c6c43-5b5e-4a53-9b8e-3c3f1f5f0a11",
        "ada@example.test",
        "Ada",
    )
    assert _StubIdentity.calls == [f"Bearer {GOOD}"]


def test_an_accepted_answer_is_cached_briefly_and_a_refusal_is_not(remote_identity, monkeypatch, settings):
    verify_token(GOOD)
    verify_token(GOOD)
    assert len(_StubIdentity.calls) == 1
    for _ in range(2):
        with pytest.raises(TokenError, match="not valid"):
            verify_token("revoked-token")
    assert len(_StubIdentity.calls) == 3
    clock = [introspection.time.monotonic() + settings.IDENTITY_INTROSPECTION_CACHE_SECONDS + 1]
    monkeypatch.setattr(introspection.time, "monotonic", lambda: clock[0])
    verify_token(GOOD)
    assert len(_StubIdentity.calls) == 4


def test_the_cache_keeps_no_token_in_clear(remote_identity):
    verify_token(GOOD)
    assert GOOD not in repr(introspection._cache)


def test_an_unreachable_identity_role_is_a_clear_refusal(settings):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings.AUTH_SECRET = ""
    settings.TOKEN_VERIFICATION = "introspect"
    settings.IDENTITY_SERVICE = f"http://127.0.0.1:{port}"
    with pytest.raises(TokenError, match="cannot be reached"):
        verify_token("any-token")


def test_a_broken_answer_from_the_identity_role_is_a_clear_refusal(remote_identity):
    with pytest.raises(TokenError, match="could not check the token"):
        verify_token("broken")


def test_plain_django_views_authenticate_through_introspection_too(remote_identity):
    request = RequestFactory().get("/anything", HTTP_AUTHORIZATION=f"Bearer {GOOD}")
    user, source = authenticate_request(request)
    assert user.email == "ada@example.test" and source == "bearer"
    cookie_request = RequestFactory().get("/anything")
    cookie_request.COOKIES["flomation-token"] = GOOD
    assert authenticate_request(cookie_request)[1] == "cookie"


@pytest.mark.django_db(transaction=True)
def test_introspection_against_a_real_identity_role_honours_revocation(live_server, settings):
    token = session_token(email="remote@example.test")
    settings.IDENTITY_SERVICE = live_server.url
    user = introspection.introspect(token)
    assert user.email == "remote@example.test"
    session_revoke(user_id=user.user_id, session_id=token_decode(token)["jti"])
    introspection.cache_clear()
    with pytest.raises(TokenError, match="not valid"):
        introspection.introspect(token)
