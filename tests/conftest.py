"""Shared fixtures: identity tokens for named personas and an authenticated API client.

Domain personas (an owner, a member, an outsider from another organisation) live in tests/core/conftest.py
beside the models they need.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from rest_framework.test import APIClient


@pytest.fixture(autouse=True)
def _close_the_listener() -> Iterator[None]:
    """A test that waited through the process's listener leaves it closed: its connection would keep the
    test database from being dropped, and the next test starts from nothing."""
    yield
    from flomation.core.executions.listener import listener_close

    listener_close()


@pytest.fixture
def make_token(db):
    """make_token(email=..., user_id=...) -> a token backed by a live identity session (creating the user)."""
    from flomation.identity.testing import session_token

    def make(email: str | None = None, user_id: str | None = None, display_name: str = "") -> str:
        return session_token(email=email, user_id=user_id, display_name=display_name)

    return make


@pytest.fixture
def api_client_for(make_token):
    """api_client_for(email=..., user_id=...) -> an APIClient sending that user's Bearer token."""

    def make(**kwargs) -> APIClient:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION="Bearer " + make_token(**kwargs))
        return client

    return make


@pytest.fixture
def admin_client(db, admin_user):
    """A test client logged in to the admin as an operator: through an identity session (its cookie), the
    only way into the admin (it never accepts a Django session or a password of its own)."""
    from django.conf import settings
    from django.test import Client

    from flomation.identity.services.sessions import session_create

    client = Client()
    client.cookies[settings.AUTH_COOKIE_NAME] = session_create(user=admin_user)[1]
    return client
