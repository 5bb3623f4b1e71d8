"""Identity's tunables, read from settings with safe defaults (the project settings may override them)."""

from __future__ import annotations

from django.conf import settings


def _int(name: str, default: int) -> int:
    return int(getattr(settings, name, default))


def login_failure_window() -> int:
    """Seconds over which failed logins are counted."""
    return _int("IDENTITY_LOGIN_FAILURE_WINDOW", 15 * 60)


def login_failure_limit_per_account() -> int:
    return _int("IDENTITY_LOGIN_FAILURE_LIMIT", 10)


def login_failure_limit_per_address() -> int:
    # Higher than per account: many people can share one address behind a NAT or proxy.
    return _int("IDENTITY_LOGIN_FAILURE_LIMIT_PER_ADDRESS", 30)


def verify_link_lifetime() -> int:
    return _int("IDENTITY_VERIFY_LINK_LIFETIME", 24 * 3600)


def reset_link_lifetime() -> int:
    return _int("IDENTITY_RESET_LINK_LIFETIME", 30 * 60)


def links_per_hour() -> int:
    """At most this many emails with links per account and hour (stops mail-bombing an address)."""
    return _int("IDENTITY_LINKS_PER_HOUR", 5)


def mfa_ticket_lifetime() -> int:
    """Seconds between a correct password and the one-time code that completes the login."""
    return _int("IDENTITY_MFA_TICKET_LIFETIME", 5 * 60)


def trust_forwarded_for() -> bool:
    """Behind a TLS proxy (BEHIND_TLS_PROXY) the client address is the last X-Forwarded-For hop."""
    return getattr(settings, "SECURE_PROXY_SSL_HEADER", None) is not None
