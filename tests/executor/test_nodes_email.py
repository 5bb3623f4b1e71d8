"""messaging/email/send and common/smtp against a real SMTP server (aiosmtpd) on loopback."""

from __future__ import annotations

import base64
import json

import pytest

from flomation.executor import ExecutorSettings, StaticSecrets
from flomation.lib.egress import EgressPolicy
from tests.executor.conftest import chain, node, outputs_of, run, run_node
from tests.support.mail import PASSWORD, USER, smtp_server
from tests.support.servers import free_port


def stored(server, **fields):
    return StaticSecrets(
        connections={
            "mail": {"type": "smtp", "fields": {"host": "127.0.0.1", "port": server.port, "security": "none",
                                                "from_address": "robot@example.com", **fields}},
            "db": {"type": "postgresql", "fields": {"host": "127.0.0.1"}},
        }
    )  # fmt: skip


def test_a_stored_connection_sends_text_and_html_with_cc_bcc_and_reply_to(tmp_path):
    inputs = {"connection": "mail", "to": "ada@example.com, Bob <bob@example.com>", "cc": ["cy@example.com"],
              "bcc": "dee@example.com", "reply_to": "help@example.com", "subject": "Report",
              "body": "Plain words", "html": "<p>Rich <b>words</b></p>"}  # fmt: skip
    with smtp_server(tmp_path, auth=True) as server:
        result = run_node(
            "messaging/email/send", inputs, secrets=stored(server, username=USER, password=PASSWORD)
        )
        assert result.status == "succeeded", result.error
    out = outputs_of(result)
    assert out["success"] is True and out["refused"] == {}
    assert out["recipients"] == ["ada@example.com", "bob@example.com", "cy@example.com", "dee@example.com"]
    (message,) = server.messages
    (envelope,) = server.envelopes
    assert envelope.mail_from == "robot@example.com"
    assert envelope.rcpt_tos == out["recipients"]
    assert message["From"] == "robot@example.com" and message["Reply-To"] == "help@example.com"
    assert message["Cc"] == "cy@example.com" and "Bcc" not in message and "dee@" not in str(message)
    assert message["Message-ID"] == out["message_id"]
    assert message.get_body(("plain",)).get_content().strip() == "Plain words"
    assert message.get_body(("html",)).get_content().strip() == "<p>Rich <b>words</b></p>"
    assert server.logins == [USER]


def test_flomations_inline_inputs_with_a_secret_and_an_html_body(tmp_path):
    with smtp_server(tmp_path, auth=True) as server:
        inputs = {"smtp_host": "127.0.0.1", "smtp_port": server.port, "username": USER,
                  "password": "${secrets.SMTP_PASSWORD}", "security": "none", "from": "me@example.com",
                  "to": "you@example.com", "subject": "Hi", "body": "<h1>Hello</h1>",
                  "content_type": "text/html"}  # fmt: skip
        result = run_node("messaging/email/send", inputs, secrets=StaticSecrets({"SMTP_PASSWORD": PASSWORD}))
        assert result.status == "succeeded", result.error
    (message,) = server.messages
    assert message.get_content_type() == "text/html" and "<h1>Hello</h1>" in message.get_content()


def test_attachments_from_the_workspace_and_from_base64(tmp_path):
    settings = ExecutorSettings(log=lambda *a: None, egress=EgressPolicy.build(allow=["127.0.0.0/8"]))
    write = node(
        "w", "script/python", {"code": "open('/work/report.csv','w').write('a,b\\n1,2\\n')\nreturn {}"}
    )
    with smtp_server(tmp_path) as server:
        send = node("n", "common/smtp", {
            "host": "127.0.0.1", "port": server.port, "security": "none", "from": "me@example.com",
            "to": "you@example.com", "subject": "Files", "body": "see attached",
            "attachments": json.dumps(["/work/report.csv", {"filename": "hello.txt",
                                                              "content_base64": base64.b64encode(b"hi").decode()}]),
        })  # fmt: skip
        result, _ = run(chain(write, send), settings=settings)
        assert result.status == "succeeded", result.error
    (message,) = server.messages
    files = {part.get_filename(): part.get_content() for part in message.iter_attachments()}
    assert files == {"report.csv": "a,b\n1,2\n", "hello.txt": "hi"}


@pytest.mark.parametrize(
    "path", ["/etc/passwd", "../../etc/passwd", "/work/../etc/passwd", "/work/missing.txt"]
)
def test_an_attachment_outside_the_workspace_or_missing_is_refused(tmp_path, path):
    with smtp_server(tmp_path) as server:
        inputs = {"host": "127.0.0.1", "port": server.port, "security": "none", "from": "me@example.com",
                  "to": "you@example.com", "attachments": path}  # fmt: skip
        result = run_node("common/smtp", inputs)
    assert result.status == "failed"
    assert "/work" in result.node_results["n"]["error"]
    assert server.messages == []


