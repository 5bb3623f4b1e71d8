"""The Slack nodes against a loopback stand-in for the Web API (https://api.slack.com/methods): each test
asserts the exact request the node sent (method, path, bearer token, body) and what the flow sees."""

from __future__ import annotations

import base64

from flomation.executor import ExecutorSettings, StaticSecrets
from flomation.lib.egress import EgressPolicy
from tests.executor.conftest import outputs_of, run_node
from tests.executor.integrations.chat_servers import BOT_TOKEN, answers, body_json, limited, multipart, ok
from tests.support.servers import free_port


def slack(server, **fields):
    """A stored Slack connection pointing at the stand-in."""
    return StaticSecrets(
        connections={
            "team": {
                "type": "slack",
                "fields": {"bot_token": BOT_TOKEN, "base_url": server.url + "/api", **fields},
            }
        }
    )


def posted(server, path):
    (request,) = [r for r in server.requests if r["path"].split("?")[0] == path]
    assert request["headers"]["Authorization"] == f"Bearer {BOT_TOKEN}"
    return request


def test_send_message_posts_the_text_thread_blocks_and_unfurl_and_returns_the_timestamp(http_server):
    http_server.routes["/api/chat.postMessage"] = ok({"ok": True, "channel": "C1", "ts": "1712345678.000100"})
    blocks = '[{"type":"section","text":{"type":"mrkdwn","text":"*Hi*"}}]'
    inputs = {"connection": "team", "channel_id": "C1", "message": "Hello *team*", "thread_id": "1712345600.000001",
              "blocks": blocks, "attachments": '[{"color":"#36a64f","text":"ok"}]', "unfurl_links": False}  # fmt: skip
    result = run_node("slack/send_message", inputs, secrets=slack(http_server))
    assert result.status == "succeeded", result.error
    out = outputs_of(result)
    assert out["success"] is True and out["timestamp"] == "1712345678.000100" and out["error"] == ""
    request = posted(http_server, "/api/chat.postMessage")
    assert request["method"] == "POST" and request["headers"]["Content-Type"] == "application/json"
    assert body_json(request) == {
        "channel": "C1", "text": "Hello *team*", "mrkdwn": True, "thread_ts": "1712345600.000001",
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "*Hi*"}}],
        "attachments": [{"color": "#36a64f", "text": "ok"}], "unfurl_links": False,
    }  # fmt: skip
    assert BOT_TOKEN not in str(result.node_results["n"])


def test_an_invalid_token_is_a_soft_failure_naming_the_method_and_never_the_token(http_server):
    http_server.routes["/api/chat.postMessage"] = ok({"ok": False, "error": "invalid_auth"})
    result = run_node("slack/send_message", {"connection": "team", "channel_id": "C1", "message": "x"},
                      secrets=slack(http_server))  # fmt: skip
    record = result.node_results["n"]
    assert record["status"] == "failed" and result.status == "succeeded"
    assert record["outputs"]["success"] is False
    assert (
        record["outputs"]["error"]
        == "Slack chat.postMessage failed: invalid_auth (the bot token was refused)"
    )
    assert BOT_TOKEN not in str(record)


def test_a_rate_limit_is_waited_out_then_the_message_goes(http_server):
    http_server.routes["/api/chat.postMessage"] = answers(limited("1"), ok({"ok": True, "ts": "1.2"}))
    result = run_node("slack/send_message", {"connection": "team", "channel_id": "C1", "message": "x"},
                      secrets=slack(http_server))  # fmt: skip
    assert outputs_of(result)["timestamp"] == "1.2"
    assert len(http_server.requests) == 2


def test_a_rate_limit_that_lasts_fails_softly_after_the_bounded_retries(http_server):
    http_server.routes["/api/chat.postMessage"] = limited("0")
    result = run_node("slack/send_message", {"connection": "team", "channel_id": "C1", "message": "x"},
                      secrets=slack(http_server))  # fmt: skip
    assert outputs_of(result)["error"] == "Slack chat.postMessage: rate limited (HTTP 429) after 4 attempts"
    assert len(http_server.requests) == 4


