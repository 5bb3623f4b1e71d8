"""web/request against a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import base64
import json
import socket
import time

from conftest import chain, node, outputs_of, run, run_node


def test_a_get_returns_status_body_and_parsed_json_reachable_by_path(http_server):
    http_server.routes["/user"] = (
        200,
        {"Content-Type": "application/json"},
        {"user": {"id": 7, "name": "Ada"}},
    )
    f = chain(
        node("fetch", "web/request", {"method": "GET", "url": http_server.url + "/user"}),
        node("o", "output/set", {"name": "id", "value": "${fetch.response_body.user.id}"}),
    )
    result, _ = run(f)
    assert result.status == "succeeded"
    assert result.outputs == {"id": 7}
    out = outputs_of(result, "fetch")
    assert out["status_code"] == 200 and out["success"] is True
    assert out["response_json"] == {"user": {"id": 7, "name": "Ada"}}
    assert "Content-Type: application/json" in out["response_headers"]


def test_headers_query_and_a_json_body_are_sent(http_server):
    http_server.routes["/items"] = (201, {}, {"ok": True})
    result = run_node(
        "web/request",
        {
            "method": "POST",
            "url": http_server.url + "/items",
            "headers": "X-Trace: abc\nAccept: application/json",
            "query": [{"key": "page", "value": 2}],
            "json": {"name": "widget"},
        },
    )
    assert outputs_of(result)["status_code"] == 201
    sent = http_server.requests[-1]
    assert sent["path"] == "/items?page=2"
    assert sent["headers"]["X-Trace"] == "abc"
    assert json.loads(sent["body"]) == {"name": "widget"}
    assert sent["headers"]["Content-Type"] == "application/json"


def test_a_form_body_is_form_encoded(http_server):
    http_server.routes["/form"] = (200, {}, {})
    run_node(
        "web/request",
        {"method": "POST", "url": http_server.url + "/form", "form": [{"key": "a", "value": "1 2"}]},
    )
    sent = http_server.requests[-1]
    assert sent["body"] == b"a=1+2"
    assert sent["headers"]["Content-Type"] == "application/x-www-form-urlencoded"


def test_basic_bearer_and_api_key_authentication(http_server):
    http_server.routes["/auth"] = (200, {}, {})
    url = http_server.url + "/auth"
    run_node(
        "web/request", {"method": "GET", "url": url, "auth_type": "basic", "username": "u", "password": "p"}
    )
    assert (
        http_server.requests[-1]["headers"]["Authorization"] == "Basic " + base64.b64encode(b"u:p").decode()
    )
    run_node("web/request", {"method": "GET", "url": url, "auth_type": "bearer", "token": "tok"})
    assert http_server.requests[-1]["headers"]["Authorization"] == "Bearer tok"
    run_node("web/request", {"method": "GET", "url": url, "auth_type": "api_key", "api_key_value": "k1"})
    assert http_server.requests[-1]["headers"]["X-API-Key"] == "k1"
    run_node(
        "web/request",
        {
            "method": "GET",
            "url": url,
            "auth_type": "api_key",
            "api_key_name": "key",
            "api_key_value": "k2",
            "api_key_in": "query",
        },
    )
    assert http_server.requests[-1]["path"] == "/auth?key=k2"


def test_a_5xx_reply_is_retried_until_it_succeeds(http_server):
    replies = iter([(503, {}, {"busy": True}), (502, {}, {}), (200, {}, {"ok": True})])
    http_server.routes["/flaky"] = lambda handler: next(replies)
    result = run_node(
        "web/request",
        {"method": "GET", "url": http_server.url + "/flaky", "retries": 3, "retry_backoff_seconds": 0.01},
    )
    assert result.status == "succeeded"
    assert outputs_of(result)["attempts"] == 3


def test_a_non_2xx_reply_is_a_soft_failure_and_the_flow_goes_on(http_server):
    f = chain(
        node("fetch", "web/request", {"method": "GET", "url": http_server.url + "/missing"}),
        node("o", "output/set", {"name": "after", "value": "${fetch.status_code}"}),
    )
    result, events = run(f)
    assert result.status == "succeeded"
    assert result.node_results["fetch"]["status"] == "failed"
    assert result.outputs == {"after": 404}


def test_fail_on_unsuccessful_makes_a_non_2xx_reply_fail_the_run(http_server):
    f = chain(
        node(
            "fetch",
            "web/request",
            {"method": "GET", "url": http_server.url + "/missing"},
            fail_on_unsuccessful=True,
        )
    )
    result, _ = run(f)
    assert result.status == "failed" and "HTTP 404" in result.error


def test_a_refused_connection_fails_after_its_retries():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = run_node(
        "web/request",
        {"method": "GET", "url": f"http://127.0.0.1:{port}/", "retries": 1, "retry_backoff_seconds": 0.01},
    )
    assert result.status == "failed"
    assert "could not connect after 2 attempt(s)" in result.error


def test_a_slow_server_times_out(http_server):
    def slow(handler):
        time.sleep(1.5)
        return (200, {}, {})

    http_server.routes["/slow"] = slow
    started = time.monotonic()
    result = run_node(
        "web/request", {"method": "GET", "url": http_server.url + "/slow", "timeout_seconds": 0.3}
    )
    assert time.monotonic() - started < 1.4
    assert result.status == "failed" and "timed out" in result.error


def test_a_url_that_is_not_http_is_refused():
    result = run_node("web/request", {"method": "GET", "url": "file:///etc/passwd"})
    assert result.status == "failed" and "must start with http" in result.error


def test_bearer_without_a_token_is_refused(http_server):
    result = run_node("web/request", {"method": "GET", "url": http_server.url, "auth_type": "bearer"})
    assert "input 'token' is required" in result.error
