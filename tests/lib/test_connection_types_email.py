"""The smtp and imap connection types: `test()` connects for real, through the egress policy."""

from __future__ import annotations

import pytest

from flomation.lib import connections
from flomation.lib.connections import ConnectionFailed
from flomation.lib.egress import EgressPolicy
from tests.launch.servers import dovecot
from tests.support.mail import PASSWORD, USER, smtp_server
from tests.support.servers import free_port

LOOPBACK = EgressPolicy.build(allow=["127.0.0.0/8"])
smtp = connections.get("smtp")
imap = connections.get("imap")


def test_both_types_are_found_with_their_fields():
    assert {"smtp", "imap"} <= set(connections.types())
    names = [f.name for f in smtp.FIELDS]
    assert names == ["host", "port", "username", "password", "security", "from_address"]
    assert [f.name for f in smtp.FIELDS if f.secret] == ["password"]
    assert [f.name for f in imap.FIELDS if f.secret] == ["password"]


def test_smtp_logs_in_over_starttls_with_a_trusted_certificate(tmp_path, monkeypatch):
    with smtp_server(tmp_path, security="starttls", auth=True) as server:
        monkeypatch.setenv("SSL_CERT_FILE", str(server.certificate))
        fields = {"host": "localhost", "port": server.port, "username": USER, "password": PASSWORD}
        message = smtp.test({**fields, "security": "starttls"}, LOOPBACK, 5)
    assert message == f"connected to localhost:{server.port} (STARTTLS) as {USER}"
    assert server.logins == [USER]


def test_smtp_says_the_password_was_refused_without_repeating_it(tmp_path, monkeypatch):
    with smtp_server(tmp_path, security="starttls", auth=True) as server:
        monkeypatch.setenv("SSL_CERT_FILE", str(server.certificate))
        fields = {"host": "localhost", "port": server.port, "username": USER, "password": "wrong-Pa55"}
        with pytest.raises(ConnectionFailed) as failed:
            smtp.test({**fields, "security": "starttls"}, LOOPBACK, 5)
    assert "authentication failed for user 'mailer'" in str(failed.value)
    assert "wrong-Pa55" not in str(failed.value)


def test_smtp_refuses_a_certificate_nobody_vouches_for(tmp_path):
    with smtp_server(tmp_path, security="tls") as server:
        fields = {"host": "localhost", "port": server.port, "security": "tls"}
        with pytest.raises(ConnectionFailed, match="TLS with localhost:.* failed: CERTIFICATE_VERIFY_FAILED"):
            smtp.test(fields, LOOPBACK, 5)


def test_smtp_over_implicit_tls(tmp_path, monkeypatch):
    with smtp_server(tmp_path, security="tls", auth=True) as server:
        monkeypatch.setenv("SSL_CERT_FILE", str(server.certificate))
        fields = {"host": "localhost", "port": server.port, "security": "tls", "username": USER,
                  "password": PASSWORD}  # fmt: skip
        assert "(TLS) as mailer" in smtp.test(fields, LOOPBACK, 5)


def test_smtp_says_when_nothing_listens():
    port = free_port()
    with pytest.raises(ConnectionFailed, match=f"connection refused by 127.0.0.1:{port}"):
        smtp.test({"host": "127.0.0.1", "port": port, "security": "none"}, LOOPBACK, 5)


def test_smtp_goes_through_the_egress_policy(tmp_path):
    refused = pytest.raises(ConnectionFailed, match="egress refused: 127.0.0.1 is a loopback address")
    with smtp_server(tmp_path) as server, refused:
        smtp.test({"host": "127.0.0.1", "port": server.port, "security": "none"}, EgressPolicy(), 5)


def test_smtp_without_starttls_on_offer_is_refused_rather_than_sent_in_clear(tmp_path):
    with smtp_server(tmp_path) as server, pytest.raises(ConnectionFailed, match="does not offer STARTTLS"):
        smtp.test({"host": "127.0.0.1", "port": server.port, "security": "starttls"}, LOOPBACK, 5)


def test_imap_logs_in_to_dovecot_and_names_a_bad_password():
    with dovecot() as server:
        fields = {"host": "127.0.0.1", "port": server.port, "username": server.user, "security": "none"}
        assert imap.test({**fields, "password": server.password}, LOOPBACK, 5) == (
            f"logged in to 127.0.0.1 as {server.user}"
        )
        with pytest.raises(ConnectionFailed) as failed:
            imap.test({**fields, "password": "not-Her-Pass"}, LOOPBACK, 5)
    assert "authentication failed for user 'alice'" in str(failed.value)
    assert "not-Her-Pass" not in str(failed.value)


def test_imap_says_when_nothing_listens():
    port = free_port()
    with pytest.raises(ConnectionFailed, match="connection refused"):
        imap.test({"host": "127.0.0.1", "port": port, "username": "x", "security": "none"}, LOOPBACK, 5)
