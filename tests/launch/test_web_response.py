"""A flow's web response over real HTTP: only the headers a flow may set, always sandboxed, never split."""

from __future__ import annotations

import logging

import pytest
import requests

from tests.launch.conftest import trigger_node

HOSTILE_HEADERS = {
    "Set-Cookie": "flomation-token=chosen-by-the-flow; Path=/",
    "Set-Cookie2": "a=b",
    "Content-Security-Policy": "default-src *",
    "Content-Security-Policy-Report-Only": "default-src *",
    "X-Frame-Options": "ALLOWALL",
    "X-Content-Type-Options": "sniff",
    "Strict-Transport-Security": "max-age=0",
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Credentials": "true",
    "Clear-Site-Data": '"cookies"',
    "Refresh": "0; url=https://evil.example/",
    "Link": "<https://evil.example/x.css>; rel=stylesheet",
    "Permissions-Policy": "camera=*",
    "Cross-Origin-Resource-Policy": "cross-origin",
    "Cross-Origin-Opener-Policy": "unsafe-none",
    "Server-Timing": "db;dur=53",
    "WWW-Authenticate": 'Basic realm="Flomation sign-in"',
    "X-Accel-Redirect": "/internal/secrets",
    "Transfer-Encoding": "chunked",
    "Content-Length": "1",
    "Connection": "keep-alive",
}
ALLOWED_HEADERS = {
    "Cache-Control": "no-store",
    "Content-Disposition": 'attachment; filename="report.csv"',
    "ETag": '"v7"',
    "X-Order": "42",
}


@pytest.fixture
def answer(live_world, live_server, fake_runner):
    """answer(web_response) deploys a lastNode webhook whose flow answers `web_response`; returns the reply."""

    def call(web_response: dict, *, allow_redirects: bool = False) -> requests.Response:
        live_world.deploy(trigger_node("trigger/webhook", {"responseMode": "lastNode", "timeout": 10000}))
        fake_runner(outputs={"__web_response__": web_response})
        url = f"{live_server.url}/launch/webhook/{live_world.trigger().public_id}"
        return requests.post(url, json={}, timeout=15, allow_redirects=allow_redirects)

    return call


def test_a_flow_cannot_set_cookies_security_headers_or_proxy_instructions(answer, live_world, caplog):
    caplog.set_level(logging.WARNING, logger="flomation.launch")
    response = answer(
        {"status_code": 200, "content_type": "text/html", "headers": {**HOSTILE_HEADERS, **ALLOWED_HEADERS},
         "body": "<script>alert(document.cookie)</script>"}
    )  # fmt: skip
    assert response.status_code == 200 and response.text == "<script>alert(document.cookie)</script>"
    assert "Set-Cookie" not in response.headers and not response.cookies
    assert response.headers["Content-Security-Policy"] == "sandbox"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    for name in (
        "Set-Cookie2", "Content-Security-Policy-Report-Only", "Strict-Transport-Security",
        "Access-Control-Allow-Origin", "Access-Control-Allow-Credentials", "Clear-Site-Data", "Refresh", "Link",
        "Permissions-Policy", "Cross-Origin-Resource-Policy", "Server-Timing", "WWW-Authenticate",
        "X-Accel-Redirect", "Transfer-Encoding",
    ):  # fmt: skip
        assert name not in response.headers, name
    assert response.headers.get("Cross-Origin-Opener-Policy") != "unsafe-none"
    assert response.headers["Content-Length"] == str(len(response.content))
    for name, value in ALLOWED_HEADERS.items():
        assert response.headers[name] == value
    assert response.headers["Content-Type"] == "text/html"

    refusals = [r.getMessage() for r in caplog.records if "refused headers" in r.getMessage()]
    assert len(refusals) == 1
    assert "set-cookie" in refusals[0] and live_world.trigger().public_id in refusals[0]
    assert str(live_world.organisation.id) in refusals[0] and "chosen-by-the-flow" not in refusals[0]


def test_the_same_refusal_is_logged_once_however_often_the_flow_answers(answer, caplog):
    caplog.set_level(logging.WARNING, logger="flomation.launch")
    spec = {"headers": "Set-Cookie: a=b", "body": "ok"}
    for _ in range(2):
        assert "Set-Cookie" not in answer(spec).headers
    assert len([r for r in caplog.records if "refused headers" in r.getMessage()]) == 1


def test_a_header_with_a_line_break_or_a_bad_name_cannot_split_the_response(answer):
    response = answer(
        {
            "headers": [
                {"key": "X-Note", "value": "fine\r\nSet-Cookie: split=1"},
                {"key": "X-Other", "value": "ok\x07"},
                {"key": "Bad Name", "value": "1"},
                {"key": "X-Kept", "value": "yes"},
            ],
            "content_type": "text/html\r\nSet-Cookie: split=2",
            "body": "hello",
        }
    )
    assert response.status_code == 200 and response.text == "hello"
    assert "Set-Cookie" not in response.headers and "X-Other" not in response.headers
    assert response.headers["X-Kept"] == "yes"
    assert response.headers["Content-Type"] == "text/plain; charset=utf-8"  # the refused type's fallback
    assert response.headers["Content-Security-Policy"] == "sandbox"


@pytest.mark.parametrize(
    ("status", "location", "kept"),
    [
        (302, "https://shop.example.com/thanks", True),
        (303, "/launch/", True),
        (302, "//evil.example/", False),
        (302, "javascript:alert(1)", False),
        (302, "/\\evil.example", False),
        (200, "https://shop.example.com/thanks", False),
    ],
)
def test_a_location_is_kept_only_on_a_redirect_to_a_web_address(answer, status, location, kept):
    response = answer({"status_code": status, "headers": {"Location": location}, "body": ""})
    assert response.status_code == status
    assert (response.headers.get("Location") == location) is kept


def test_an_answer_of_the_flows_outputs_is_sandboxed_too(live_world, live_server, fake_runner):
    live_world.deploy(trigger_node("trigger/webhook", {"responseMode": "lastNode", "timeout": 10000}))
    fake_runner(outputs={"page": "<script>alert(1)</script>"})
    url = f"{live_server.url}/launch/webhook/{live_world.trigger().public_id}"
    response = requests.post(url, json={}, timeout=15)
    assert response.json()["data"] == {"page": "<script>alert(1)</script>"}
    assert response.headers["Content-Security-Policy"] == "sandbox"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_the_triggers_cors_setting_still_answers_a_listed_origin(live_world, live_server, fake_runner):
    live_world.deploy(
        trigger_node(
            "trigger/webhook",
            {"responseMode": "lastNode", "timeout": 10000, "cors_origins": "https://app.example.com"},
        )
    )
    fake_runner(outputs={"__web_response__": {"headers": {"Access-Control-Allow-Origin": "*"}, "body": "x"}})
    url = f"{live_server.url}/launch/webhook/{live_world.trigger().public_id}"
    response = requests.post(url, json={}, headers={"Origin": "https://app.example.com"}, timeout=15)
    assert response.headers["Access-Control-Allow-Origin"] == "https://app.example.com"
