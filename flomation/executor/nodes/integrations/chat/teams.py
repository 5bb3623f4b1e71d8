"""Microsoft Teams nodes: microsoft/teams/send_channel_message and send_chat_message (Graph), reply (the Bot
Framework, as Flomation's does, or a Graph channel-message reply) and webhook (a channel's incoming webhook).

Graph calls carry a token from the teams connection's app (client credentials, fetched once per run) or,
as in Flomation, an access token given in `credential`. Flomation's `account` input picked one of the
accounts its Launch service held; here the connection is that choice, so `account` is accepted and unused.
"""

from __future__ import annotations

from urllib.parse import quote

from flomation.executor.connections import connection_input
from flomation.executor.engine.errors import NodeError
from flomation.executor.nodes.integrations.chat._client import Client, required, service_fields, soft
from flomation.executor.registry import Input, node
from flomation.lib.connections._http import ServiceFailed

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from flomation.executor.engine.context import NodeContext

SECRETS = ("client_secret", "webhook_url", "outgoing_webhook_token")
SENT = ("tool_result:string", "message_id:string", "success:boolean", "error:string")
MESSAGE = Input("message", "text", required=True, description="The message: HTML or plain text.")
CONTENT_TYPE = Input(
    "content_type", "string", default="html", options=("html", "text"), description="What the message is."
)
GRAPH_AUTH = (
    Input("account", "string", description="Flomation's account choice; here the connection decides."),
    Input(
        "credential",
        "secret",
        description="A Graph access token to use instead of the connection's app, e.g. ${credentials.TEAMS}.",
    ),
)


def _fields(ctx: NodeContext, inputs: dict[str, Any]) -> dict[str, Any]:
    return service_fields(ctx, inputs, "teams", inline=("webhook_url",), secret=SECRETS)


def _token(ctx: NodeContext, client: Client, fields: dict[str, Any], *, bot_framework: bool = False) -> str:
    """A client-credentials access token, asked for once per run and app."""
    from flomation.lib.connections import teams

    url, form = teams.token_request(fields, bot_framework=bot_framework)
    import hashlib

    # Keyed by the secret too: two connections of one app with different secrets must not share a token.
    secret = hashlib.sha256(form["client_secret"].encode()).hexdigest()[:16]
    key = f"teams_token:{url}:{form['client_id']}:{form['scope']}:{secret}"

    def fetch() -> str:
        reply = client.call("POST", url, what="Microsoft sign-in", data=form)
        problem = teams.token_failure(reply)
        if problem:
            raise ServiceFailed(problem)
        return str(reply.data["access_token"])

    token = ctx.resource(key, fetch)
    ctx.mask(token)
    return token


