"""Slack: a bot token for the Web API, and the app's signing secret for the Slack trigger. No Django.

The Web API answers HTTP 200 with `{"ok": false, "error": "<code>"}` for most failures; `failure` turns
that (and a 401/403/5xx) into a sentence naming the method and the code, never the token. `base_url` lets
a test server or a proxy in front of Slack stand in for https://slack.com/api.
"""

from __future__ import annotations

from typing import Any

from flomation.lib.connections._http import Reply, base_url, checked
from flomation.lib.connections.base import ConnectionFailed, Field

TYPE_CHECKING = False
if TYPE_CHECKING:
    from flomation.lib.egress import EgressPolicy

KIND = "slack"
LABEL = "Slack"
DEFAULT_BASE_URL = "https://slack.com/api"
FIELDS = (
    Field("bot_token", "secret", description="The app's bot token (xoxb-...) for the Web API nodes."),
    Field(
        "user_token",
        "secret",
        description="A user token (xoxp-...) for slack/search: Slack searches messages only as a user.",
    ),
    Field(
        "signing_secret",
        "secret",
        description="The app's signing secret: the Slack trigger checks every request's signature with it.",
    ),
    Field(
        "webhook_url",
        "secret",
        description="An incoming webhook's URL (https://hooks.slack.com/services/...), for slack/webhook.",
    ),
    Field(
        "base_url", default=DEFAULT_BASE_URL, description="The Web API's address (change only for a proxy)."
    ),
)

# What an author can do about Slack's commonest error codes.
HINTS = {
    "invalid_auth": "the bot token was refused",
    "not_authed": "no bot token was sent",
    "token_revoked": "the bot token was revoked",
    "token_expired": "the bot token has expired",
    "account_inactive": "the bot token belongs to a deleted user or workspace",
    "missing_scope": "the app lacks a permission (scope) this call needs",
    "channel_not_found": "no channel with that ID is visible to the bot",
    "not_in_channel": "the bot is not a member of the channel; invite it first",
    "is_archived": "the channel is archived",
    "thread_not_found": "no message with that thread timestamp",
    "message_not_found": "no message with that timestamp",
    "invalid_blocks": "the Block Kit JSON was rejected",
    "invalid_blocks_format": "the Block Kit JSON is not an array of blocks",
    "msg_too_long": "the message is too long",
    "no_text": "the message has no text",
    "ratelimited": "rate limited",
    "invalid_name": "no emoji by that name",
    "no_service": "the incoming webhook is disabled or removed",
    "invalid_token": "the incoming webhook URL is wrong or was revoked",
    "channel_is_archived": "the channel is archived",
}


def api_url(fields: dict[str, Any]) -> str:
    return base_url(fields.get("base_url"), DEFAULT_BASE_URL)


def token_of(fields: dict[str, Any], name: str = "bot_token") -> str:
    token = str(fields.get(name) or "").strip()
    if not token:
        raise ConnectionFailed(f"no Slack {name.replace('_', ' ')} is set")
    return token


def failure(reply: Reply, what: str) -> str | None:
    """Why Slack refused `what` (None: it succeeded)."""
    data = reply.data
    if reply.status in (401, 403):
        return f"{what} failed: the bot token was refused (HTTP {reply.status})"
    if not isinstance(data, dict):
        if reply.status >= 300:
            return f"{what} failed: HTTP {reply.status} {reply.text(120)}".rstrip()
        return f"{what} failed: the answer was not Slack's JSON"
    if data.get("ok") is True:
        return None
    code = str(data.get("error") or f"HTTP {reply.status}")[:80]
    hint = HINTS.get(code)
    needed = f"; needed: {str(data['needed'])[:80]}" if code == "missing_scope" and data.get("needed") else ""
    return f"{what} failed: {code}" + (f" ({hint}{needed})" if hint else "")


def test(fields: dict[str, Any], policy: EgressPolicy, timeout: float) -> str:
    """auth.test: the cheapest call that proves the token (it needs no scope). A connection with only a
    webhook URL is not posted to: that would show a message in the channel."""
    if not fields.get("bot_token") and fields.get("webhook_url"):
        base_url(fields.get("webhook_url"), "")
        return "an incoming-webhook URL is set (not posted to: a test message would appear in the channel)"
    name = "bot_token" if fields.get("bot_token") or not fields.get("user_token") else "user_token"
    headers = {"Authorization": f"Bearer {token_of(fields, name)}"}
    reply = checked(
        policy, timeout, "Slack auth.test", "POST", f"{api_url(fields)}/auth.test", headers=headers
    )
    problem = failure(reply, "Slack auth.test")
    if problem:
        raise ConnectionFailed(problem)
    data = reply.data
    return f"signed in as {data.get('user') or '?'} in workspace {data.get('team') or '?'}"
