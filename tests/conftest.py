"""Shared fixtures: identity tokens for named personas and an authenticated API client.

Domain personas (an owner, a member, an outsider from another organisation) live in tests/core/conftest.py
beside the models they need.
"""

from __future__ import annotations

import uuid

import pytest
from rest_framework.test import APIClient

from flomation.identity.tokens import token_issue


@pytest.fixture
def make_token():
    def make(email: str | None = None, user_id: str | None = None, display_name: str = "") -> str:
        user_id = user_id or str(uuid.uuid4())
        token, _ = token_issue(user_id=user_id, email=email or f"{user_id[:8]}@example.test", display_name=display_name)
        return token

    return make


@pytest.fixture
def api_client_for(make_token):
    """api_client_for(email=..., user_id=...) -> an APIClient sending that user's Bearer token."""

    def make(**kwargs) -> APIClient:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION="Bearer " + make_token(**kwargs))
        return client

    return make
