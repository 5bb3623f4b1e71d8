"""Slack nodes that read or upload: slack/thread, slack/history, slack/channels, slack/users and
slack/file_upload, with Flomation's inputs and outputs."""

from __future__ import annotations

import datetime as dt

from flomation.executor.connections import connection_input
from flomation.executor.engine.errors import NodeError
from flomation.executor.nodes.integrations.chat._client import file_bytes, required, soft
from flomation.executor.nodes.integrations.chat.slack import BOT_TOKEN, CHANNEL_ID, Slack
from flomation.executor.registry import Input, node
from flomation.lib.connections._http import ServiceFailed

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from flomation.executor.engine.context import NodeContext

LISTED = ("tool_result:string", "messages:array", "count:integer", "success:boolean", "error:string")


def _limit(inputs: dict[str, Any], default: int, ceiling: int) -> int:
    value = inputs.get("limit")
    return max(1, min(ceiling, int(value))) if isinstance(value, int) and value > 0 else default


def _summary(messages: list[Any], heading: str) -> str:
    lines = [heading]
    for message in messages[:50]:
        if isinstance(message, dict):
            text = str(message.get("text") or "")
            text = text[:300] + "..." if len(text) > 300 else text
            lines.append(f"[{message.get('ts', '')}] <@{message.get('user', '')}>: {text}")
    return "\n".join(lines)


@node(
    "slack/thread",
    name="Slack Thread Replies",
    category="slack",
    description="Read the replies in a Slack thread (conversations.replies).",
    inputs=(
        connection_input("slack"),
        BOT_TOKEN,
        CHANNEL_ID,
        Input("thread_ts", "string", required=True, description="The thread's parent timestamp."),
        Input("limit", "integer", default=50, description="How many replies (at most 200)."),
    ),
    outputs=LISTED,
)
@soft("messages", "count")
def thread(ctx: NodeContext, inputs: dict[str, Any]) -> dict[str, Any]:
    channel = required(inputs, "channel_id")
    params = {"channel": channel, "ts": str(inputs["thread_ts"]).strip(), "limit": _limit(inputs, 50, 200)}
    messages = Slack(ctx, inputs).call("conversations.replies", params=params).get("messages") or []
    heading = f"Thread in {channel} (ts {params['ts']}): {len(messages)} message(s)"
    return {"tool_result": _summary(messages, heading), "messages": messages, "count": len(messages),
            "success": True, "error": ""}  # fmt: skip


@node(
    "slack/history",
    name="Slack Channel History",
    category="slack",
    description="Read recent messages of a Slack channel (conversations.history), newest first.",
    inputs=(
        connection_input("slack"),
        BOT_TOKEN,
        CHANNEL_ID,
        Input("limit", "integer", default=20, description="How many messages (at most 100)."),
        Input("oldest", "string", description="Only messages after this: a Slack timestamp or an ISO date."),
    ),
    outputs=LISTED,
)
@soft("messages", "count")
def history(ctx: NodeContext, inputs: dict[str, Any]) -> dict[str, Any]:
    channel = required(inputs, "channel_id")
    params: dict[str, Any] = {"channel": channel, "limit": _limit(inputs, 20, 100)}
    oldest = str(inputs.get("oldest") or "").strip()
    if oldest:
        params["oldest"] = _timestamp(oldest)
    messages = Slack(ctx, inputs).call("conversations.history", params=params).get("messages") or []
    heading = f"Channel {channel}: {len(messages)} message(s)"
    return {"tool_result": _summary(list(reversed(messages)), heading), "messages": messages,
            "count": len(messages), "success": True, "error": ""}  # fmt: skip


def _timestamp(value: str) -> str:
    """A Slack timestamp from `1712345678.000100`, `2026-04-28` or an ISO date-time (UTC unless it says)."""
    try:
        float(value)
        return value
    except ValueError:
        pass
    try:
        when = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise NodeError(
            f"input 'oldest' must be a Slack timestamp or an ISO date (got {value[:40]!r})"
        ) from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return str(int(when.timestamp()))