def test_an_unreachable_host_and_a_refused_address():
    port = free_port()
    fields = StaticSecrets(connections={"team": {"type": "slack", "fields": {"bot_token": BOT_TOKEN,
                                                                            "base_url": f"http://127.0.0.1:{port}/api"}}})  # fmt: skip
    result = run_node(
        "slack/send_message", {"connection": "team", "channel_id": "C1", "message": "x"}, secrets=fields
    )
    assert outputs_of(result)["error"] == (
        f"Slack chat.postMessage failed: could not connect to 127.0.0.1:{port}: connection refused"
    )
    strict = ExecutorSettings(log=lambda *a: None, egress=EgressPolicy.build())
    result = run_node("slack/send_message", {"connection": "team", "channel_id": "C1", "message": "x"},
                      secrets=fields, settings=strict)  # fmt: skip
    assert result.status == "failed" and "egress refused: 127.0.0.1 is a loopback address" in result.error


def test_thread_and_history_read_with_get_and_the_query_slack_documents(http_server):
    replies = [{"ts": "1.1", "user": "U1", "text": "first"}, {"ts": "1.2", "user": "U2", "text": "second"}]
    http_server.routes["/api/conversations.replies"] = ok({"ok": True, "messages": replies})
    http_server.routes["/api/conversations.history"] = ok({"ok": True, "messages": replies[::-1]})
    result = run_node("slack/thread", {"connection": "team", "channel_id": "C1", "thread_ts": "1.1", "limit": 500},
                      secrets=slack(http_server))  # fmt: skip
    out = outputs_of(result)
    assert out["messages"] == replies and out["count"] == 2 and "<@U2>: second" in out["tool_result"]
    request = posted(http_server, "/api/conversations.replies")
    assert (
        request["method"] == "GET"
        and request["path"] == "/api/conversations.replies?channel=C1&ts=1.1&limit=200"
    )
    result = run_node("slack/history", {"connection": "team", "channel_id": "C1", "oldest": "2026-04-28"},
                      secrets=slack(http_server))  # fmt: skip
    assert outputs_of(result)["count"] == 2
    assert posted(http_server, "/api/conversations.history")["path"] == (
        "/api/conversations.history?channel=C1&limit=20&oldest=1777334400"
    )


def test_channels_and_users_are_listed_and_filtered(http_server):
    http_server.routes["/api/conversations.list"] = ok(
        {
            "ok": True,
            "channels": [
                {"id": "C1", "name": "general", "num_members": 9},
                {"id": "C2", "name": "ops-alerts", "num_members": 3},
            ],
        }
    )
    http_server.routes["/api/users.list"] = ok({"ok": True, "members": [
        {"id": "U1", "real_name": "Ada Lovelace", "profile": {"display_name": "ada", "email": "ada@example.com"}},
        {"id": "U2", "real_name": "Bot", "is_bot": True}, {"id": "U3", "real_name": "Gone", "deleted": True},
        {"id": "U4", "real_name": "Grace Hopper", "profile": {"display_name": "grace"}}]})  # fmt: skip
    out = outputs_of(run_node("slack/channels", {"connection": "team", "search": "OPS", "include_private": True},
                              secrets=slack(http_server)))  # fmt: skip
    assert [c["id"] for c in out["channels"]] == ["C2"] and out["count"] == 1
    assert posted(http_server, "/api/conversations.list")["path"] == (
        "/api/conversations.list?types=public_channel%2Cprivate_channel&limit=50&exclude_archived=true"
    )
    out = outputs_of(run_node("slack/users", {"connection": "team"}, secrets=slack(http_server)))
    assert [u["id"] for u in out["users"]] == ["U1", "U4"]
    assert "Ada Lovelace [U1], ada@example.com" in out["tool_result"]


