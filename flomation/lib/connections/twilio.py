"""Twilio: an account SID and its auth token (HTTP basic auth) for the REST API. No Django.

Twilio answers errors with a JSON body `{"code", "message", "more_info", "status"}`; 20003 (HTTP 401) is a
wrong SID or token.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from flomation.lib.connections._http import Reply, base_url, checked
from flomation.lib.connections.base import ConnectionFailed, Field

TYPE_CHECKING = False
if TYPE_CHECKING:
    from flomation.lib.egress import EgressPolicy

KIND = "twilio"
LABEL = "Twilio"
DEFAULT_BASE_URL = "https://api.twilio.com"
FIELDS = (
    Field("account_sid", required=True, description="The account SID (AC...)."),
    Field("auth_token", "secret", required=True, description="The account's auth token."),
    Field("from", description="The sending number (E.164, +441234567890) used when a node names none."),
    Field(
        "base_url", default=DEFAULT_BASE_URL, description="The REST API's address (change only for a proxy)."
    ),
)


def account_url(fields: dict[str, Any]) -> str:
    """The account's REST resource, /2010-04-01/Accounts/{sid}."""
    sid = str(fields.get("account_sid") or "").strip()
    if not sid or not str(fields.get("auth_token") or ""):
        raise ConnectionFailed("set the Twilio account SID and auth token")
    return f"{base_url(fields.get('base_url'), DEFAULT_BASE_URL)}/2010-04-01/Accounts/{quote(sid, safe='')}"


def auth_of(fields: dict[str, Any]) -> tuple[str, str]:
    return str(fields.get("account_sid") or "").strip(), str(fields.get("auth_token") or "")


def failure(reply: Reply, what: str) -> str | None:
    """Why Twilio refused `what` (None: it succeeded)."""
    if 200 <= reply.status < 300:
        return None
    data = reply.data if isinstance(reply.data, dict) else {}
    message = str(data.get("message") or reply.text(120))[:200]
    code = data.get("code")
    if reply.status == 401 or code == 20003:
        return f"{what} failed: the account SID or auth token was refused (HTTP {reply.status})"
    return (
        f"{what} failed: HTTP {reply.status}" + (f" (Twilio error {code})" if code else "") + f": {message}"
    )


def test(fields: dict[str, Any], policy: EgressPolicy, timeout: float) -> str:
    """Fetches the account itself: the cheapest authenticated read."""
    reply = checked(
        policy, timeout, "Twilio account fetch", "GET", f"{account_url(fields)}.json", auth=auth_of(fields)
    )
    problem = failure(reply, "Twilio account fetch")
    if problem:
        raise ConnectionFailed(problem)
    data = reply.data if isinstance(reply.data, dict) else {}
    return (
        f"signed in to account {data.get('friendly_name') or '?'} ({data.get('status') or 'unknown status'})"
    )
