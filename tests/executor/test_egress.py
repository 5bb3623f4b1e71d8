"""The egress policy in the executor: web/request cannot reach loopback, link-local (cloud metadata) or
private addresses unless allowed, not through a redirect and not through a name that resolves (or
re-resolves) to one. Real HTTP servers on loopback: 127.0.0.1 plays the internal service, 127.0.0.2 an
outside server an operator allowed."""

from __future__ import annotations

import ipaddress
import logging
import threading
from http.server import ThreadingHTTPServer

import pytest
from conftest import _Handler, chain, node, outputs_of, run, run_node

from flomation.executor import ExecutorSettings
from flomation.lib.egress import (
    EgressDenied,
    EgressPolicy,
    Endpoint,
    address_refusal,
    git_url_checked,
    mysql_params_checked,
)


def settings_with(policy: EgressPolicy) -> ExecutorSettings:
    return ExecutorSettings(log=lambda level, message, fields: None, egress=policy)


STRICT = settings_with(EgressPolicy())
OUTSIDE_ALLOWED = EgressPolicy.build(allow=["127.0.0.2/32"])


@pytest.fixture
def outside_server():
    """An allowed server on 127.0.0.2 (stands for a public server); routes as in `http_server`."""
    server = ThreadingHTTPServer(("127.0.0.2", 0), _Handler)
    server.routes, server.requests = {}, []
    server.url = f"http://127.0.0.2:{server.server_address[1]}"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


def test_a_request_to_a_loopback_service_is_refused_and_never_sent(http_server, caplog):
    http_server.routes["/readyz"] = (200, {}, {"ready": True})
    with caplog.at_level(logging.WARNING, logger="flomation.egress"):
        result = run_node(
            "web/request",
            {"method": "GET", "url": http_server.url + "/readyz"},
            settings=STRICT,
            context={"organisation_id": "org-7", "execution_id": "x-1"},
        )
    assert result.status == "failed"
    assert "egress refused: 127.0.0.1 is a loopback address" in result.error
    assert http_server.requests == []
    (record,) = [r for r in caplog.records if r.name == "flomation.egress"]
    assert "organisation org-7" in record.getMessage() and "node n" in record.getMessage()


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://169.254.169.254/latest/meta-data/", "link-local"),
        ("http://[::1]:9/", "loopback"),
        ("http://[::ffff:127.0.0.1]:9/", "loopback"),
        ("http://10.1.2.3/", "private"),
        ("http://192.168.0.1/", "private"),
        ("http://172.20.0.1/", "private"),
        ("http://100.64.0.1/", "carrier-grade NAT"),
        ("http://0.0.0.0:9/", "unspecified"),
        ("http://2130706433:9/", "loopback"),  # 127.0.0.1 written as one number
        ("http://[fd00::1]/", "private"),
        ("http://[fe80::1]/", "link-local"),
    ],
)
def test_internal_addresses_are_refused_by_default(url, reason):
    result = run_node("web/request", {"method": "GET", "url": url, "timeout_seconds": 2}, settings=STRICT)
    assert result.status == "failed" and "egress refused" in result.error and reason in result.error


def test_a_redirect_from_an_allowed_server_to_loopback_is_refused(outside_server, http_server):
    http_server.routes["/admin"] = (200, {}, {"secret": "internal"})
    outside_server.routes["/go"] = (302, {"Location": http_server.url + "/admin"}, b"")
    result = run_node(
        "web/request",
        {"method": "GET", "url": outside_server.url + "/go"},
        settings=settings_with(OUTSIDE_ALLOWED),
    )
    assert result.status == "failed" and "127.0.0.1 is a loopback address" in result.error
    assert [r["path"] for r in outside_server.requests] == ["/go"]
    assert http_server.requests == []


def test_a_redirect_to_the_cloud_metadata_address_is_refused(outside_server):
    outside_server.routes["/go"] = (307, {"Location": "http://169.254.169.254/latest/meta-data/iam/"}, b"")
    result = run_node(
        "web/request",
        {"method": "GET", "url": outside_server.url + "/go"},
        settings=settings_with(OUTSIDE_ALLOWED),
    )
    assert result.status == "failed" and "169.254.169.254 is a link-local address" in result.error