def test_react_adds_the_emoji_without_colons_and_already_reacted_counts_as_done(http_server):
    http_server.routes["/api/reactions.add"] = answers(
        ok({"ok": True}), ok({"ok": False, "error": "already_reacted"})
    )
    inputs = {"connection": "team", "channel_id": "C1", "timestamp": "1.5", "emoji": ":thumbsup:"}
    assert outputs_of(run_node("slack/react", inputs, secrets=slack(http_server)))["success"] is True
    assert body_json(http_server.requests[0]) == {"channel": "C1", "timestamp": "1.5", "name": "thumbsup"}
    out = outputs_of(run_node("slack/react", inputs, secrets=slack(http_server)))
    assert out["success"] is True and out["tool_result"] == "already reacted with :thumbsup:"


def test_rich_message_unwraps_the_block_kit_builders_object_and_requires_a_real_thread_timestamp(http_server):
    http_server.routes["/api/chat.postMessage"] = ok({"ok": True, "ts": "9.9"})
    blocks = '{"blocks": [{"type": "divider"}]}'
    out = outputs_of(run_node("slack/rich_message", {"connection": "team", "channel_id": "C1", "text": "fallback",
                                                     "blocks": blocks}, secrets=slack(http_server)))  # fmt: skip
    assert out["tool_result"] == "rich message sent with 1 block(s)"
    assert body_json(http_server.requests[0]) == {"channel": "C1", "text": "fallback", "mrkdwn": True,
                                                  "blocks": [{"type": "divider"}]}  # fmt: skip
    result = run_node("slack/rich_message", {"connection": "team", "channel_id": "C1", "text": "x", "blocks": blocks,
                                             "thread_ts": "C0123"}, secrets=slack(http_server))  # fmt: skip
    assert result.status == "failed" and "input 'thread_ts' must be a message timestamp" in result.error


def test_file_upload_takes_the_three_documented_steps_and_sends_no_token_to_the_upload_url(http_server):
    http_server.routes["/api/files.getUploadURLExternal"] = ok(
        {"ok": True, "upload_url": http_server.url + "/upload/v1/abc", "file_id": "F123"}
    )
    http_server.routes["/upload/v1/abc"] = (200, {"Content-Type": "text/plain"}, b"OK - 5")
    http_server.routes["/api/files.completeUploadExternal"] = ok({"ok": True, "files": [{"id": "F123"}]})
    inputs = {"connection": "team", "channel_id": "C1", "file_base64": base64.b64encode(b"a,b\n").decode(),
              "filename": "report.csv", "initial_comment": "Here it is"}  # fmt: skip
    out = outputs_of(run_node("slack/file_upload", inputs, secrets=slack(http_server)))
    assert out["success"] is True and out["file_id"] == "F123"
    ticket, upload, complete = http_server.requests
    assert (
        ticket["method"] == "GET"
        and ticket["path"] == "/api/files.getUploadURLExternal?filename=report.csv&length=4"
    )
    assert upload["method"] == "POST" and "Authorization" not in upload["headers"]
    assert multipart(upload) == {"file": ("report.csv", b"a,b\n")}
    assert complete["headers"]["Authorization"] == f"Bearer {BOT_TOKEN}"
    assert body_json(complete) == {"files": [{"id": "F123", "title": "report.csv"}], "channel_id": "C1",
                                   "initial_comment": "Here it is"}  # fmt: skip


def test_the_webhook_posts_to_the_stored_url_and_maps_slacks_plain_text_errors(http_server):
    http_server.routes["/services/T/B/x"] = answers((200, {}, b"ok"), (404, {}, b"no_service"))
    secrets = StaticSecrets(
        connections={
            "hook": {"type": "slack", "fields": {"webhook_url": http_server.url + "/services/T/B/x"}}
        }
    )
    inputs = {"connection": "hook", "message": "Deployed", "icon_emoji": ":rocket:"}
    result = run_node("slack/webhook", inputs, secrets=secrets)
    assert outputs_of(result)["status_code"] == 200 and outputs_of(result)["success"] is True
    assert body_json(http_server.requests[0]) == {
        "text": "Deployed",
        "mrkdwn": True,
        "icon_emoji": ":rocket:",
    }
    assert "/services/T/B/x" not in str(result.node_results["n"])
    out = outputs_of(run_node("slack/webhook", inputs, secrets=secrets))
    assert (
        out["error"]
        == "Slack webhook failed: HTTP 404 no_service (the incoming webhook is disabled or removed)"
    )


