"""The slack, teams, telegram, discord and twilio connection types: each `test` makes the service's
cheapest authenticated call against a loopback stand-in and says what it proved, or why it failed without
the secret."""

from __future__ import annotations

import pytest

from flomation.lib import connections
from flomation.lib.connections import ConnectionFailed
from flomation.lib.egress import EgressPolicy
from tests.executor.integrations.chat_servers import (
    BOT_TOKEN,
    TEAMS_SECRET,
    TELEGRAM_TOKEN,
    TWILIO_SID,
    TWILIO_TOKEN,
    answers,
    basic,
    form,
    limited,
    ok,
)
from tests.support.servers import free_port

LOOPBACK = EgressPolicy.build(allow=["127.0.0.0/8"])


def check(kind: str, fields: dict, policy: EgressPolicy = LOOPBACK) -> str:
    return connections.get(kind).test(fields, policy, 5.0)


def test_the_chat_types_are_found_with_their_secret_fields():
    found = connections.types()
    secret = {kind: {f.name for f in found[kind].FIELDS if f.secret} for kind in
              ("slack", "teams", "telegram", "discord", "twilio")}  # fmt: skip
    assert secret == {
        "slack": {"bot_token", "user_token", "signing_secret", "webhook_url"},
        "teams": {"client_secret", "webhook_url", "outgoing_webhook_token"},
        "telegram": {"bot_token", "webhook_secret"},
        "discord": {"webhook_url"},
        "twilio": {"auth_token"},
    }


def test_slack_auth_test_names_the_bot_and_workspace(http_server):
    http_server.routes["/api/auth.test"] = ok({"ok": True, "user": "flobot", "team": "Acme"})
    said = check("slack", {"bot_token": BOT_TOKEN, "base_url": http_server.url + "/api"})
    assert said == "signed in as flobot in workspace Acme"
    (request,) = http_server.requests
    assert request["method"] == "POST" and request["headers"]["Authorization"] == f"Bearer {BOT_TOKEN}"


def test_slack_invalid_auth_says_the_token_was_refused_without_it(http_server):
    http_server.routes["/api/auth.test"] = ok({"ok": False, "error": "invalid_auth"})
    with pytest.raises(ConnectionFailed) as failed:
        check("slack", {"bot_token": BOT_TOKEN, "base_url": http_server.url + "/api"})
    assert str(failed.value) == "Slack auth.test failed: invalid_auth (the bot token was refused)"


def test_slack_waits_out_a_rate_limit_then_succeeds(http_server):
    http_server.routes["/api/auth.test"] = answers(limited("0"), ok({"ok": True, "user": "b", "team": "t"}))
    assert check("slack", {"bot_token": BOT_TOKEN, "base_url": http_server.url + "/api"}).startswith(
        "signed in"
    )
    assert len(http_server.requests) == 2


def test_telegram_get_me_names_the_bot_and_a_bad_token_is_not_echoed(http_server):
    http_server.routes[f"/bot{TELEGRAM_TOKEN}/getMe"] = ok(
        {"ok": True, "result": {"id": 1, "is_bot": True, "first_name": "Flo", "username": "flo_bot"}}
    )
    assert check("telegram", {"bot_token": TELEGRAM_TOKEN, "base_url": http_server.url}) == (
        "signed in as @flo_bot (Flo)"
    )
    http_server.routes["/bot999:wrong-token/getMe"] = ok(
        {"ok": False, "error_code": 401, "description": "Unauthorized"}, 401
    )
    with pytest.raises(ConnectionFailed) as failed:
        check("telegram", {"bot_token": "999:wrong-token", "base_url": http_server.url})
    assert "the bot token was refused" in str(failed.value) and "wrong-token" not in str(failed.value)


def test_twilio_fetches_the_account_with_basic_auth(http_server):
    path = f"/2010-04-01/Accounts/{TWILIO_SID}.json"
    http_server.routes[path] = ok({"sid": TWILIO_SID, "friendly_name": "Acme", "status": "active"})
    fields = {"account_sid": TWILIO_SID, "auth_token": TWILIO_TOKEN, "base_url": http_server.url}
    assert check("twilio", fields) == "signed in to account Acme (active)"
    (request,) = http_server.requests
    assert request["method"] == "GET" and request["headers"]["Authorization"] == basic(
        TWILIO_SID, TWILIO_TOKEN
    )
    http_server.routes[path] = ok({"code": 20003, "message": "Authenticate", "status": 401}, 401)
    with pytest.raises(ConnectionFailed, match="account SID or auth token was refused"):
        check("twilio", fields)


