"""The Microsoft Teams nodes against loopback stand-ins for the Entra ID token endpoint, Microsoft Graph
(https://learn.microsoft.com/graph/api/chatmessage-post), the Bot Framework connector and an incoming
webhook: the exact requests, a refused secret, a throttled call, an unreachable host."""

from __future__ import annotations

from flomation.executor import StaticSecrets
from tests.executor.conftest import outputs_of, run_node
from tests.executor.integrations.chat_servers import TEAMS_SECRET, answers, body_json, form, limited, ok
from tests.support.servers import free_port

TOKEN_PATH = "/tenant-1/oauth2/v2.0/token"


def teams(server, **fields):
    return StaticSecrets(connections={"teams": {"type": "teams", "fields": {
        "tenant_id": "tenant-1", "client_id": "app-1", "client_secret": TEAMS_SECRET,
        "login_url": server.url, "base_url": server.url + "/v1.0", **fields}}})  # fmt: skip


def test_a_channel_message_gets_one_token_then_posts_to_graph(http_server):
    http_server.routes[TOKEN_PATH] = ok(
        {"token_type": "Bearer", "access_token": "graph-token", "expires_in": 3599}
    )
    http_server.routes["/v1.0/teams/T1/channels/19:abc@thread.tacv2/messages"] = ok({"id": "1712"}, 201)
    http_server.routes["/v1.0/chats/19:chat@unq.gbl.spaces/messages"] = ok({"id": "1713"}, 201)
    inputs = {
        "connection": "teams",
        "team_id": "T1",
        "channel_id": "19:abc@thread.tacv2",
        "message": "<b>Hi</b>",
    }
    result = run_node("microsoft/teams/send_channel_message", inputs, secrets=teams(http_server))
    assert result.status == "succeeded", result.error
    assert outputs_of(result)["message_id"] == "1712"
    token, post = http_server.requests
    assert token["method"] == "POST" and form(token) == {
        "client_id": ["app-1"], "client_secret": [TEAMS_SECRET], "scope": [http_server.url + "/.default"],
        "grant_type": ["client_credentials"]}  # fmt: skip
    assert post["method"] == "POST" and post["path"] == "/v1.0/teams/T1/channels/19:abc@thread.tacv2/messages"
    assert post["headers"]["Authorization"] == "Bearer graph-token"
    assert body_json(post) == {"body": {"content": "<b>Hi</b>", "contentType": "html"}}
    assert TEAMS_SECRET not in str(result.node_results) and "graph-token" not in str(result.node_results)


def test_a_chat_message_with_flomations_access_token_input_needs_no_app(http_server):
    http_server.routes["/v1.0/chats/19:chat@unq.gbl.spaces/messages"] = ok({"id": "1713"}, 201)
    secrets = StaticSecrets(
        connections={"graph": {"type": "teams", "fields": {"base_url": http_server.url + "/v1.0"}}}
    )
    inputs = {"connection": "graph", "chat_id": "19:chat@unq.gbl.spaces", "message": "plain", "content_type": "text",
              "credential": "delegated-token"}  # fmt: skip
    assert (
        outputs_of(run_node("microsoft/teams/send_chat_message", inputs, secrets=secrets))["message_id"]
        == "1713"
    )
    (post,) = http_server.requests
    assert post["headers"]["Authorization"] == "Bearer delegated-token"
    assert body_json(post) == {"body": {"content": "plain", "contentType": "text"}}


def test_a_refused_client_secret_is_a_soft_failure_without_the_secret(http_server):
    http_server.routes[TOKEN_PATH] = ok({"error": "invalid_client", "error_description":
                                        "AADSTS7000215: Invalid client secret provided.\r\nTrace ID: x"}, 401)  # fmt: skip
    inputs = {"connection": "teams", "chat_id": "c", "message": "m"}
    result = run_node("microsoft/teams/send_chat_message", inputs, secrets=teams(http_server))
    assert result.node_results["n"]["status"] == "failed"
    assert outputs_of(result)["error"] == (
        "Microsoft sign-in failed: the client ID or secret was refused (AADSTS7000215: Invalid client secret provided.)"
    )
    assert TEAMS_SECRET not in str(result.node_results)


