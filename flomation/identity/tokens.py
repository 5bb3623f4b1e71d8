"""Identity tokens: HS256 JWTs signed with AUTH_SECRET (claims iss, sub, iat, nbf, exp, jti, email, name)."""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from typing import Any

import jwt
from django.conf import settings


class TokenError(Exception):
    """A token that must be refused; the message is safe to show (it never says whether an account exists)."""


@dataclass(frozen=True)
class IdentityUser:
    """The authenticated caller, as every role sees it: identity's user id, never a row of identity's tables."""

    user_id: str
    email: str
    display_name: str
    token_id: str | None = None
    issued_at: int | None = None

    is_authenticated = True
    is_anonymous = False
    is_active = True

    @property
    def pk(self) -> str:
        return self.user_id

    def __str__(self) -> str:
        return self.email


def token_issue(
    *,
    user_id: str,
    email: str,
    display_name: str = "",
    lifetime: int | None = None,
    token_id: str | None = None,
) -> tuple[str, dict[str, Any]]:
    """Returns (token, claims) for a user; the jti identifies the session it belongs to."""
    now = int(time.time())
    claims = {
        "iss": settings.AUTH_REALM,
        "sub": str(user_id),
        "iat": now,
        "nbf": now,
        "exp": now + (lifetime or settings.AUTH_TOKEN_LIFETIME),
        "jti": token_id or secrets.token_urlsafe(16),
        "email": email,
        "name": display_name,
    }
    return jwt.encode(claims, settings.AUTH_SECRET, algorithm="HS256"), claims


def token_decode(token: str) -> dict[str, Any]:
    """Verifies signature (HS256 only: `alg: none` and other algorithms are refused), time claims and issuer."""
    try:
        return jwt.decode(
            token,
            settings.AUTH_SECRET,
            algorithms=["HS256"],
            issuer=settings.AUTH_REALM,
            options={"require": ["iss", "sub", "iat", "nbf", "exp", "jti"]},
            leeway=5,
        )
    except jwt.ExpiredSignatureError:
        raise TokenError("The token has expired; log in again.") from None
    except jwt.ImmatureSignatureError:
        raise TokenError("The token is not valid yet.") from None
    except jwt.InvalidIssuerError:
        raise TokenError("The token was issued for another realm.") from None
    except jwt.PyJWTError:
        raise TokenError("The token is not valid.") from None


def identity_user_from_claims(claims: dict[str, Any]) -> IdentityUser:
    return IdentityUser(
        user_id=str(claims["sub"]),
        email=str(claims.get("email", "")),
        display_name=str(claims.get("name", "")),
        token_id=str(claims["jti"]),
        issued_at=int(claims["iat"]),
    )