@node(
    "slack/channels",
    name="Slack Channels",
    category="slack",
    description="List or search the workspace's channels: names, IDs, topics and member counts.",
    inputs=(
        connection_input("slack"),
        BOT_TOKEN,
        Input("search", "string", description="Only channels whose name contains this text."),
        Input("limit", "integer", default=50, description="How many channels to ask for (at most 200)."),
        Input(
            "include_private", "boolean", default=False, description="Also private channels the bot is in."
        ),
    ),
    outputs=("tool_result:string", "channels:array", "count:integer", "success:boolean", "error:string"),
)
@soft("channels", "count")
def channels(ctx: NodeContext, inputs: dict[str, Any]) -> dict[str, Any]:
    kinds = "public_channel,private_channel" if inputs.get("include_private") else "public_channel"
    params = {"types": kinds, "limit": _limit(inputs, 50, 200), "exclude_archived": "true"}
    found = Slack(ctx, inputs).call("conversations.list", params=params).get("channels") or []
    search = str(inputs.get("search") or "").lower()
    found = [c for c in found if isinstance(c, dict) and search in str(c.get("name") or "").lower()]
    lines = [f"Found {len(found)} channel(s)" + (f" matching {search!r}" if search else "")]
    lines += [f"#{c.get('name')} ({c.get('id')}), {c.get('num_members', 0)} members" for c in found[:20]]
    return {
        "tool_result": "\n".join(lines),
        "channels": found,
        "count": len(found),
        "success": True,
        "error": "",
    }


@node(
    "slack/users",
    name="Slack Users",
    category="slack",
    description="List or search the workspace's people (not bots, not deactivated): names, emails, status.",
    inputs=(
        connection_input("slack"),
        BOT_TOKEN,
        Input("search", "string", description="Only people whose real or display name contains this text."),
        Input("limit", "integer", default=50, description="How many members to ask for (at most 200)."),
    ),
    outputs=("tool_result:string", "users:array", "count:integer", "success:boolean", "error:string"),
)
@soft("users", "count")
def users(ctx: NodeContext, inputs: dict[str, Any]) -> dict[str, Any]:
    members = (
        Slack(ctx, inputs).call("users.list", params={"limit": _limit(inputs, 50, 200)}).get("members") or []
    )
    search = str(inputs.get("search") or "").lower()

    def wanted(user: Any) -> bool:
        if not isinstance(user, dict) or user.get("deleted") or user.get("is_bot"):
            return False
        names = (str(user.get("real_name") or ""), str((user.get("profile") or {}).get("display_name") or ""))
        return not search or any(search in name.lower() for name in names)

    found = [user for user in members if wanted(user)]
    lines = [f"Found {len(found)} user(s)" + (f" matching {search!r}" if search else "")]
    for user in found[:20]:
        email = (user.get("profile") or {}).get("email")
        lines.append(
            f"{user.get('real_name') or user.get('name')} [{user.get('id')}]"
            + (f", {email}" if email else "")
        )
    return {
        "tool_result": "\n".join(lines),
        "users": found,
        "count": len(found),
        "success": True,
        "error": "",
    }


@node(
    "slack/search",
    name="Slack Search Messages",
    category="slack",
    description="Search Slack messages (search.messages) with Slack's modifiers: from:@user, in:#channel, "
    "before:, after:, has:link. Needs a user token: Slack does not let bots search.",
    inputs=(
        connection_input("slack", description="A stored slack connection with a user token."),
        Input("user_token", "secret", description="A user token (xoxp-...), when no connection is picked."),
        Input(
            "query", "string", required=True, description="What to look for, with Slack's search modifiers."
        ),
        Input("count", "integer", default=10, description="How many matches (at most 100)."),
        Input(
            "sort",
            "string",
            default="score",
            options=("score", "timestamp"),
            description="Relevance or newest first.",
        ),
    ),
    outputs=("tool_result:string", "messages:array", "total:integer", "success:boolean", "error:string"),
)
@soft("messages", "total")
def search(ctx: NodeContext, inputs: dict[str, Any]) -> dict[str, Any]:
    count = inputs.get("count")
    params = {"query": str(inputs["query"]), "count": max(1, min(100, count)) if isinstance(count, int) and count > 0 else 10,
              "sort": inputs.get("sort") or "score", "sort_dir": "desc"}  # fmt: skip
    found = (
        Slack(ctx, inputs, token="user_token").call("search.messages", params=params).get("messages") or {}
    )
    matches = found.get("matches") if isinstance(found.get("matches"), list) else []
    total = int(found.get("total") or 0) if isinstance(found.get("total"), int | float) else len(matches)
    lines = [f"Found {total} message(s) matching {params['query']!r}"]
    for match in matches[:10]:
        if isinstance(match, dict):
            where = (
                (match.get("channel") or {}).get("name", "") if isinstance(match.get("channel"), dict) else ""
            )
            lines.append(
                f"[{match.get('ts', '')}] {match.get('username', '')} in #{where}: {str(match.get('text') or '')[:120]}"
            )
    return {
        "tool_result": "\n".join(lines),
        "messages": matches,
        "total": total,
        "success": True,
        "error": "",
    }