def test_graph_throttling_is_waited_out_and_a_403_names_the_missing_permission(http_server):
    http_server.routes[TOKEN_PATH] = ok({"access_token": "t"})
    http_server.routes["/v1.0/chats/c/messages"] = answers(
        limited("0", {"error": {"code": "TooManyRequests", "message": "throttled"}}), ok({"id": "1"}, 201),
        ok({"error": {"code": "Forbidden", "message": "Missing role permissions"}}, 403))  # fmt: skip
    inputs = {"connection": "teams", "chat_id": "c", "message": "m"}
    assert outputs_of(run_node("microsoft/teams/send_chat_message", inputs, secrets=teams(http_server)))[
        "success"
    ]
    assert [r["path"] for r in http_server.requests].count("/v1.0/chats/c/messages") == 2
    out = outputs_of(run_node("microsoft/teams/send_chat_message", inputs, secrets=teams(http_server)))
    assert out["error"] == (
        "Teams chat message failed: the app lacks the permission for this (HTTP 403): Missing role permissions"
    )


def test_reply_through_the_bot_framework_to_the_trigger_service_url(http_server):
    http_server.routes["/botframework.com/oauth2/v2.0/token"] = ok({"access_token": "bot-token"})
    http_server.routes["/teams/v3/conversations/a:conv/activities/act-1"] = ok({"id": "reply-9"})
    inputs = {"connection": "teams", "message": "**done**", "service_url": http_server.url + "/teams/",
              "conversation_id": "a:conv", "activity_id": "act-1"}  # fmt: skip
    out = outputs_of(
        run_node("microsoft/teams/reply", inputs, secrets=teams(http_server, bot_service_hosts="127.0.0.1"))
    )
    assert out["message_id"] == "reply-9"
    token, post = http_server.requests
    assert form(token)["scope"] == ["https://api.botframework.com/.default"] and form(token)["client_id"] == [
        "app-1"
    ]
    assert post["path"] == "/teams/v3/conversations/a:conv/activities/act-1"
    assert post["headers"]["Authorization"] == "Bearer bot-token"
    assert body_json(post) == {"type": "message", "from": {"id": "app-1"}, "conversation": {"id": "a:conv"},
                               "text": "**done**", "textFormat": "markdown"}  # fmt: skip


def test_reply_through_graph_to_a_channel_message(http_server):
    http_server.routes[TOKEN_PATH] = ok({"access_token": "t"})
    http_server.routes["/v1.0/teams/T/channels/C/messages/M/replies"] = ok({"id": "r1"}, 201)
    inputs = {"connection": "teams", "message": "ack", "team_id": "T", "channel_id": "C", "reply_to_id": "M"}
    assert (
        outputs_of(run_node("microsoft/teams/reply", inputs, secrets=teams(http_server)))["message_id"]
        == "r1"
    )


def test_the_incoming_webhook_posts_an_adaptive_card_and_an_unreachable_host_fails_softly(http_server):
    http_server.routes["/workflows/hook"] = (202, {}, b"")
    secrets = StaticSecrets(
        connections={
            "hook": {"type": "teams", "fields": {"webhook_url": http_server.url + "/workflows/hook"}}
        }
    )
    out = outputs_of(run_node("microsoft/teams/webhook", {"connection": "hook", "title": "Deploy", "message": "done"},
                              secrets=secrets))  # fmt: skip
    assert out["success"] is True and out["status_code"] == 202
    card = body_json(http_server.requests[0])["attachments"][0]
    assert card["contentType"] == "application/vnd.microsoft.card.adaptive"
    assert [b["text"] for b in card["content"]["body"]] == ["Deploy", "done"]
    port = free_port()
    out = outputs_of(
        run_node("microsoft/teams/webhook", {"webhook_url": f"http://127.0.0.1:{port}/x", "message": "m"})
    )
    assert out["error"] == f"Teams webhook failed: could not connect to 127.0.0.1:{port}: connection refused"


