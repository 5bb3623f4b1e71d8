"""Scripts and the network: none by default; with FLOMATION_SCRIPT_NETWORK=egress, only through the run's
egress proxy, which applies the same policy as every node's connection.

The servers are real (HTTP on the host's loopback); the scripts run in their kernel sandbox, whose own
loopback is not the host's, so the only way a script reaches the host's server is the proxy.
"""

from __future__ import annotations

import logging

from conftest import LOOPBACK_ALLOWED, chain, node, outputs_of, run

from flomation.executor import ExecutorSettings
from flomation.lib.egress import EgressPolicy, Endpoint

QUIET = {"log": lambda *a: None}
NETWORK = ExecutorSettings(**QUIET, egress=LOOPBACK_ALLOWED, script_network="egress")
STRICT = ExecutorSettings(**QUIET, egress=EgressPolicy(), script_network="egress")

_FETCH = """
import http.client, os, socket, urllib.error, urllib.request
port = inputs["port"]
seen = {"proxy": os.environ.get("HTTPS_PROXY")}
try:
    with urllib.request.urlopen(f"http://{inputs['host']}:{port}/hello", timeout=10) as answer:
        seen["http"] = answer.read().decode()
except urllib.error.HTTPError as error:
    seen["http"] = f"{error.code} {error.read().decode().strip()}"
except OSError as error:
    seen["http"] = type(error).__name__
tunnel = http.client.HTTPConnection("127.0.0.1", 3128, timeout=10)
tunnel.set_tunnel(inputs["host"], port)
try:
    tunnel.request("GET", "/hello")
    seen["connect"] = tunnel.getresponse().read().decode()
except OSError as error:
    seen["connect"] = str(error)
try:
    socket.create_connection((inputs["host"], port), timeout=3).close()
    seen["direct"] = "connected"
except OSError as error:
    seen["direct"] = type(error).__name__
return seen
"""


def _fetch(settings, host, port):
    flow = chain(node("n", "script/python", {"code": _FETCH, "inputs_data": {"host": host, "port": port}}))
    result, _ = run(flow, settings=settings)
    return result, outputs_of(result)


def test_without_network_a_script_reaches_nothing(http_server):
    http_server.routes["/hello"] = (200, {}, b"hi from the host")
    settings = ExecutorSettings(**QUIET, egress=LOOPBACK_ALLOWED)  # the policy allows loopback; scripts: none
    result, outputs = _fetch(settings, "127.0.0.1", http_server.server_address[1])
    seen = outputs["result"]
    assert result.status == "succeeded", result.error
    assert seen["proxy"] is None
    assert seen["http"] == "URLError" and seen["direct"] == "ConnectionRefusedError"
    assert http_server.requests == []


def test_with_network_a_script_reaches_an_allowed_server_only_through_the_proxy(http_server):
    http_server.routes["/hello"] = (200, {}, b"hi from the host")
    result, outputs = _fetch(NETWORK, "127.0.0.1", http_server.server_address[1])
    seen = outputs["result"]
    assert result.status == "succeeded", result.error
    assert seen["proxy"] == "http://127.0.0.1:3128"
    assert seen["http"] == "hi from the host"  # a plain http:// request, proxied
    assert seen["connect"] == "hi from the host"  # a CONNECT tunnel (what HTTPS clients use)
    # A socket that ignores the proxy still lands on the sandbox's own loopback, not the host's.
    assert seen["direct"] == "ConnectionRefusedError"
    assert [r["path"] for r in http_server.requests] == ["/hello", "/hello"]


def test_the_proxy_refuses_what_the_egress_policy_refuses_and_logs_it(http_server, caplog):
    http_server.routes["/hello"] = (200, {}, b"hi from the host")
    caplog.set_level(logging.WARNING, logger="flomation.egress")
    result, outputs = _fetch(STRICT, "127.0.0.1", http_server.server_address[1])
    seen = outputs["result"]
    assert result.status == "succeeded", result.error
    assert seen["http"].startswith("403 egress refused: 127.0.0.1 is a loopback address")
    assert "403" in seen["connect"]
    assert http_server.requests == []
    assert "127.0.0.1 is a loopback address" in caplog.text and "node n" in caplog.text


def test_cloud_metadata_and_the_platforms_database_stay_refused_with_network_on():
    platform = (Endpoint("127.0.0.1", 5432, "the platform's database"),)
    policy = EgressPolicy.build(allow=["127.0.0.0/8"], platform=platform)
    settings = ExecutorSettings(**QUIET, egress=policy, script_network="egress")
    result, metadata = _fetch(settings, "169.254.169.254", 80)
    assert result.status == "succeeded", result.error
    assert metadata["result"]["http"].startswith(
        "403 egress refused: 169.254.169.254 is a link-local address"
    )
    _, database = _fetch(settings, "127.0.0.1", 5432)
    assert "403" in database["result"]["connect"]
    assert "the platform's database" in database["result"]["http"]


def test_bash_scripts_use_the_proxy_too(http_server):
    http_server.routes["/hello"] = (200, {}, b"hi from the host")
    port = http_server.server_address[1]
    flow = chain(
        node("n", "script/bash", {"script": f"curl -sS --max-time 10 http://127.0.0.1:{port}/hello"}),
        node(
            "m",
            "script/bash",
            {"script": "curl -sS --max-time 10 -o /dev/null -w '%{http_code}' http://169.254.169.254/"},
        ),
    )
    result, _ = run(flow, settings=NETWORK)
    assert result.status == "succeeded", result.error
    assert outputs_of(result, "n")["stdout"] == "hi from the host"
    assert outputs_of(result, "m")["stdout"] == "403"