@node(
    "slack/user_profile",
    name="Slack User Profile",
    category="slack",
    description="A Slack user's profile by ID (users.info): name, email, title, timezone and status.",
    inputs=(
        connection_input("slack"),
        BOT_TOKEN,
        Input(
            "user_id",
            "string",
            required=True,
            description="The user's ID (U01ABCDEF); slack/users finds it by name.",
        ),
    ),
    outputs=(
        "tool_result:string",
        "profile:object",
        "real_name:string",
        "display_name:string",
        "email:string",
        "title:string",
        "timezone:string",
        "status_text:string",
        "success:boolean",
        "error:string",
    ),  # fmt: skip
)
@soft("profile", "real_name", "display_name", "email", "title", "timezone", "status_text")
def user_profile(ctx: NodeContext, inputs: dict[str, Any]) -> dict[str, Any]:
    user = (
        Slack(ctx, inputs).call("users.info", params={"user": str(inputs["user_id"]).strip()}).get("user")
        or {}
    )
    profile = user.get("profile") if isinstance(user.get("profile"), dict) else {}
    out = {
        "profile": profile,
        "real_name": str(user.get("real_name") or profile.get("real_name") or ""),
        "display_name": str(profile.get("display_name") or ""),
        "email": str(profile.get("email") or ""),
        "title": str(profile.get("title") or ""),
        "timezone": str(user.get("tz") or ""),
        "status_text": str(profile.get("status_text") or ""),
    }
    facts = [f"{name}: {out[key]}" for key, name in (("email", "Email"), ("title", "Title"), ("timezone", "Timezone"),
                                                      ("status_text", "Status")) if out[key]]  # fmt: skip
    summary = "\n  ".join([f"Profile for {out['real_name'] or inputs['user_id']}", *facts])
    return {**out, "tool_result": summary, "success": True, "error": ""}


@node(
    "slack/file_upload",
    name="Slack File Upload",
    category="slack",
    description="Upload a file to a Slack channel (files.getUploadURLExternal, upload, files.completeUploadExternal).",
    inputs=(
        connection_input("slack"),
        BOT_TOKEN,
        CHANNEL_ID,
        Input(
            "file_blob", "string", description="The file: a path in the run's workspace (/work/report.csv)."
        ),
        Input("file_base64", "string", description="Or the file's bytes as base64."),
        Input("content", "text", description="Or the file's content as text (a snippet, CSV, a log)."),
        Input(
            "filename",
            "string",
            required=True,
            description="The file's name with its extension (report.csv).",
        ),
        Input("title", "string", description="The title shown in Slack (default: the file name)."),
        Input("initial_comment", "string", description="A message posted with the file."),
    ),
    outputs=("tool_result:string", "file_id:string", "success:boolean", "error:string"),
    idempotent=False,
)
@soft("file_id")
def file_upload(ctx: NodeContext, inputs: dict[str, Any]) -> dict[str, Any]:
    channel = required(inputs, "channel_id", "chat_id")
    content = file_bytes(ctx, inputs, text=inputs.get("content") or "")
    filename = str(inputs["filename"]).strip()
    slack = Slack(ctx, inputs)
    ticket = slack.call("files.getUploadURLExternal", params={"filename": filename, "length": len(content)})
    upload_url, file_id = str(ticket.get("upload_url") or ""), str(ticket.get("file_id") or "")
    if not upload_url.lower().startswith(("https://", "http://")) or not file_id:
        raise ServiceFailed("Slack files.getUploadURLExternal failed: no upload URL in the answer")
    # The upload URL is signed by Slack: the bot token is not sent to it.
    reply = slack.client.call(
        "POST",
        upload_url,
        what="Slack file upload",
        files={"file": (filename, content, "application/octet-stream")},
    )
    if reply.status >= 300:
        raise ServiceFailed(f"Slack file upload failed: HTTP {reply.status}")
    body: dict[str, Any] = {
        "files": [{"id": file_id, "title": inputs.get("title") or filename}],
        "channel_id": channel,
    }
    if inputs.get("initial_comment"):
        body["initial_comment"] = inputs["initial_comment"]
    slack.call("files.completeUploadExternal", body=body)
    return {"tool_result": f"file {filename!r} ({len(content)} bytes) uploaded to {channel}", "file_id": file_id,
            "success": True, "error": ""}  # fmt: skip
