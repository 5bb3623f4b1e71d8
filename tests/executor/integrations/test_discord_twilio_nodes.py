"""messaging/discord/webhook and the Twilio nodes against loopback stand-ins for Discord's webhook
(https://discord.com/developers/docs/resources/webhook#execute-webhook) and Twilio's REST API
(https://www.twilio.com/docs/messaging/api/message-resource#create-a-message-resource)."""

from __future__ import annotations

from flomation.executor import StaticSecrets
from tests.executor.conftest import outputs_of, run_node
from tests.executor.integrations.chat_servers import (
    TWILIO_SID,
    TWILIO_TOKEN,
    answers,
    basic,
    body_json,
    form,
    limited,
    ok,
)
from tests.support.servers import free_port

MESSAGES = f"/2010-04-01/Accounts/{TWILIO_SID}/Messages.json"
CALLS = f"/2010-04-01/Accounts/{TWILIO_SID}/Calls.json"


def test_discord_posts_content_username_and_avatar_and_waits_out_a_rate_limit(http_server):
    discord_limit = limited(
        "", {"message": "You are being rate limited.", "retry_after": 0.2, "global": False}
    )
    http_server.routes["/api/webhooks/1/tok"] = answers(discord_limit, ok({"id": "m1"}))
    inputs = {"webhook_url": http_server.url + "/api/webhooks/1/tok", "content": "Build passed",
              "username": "CI", "avatar_url": "https://example.com/ci.png"}  # fmt: skip
    result = run_node("messaging/discord/webhook", inputs)
    assert outputs_of(result) == {
        "tool_result": "message posted",
        "status_code": 200,
        "success": True,
        "error": "",
    }
    assert len(http_server.requests) == 2
    request = http_server.requests[1]
    assert request["method"] == "POST" and request["path"] == "/api/webhooks/1/tok?wait=true"
    assert body_json(request) == {
        "content": "Build passed",
        "username": "CI",
        "avatar_url": "https://example.com/ci.png",
    }
    assert "/api/webhooks/1/tok" not in str(result.node_results)


def test_a_deleted_discord_webhook_and_an_unreachable_one_are_soft_failures(http_server):
    http_server.routes["/api/webhooks/1/gone"] = ok({"message": "Unknown Webhook", "code": 10015}, 404)
    out = outputs_of(run_node("messaging/discord/webhook",
                              {"webhook_url": http_server.url + "/api/webhooks/1/gone", "content": "x"}))  # fmt: skip
    assert out["success"] is False and out["status_code"] == 404
    assert (
        out["error"]
        == "Discord webhook failed: the webhook URL is wrong or the webhook was deleted (HTTP 404)"
    )
    port = free_port()
    out = outputs_of(
        run_node("messaging/discord/webhook", {"webhook_url": f"http://127.0.0.1:{port}/w", "content": "x"})
    )
    assert (
        out["error"] == f"Discord webhook failed: could not connect to 127.0.0.1:{port}: connection refused"
    )


def twilio(server, **fields):
    return StaticSecrets(connections={"sms": {"type": "twilio", "fields": {"account_sid": TWILIO_SID,
        "auth_token": TWILIO_TOKEN, "from": "+15005550006", "base_url": server.url, **fields}}})  # fmt: skip


def test_send_sms_posts_the_documented_form_with_basic_auth(http_server):
    http_server.routes[MESSAGES] = ok({"sid": "SM123", "status": "queued"}, 201)
    inputs = {"connection": "sms", "to": "+447700900123", "message": "Your code is 4711",
              "media_url": "https://example.com/a.png"}  # fmt: skip
    result = run_node("twilio/send_sms", inputs, secrets=twilio(http_server))
    assert outputs_of(result)["message_sid"] == "SM123" and outputs_of(result)["success"] is True
    (request,) = http_server.requests
    assert request["method"] == "POST" and request["headers"]["Authorization"] == basic(
        TWILIO_SID, TWILIO_TOKEN
    )
    assert request["headers"]["Content-Type"] == "application/x-www-form-urlencoded"
    assert form(request) == {"From": ["+15005550006"], "To": ["+447700900123"], "Body": ["Your code is 4711"],
                             "MediaUrl": ["https://example.com/a.png"]}  # fmt: skip
    assert TWILIO_TOKEN not in str(result.node_results)


def test_a_wrong_twilio_token_and_a_rate_limit(http_server):
    http_server.routes[MESSAGES] = answers(
        ok({"code": 20003, "message": "Authenticate", "more_info": "https://www.twilio.com/docs/errors/20003",
            "status": 401}, 401),
        limited("0", {"code": 20429, "message": "Too Many Requests", "status": 429}), ok({"sid": "SM9"}, 201))  # fmt: skip
    inputs = {"connection": "sms", "to": "+447700900123", "message": "x"}
    out = outputs_of(run_node("twilio/send_sms", inputs, secrets=twilio(http_server)))
    assert out["error"] == "Twilio message failed: the account SID or auth token was refused (HTTP 401)"
    assert (
        outputs_of(run_node("twilio/send_sms", inputs, secrets=twilio(http_server)))["message_sid"] == "SM9"
    )
    assert len(http_server.requests) == 3


def test_make_call_speaks_the_message_as_escaped_twiml(http_server):
    http_server.routes[CALLS] = ok({"sid": "CA1", "status": "queued"}, 201)
    inputs = {"connection": "sms", "to": "+447700900123", "message": "Disk <90% & rising", "timeout": 20}
    out = outputs_of(run_node("twilio/make_call", inputs, secrets=twilio(http_server)))
    assert out["call_sid"] == "CA1" and out["session_id"] == ""
    assert form(http_server.requests[0]) == {
        "From": ["+15005550006"], "To": ["+447700900123"], "Timeout": ["20"],
        "Twiml": ['<Response><Say voice="alice">Disk &lt;90% &amp; rising</Say></Response>']}  # fmt: skip


def test_an_unreachable_twilio_is_a_soft_failure_naming_the_host():
    port = free_port()
    secrets = StaticSecrets(connections={"sms": {"type": "twilio", "fields": {"account_sid": TWILIO_SID,
        "auth_token": TWILIO_TOKEN, "from": "+1", "base_url": f"http://127.0.0.1:{port}"}}})  # fmt: skip
    out = outputs_of(
        run_node("twilio/send_sms", {"connection": "sms", "to": "+2", "message": "x"}, secrets=secrets)
    )
    assert out["error"] == f"Twilio message failed: could not connect to 127.0.0.1:{port}: connection refused"


def test_the_nodes_own_sender_wins_over_the_connections_default(http_server):
    http_server.routes[MESSAGES] = ok({"sid": "SM2"}, 201)
    inputs = {"connection": "sms", "from": "+15005550009", "to": "+447700900123", "message": "x"}
    assert outputs_of(run_node("twilio/send_sms", inputs, secrets=twilio(http_server)))["success"] is True
    assert form(http_server.requests[0])["From"] == ["+15005550009"]
