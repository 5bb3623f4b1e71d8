"""Personal API tokens for scripts and CI: `flo_...`, scoped to one organisation, expiring, revocable.

The token is shown once, at creation; only its SHA-256 is stored.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from flomation.core.models import Account, ApiToken, Membership, Organisation
from flomation.core.services.audit import audit_change
from flomation.identity.selectors import user_credentials_valid_since
from flomation.lib import crypto

logger = logging.getLogger(__name__)

TOKEN_PREFIX = "flo_"
MAX_LIFETIME_DAYS = 366
DEFAULT_LIFETIME_DAYS = 90


@transaction.atomic
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
    _token_audited(token, "api_token.created", {"expires_at": token.expires_at.isoformat()})
    return token, plaintext


def _token_audited(token: ApiToken, action: str, extra: dict[str, Any]) -> None:
    audit_change(
        instance=token,
        action=action,
        related=[token.account_id],
        summary={"name": token.name, "prefix": token.prefix, "account": str(token.account_id), **extra},
    )


@transaction.atomic
def api_token_revoke(*, token: ApiToken, reason: str = "") -> ApiToken:
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        _token_audited(token, "api_token.revoked", {"reason": reason} if reason else {})
    return token


@transaction.atomic
def api_tokens_revoke_for_account(*, account_id: Any, reason: str = "") -> int:
    """Revokes every live token of the account, in every organisation; returns how many."""
    live = list(ApiToken.objects.select_for_update().filter(account_id=account_id, revoked_at__isnull=True))
    for token in live:
        api_token_revoke(token=token, reason=reason)
    return len(live)


def api_tokens_revoke_on_credentials_revoked(*, user_id: str, reason: str, **_: Any) -> None:
    """identity's credentials_revoked receiver: a password change or reset, or a deactivated account."""
    revoked = api_tokens_revoke_for_account(account_id=user_id, reason=reason.replace("_", " "))
    if revoked:
        logger.warning(
            "Revoked %s API token(s) of account %s: %s.", revoked, user_id, reason.replace("_", " ")
        )


def api_token_authenticate(*, plaintext: str) -> ApiToken | None:
    """The live token for this plaintext, or None: not expired, not revoked, its owner still a member and
    an active identity user, and the token issued after the owner's last password change."""
    if not plaintext.startswith(TOKEN_PREFIX):
        return None
    now = timezone.now()
    token = (
        ApiToken.objects.select_related("account", "organisation")
        .filter(token_hash=crypto.sha256_hex(plaintext), revoked_at__isnull=True, expires_at__gt=now)
        .first()
    )
    if token is None:
        logger.warning("API token refused: unknown, expired or revoked.")
        return None
    context = (token.id, token.organisation_id, token.account_id)
    valid_since = user_credentials_valid_since(user_id=token.account_id)
    if valid_since is None:
        logger.warning("API token %s of organisation %s refused: account %s is deactivated.", *context)
        return None
    if token.created_at < valid_since:
        # Issued before a password change that a revocation missed (a change outside identity's services).
        api_token_revoke(token=token, reason="password changed after the token was created")
        logger.warning(
            "API token %s of organisation %s refused and revoked: account %s changed its password "
            "after the token was created.",
            *context,
        )
        return None
    if not Membership.objects.filter(
        organisation_id=token.organisation_id, account_id=token.account_id
    ).exists():
        logger.warning("API token %s of organisation %s refused: account %s is no longer a member.", *context)
        return None
    # Record use at most once a minute so a busy CI job does not write on every call.
    if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=1):
        ApiToken.objects.filter(id=token.id).update(last_used_at=now)
    return token