def test_an_inline_secret_token_fills_a_stored_connection_that_leaves_it_blank(http_server):
    http_server.routes["/api/chat.postMessage"] = ok({"ok": True, "ts": "3.3"})
    secrets = StaticSecrets(
        connections={"proxy": {"type": "slack", "fields": {"base_url": http_server.url + "/api"}}},
        secrets={"SLACK": "xoxb-inline-token"},
    )
    inputs = {"connection": "proxy", "bot_token": "${secrets.SLACK}", "channel_id": "C1", "message": "hi"}
    assert outputs_of(run_node("slack/send_message", inputs, secrets=secrets))["timestamp"] == "3.3"
    assert http_server.requests[0]["headers"]["Authorization"] == "Bearer xoxb-inline-token"


def test_a_rate_limit_asking_for_a_longer_wait_than_a_node_waits_fails_at_once(http_server):
    http_server.routes["/api/chat.postMessage"] = limited("120")
    result = run_node("slack/send_message", {"connection": "team", "channel_id": "C1", "message": "x"},
                      secrets=slack(http_server))  # fmt: skip
    assert outputs_of(result)["error"] == (
        "Slack chat.postMessage: rate limited (HTTP 429); the service asked to wait 120 s, "
        "longer than the 30 s a node waits"
    )
    assert len(http_server.requests) == 1


def test_search_uses_the_connections_user_token_and_user_profile_reads_users_info(http_server):
    http_server.routes["/api/search.messages"] = ok({"ok": True, "messages": {"total": 1, "matches": [
        {"ts": "5.5", "username": "ada", "text": "deploy done", "channel": {"name": "ops"}}]}})  # fmt: skip
    http_server.routes["/api/users.info"] = ok({"ok": True, "user": {"id": "U1", "real_name": "Ada", "tz": "Europe/London",
        "profile": {"display_name": "ada", "email": "ada@example.com", "title": "Engineer"}}})  # fmt: skip
    secrets = slack(http_server, user_token="xoxp-user-secret")
    out = outputs_of(run_node("slack/search", {"connection": "team", "query": "deploy in:#ops", "sort": "timestamp"},
                              secrets=secrets))  # fmt: skip
    assert out["total"] == 1 and out["messages"][0]["text"] == "deploy done"
    request = http_server.requests[0]
    assert request["headers"]["Authorization"] == "Bearer xoxp-user-secret"
    assert (
        request["path"]
        == "/api/search.messages?query=deploy+in%3A%23ops&count=10&sort=timestamp&sort_dir=desc"
    )
    out = outputs_of(run_node("slack/user_profile", {"connection": "team", "user_id": "U1"}, secrets=secrets))
    assert (out["real_name"], out["email"], out["title"], out["timezone"]) == ("Ada", "ada@example.com", "Engineer",
                                                                              "Europe/London")  # fmt: skip
    assert posted(http_server, "/api/users.info")["path"] == "/api/users.info?user=U1"


def test_search_without_a_user_token_says_so():
    secrets = StaticSecrets(connections={"team": {"type": "slack", "fields": {"bot_token": BOT_TOKEN}}})
    result = run_node("slack/search", {"connection": "team", "query": "x"}, secrets=secrets)
    assert result.status == "failed" and "no Slack user token is set" in result.error


def test_cancelling_during_a_rate_limit_wait_cancels_the_run(http_server):
    import threading

    http_server.routes["/api/chat.postMessage"] = limited("20")
    cancel = threading.Event()
    threading.Timer(0.3, cancel.set).start()
    result = run_node("slack/send_message", {"connection": "team", "channel_id": "C1", "message": "x"},
                      secrets=slack(http_server), cancel=cancel)  # fmt: skip
    assert result.status == "cancelled"
    assert result.node_results["n"]["status"] == "cancelled"
    assert len(http_server.requests) == 1
