"""Telegram: a bot token for the Bot API. No Django.

The token is part of every request's path (`/bot<token>/<method>`), so no URL is ever put in a message or
a log; failures name the method and Telegram's description. Telegram answers `{"ok": false, "error_code",
"description", "parameters": {"retry_after"}}`.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from flomation.lib.connections._http import Reply, base_url, checked
from flomation.lib.connections.base import ConnectionFailed, Field

TYPE_CHECKING = False
if TYPE_CHECKING:
    from flomation.lib.egress import EgressPolicy

KIND = "telegram"
LABEL = "Telegram bot"
DEFAULT_BASE_URL = "https://api.telegram.org"
FIELDS = (
    Field("bot_token", "secret", required=True, description="The token @BotFather gave (123456:ABC-...)."),
    Field(
        "webhook_secret",
        "secret",
        description="The secret token Telegram sends with each update to the Telegram trigger (any 1-256 "
        "characters A-Z, a-z, 0-9, _ and -).",
    ),
    Field(
        "base_url",
        default=DEFAULT_BASE_URL,
        description="The Bot API's address (a self-hosted Bot API server, or empty for Telegram's).",
    ),
)


def method_url(fields: dict[str, Any], method: str) -> str:
    token = str(fields.get("bot_token") or "").strip()
    if not token:
        raise ConnectionFailed("no Telegram bot token is set")
    return f"{base_url(fields.get('base_url'), DEFAULT_BASE_URL)}/bot{quote(token, safe=':')}/{method}"


def failure(reply: Reply, what: str) -> str | None:
    """Why Telegram refused `what` (None: it succeeded)."""
    data = reply.data
    if isinstance(data, dict) and data.get("ok") is True:
        return None
    description = str(data.get("description") or "") if isinstance(data, dict) else ""
    code = data.get("error_code") if isinstance(data, dict) else None
    code = code or reply.status
    if code == 401 or (
        code == 404 and "not found" in description.lower() and "chat" not in description.lower()
    ):
        # Telegram answers 404 to a malformed token and 401 to a revoked one.
        return f"{what} failed: the bot token was refused ({code} {description or 'Unauthorized'})"
    if not description:
        return f"{what} failed: HTTP {reply.status} {reply.text(120) if data is None else ''}".rstrip()
    return f"{what} failed: {code} {description[:200]}"


def test(fields: dict[str, Any], policy: EgressPolicy, timeout: float) -> str:
    """getMe: proves the token and names the bot."""
    reply = checked(policy, timeout, "Telegram getMe", "GET", method_url(fields, "getMe"))
    problem = failure(reply, "Telegram getMe")
    if problem:
        raise ConnectionFailed(problem)
    bot = reply.data.get("result") or {}
    return f"signed in as @{bot.get('username') or '?'} ({bot.get('first_name') or 'bot'})"