def test_redirects_within_allowed_servers_are_followed(outside_server):
    outside_server.routes["/old"] = (301, {"Location": "/new"}, b"")
    outside_server.routes["/new"] = (200, {}, {"moved": True})
    result = run_node(
        "web/request",
        {"method": "GET", "url": outside_server.url + "/old"},
        settings=settings_with(OUTSIDE_ALLOWED),
    )
    out = outputs_of(result)
    assert out["status_code"] == 200 and out["response_json"] == {"moved": True}
    assert out["url"] == outside_server.url + "/new"


def test_a_name_that_resolves_to_loopback_is_refused(http_server):
    http_server.routes["/"] = (200, {}, {})
    port = http_server.url.rsplit(":", 1)[1]
    result = run_node("web/request", {"method": "GET", "url": f"http://localhost:{port}/"}, settings=STRICT)
    assert "localhost (127.0.0.1) is a loopback address" in result.error
    assert http_server.requests == []


def test_a_name_is_refused_when_any_of_its_addresses_is_internal():
    policy = EgressPolicy(resolver=lambda host, port: ["93.184.215.14", "127.0.0.1"])
    with pytest.raises(EgressDenied, match=r"both\.example \(127\.0\.0\.1\) is a loopback address"):
        policy.check_host("both.example", 443)


def test_the_connection_goes_to_the_checked_address_whatever_the_name_resolves_to_later(
    outside_server, http_server
):
    """DNS rebinding: the name answers an allowed address at every check; nothing ever connects by name
    (it exists in no DNS), so a second answer pointing inside could never be used."""
    outside_server.routes["/"] = (200, {}, {"where": "outside"})
    answers: list[str] = []

    def rebinding(host: str, port: int) -> list[str]:
        answers.append(host)
        return ["127.0.0.2"] if len(answers) % 2 else ["127.0.0.1"]

    policy = EgressPolicy(allow=OUTSIDE_ALLOWED.allow, resolver=rebinding)
    port = outside_server.url.rsplit(":", 1)[1]
    result = run_node(
        "web/request", {"method": "GET", "url": f"http://rebind.test:{port}/"}, settings=settings_with(policy)
    )
    # The check before sending saw 127.0.0.2; the connection's own check saw the rebound 127.0.0.1 and
    # refused it: the name is checked again where the connection is made, and nothing reached loopback.
    assert "rebind.test (127.0.0.1) is a loopback address" in result.error
    assert http_server.requests == [] and outside_server.requests == []
    steady = EgressPolicy(allow=OUTSIDE_ALLOWED.allow, resolver=lambda host, port: ["127.0.0.2"])
    result = run_node(
        "web/request", {"method": "GET", "url": f"http://rebind.test:{port}/"}, settings=settings_with(steady)
    )
    assert outputs_of(result)["response_json"] == {"where": "outside"}
    assert outside_server.requests[-1]["headers"]["Host"] == f"rebind.test:{port}"


def test_an_allowed_range_is_reached_and_the_platforms_api_stays_refused(http_server):
    http_server.routes["/ok"] = (200, {}, {"ok": True})
    port = int(http_server.url.rsplit(":", 1)[1])
    allowed = EgressPolicy.build(allow=["127.0.0.0/8"])
    assert outputs_of(
        run_node("web/request", {"url": http_server.url + "/ok"}, settings=settings_with(allowed))
    )["success"]
    platform = EgressPolicy.build(
        allow=["127.0.0.0/8"], platform=[Endpoint("127.0.0.1", port, "the platform's own API")]
    )
    result = run_node("web/request", {"url": http_server.url + "/ok"}, settings=settings_with(platform))
    assert "is the platform's own API" in result.error and len(http_server.requests) == 1