def test_starttls_and_implicit_tls_check_the_servers_certificate(tmp_path, monkeypatch):
    for security in ("starttls", "tls"):
        with smtp_server(tmp_path, security=security, auth=True) as server:
            inputs = {"host": "localhost", "port": server.port, "security": security, "username": USER,
                      "password": PASSWORD, "from": "me@example.com", "to": "you@example.com"}  # fmt: skip
            untrusted = run_node("common/smtp", inputs)
            assert "CERTIFICATE_VERIFY_FAILED" in untrusted.node_results["n"]["error"]
            monkeypatch.setenv("SSL_CERT_FILE", str(server.certificate))
            trusted = run_node("common/smtp", inputs)
            monkeypatch.delenv("SSL_CERT_FILE")
            assert trusted.status == "succeeded", trusted.error
            assert len(server.messages) == 1 and server.logins == [USER]


def test_use_tls_means_implicit_tls_as_in_flomation(tmp_path, monkeypatch):
    with smtp_server(tmp_path, security="tls") as server:
        monkeypatch.setenv("SSL_CERT_FILE", str(server.certificate))
        inputs = {"smtp_host": "localhost", "smtp_port": server.port, "use_tls": True, "from": "me@example.com",
                  "to": "you@example.com", "subject": "over TLS"}  # fmt: skip
        result = run_node("messaging/email/send", inputs)
        assert result.status == "succeeded", result.error
    assert server.messages[0]["Subject"] == "over TLS"


def test_a_wrong_password_fails_the_node_without_showing_it(tmp_path):
    with smtp_server(tmp_path, auth=True) as server:
        result, recorder = run(
            chain(node("n", "messaging/email/send", {"connection": "mail", "to": "you@example.com"})),
            secrets=stored(server, username=USER, password="Wr0ng-Secret-Value"),
        )
    error = result.node_results["n"]["error"]
    assert result.status == "failed"
    assert "email not sent: authentication failed for user 'mailer'" in error
    assert "Wr0ng-Secret-Value" not in json.dumps(recorder.events) + json.dumps(result.node_results)
    assert server.messages == []


def test_a_password_is_never_sent_in_clear_when_starttls_is_not_offered(tmp_path):
    with smtp_server(tmp_path) as server:
        inputs = {"smtp_host": "127.0.0.1", "smtp_port": server.port, "username": USER, "password": PASSWORD,
                  "from": "me@example.com", "to": "you@example.com"}  # fmt: skip
        result = run_node("messaging/email/send", inputs)
    assert (
        "does not offer STARTTLS: the password is not sent unencrypted" in result.node_results["n"]["error"]
    )


def test_an_unreachable_server_and_a_refused_address_say_what_failed(tmp_path):
    port = free_port()
    inputs = {
        "host": "127.0.0.1",
        "port": port,
        "security": "none",
        "from": "me@example.com",
        "to": "a@b.example",
    }
    result = run_node("common/smtp", inputs)
    assert f"email not sent: connection refused by 127.0.0.1:{port}" in result.node_results["n"]["error"]
    strict = ExecutorSettings(log=lambda *a: None, egress=EgressPolicy())
    refused = run_node("common/smtp", inputs, settings=strict)
    assert "egress refused: 127.0.0.1 is a loopback address" in refused.node_results["n"]["error"]


def test_a_connection_of_another_type_or_name_is_refused(tmp_path):
    with smtp_server(tmp_path) as server:
        for name, expected in [("db", "is a postgresql connection, this node needs smtp"),
                               ("nope", "connection 'nope' does not exist in this environment")]:  # fmt: skip
            result = run_node(
                "common/smtp", {"connection": name, "to": "a@b.example"}, secrets=stored(server)
            )
            assert expected in result.node_results["n"]["error"]


def test_a_later_node_reads_the_send_result(tmp_path):
    with smtp_server(tmp_path) as server:
        send = node("mail", "common/smtp", {"connection": "mail", "to": "a@example.com, b@example.com"})
        report = node(
            "o", "output/set", {"name": "sent", "value": "${mail.tool_result} as ${mail.message_id}"}
        )
        result, _ = run(chain(send, report), secrets=stored(server))
        assert result.status == "succeeded", result.error
    assert result.outputs["sent"] == f"sent to 2 recipient(s) as {server.messages[0]['Message-ID']}"
