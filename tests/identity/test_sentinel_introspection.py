"""IDENTITY_SERVICE may point at Flomation's Sentinel, which serves its user at /api/user and /api/account."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from flomation.identity import introspection
from flomation.identity.authentication import verify_token
from flomation.identity.tokens import TokenError
from tests.support.http import QuietHandler, serving

GOOD = "sentinel-jwt"
GONE = "jwt-of-a-deleted-user"
USER_ID = "2f6a3a4e-9a53-4c1e-8f0e-1b2c3d4e5f60"


class _Sentinel(QuietHandler):
    """Sentinel's routes as its source declares them: GET /api/user and /api/account behind its JWT check
    (Bearer header), 401 for a bad token, 400 when the user no longer exists; no /identity/ prefix."""

    requests: list[tuple[str, str, str]] = []

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        auth = self.headers.get("Authorization", "")
        _Sentinel.requests.append(("GET", self.path, auth))
        if self.path not in ("/api/user", "/api/account"):
            self.reply(404, b"404 page not found", "text/plain")
        elif auth == f"Bearer {GONE}":
            self.reply(400, b"")
        elif auth != f"Bearer {GOOD}":
            self.reply(401, b"")
        elif self.path == "/api/user":
            self.reply(200, json.dumps({"user_id": USER_ID, "display_name": "Grace"}).encode())
        else:
            account = {"id": USER_ID, "username": "grace@example.test", "display_name": "Grace",
                       "created_on": "2026-01-01T00:00:00Z", "locked": False, "mfa_enabled": False}  # fmt: skip
            self.reply(200, json.dumps(account).encode())


@pytest.fixture
def sentinel(settings) -> Iterator[str]:
    _Sentinel.requests = []
    introspection.cache_clear()
    with serving(_Sentinel) as server:
        settings.AUTH_SECRET = ""
        settings.TOKEN_VERIFICATION = "introspect"
        settings.IDENTITY_SERVICE = f"http://127.0.0.1:{server.server_address[1]}"
        yield settings.IDENTITY_SERVICE
    introspection.cache_clear()


def test_a_sentinel_token_is_checked_at_api_user_and_the_email_read_from_api_account(sentinel):
    user = verify_token(GOOD)
    assert (user.user_id, user.email, user.display_name) == (USER_ID, "grace@example.test", "Grace")
    assert _Sentinel.requests == [
        ("GET", "/identity/api/user", f"Bearer {GOOD}"),
        ("GET", "/api/user", f"Bearer {GOOD}"),
        ("GET", "/api/account", f"Bearer {GOOD}"),
    ]
    verify_token(GOOD)
    assert len(_Sentinel.requests) == 3  # the accepted answer is cached


@pytest.mark.parametrize("token", ["forged", GONE])
def test_a_token_sentinel_refuses_or_whose_user_is_gone_is_refused(sentinel, token):
    with pytest.raises(TokenError, match="not valid"):
        verify_token(token)
    assert ("GET", "/api/account", f"Bearer {token}") not in _Sentinel.requests
