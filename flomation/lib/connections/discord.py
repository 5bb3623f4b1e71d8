"""Discord: a channel's webhook URL (it carries its own token, so it is kept as a secret). No Django."""

from __future__ import annotations

from typing import Any

from flomation.lib.connections._http import Reply, base_url, checked
from flomation.lib.connections.base import ConnectionFailed, Field

TYPE_CHECKING = False
if TYPE_CHECKING:
    from flomation.lib.egress import EgressPolicy

KIND = "discord"
LABEL = "Discord webhook"
FIELDS = (
    Field(
        "webhook_url",
        "secret",
        required=True,
        description="The channel webhook's URL (https://discord.com/api/webhooks/<id>/<token>).",
    ),
)


def webhook_url(fields: dict[str, Any]) -> str:
    if not str(fields.get("webhook_url") or "").strip():
        raise ConnectionFailed("no Discord webhook URL is set")
    return base_url(fields.get("webhook_url"), "")


def failure(reply: Reply, what: str) -> str | None:
    """Why Discord refused `what` (None: it succeeded). Discord's errors are `{"message", "code"}`."""
    if 200 <= reply.status < 300:
        return None
    data = reply.data if isinstance(reply.data, dict) else {}
    message = str(data.get("message") or reply.text(120))[:200]
    if reply.status in (401, 404) and (data.get("code") in (10015, 50027, 0) or reply.status == 401):
        return f"{what} failed: the webhook URL is wrong or the webhook was deleted (HTTP {reply.status})"
    return f"{what} failed: HTTP {reply.status}: {message}"


def test(fields: dict[str, Any], policy: EgressPolicy, timeout: float) -> str:
    """GET on the webhook URL returns the webhook without posting anything."""
    reply = checked(policy, timeout, "Discord webhook", "GET", webhook_url(fields))
    problem = failure(reply, "Discord webhook")
    if problem:
        raise ConnectionFailed(problem)
    data = reply.data if isinstance(reply.data, dict) else {}
    return f"webhook {data.get('name') or '?'} posts to channel {data.get('channel_id') or '?'}"
