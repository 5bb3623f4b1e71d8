"""Slack nodes that post: slack/send_message, slack/rich_message (Block Kit), slack/react and slack/webhook
(an incoming webhook), with Flomation's inputs and outputs. `Slack` is the Web API caller the other Slack
nodes (`slack_read`) share: a bearer token, the connection's base URL, `ok: false` as a sentence."""

from __future__ import annotations

import re

from flomation.executor.connections import connection_input
from flomation.executor.engine.errors import NodeError
from flomation.executor.nodes.integrations.chat._client import (
    Client,
    json_list,
    required,
    service_fields,
    soft,
)
from flomation.executor.registry import Input, node
from flomation.lib.connections._http import Reply, ServiceFailed

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from flomation.executor.engine.context import NodeContext

BOT_TOKEN = Input(
    "bot_token",
    "secret",
    description="The bot token (xoxb-...), e.g. ${secrets.SLACK_BOT_TOKEN}, when no connection is picked.",
)
CHANNEL_ID = Input("channel_id", "string", required=True, description="The channel's ID (C01ABC2DEF3).")
SENT = ("tool_result:string", "timestamp:string", "success:boolean", "error:string")
_TIMESTAMP = re.compile(r"^\d+\.\d+$")


class Slack:
    """The Web API for one node run."""

    def __init__(self, ctx: NodeContext, inputs: dict[str, Any], *, token: str = "bot_token") -> None:
        from flomation.lib.connections import slack

        secret = ("bot_token", "user_token", "signing_secret", "webhook_url")
        fields = service_fields(ctx, inputs, "slack", inline=(token,), secret=secret)
        self.base = slack.api_url(fields)
        self.headers = {"Authorization": f"Bearer {slack.token_of(fields, token)}"}
        self.client = Client(ctx, inputs)

    def call(
        self, method: str, *, body: dict[str, Any] | None = None, params: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """A Web API method: POSTed as JSON with a body, else a GET with query parameters."""
        from flomation.lib.connections import slack

        what = f"Slack {method}"
        url = f"{self.base}/{method}"
        if body is not None:
            reply = self.client.call("POST", url, what=what, headers=self.headers, json=body)
        else:
            reply = self.client.call("GET", url, what=what, headers=self.headers, params=params)
        problem = slack.failure(reply, what)
        if problem:
            raise ServiceFailed(problem)
        return reply.data


def _post(ctx: NodeContext, inputs: dict[str, Any], payload: dict[str, Any]) -> dict[str, Any]:
    data = Slack(ctx, inputs).call("chat.postMessage", body=payload)
    return {"timestamp": str(data.get("ts") or ""), "success": True, "error": ""}


@node(
    "slack/send_message",
    name="Send Slack Message",
    category="slack",
    description="Send a message to a Slack channel with the bot token (mrkdwn text, optional Block Kit and attachments).",
    inputs=(
        connection_input("slack"),
        BOT_TOKEN,
        CHANNEL_ID,
        Input(
            "message",
            "text",
            description="The text (mrkdwn: *bold*, _italic_, `code`); empty: nothing is sent.",
        ),
        Input("thread_id", "string", description="A message timestamp to reply in its thread."),
        Input("blocks", "text", description="Block Kit blocks as a JSON array."),
        Input("attachments", "text", description="Legacy attachments as a JSON array."),
        Input("unfurl_links", "boolean", description="Let Slack preview the links in the text."),
    ),
    outputs=SENT,
    idempotent=False,
)
@soft("timestamp")
def send_message(ctx: NodeContext, inputs: dict[str, Any]) -> dict[str, Any]:
    channel = required(inputs, "channel_id", "chat_id")
    message = inputs.get("message") or ""
    if not message.strip():
        # Flomation skips an empty message (an AI step with nothing left to say) instead of failing.
        return {
            "tool_result": "no message to send (empty message)",
            "timestamp": "",
            "success": True,
            "error": "",
        }
    payload: dict[str, Any] = {"channel": channel, "text": message, "mrkdwn": True}
    thread = inputs.get("thread_id") or inputs.get("thread_ts")
    if thread:
        payload["thread_ts"] = str(thread)
    for name in ("blocks", "attachments"):
        value = json_list(inputs.get(name), name, wrapper=name)
        if value is not None:
            payload[name] = value
    if inputs.get("unfurl_links") is not None:
        payload["unfurl_links"] = bool(inputs["unfurl_links"])
    out = _post(ctx, inputs, payload)
    return {**out, "tool_result": f"message sent to {channel} (ts {out['timestamp']})"}


@node(
    "slack/rich_message",
    name="Slack Rich Message",
    category="slack",
    description="Send a Block Kit message (sections, fields, images, buttons) with a plain-text fallback.",
    inputs=(
        connection_input("slack"),
        BOT_TOKEN,
        Input("channel_id", "string", required=True, description="The channel's ID."),
        Input(
            "text", "text", required=True, description="Fallback text for notifications and screen readers."
        ),
        Input(
            "blocks",
            "text",
            required=True,
            description='Block Kit blocks: a JSON array, or the Block Kit Builder\'s {"blocks": [...]} object.',
        ),
        Input("thread_ts", "string", description="A message timestamp to reply in its thread."),
        Input("attachments", "text", description="Legacy attachments as a JSON array (colour bars, fields)."),
    ),
    outputs=SENT,
    idempotent=False,
)
@soft("timestamp")
def rich_message(ctx: NodeContext, inputs: dict[str, Any]) -> dict[str, Any]:
    channel = required(inputs, "channel_id", "chat_id")
    blocks = json_list(inputs.get("blocks"), "blocks", wrapper="blocks")
    if not blocks:
        raise NodeError("input 'blocks' must hold at least one block")
    payload: dict[str, Any] = {"channel": channel, "text": inputs["text"], "mrkdwn": True, "blocks": blocks}
    thread = str(inputs.get("thread_ts") or "").strip()
    if thread:
        if not _TIMESTAMP.match(thread):
            raise NodeError(
                f"input 'thread_ts' must be a message timestamp such as 1712345678.123456 (got {thread[:40]!r})"
            )
        payload["thread_ts"] = thread
    attachments = json_list(inputs.get("attachments"), "attachments", wrapper="attachments")
    if attachments is not None:
        payload["attachments"] = attachments
    out = _post(ctx, inputs, payload)
    return {**out, "tool_result": f"rich message sent with {len(blocks)} block(s)"}


@node(
    "slack/react",
    name="Slack Add Reaction",
    category="slack",
    description="Add an emoji reaction to a Slack message.",
    inputs=(
        connection_input("slack"),
        BOT_TOKEN,
        CHANNEL_ID,
        Input(
            "timestamp", "string", required=True, description="The message's timestamp (1234567890.123456)."
        ),
        Input("emoji", "string", required=True, description="The emoji's name, without colons (thumbsup)."),
    ),
    outputs=("tool_result:string", "success:boolean", "error:string"),
)
@soft()
def react(ctx: NodeContext, inputs: dict[str, Any]) -> dict[str, Any]:
    channel = required(inputs, "channel_id")
    emoji = str(inputs["emoji"]).strip().strip(":")
    body = {"channel": channel, "timestamp": str(inputs["timestamp"]).strip(), "name": emoji}
    try:
        Slack(ctx, inputs).call("reactions.add", body=body)
    except ServiceFailed as failed:
        if "already_reacted" not in str(failed):
            raise
        return {"tool_result": f"already reacted with :{emoji}:", "success": True, "error": ""}
    return {
        "tool_result": f"added :{emoji}: to message {body['timestamp']} in {channel}",
        "success": True,
        "error": "",
    }


@node(
    "slack/webhook",
    name="Slack Webhook",
    category="slack",
    description="Post a message through a Slack incoming webhook (mrkdwn, optional Block Kit and attachments).",
    inputs=(
        connection_input("slack", description="A stored Slack connection holding the webhook URL."),
        Input(
            "webhook_url",
            "string",
            description="The incoming webhook's URL (https://hooks.slack.com/services/...).",
        ),
        Input("message", "text", required=True, description="The text (mrkdwn)."),
        Input("username", "string", description="A name shown instead of the app's (older webhooks only)."),
        Input("icon_emoji", "string", description="An emoji shown as the icon (:robot_face:)."),
        Input("blocks", "text", description="Block Kit blocks as a JSON array."),
        Input("attachments", "text", description="Legacy attachments as a JSON array."),
    ),
    outputs=("tool_result:string", "status_code:integer", "success:boolean", "error:string"),
    idempotent=False,
)
@soft("status_code")
def webhook(ctx: NodeContext, inputs: dict[str, Any]) -> dict[str, Any]:
    from flomation.lib.connections._http import base_url

    fields = service_fields(
        ctx, inputs, "slack", inline=("webhook_url",), secret=("bot_token", "webhook_url")
    )
    if not fields.get("webhook_url"):
        raise NodeError("input 'webhook_url' is required (or pick a connection that has one)")
    url = base_url(fields["webhook_url"], "")
    ctx.mask(url)  # the URL is the credential
    payload: dict[str, Any] = {"text": inputs["message"], "mrkdwn": True}
    for name in ("username", "icon_emoji"):
        if inputs.get(name):
            payload[name] = inputs[name]
    for name in ("blocks", "attachments"):
        value = json_list(inputs.get(name), name, wrapper=name)
        if value is not None:
            payload[name] = value
    reply = Client(ctx, inputs).call("POST", url, what="Slack webhook", json=payload)
    problem = _webhook_failure(reply)
    if problem:
        return {"tool_result": problem, "status_code": reply.status, "success": False, "error": problem}
    return {"tool_result": "message posted", "status_code": reply.status, "success": True, "error": ""}


def _webhook_failure(reply: Reply) -> str | None:
    """An incoming webhook answers 200 `ok`, or an HTTP error with a code in plain text."""
    from flomation.lib.connections.slack import HINTS

    if reply.status == 200:
        return None
    code = reply.text(80) or f"HTTP {reply.status}"
    hint = HINTS.get(code)
    return f"Slack webhook failed: HTTP {reply.status} {code}" + (f" ({hint})" if hint else "")