def graph(
    ctx: NodeContext,
    inputs: dict[str, Any],
    path: str,
    what: str,
    *,
    body: dict[str, Any] | None = None,
    params: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A Graph call (POST with a body, else GET) with the node's access token or its app's; its JSON."""
    from flomation.lib.connections import teams

    client = Client(ctx, inputs)
    fields = _fields(ctx, inputs) if inputs.get("connection") else {}
    given = str(inputs.get("credential") or "").strip()
    if given:
        ctx.mask(given)
        token = given
    elif fields:
        token = _token(ctx, client, fields)
    else:
        raise NodeError(
            "pick a teams connection (an app registration) or give an access token in 'credential'"
        )
    url = f"{teams.graph_url(fields)}{path}"
    headers = {"Authorization": f"Bearer {token}"}
    if body is not None:
        reply = client.call("POST", url, what=what, headers=headers, json=body)
    else:
        reply = client.call("GET", url, what=what, headers=headers, params=params)
    problem = teams.failure(reply, what)
    if problem:
        raise ServiceFailed(problem)
    return reply.data if isinstance(reply.data, dict) else {}


def _body(inputs: dict[str, Any]) -> dict[str, Any]:
    return {"body": {"content": inputs["message"], "contentType": inputs.get("content_type") or "html"}}


def segment(value: Any, name: str) -> str:
    text = str(value or "").strip()
    if not text:
        raise NodeError(f"input '{name}' is required")
    if text in (".", ".."):
        raise NodeError(f"input '{name}' must be an ID, not {text!r}")
    return quote(text, safe=":@")  # both are legal in a path segment and common in Teams ids


@node(
    "microsoft/teams/send_channel_message",
    name="Send Channel Message",
    category="microsoft teams",
    description="Post a message to a Microsoft Teams channel (Microsoft Graph).",
    inputs=(
        connection_input("teams"),
        Input("team_id", "string", required=True, description="The team's ID."),
        Input("channel_id", "string", required=True, description="The channel's ID (19:...@thread.tacv2)."),
        MESSAGE,
        CONTENT_TYPE,
        *GRAPH_AUTH,
    ),
    outputs=SENT,
    idempotent=False,
)
@soft("message_id")
def send_channel_message(ctx: NodeContext, inputs: dict[str, Any]) -> dict[str, Any]:
    path = f"/teams/{segment(inputs['team_id'], 'team_id')}/channels/{segment(inputs['channel_id'], 'channel_id')}/messages"
    data = graph(ctx, inputs, path, "Teams channel message", body=_body(inputs))
    return {"tool_result": f"message sent to channel {inputs['channel_id']}", "message_id": str(data.get("id") or ""),
            "success": True, "error": ""}  # fmt: skip


@node(
    "microsoft/teams/send_chat_message",
    name="Send Chat Message",
    category="microsoft teams",
    description="Send a message in a Microsoft Teams chat (Microsoft Graph).",
    inputs=(
        connection_input("teams"),
        Input("chat_id", "string", required=True, description="The chat's ID (19:...@unq.gbl.spaces)."),
        MESSAGE,
        CONTENT_TYPE,
        *GRAPH_AUTH,
    ),
    outputs=SENT,
    idempotent=False,
)
@soft("message_id")
def send_chat_message(ctx: NodeContext, inputs: dict[str, Any]) -> dict[str, Any]:
    path = f"/chats/{segment(inputs['chat_id'], 'chat_id')}/messages"
    data = graph(ctx, inputs, path, "Teams chat message", body=_body(inputs))
    return {"tool_result": f"message sent to chat {inputs['chat_id']}", "message_id": str(data.get("id") or ""),
            "success": True, "error": ""}  # fmt: skip


@node(
    "microsoft/teams/reply",
    name="Reply to Teams Message",
    category="microsoft teams",
    description="Reply in a Teams conversation: through the Bot Framework (service_url from the trigger), "
    "or to a channel message through Microsoft Graph (team_id, channel_id, reply_to_id).",
    inputs=(
        connection_input(
            "teams", description="A stored teams connection: its app is the bot (id and secret)."
        ),
        Input("message", "text", required=True, description="The reply (Markdown for the Bot Framework)."),
        Input("service_url", "string", description="The Bot Framework service URL the trigger received."),
        Input("conversation_id", "string", description="The conversation's ID (Bot Framework)."),
        Input("activity_id", "string", description="The activity to reply to; empty: a new message."),
        Input("app_id", "string", description="The bot's app ID (when no connection is picked)."),
        Input(
            "app_password",
            "secret",
            description="The bot's app password, e.g. ${secrets.TEAMS_APP_PASSWORD}.",
        ),
        Input("team_id", "string", description="For a Graph reply: the team's ID."),
        Input("channel_id", "string", description="For a Graph reply: the channel's ID."),
        Input("reply_to_id", "string", description="For a Graph reply: the ID of the message replied to."),
        *GRAPH_AUTH,
    ),
    outputs=SENT,
    idempotent=False,
)
@soft("message_id")
def reply(ctx: NodeContext, inputs: dict[str, Any]) -> dict[str, Any]:
    if not inputs.get("service_url"):
        path = (f"/teams/{segment(inputs.get('team_id'), 'team_id')}/channels/"
                f"{segment(inputs.get('channel_id'), 'channel_id')}/messages/"
                f"{segment(inputs.get('reply_to_id'), 'reply_to_id')}/replies")  # fmt: skip
        body = {"body": {"content": inputs["message"], "contentType": "html"}}
        data = graph(ctx, inputs, path, "Teams reply", body=body)
        return {
            "tool_result": "reply sent",
            "message_id": str(data.get("id") or ""),
            "success": True,
            "error": "",
        }
    return _bot_framework_reply(ctx, inputs)


def _bot_framework_reply(ctx: NodeContext, inputs: dict[str, Any]) -> dict[str, Any]:
    from flomation.lib.connections import teams
    from flomation.lib.connections._http import base_url

    inline = {"connection": inputs.get("connection"), "client_id": inputs.get("app_id"),
              "client_secret": inputs.get("app_password")}  # fmt: skip
    fields = service_fields(ctx, inline, "teams", inline=("client_id", "client_secret"), secret=SECRETS)
    conversation = segment(required(inputs, "conversation_id"), "conversation_id")
    root = base_url(inputs["service_url"], "")
    if inputs.get("connection") and not teams.bot_service_allowed(fields, root):
        # The app's token must not follow a service_url to a host the connection does not trust.
        raise NodeError(
            f"service_url {root[:80]!r} is not a Bot Framework host this connection allows "
            "(see its bot_service_hosts)"
        )
    service = root + "/v3/conversations/" + conversation + "/activities"
    if inputs.get("activity_id"):
        service += "/" + segment(inputs["activity_id"], "activity_id")
    client = Client(ctx, inputs)
    token = _token(ctx, client, fields, bot_framework=True)
    activity = {"type": "message", "from": {"id": fields["client_id"]}, "conversation": {"id": inputs["conversation_id"]},
                "text": inputs["message"], "textFormat": "markdown"}  # fmt: skip
    answer = client.call(
        "POST", service, what="Teams reply", headers={"Authorization": f"Bearer {token}"}, json=activity
    )
    problem = teams.failure(answer, "Teams reply")
    if problem:
        raise ServiceFailed(problem)
    data = answer.data if isinstance(answer.data, dict) else {}
    return {"tool_result": "reply sent to the Teams conversation", "message_id": str(data.get("id") or ""),
            "success": True, "error": ""}  # fmt: skip


@node(
    "microsoft/teams/webhook",
    name="Teams Webhook",
    category="microsoft teams",
    description="Post a message to a Teams channel through its incoming webhook (Workflows), as an Adaptive Card.",
    inputs=(
        connection_input("teams", description="A stored teams connection holding the webhook URL."),
        Input("webhook_url", "string", description="The channel's incoming-webhook URL."),
        Input("message", "text", required=True, description="The text (Adaptive Card Markdown)."),
        Input("title", "string", description="A bold heading above the text."),
        Input("card", "text", description="A whole Adaptive Card as JSON, sent instead of the text."),
    ),
    outputs=("tool_result:string", "status_code:integer", "success:boolean", "error:string"),
    idempotent=False,
)
@soft("status_code")
def webhook(ctx: NodeContext, inputs: dict[str, Any]) -> dict[str, Any]:
    from flomation.executor.nodes.integrations.chat._client import json_object
    from flomation.lib.connections import teams
    from flomation.lib.connections._http import base_url

    fields = _fields(ctx, inputs)
    if not fields.get("webhook_url"):
        raise NodeError("input 'webhook_url' is required (or pick a connection that has one)")
    url = base_url(fields["webhook_url"], "")
    ctx.mask(url)
    card = json_object(inputs.get("card"), "card")
    if card is None:
        body = [{"type": "TextBlock", "text": inputs["message"], "wrap": True}]
        if inputs.get("title"):
            body.insert(
                0,
                {
                    "type": "TextBlock",
                    "text": inputs["title"],
                    "weight": "Bolder",
                    "size": "Medium",
                    "wrap": True,
                },
            )
        card = {"$schema": "http://adaptivecards.io/schemas/adaptive-card.json", "type": "AdaptiveCard",
                "version": "1.4", "body": body}  # fmt: skip
    payload = {
        "type": "message",
        "attachments": [{"contentType": "application/vnd.microsoft.card.adaptive", "content": card}],
    }
    answer = Client(ctx, inputs).call("POST", url, what="Teams webhook", json=payload)
    problem = teams.failure(answer, "Teams webhook")
    if problem:
        return {"tool_result": problem, "status_code": answer.status, "success": False, "error": problem}
    return {"tool_result": "message posted", "status_code": answer.status, "success": True, "error": ""}
