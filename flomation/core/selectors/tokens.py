"""Reads of personal API tokens (the tokens themselves are never stored, only their hashes)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from flomation.core.models import Account, ApiToken, Organisation
from flomation.core.selectors.common import get_or_404


def api_token_list(*, account: Account, organisation: Organisation) -> QuerySet[ApiToken]:
    """The account's tokens for one organisation, newest first; revoked and expired ones included."""
    return ApiToken.objects.filter(account=account, organisation=organisation).order_by("-created_at")


def api_token_get(*, account: Account, organisation: Organisation, token_id: Any) -> ApiToken:
    """One of the account's tokens for the organisation, or NotFound (also for a malformed id)."""
    return get_or_404(api_token_list(account=account, organisation=organisation), "token", id=token_id)
