"""Token introspection against a remote identity role, for processes that do not share AUTH_SECRET.

`introspect(token)` calls GET <IDENTITY_SERVICE>/identity/api/user with the token as Bearer (or, when that
is 404, a Flomation Sentinel's /api/user and /api/account) and caches an accepted answer for a short time,
keyed by a hash of the token (the token itself is never kept). Refusals are not cached, so a newly issued
token works at once; a revoked one stops within IDENTITY_INTROSPECTION_CACHE_SECONDS (a few seconds).
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time

import requests
from django.conf import settings

from flomation.identity.tokens import IdentityUser, TokenError

logger = logging.getLogger(__name__)

CACHE_MAX_ENTRIES = 10_000
TIMEOUT_SECONDS = 5.0

_cache: dict[str, tuple[float, IdentityUser]] = {}
_lock = threading.Lock()


def _key(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def cache_clear() -> None:
    with _lock:
        _cache.clear()


def _cached(key: str) -> IdentityUser | None:
    with _lock:
        entry = _cache.get(key)
        if entry is None:
            return None
        if entry[0] < time.monotonic():
            del _cache[key]
            return None
        return entry[1]


def _remember(key: str, user: IdentityUser) -> None:
    now = time.monotonic()
    with _lock:
        if len(_cache) >= CACHE_MAX_ENTRIES:
            for stale in [k for k, (expiry, _) in _cache.items() if expiry < now] or list(_cache)[:1000]:
                _cache.pop(stale, None)
        _cache[key] = (now + settings.IDENTITY_INTROSPECTION_CACHE_SECONDS, user)


def introspect(token: str) -> IdentityUser:
    """The user the remote identity role says this token stands for; raises TokenError otherwise."""
    base = (settings.IDENTITY_SERVICE or "").rstrip("/")
    if not base:
        raise TokenError(
            "Tokens cannot be checked: TOKEN_VERIFICATION=introspect but IDENTITY_SERVICE is not set."
        )
    key = _key(token)
    cached = _cached(key)
    if cached is not None:
        return cached
    response = _get(base, "/identity/api/user", token)
    # 404: not our identity role but Flomation's Sentinel, which serves its user at the root.
    user = _sentinel_user(base, token) if response.status_code == 404 else _identity_user(base, response)
    _remember(key, user)
    return user


def _get(base: str, path: str, token: str) -> requests.Response:
    try:
        return requests.get(
            base + path,
            headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
            timeout=TIMEOUT_SECONDS,
            allow_redirects=False,
        )
    except requests.RequestException as exc:
        logger.warning("Identity service %s unreachable: %s", base, exc.__class__.__name__)
        raise TokenError("The identity service cannot be reached; try again shortly.") from None


def _identity_user(base: str, response: requests.Response) -> IdentityUser:
    """Our identity role's answer: `{user_id, email, display_name}`."""
    _refuse(base, response)
    try:
        body = response.json()
        return IdentityUser(
            user_id=str(body["user_id"]),
            email=str(body["email"]),
            display_name=str(body.get("display_name", "")),
        )
    except (ValueError, KeyError, TypeError):
        logger.warning("Identity service %s gave an unreadable introspection answer.", base)
        raise TokenError("The identity service could not check the token; try again shortly.") from None


def _sentinel_user(base: str, token: str) -> IdentityUser:
    """Flomation's Sentinel, which serves `GET /api/user` (`{user_id, display_name}`) and `GET /api/account`
    (`{id, username, ...}`, the username being the email) at its root. It answers 400 for a token whose
    user no longer exists."""
    response = _get(base, "/api/user", token)
    if response.status_code == 400:
        raise TokenError("The token is not valid.")
    _refuse(base, response)
    try:
        body = response.json()
        user_id, display_name = str(body["user_id"]), str(body.get("display_name") or "")
    except (ValueError, KeyError, TypeError):
        logger.warning("Sentinel %s gave an unreadable /api/user answer.", base)
        raise TokenError("The identity service could not check the token; try again shortly.") from None
    email = ""
    account = _get(base, "/api/account", token)
    if account.status_code == 200:
        try:
            email = str(account.json().get("username") or "")
        except (ValueError, AttributeError):
            email = ""
    return IdentityUser(user_id=user_id, email=email, display_name=display_name)


def _refuse(base: str, response: requests.Response) -> None:
    """Raises TokenError unless the answer is 200."""
    if response.status_code in (401, 403):
        raise TokenError("The token is not valid.")
    if response.status_code != 200:
        logger.warning("Identity service %s answered %s to introspection.", base, response.status_code)
        raise TokenError("The identity service could not check the token; try again shortly.")
