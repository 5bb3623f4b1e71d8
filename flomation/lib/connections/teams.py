"""Microsoft Teams: an Entra ID app registration for Microsoft Graph (OAuth client credentials), and/or a
channel's incoming-webhook URL. No Django.

The token comes from `{login_url}/{tenant_id}/oauth2/v2.0/token` with the scope `<Graph origin>/.default`;
Graph calls go to `base_url`. Both are fields so a national cloud (graph.microsoft.us), a proxy or a test
server can stand in. The Bot Framework reply (microsoft/teams/reply) asks the same login service for a token
in the `botframework.com` tenant with the app's id and secret.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlsplit

from flomation.lib.connections._http import Reply, base_url, checked
from flomation.lib.connections.base import ConnectionFailed, Field

TYPE_CHECKING = False
if TYPE_CHECKING:
    from flomation.lib.egress import EgressPolicy

KIND = "teams"
LABEL = "Microsoft Teams"
DEFAULT_BASE_URL = "https://graph.microsoft.com/v1.0"
DEFAULT_LOGIN_URL = "https://login.microsoftonline.com"
BOT_FRAMEWORK_SCOPE = "https://api.botframework.com/.default"
# The Bot Framework's regional service URLs (https://smba.trafficmanager.net/emea/ and the like).
DEFAULT_BOT_SERVICE_HOSTS = "smba.trafficmanager.net, *.botframework.com, *.botframework.us"
FIELDS = (
    Field("tenant_id", description="The directory (tenant) ID of the app registration."),
    Field("client_id", description="The application (client) ID."),
    Field("client_secret", "secret", description="A client secret of the app registration."),
    Field("base_url", default=DEFAULT_BASE_URL, description="Microsoft Graph's address."),
    Field("login_url", default=DEFAULT_LOGIN_URL, description="The Entra ID sign-in service's address."),
    Field(
        "bot_service_hosts",
        default=DEFAULT_BOT_SERVICE_HOSTS,
        description="Where microsoft/teams/reply may send this app's Bot Framework token: the hosts a "
        "trigger's service_url may name (comma-separated, *.example.com for a domain).",
    ),
    Field(
        "webhook_url",
        "secret",
        description="Instead of an app: a channel's incoming-webhook (Workflows) URL, for the webhook node.",
    ),
    Field(
        "outgoing_webhook_token",
        "secret",
        description="The security token Teams shows for an outgoing webhook: the Teams trigger checks each "
        "request's HMAC with it.",
    ),
)


def graph_url(fields: dict[str, Any]) -> str:
    return base_url(fields.get("base_url"), DEFAULT_BASE_URL)


def token_request(fields: dict[str, Any], *, bot_framework: bool = False) -> tuple[str, dict[str, str]]:
    """(token URL, form) for a client-credentials token: for Graph, or for the Bot Framework."""
    client_id = str(fields.get("client_id") or "").strip()
    secret = str(fields.get("client_secret") or "")
    tenant = "botframework.com" if bot_framework else str(fields.get("tenant_id") or "").strip()
    if not (client_id and secret and tenant):
        raise ConnectionFailed("set the tenant ID, client ID and client secret of the app registration")
    login = base_url(fields.get("login_url"), DEFAULT_LOGIN_URL)
    graph = urlsplit(graph_url(fields))
    scope = BOT_FRAMEWORK_SCOPE if bot_framework else f"{graph.scheme}://{graph.netloc}/.default"
    form = {
        "client_id": client_id,
        "client_secret": secret,
        "scope": scope,
        "grant_type": "client_credentials",
    }
    return f"{login}/{quote(tenant, safe='')}/oauth2/v2.0/token", form


def bot_service_allowed(fields: dict[str, Any], url: str) -> bool:
    """Whether a Bot Framework service URL's host is one the connection lets its token go to. A service_url
    comes with each incoming activity; without this a flow could hand the app's token to any host."""
    host = (urlsplit(url).hostname or "").lower()
    patterns = str(fields.get("bot_service_hosts") or DEFAULT_BOT_SERVICE_HOSTS).lower()
    for pattern in (p.strip() for p in patterns.split(",")):
        if pattern and (host == pattern or (pattern.startswith("*.") and host.endswith(pattern[1:]))):
            return True
    return False


def token_failure(reply: Reply) -> str | None:
    """Why the sign-in service refused the app (None: a token came back)."""
    data = reply.data if isinstance(reply.data, dict) else {}
    if reply.status == 200 and data.get("access_token"):
        return None
    code = str(data.get("error") or f"HTTP {reply.status}")[:60]
    description = str(data.get("error_description") or "").split("\r\n")[0].split(" Trace ID")[0][:200]
    what = (
        "the client ID or secret was refused" if code in ("invalid_client", "unauthorized_client") else code
    )
    return f"Microsoft sign-in failed: {what}" + (f" ({description})" if description else "")


def failure(reply: Reply, what: str) -> str | None:
    """Why Graph (or the Bot Framework) refused `what` (None: it succeeded)."""
    if 200 <= reply.status < 300:
        return None
    data = reply.data if isinstance(reply.data, dict) else {}
    error = data.get("error") if isinstance(data.get("error"), dict) else {}
    message = str(error.get("message") or data.get("message") or reply.text(120))[:200]
    if reply.status == 401:
        return f"{what} failed: the access token was refused (HTTP 401): {message}"
    if reply.status == 403:
        return f"{what} failed: the app lacks the permission for this (HTTP 403): {message}"
    return f"{what} failed: HTTP {reply.status} {error.get('code') or ''}: {message}".replace(" :", ":")


def test(fields: dict[str, Any], policy: EgressPolicy, timeout: float) -> str:
    """Gets a client-credentials token (proof of the tenant, id and secret). A connection with only a
    webhook URL is not posted to: that would show a message in the channel."""
    if not fields.get("client_id") and fields.get("webhook_url"):
        base_url(fields.get("webhook_url"), "")
        return "an incoming-webhook URL is set (not posted to: a test message would appear in the channel)"
    url, form = token_request(fields)
    reply = checked(policy, timeout, "Microsoft sign-in", "POST", url, data=form)
    problem = token_failure(reply)
    if problem:
        raise ConnectionFailed(problem)
    return f"signed in as app {fields.get('client_id')} in tenant {fields.get('tenant_id')}"