def test_teams_gets_a_client_credentials_token_for_graph(http_server):
    http_server.routes["/tenant-1/oauth2/v2.0/token"] = ok({"access_token": "tok", "expires_in": 3599})
    fields = {"tenant_id": "tenant-1", "client_id": "app-1", "client_secret": TEAMS_SECRET,
              "login_url": http_server.url, "base_url": http_server.url + "/v1.0"}  # fmt: skip
    assert check("teams", fields) == "signed in as app app-1 in tenant tenant-1"
    (request,) = http_server.requests
    assert request["method"] == "POST"
    assert form(request) == {"client_id": ["app-1"], "client_secret": [TEAMS_SECRET],
                             "scope": [http_server.url + "/.default"], "grant_type": ["client_credentials"]}  # fmt: skip
    http_server.routes["/tenant-1/oauth2/v2.0/token"] = ok(
        {"error": "invalid_client", "error_description": "AADSTS7000215: Invalid client secret provided."},
        401,
    )
    with pytest.raises(ConnectionFailed) as failed:
        check("teams", fields)
    assert str(failed.value).startswith("Microsoft sign-in failed: the client ID or secret was refused")
    assert TEAMS_SECRET not in str(failed.value)


def test_discord_reads_the_webhook_without_posting(http_server):
    http_server.routes["/api/webhooks/1/tok"] = ok({"name": "alerts", "channel_id": "42"})
    assert check("discord", {"webhook_url": http_server.url + "/api/webhooks/1/tok"}) == (
        "webhook alerts posts to channel 42"
    )
    assert http_server.requests[0]["method"] == "GET"


def test_an_unreachable_host_and_a_refused_address_fail_clearly():
    port = free_port()
    with pytest.raises(ConnectionFailed, match=f"could not connect to 127.0.0.1:{port}: connection refused"):
        check("slack", {"bot_token": BOT_TOKEN, "base_url": f"http://127.0.0.1:{port}/api"})
    with pytest.raises(ConnectionFailed, match="egress refused: 127.0.0.1 is a loopback address"):
        check("telegram", {"bot_token": TELEGRAM_TOKEN, "base_url": f"http://127.0.0.1:{port}"},
              EgressPolicy.build())  # fmt: skip


def test_a_webhook_only_connection_is_not_posted_to_by_its_test():
    for kind in ("slack", "teams"):
        said = check(kind, {"webhook_url": "https://hooks.example.com/services/T/B/x"}, EgressPolicy.build())
        assert (
            said
            == "an incoming-webhook URL is set (not posted to: a test message would appear in the channel)"
        )
    with pytest.raises(ConnectionFailed, match="base URL must be an http"):
        check("slack", {"webhook_url": "file:///etc/passwd"})


def test_teams_bot_service_hosts_allow_the_bot_frameworks_regions_by_default():
    allowed = connections.get("teams").bot_service_allowed
    assert allowed({}, "https://smba.trafficmanager.net/emea/")
    assert allowed({}, "https://europe.webchat.botframework.com/")
    assert not allowed({}, "https://botframework.com.evil.example/")
    assert not allowed({"bot_service_hosts": "bots.example.com"}, "https://smba.trafficmanager.net/emea/")


def test_the_nodes_that_post_declare_that_running_twice_would_post_twice():
    from flomation.executor.registry import manifest

    entries = {n["action"]: n for n in manifest()["nodes"]}
    posting = {"slack/send_message", "slack/webhook", "microsoft/teams/send_chat_message",
               "messaging/telegram/send_photo", "messaging/discord/webhook", "twilio/send_sms", "twilio/make_call"}  # fmt: skip
    assert {action for action in posting if entries[action]["idempotent"]} == set()
    assert entries["slack/history"]["idempotent"] and entries["slack/react"]["idempotent"]
