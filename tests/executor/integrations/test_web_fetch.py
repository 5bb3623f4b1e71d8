"""web/fetch against a real HTTP server on 127.0.0.1, and the egress policy on every hop."""

from __future__ import annotations

import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from conftest import chain, node, outputs_of, run

from flomation.executor import ExecutorSettings
from flomation.lib.egress import EgressPolicy

PAGE = b"""<!doctype html><html><head><title>Price list</title><style>body{color:red}</style>
<script>var secret = "not content";</script></head>
<body><h1>Fruit</h1><p>Fresh <b>today</b>, see <a href="/more">more</a>.</p>
<ul><li>Apple</li><li>Pear</li></ul>
<table><tr><th>Name</th><th>Price</th></tr><tr><td>Fig</td><td>4</td></tr></table></body></html>"""
HTML = {"Content-Type": "text/html; charset=utf-8"}


def fetch(url: str, **inputs):
    return node("f", "web/fetch", {"url": url, **inputs})


def test_a_page_becomes_markdown_a_later_node_reads_through_a_template(http_server):
    http_server.routes["/page"] = (200, HTML, PAGE)
    result, _ = run(
        chain(fetch(http_server.url + "/page"), node("o", "output/set", {"name": "t", "value": "${f.title}"}))
    )
    assert result.status == "succeeded", result.error
    out = outputs_of(result, "f")
    assert result.outputs == {"t": "Price list"}
    content = out["content"]
    assert "# Fruit" in content and "Fresh **today**, see [more](/more)." in content
    assert "- Apple\n- Pear" in content and "| Fig | 4 |" in content
    assert "not content" not in content and "color:red" not in content
    assert out["status_code"] == 200 and out["truncated"] is False and out["success"] is True


def test_text_and_html_formats_and_a_plain_text_page(http_server):
    http_server.routes["/page"] = (200, HTML, PAGE)
    http_server.routes["/notes.txt"] = (
        200,
        {"Content-Type": "text/plain; charset=latin-1"},
        "café".encode("latin-1"),
    )
    result, _ = run(chain(fetch(http_server.url + "/page", format="text")))
    text = outputs_of(result, "f")["content"]
    assert "Fruit\nFresh\ntoday" in text and "**" not in text and "not content" not in text
    result, _ = run(chain(fetch(http_server.url + "/page", format="html")))
    assert "<h1>Fruit</h1>" in outputs_of(result, "f")["content"]
    result, _ = run(chain(fetch(http_server.url + "/notes.txt")))
    assert outputs_of(result, "f")["content"] == "café"


def test_a_page_past_the_size_limit_is_cut_and_binary_content_is_refused(http_server):
    http_server.routes["/big"] = (200, HTML, b"<p>" + b"x" * 50000 + b"</p>")
    http_server.routes["/img"] = (200, {"Content-Type": "image/png"}, b"\x89PNG....")
    result, _ = run(chain(fetch(http_server.url + "/big", max_bytes=1000, format="text")))
    out = outputs_of(result, "f")
    assert out["truncated"] is True and len(out["content"].strip()) <= 1000
    result, _ = run(chain(fetch(http_server.url + "/img")))
    assert result.status == "failed" and "image/png, not text" in result.error


def test_an_error_status_is_a_soft_failure_and_an_unreachable_server_is_named(http_server):
    http_server.routes["/private"] = (401, HTML, b"<p>log in first</p>")
    result, _ = run(chain(fetch(http_server.url + "/private")))
    out = outputs_of(result, "f")
    assert (
        out["success"] is False
        and out["status_code"] == 401
        and out["error"] == "the server answered HTTP 401"
    )
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    result, _ = run(chain(fetch(f"http://127.0.0.1:{port}/")))
    assert result.status == "failed" and "could not connect: connection refused" in result.error


def test_a_page_that_keeps_trickling_is_stopped_at_the_time_limit():
    class Slow(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.end_headers()
            try:
                for _ in range(100):
                    self.wfile.write(b"x" * 10)
                    self.wfile.flush()
                    time.sleep(0.2)
            except OSError:
                pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Slow)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    started = time.monotonic()
    result, _ = run(chain(fetch(f"http://127.0.0.1:{server.server_address[1]}/", timeout_seconds=1)))
    assert result.status == "failed" and "timed out" in result.error
    assert time.monotonic() - started < 10  # not the 20 s the page would take
    server.shutdown()
    server.server_close()


def test_metadata_addresses_and_redirects_to_refused_addresses_are_not_fetched(http_server):
    result, _ = run(chain(fetch("http://169.254.169.254/latest/meta-data/")))
    assert (
        result.status == "failed"
        and "egress refused: 169.254.169.254 is a link-local address" in result.error
    )
    # Only 127.0.0.1 is allowed: the test server is reachable, another loopback address is not.
    only_server = ExecutorSettings(log=lambda *a: None, egress=EgressPolicy.build(allow=["127.0.0.1/32"]))
    port = http_server.server_address[1]
    http_server.routes["/to-loopback"] = (302, {"Location": f"http://127.0.0.2:{port}/page"}, b"")
    http_server.routes["/to-metadata"] = (302, {"Location": "http://169.254.169.254/"}, b"")
    http_server.routes["/page"] = (200, HTML, PAGE)
    for path, reason in (("/to-loopback", "127.0.0.2 is a loopback address"), ("/to-metadata", "link-local")):
        result, _ = run(chain(fetch(http_server.url + path)), settings=only_server)
        assert result.status == "failed" and reason in result.error
    assert [r["path"] for r in http_server.requests] == ["/to-loopback", "/to-metadata"]
    strict = ExecutorSettings(log=lambda *a: None)
    result, _ = run(chain(fetch(http_server.url + "/page")), settings=strict)
    assert "egress refused: 127.0.0.1 is a loopback address" in result.error
