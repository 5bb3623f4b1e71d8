"""Tiny Slack and Telegram Web API clients for launch, every connection through the egress policy.

Each client takes the API's base URL (a trigger setting, default the public API) so a self-hosted gateway
or a loopback test server can stand in. Errors are `ChatApiError` with a sentence naming the call and the
service's own error code, never the token (Telegram puts the token in the URL path, so no URL is quoted).
"""

from __future__ import annotations

from typing import Any

from flomation.lib.egress import EgressPolicy

SLACK_API_URL = "https://slack.com/api"
TELEGRAM_API_URL = "https://api.telegram.org"
TIMEOUT_SECONDS = 10


class ChatApiError(Exception):
    pass


def _post(policy: EgressPolicy, url: str, *, what: str, **kwargs: Any) -> dict[str, Any]:
    """One call through the chat nodes' HTTP client (egress-checked, no redirects, a 429 waited out)."""
    from flomation.lib.connections._http import checked
    from flomation.lib.connections.base import ConnectionFailed

    try:
        reply = checked(policy, TIMEOUT_SECONDS, what, "POST", url, **kwargs)
    except ConnectionFailed as failure:
        raise ChatApiError(f"{what} failed: {failure}") from None
    body = reply.data if isinstance(reply.data, dict) else {}
    if reply.status >= 400 or body.get("ok") is not True:
        reason = body.get("error") or body.get("description") or f"HTTP {reply.status}"
        raise ChatApiError(f"{what} failed: {reason}")
    return body


class SlackClient:
    def __init__(self, *, token: str, policy: EgressPolicy, base_url: str = "") -> None:
        self.token, self.policy = token, policy
        self.base_url = (base_url or SLACK_API_URL).rstrip("/")

    def call(self, method: str, payload: dict[str, Any]) -> dict[str, Any]:
        return _post(
            self.policy,
            f"{self.base_url}/{method}",
            what=f"Slack {method}",
            json=payload,
            headers={
                "Authorization": f"Bearer {self.token}",
                "Content-Type": "application/json; charset=utf-8",
            },
        )

    def post_message(self, payload: dict[str, Any]) -> dict[str, Any]:
        return self.call("chat.postMessage", payload)


class TelegramClient:
    def __init__(self, *, token: str, policy: EgressPolicy, base_url: str = "") -> None:
        self.token, self.policy = token, policy
        self.base_url = (base_url or TELEGRAM_API_URL).rstrip("/")

    def call(self, method: str, payload: dict[str, Any]) -> dict[str, Any]:
        return _post(
            self.policy, f"{self.base_url}/bot{self.token}/{method}", what=f"Telegram {method}", json=payload
        )

    def set_webhook(self, *, url: str, secret_token: str) -> dict[str, Any]:
        return self.call(
            "setWebhook",
            {
                "url": url,
                "secret_token": secret_token,
                "allowed_updates": ["message", "edited_message", "callback_query"],
            },
        )

    def send_message(self, payload: dict[str, Any]) -> dict[str, Any]:
        return self.call("sendMessage", payload)

    def answer_callback_query(self, *, callback_query_id: str, text: str) -> dict[str, Any]:
        return self.call("answerCallbackQuery", {"callback_query_id": callback_query_id, "text": text})
