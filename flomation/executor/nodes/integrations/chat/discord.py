"""messaging/discord/webhook: a message to a Discord channel through its webhook, with Flomation's inputs
(https://discord.com/developers/docs/resources/webhook#execute-webhook)."""

from __future__ import annotations

from flomation.executor.connections import connection_input
from flomation.executor.engine.errors import NodeError
from flomation.executor.nodes.integrations.chat._client import Client, service_fields, soft
from flomation.executor.registry import Input, node

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from flomation.executor.engine.context import NodeContext


@node(
    "messaging/discord/webhook",
    name="Discord Webhook",
    category="discord",
    description="Send a message to a Discord channel through its webhook.",
    inputs=(
        connection_input("discord"),
        Input(
            "webhook_url", "string", description="The webhook's URL (https://discord.com/api/webhooks/...)."
        ),
        Input("content", "text", required=True, description="The message (up to 2,000 characters)."),
        Input("username", "string", description="A name shown instead of the webhook's."),
        Input("avatar_url", "string", description="An image URL shown as the avatar."),
    ),
    outputs=("tool_result:string", "status_code:integer", "success:boolean", "error:string"),
    idempotent=False,
)
@soft("status_code")
def webhook(ctx: NodeContext, inputs: dict[str, Any]) -> dict[str, Any]:
    from flomation.lib.connections import discord

    fields = service_fields(ctx, inputs, "discord", inline=("webhook_url",), secret=("webhook_url",))
    if not fields.get("webhook_url"):
        raise NodeError("input 'webhook_url' is required (or pick a discord connection)")
    url = discord.webhook_url(fields)
    payload = {"content": inputs["content"]}
    for name in ("username", "avatar_url"):
        if inputs.get(name):
            payload[name] = inputs[name]
    # ?wait=true makes Discord answer with the message (200) instead of an empty 204.
    answer = Client(ctx, inputs).call(
        "POST", url, what="Discord webhook", params={"wait": "true"}, json=payload
    )
    problem = discord.failure(answer, "Discord webhook")
    if problem:
        return {"tool_result": problem, "status_code": answer.status, "success": False, "error": problem}
    return {"tool_result": "message posted", "status_code": answer.status, "success": True, "error": ""}
