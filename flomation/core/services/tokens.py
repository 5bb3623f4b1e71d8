"""Personal API tokens for scripts and CI: `flo_...`, scoped to one organisation, expiring, revocable.

The token is shown once, at creation; only its SHA-256 is stored.
"""

from __future__ import annotations

from datetime import timedelta

from django.core.exceptions import ValidationError
from django.utils import timezone

from flomation.core.models import Account, ApiToken, Membership, Organisation
from flomation.lib import crypto

TOKEN_PREFIX = "flo_"
MAX_LIFETIME_DAYS = 366
DEFAULT_LIFETIME_DAYS = 90


def api_token_create(
    *, account: Account, organisation: Organisation, name: str, lifetime_days: int = DEFAULT_LIFETIME_DAYS
) -> tuple[ApiToken, str]:
    """Creates a token for the account in one organisation; returns it with the plaintext (shown once)."""
    name = (name or "").strip()
    if not name or len(name) > 120:
        raise ValidationError({"name": "Give the token a name of 1 to 120 characters (what will use it?)."})
    if not 1 <= lifetime_days <= MAX_LIFETIME_DAYS:
        raise ValidationError({"lifetime_days": f"A token lives between 1 and {MAX_LIFETIME_DAYS} days."})
    if not Membership.objects.filter(organisation=organisation, account=account).exists():
        raise ValidationError("Only a member of the organisation can create a token for it.")
    plaintext = crypto.random_token(TOKEN_PREFIX, 32)
    token = ApiToken.objects.create(
        account=account,
        organisation=organisation,
        name=name,
        prefix=plaintext[:12],
        token_hash=crypto.sha256_hex(plaintext),
        expires_at=timezone.now() + timedelta(days=lifetime_days),
    )
    return token, plaintext


def api_token_revoke(*, token: ApiToken) -> ApiToken:
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
    return token


def api_token_authenticate(*, plaintext: str) -> ApiToken | None:
    """The live token for this plaintext (not expired, not revoked, owner still a member), or None."""
    if not plaintext.startswith(TOKEN_PREFIX):
        return None
    now = timezone.now()
    token = (
        ApiToken.objects.select_related("account", "organisation")
        .filter(token_hash=crypto.sha256_hex(plaintext), revoked_at__isnull=True, expires_at__gt=now)
        .first()
    )
    if token is None:
        return None
    if not Membership.objects.filter(
        organisation_id=token.organisation_id, account_id=token.account_id
    ).exists():
        return None
    # Record use at most once a minute so a busy CI job does not write on every call.
    if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=1):
        ApiToken.objects.filter(id=token.id).update(last_used_at=now)
    return token
