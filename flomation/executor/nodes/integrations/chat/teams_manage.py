"""Microsoft Teams nodes that list and create: microsoft/teams/list_teams, list_channels,
list_channel_messages and create_channel (Microsoft Graph), with Flomation's inputs. Lists are arrays and
counts integers here (Flomation hands both over as JSON text)."""

from __future__ import annotations

from flomation.executor.connections import connection_input
from flomation.executor.nodes.integrations.chat._client import soft
from flomation.executor.nodes.integrations.chat.teams import GRAPH_AUTH, graph, segment
from flomation.executor.registry import Input, node

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from flomation.executor.engine.context import NodeContext

TEAM_ID = Input("team_id", "string", required=True, description="The team's ID.")


def _names(items: list[Any], kind: str) -> str:
    names = [
        str(item.get("displayName")) for item in items if isinstance(item, dict) and item.get("displayName")
    ]
    return f"Found {len(items)} {kind}(s)" + (": " + ", ".join(names[:50]) if names else "")


def _listed(data: dict[str, Any]) -> list[Any]:
    value = data.get("value")
    return value if isinstance(value, list) else []


@node(
    "microsoft/teams/list_teams",
    name="List Teams",
    category="microsoft teams",
    description="List teams: the signed-in user's joined teams with an access token, or the organisation's "
    "teams with the connection's app.",
    inputs=(connection_input("teams"), *GRAPH_AUTH),
    outputs=("tool_result:string", "teams:array", "count:integer", "success:boolean", "error:string"),
)
@soft("teams", "count")
def list_teams(ctx: NodeContext, inputs: dict[str, Any]) -> dict[str, Any]:
    # /me exists only for a user's (delegated) token; an app lists the organisation's teams instead.
    path = "/me/joinedTeams" if inputs.get("credential") else "/teams"
    teams = _listed(graph(ctx, inputs, path, "Teams list teams"))
    return {
        "tool_result": _names(teams, "team"),
        "teams": teams,
        "count": len(teams),
        "success": True,
        "error": "",
    }


@node(
    "microsoft/teams/list_channels",
    name="List Channels",
    category="microsoft teams",
    description="List the channels of a Microsoft Teams team.",
    inputs=(connection_input("teams"), TEAM_ID, *GRAPH_AUTH),
    outputs=("tool_result:string", "channels:array", "count:integer", "success:boolean", "error:string"),
)
@soft("channels", "count")
def list_channels(ctx: NodeContext, inputs: dict[str, Any]) -> dict[str, Any]:
    path = f"/teams/{segment(inputs['team_id'], 'team_id')}/channels"
    channels = _listed(graph(ctx, inputs, path, "Teams list channels"))
    return {"tool_result": _names(channels, "channel"), "channels": channels, "count": len(channels),
            "success": True, "error": ""}  # fmt: skip


@node(
    "microsoft/teams/list_channel_messages",
    name="List Channel Messages",
    category="microsoft teams",
    description="Read the recent messages of a Microsoft Teams channel.",
    inputs=(
        connection_input("teams"),
        TEAM_ID,
        Input("channel_id", "string", required=True, description="The channel's ID."),
        Input(
            "max_results", "integer", default=20, description="How many messages (at most 50, Graph's page)."
        ),
        *GRAPH_AUTH,
    ),
    outputs=("tool_result:string", "messages:array", "count:integer", "success:boolean", "error:string"),
)
@soft("messages", "count")
def list_channel_messages(ctx: NodeContext, inputs: dict[str, Any]) -> dict[str, Any]:
    top = inputs.get("max_results")
    top = max(1, min(50, top)) if isinstance(top, int) and top > 0 else 20
    path = (f"/teams/{segment(inputs['team_id'], 'team_id')}/channels/"
            f"{segment(inputs['channel_id'], 'channel_id')}/messages")  # fmt: skip
    messages = _listed(graph(ctx, inputs, path, "Teams list messages", params={"$top": top}))
    lines = [f"Retrieved {len(messages)} message(s)"]
    for message in messages[:5]:
        sender = ((message.get("from") or {}).get("user") or {}).get("displayName") or "Unknown"
        lines.append(f"- {sender}: {str((message.get('body') or {}).get('content') or '')[:50]}")
    return {"tool_result": "\n".join(lines), "messages": messages, "count": len(messages), "success": True,
            "error": ""}  # fmt: skip


@node(
    "microsoft/teams/create_channel",
    name="Create Channel",
    category="microsoft teams",
    description="Create a channel in a Microsoft Teams team.",
    inputs=(
        connection_input("teams"),
        TEAM_ID,
        Input("name", "string", required=True, description="The channel's name."),
        Input("description", "string", description="What the channel is for."),
        Input(
            "membership_type",
            "string",
            default="standard",
            options=("standard", "private", "shared"),
            description="Who can see it.",
        ),
        *GRAPH_AUTH,
    ),
    outputs=("tool_result:string", "channel_id:string", "success:boolean", "error:string"),
)
@soft("channel_id")
def create_channel(ctx: NodeContext, inputs: dict[str, Any]) -> dict[str, Any]:
    body = {"displayName": inputs["name"], "membershipType": inputs.get("membership_type") or "standard"}
    if inputs.get("description"):
        body["description"] = inputs["description"]
    path = f"/teams/{segment(inputs['team_id'], 'team_id')}/channels"
    data = graph(ctx, inputs, path, "Teams create channel", body=body)
    return {"tool_result": f"channel {inputs['name']!r} created", "channel_id": str(data.get("id") or ""),
            "success": True, "error": ""}  # fmt: skip
