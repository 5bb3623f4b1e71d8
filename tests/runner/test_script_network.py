"""Script network through the real runner: with FLOMATION_SCRIPT_NETWORK=egress, a script reaches what its
organisation's egress policy allows (over real HTTP, through the run's proxy) and nothing else: not another
organisation's allowance, not the platform's own API."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from flomation.core.models import Execution
from flomation.core.services.queues import queue_registration_code, queue_shared
from tests.runner import factories as f
from tests.runner.conftest import wait_until
from tests.runner.test_script_isolation import script_flow

pytestmark = pytest.mark.django_db(transaction=True)

FETCH = """
import http.client, urllib.error, urllib.request
seen = {}
try:
    with urllib.request.urlopen(inputs["url"], timeout=10) as answer:
        seen["service"] = answer.read().decode()
except urllib.error.HTTPError as error:
    seen["service"] = f"{error.code} {error.read().decode().strip()}"
try:
    with urllib.request.urlopen(inputs["api"], timeout=10) as answer:
        seen["api"] = answer.status
except urllib.error.HTTPError as error:
    seen["api"] = f"{error.code} {error.read().decode().strip()}"
return seen
"""


class _Hello(BaseHTTPRequestHandler):
    hits: list[str] = []

    def log_message(self, *args) -> None:
        pass

    def do_GET(self) -> None:  # noqa: N802 - the base class's name
        self.hits.append(self.path)
        body = b"an internal service"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def internal_service():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Hello)
    _Hello.hits = []
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/status"
    server.shutdown()
    server.server_close()


def test_a_script_reaches_only_what_its_organisations_egress_policy_allows(
    start_runner, live_api, internal_service, settings
):
    settings.API_URL = live_api  # the platform's API is where the runner talks to it
    start_runner(queue_registration_code(queue=queue_shared()), slots=2, FLOMATION_SCRIPT_NETWORK="egress")
    allowed = f.make_organisation()
    allowed.egress_allow = ["127.0.0.0/8"]
    allowed.save(update_fields=["egress_allow"])
    flow = script_flow(FETCH, "${t1}")
    runs = [
        f.run(f.make_workflow(allowed, flow), {"url": internal_service, "api": f"{live_api}/healthz"}),
        f.run(
            f.make_workflow(f.make_organisation(), flow),
            {"url": internal_service, "api": f"{live_api}/healthz"},
        ),
    ]
    wait_until(
        lambda: (
            Execution.objects.filter(id__in=[r.id for r in runs], state__in=("succeeded", "failed")).count()
            == 2
        ),
        timeout=60,
    )
    first, second = (Execution.objects.get(id=r.id) for r in runs)
    assert first.state == "succeeded", first.error
    assert first.outputs["outcome"]["service"] == "an internal service"
    assert first.outputs["outcome"]["api"].startswith("403 egress refused:")
    assert "the platform's own API" in first.outputs["outcome"]["api"]
    assert second.state == "succeeded", second.error
    assert second.outputs["outcome"]["service"].startswith(
        "403 egress refused: 127.0.0.1 is a loopback address"
    )
    assert second.outputs["outcome"]["api"].startswith("403 egress refused:")
    assert _Hello.hits == ["/status"]  # only the allowed organisation's request arrived
