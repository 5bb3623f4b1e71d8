"""The chat triggers (Slack Events API, Telegram bot webhook, Teams outgoing webhook): launch verifies each
service's signature and passes the message on; declared with the helpers of ``triggers`` (imported by it)."""

from __future__ import annotations

from flomation.executor.nodes.triggers import _RATE, _echo_trigger, _secret
from flomation.executor.registry import Input

_APPROVALS = Input(
    "approvals",
    "boolean",
    default=True,
    description="Ask an Await Approval's question in this chat with a button per option; a press resumes the run.",
)

_echo_trigger(
    "trigger/slack",
    "Slack",
    "Started by Slack Events API events (messages, mentions, ...); paste its URL as the app's Request URL "
    "for Event Subscriptions and Interactivity.",
    ("text:string", "user:string", "channel:string", "ts:string", "thread_ts:string", "event_type:string",
     "event:object", "team_id:string", "event_id:string"),
    inputs=(
        _secret("signing_secret", "The app's signing secret (Basic Information); requests are verified with it."),
        _secret("bot_token", "The bot token (xoxb-...), used to ask approval questions."),
        Input("events", "multi_select", options=("message", "app_mention", "reaction_added", "member_joined_channel"),
              description="Only these event types start the flow (none chosen: every event)."),
        Input("ignore_bots", "boolean", default=True, description="Ignore messages from bots (the flow's own replies)."),
        _APPROVALS,
        Input("approval_channel", "string", description="Ask approvals here instead of the event's channel."),
        Input("api_url", "string", default="https://slack.com/api", description="The Slack Web API's base URL."),
        *_RATE,
    ),
)  # fmt: skip
_echo_trigger(
    "trigger/telegram",
    "Telegram",
    "Started by messages to a Telegram bot; the bot's webhook is set to this trigger when it is deployed.",
    ("text:string", "chat_id:integer", "message_id:integer", "from:object", "update_type:string",
     "update_id:integer", "message:object"),
    inputs=(
        _secret("bot_token", "The bot's token from @BotFather."),
        _secret("secret_token", "Optional: the webhook's secret token (default: one derived from the bot token)."),
        _APPROVALS,
        Input("approval_chat_id", "string", description="Ask approvals in this chat instead of the message's."),
        Input("api_url", "string", default="https://api.telegram.org", description="The Bot API's base URL."),
        *_RATE,
    ),
)  # fmt: skip
_echo_trigger(
    "trigger/teams",
    "Microsoft Teams",
    "Started when a Teams outgoing webhook is mentioned in a channel; requests are verified by their HMAC.",
    ("text:string", "user:string", "from:object", "conversation_id:string", "activity:object"),
    inputs=(
        _secret("security_token", "The security token Teams showed when the outgoing webhook was created."),
        Input("reply", "string", default="Received.", description="The message Teams shows in the channel."),
        *_RATE,
    ),
)  # fmt: skip