def test_the_flow_goes_on_to_report_the_refusal_like_any_failed_request(http_server):
    f = chain(
        node("fetch", "web/request", {"url": http_server.url}),
        node("o", "output/set", {"name": "a", "value": 1}),
    )
    result, _ = run(f, settings=STRICT)
    assert result.node_results["fetch"]["status"] == "failed" and http_server.requests == []


@pytest.mark.parametrize(
    "address",
    ["127.0.0.1", "::1", "169.254.169.254", "10.0.0.1", "172.31.255.255", "192.168.1.1", "100.100.0.1",
     "0.0.0.0", "::", "224.0.0.251", "fe80::1", "fd12::1", "::ffff:10.0.0.1", "64:ff9b::a9fe:a9fe",
     "2002:7f00:1::1", "::127.0.0.1"],
)  # fmt: skip
def test_every_internal_form_of_an_address_is_refused(address):
    assert address_refusal(ipaddress.ip_address(address)) is not None


@pytest.mark.parametrize("address", ["93.184.215.14", "1.1.1.1", "2606:4700:4700::1111"])
def test_public_addresses_pass(address):
    assert address_refusal(ipaddress.ip_address(address)) is None
    assert EgressPolicy().check_host(address, 443) == [address]


def test_an_ipv4_range_allows_its_ipv6_mapped_form_too():
    policy = EgressPolicy.build(allow=["10.20.0.0/16"])
    assert policy.check_host("::ffff:10.20.1.1", 80) == ["::ffff:a14:101"]
    with pytest.raises(EgressDenied):
        policy.check_host("10.21.0.1", 80)


@pytest.mark.parametrize("url", ["file:///etc", "/srv/repo.git", "./repo", "C:/repo", "repo"])
def test_local_repositories_are_refused_unless_allowed(url):
    with pytest.raises(EgressDenied, match="a local repository on this machine"):
        git_url_checked(url, EgressPolicy())
    git_url_checked(url, EgressPolicy(allow_local=True))


@pytest.mark.parametrize("url", ["ext::sh -c id", "fd::17", "testgit://x/y"])
def test_git_helpers_and_unknown_transports_are_always_refused(url):
    with pytest.raises(EgressDenied):
        git_url_checked(url, EgressPolicy(allow_local=True))


@pytest.mark.parametrize(
    "url",
    ["ftp://169.254.169.254/repo.git", "https://127.0.0.1/r.git", "git@10.0.0.1:r.git", "git://[::1]/r"],
)
def test_git_network_urls_have_their_host_checked(url):
    with pytest.raises(EgressDenied, match="address"):
        git_url_checked(url, EgressPolicy(allow_local=True))


def test_mysql_sockets_and_localhost_are_refused_and_hosts_pinned():
    strict = EgressPolicy()
    for params in (
        {"unix_socket": "/run/mysqld/mysqld.sock"},
        {"host": "localhost"},
        {"host": "/tmp/m.sock"},
    ):
        with pytest.raises(EgressDenied, match="unix socket"):
            mysql_params_checked(params, strict)
    with pytest.raises(EgressDenied, match="loopback"):
        mysql_params_checked({"host": "127.0.0.1", "port": 3306}, strict)
    allowed = EgressPolicy.build(allow=["127.0.0.0/8"])
    assert mysql_params_checked({"host": "127.0.0.1", "user": "u"}, allowed) == {
        "host": "127.0.0.1",
        "port": 3306,
        "user": "u",
    }


def test_the_policy_survives_the_trip_to_the_runner_and_back():
    policy = EgressPolicy.build(
        allow="10.0.0.0/8, fd00::/8",
        allow_local=True,
        platform=[Endpoint("db.internal", 5432, "the database")],
    )
    assert EgressPolicy.from_dict(policy.to_dict()) == policy
    assert EgressPolicy.from_dict(None) == EgressPolicy() == EgressPolicy.from_dict({})
    with pytest.raises(ValueError, match="'10.0.0.300/8' is not an address range"):
        EgressPolicy.build(allow=["10.0.0.300/8"])