def test_an_id_cannot_climb_out_of_its_path_segment(http_server):
    http_server.routes[TOKEN_PATH] = ok({"access_token": "t"})
    http_server.routes["/v1.0/teams/a%2F..%2Fb/channels/C/messages"] = ok({"id": "1"}, 201)
    inputs = {"connection": "teams", "team_id": "a/../b", "channel_id": "C", "message": "m"}
    assert outputs_of(run_node("microsoft/teams/send_channel_message", inputs, secrets=teams(http_server)))[
        "success"
    ]
    result = run_node(
        "microsoft/teams/send_channel_message", {**inputs, "team_id": ".."}, secrets=teams(http_server)
    )
    assert result.status == "failed" and "input 'team_id' must be an ID" in result.error


def test_listing_teams_channels_and_messages_and_creating_a_channel(http_server):
    http_server.routes[TOKEN_PATH] = ok({"access_token": "app-token"})
    http_server.routes["/v1.0/teams"] = ok({"value": [{"id": "T1", "displayName": "Ops"}]})
    http_server.routes["/v1.0/me/joinedTeams"] = ok({"value": [{"id": "T2", "displayName": "Mine"}]})
    http_server.routes["/v1.0/teams/T1/channels"] = answers(
        ok({"value": [{"id": "C1", "displayName": "General"}, {"id": "C2", "displayName": "Alerts"}]}),
        ok({"id": "C3", "displayName": "Incidents"}, 201))  # fmt: skip
    http_server.routes["/v1.0/teams/T1/channels/C1/messages"] = ok({"value": [
        {"id": "m1", "from": {"user": {"displayName": "Ada"}}, "body": {"content": "hello"}}]})  # fmt: skip
    out = outputs_of(
        run_node("microsoft/teams/list_teams", {"connection": "teams"}, secrets=teams(http_server))
    )
    assert (
        out["teams"] == [{"id": "T1", "displayName": "Ops"}] and out["tool_result"] == "Found 1 team(s): Ops"
    )
    out = outputs_of(run_node("microsoft/teams/list_teams", {"connection": "teams", "credential": "user-token"},
                              secrets=teams(http_server)))  # fmt: skip
    assert out["teams"][0]["id"] == "T2"
    assert http_server.requests[-1]["headers"]["Authorization"] == "Bearer user-token"
    out = outputs_of(run_node("microsoft/teams/list_channels", {"connection": "teams", "team_id": "T1"},
                              secrets=teams(http_server)))  # fmt: skip
    assert out["count"] == 2 and out["tool_result"] == "Found 2 channel(s): General, Alerts"
    out = outputs_of(run_node("microsoft/teams/list_channel_messages", {"connection": "teams", "team_id": "T1",
                              "channel_id": "C1", "max_results": 500}, secrets=teams(http_server)))  # fmt: skip
    assert out["count"] == 1 and "- Ada: hello" in out["tool_result"]
    assert http_server.requests[-1]["path"] == "/v1.0/teams/T1/channels/C1/messages?%24top=50"
    out = outputs_of(run_node("microsoft/teams/create_channel", {"connection": "teams", "team_id": "T1",
                              "name": "Incidents", "description": "Pager"}, secrets=teams(http_server)))  # fmt: skip
    assert out["channel_id"] == "C3"
    created = http_server.requests[-1]
    assert created["method"] == "POST" and created["headers"]["Authorization"] == "Bearer app-token"
    assert body_json(created) == {
        "displayName": "Incidents",
        "membershipType": "standard",
        "description": "Pager",
    }


def test_a_reply_never_takes_the_connections_token_to_a_service_url_it_does_not_allow(http_server):
    inputs = {"connection": "teams", "message": "hi", "service_url": http_server.url + "/teams/",
              "conversation_id": "a:conv"}  # fmt: skip
    result = run_node("microsoft/teams/reply", inputs, secrets=teams(http_server))
    assert result.status == "failed" and "is not a Bot Framework host this connection allows" in result.error
    assert http_server.requests == []
