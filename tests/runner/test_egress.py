"""The egress policy on real runners: flows on the platform's shared queue run under the platform's and
their organisation's policy (sent with each claim); a dedicated runner applies its own configuration's.
Real runner processes, the live API, and a recording HTTP server on loopback standing for an internal
service."""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from flomation.core.models import Execution, ExecutionStep, Organisation
from flomation.core.services.queues import queue_registration_code, queue_shared
from tests.runner import factories as f
from tests.runner.conftest import wait_until

pytestmark = pytest.mark.django_db(transaction=True)

DONE = ("succeeded", "failed")


class _Recording(BaseHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        pass

    def do_GET(self) -> None:  # noqa: N802 - the base class's name
        self.server.paths.append(self.path)  # type: ignore[attr-defined]
        body = b'{"internal": true}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def internal_service() -> Iterator[ThreadingHTTPServer]:
    """An HTTP service on 127.0.0.1 that records the paths it was asked for."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Recording)
    server.paths = []  # type: ignore[attr-defined]
    server.url = f"http://127.0.0.1:{server.server_address[1]}"  # type: ignore[attr-defined]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


def web_flow(url: str) -> dict[str, Any]:
    return f.chain(
        f.node("t1", "trigger/manual", 1),
        f.node("w1", "web/request", 2, [{"name": "url", "type": "string", "value": url}]),
        f.node(
            "o1",
            "output/set",
            3,
            [
                {"name": "name", "type": "string", "value": "status"},
                {"name": "value", "value": "${w1.status_code}"},
            ],
        ),
    )


def finished(execution: Execution) -> Execution:
    wait_until(lambda: Execution.objects.filter(id=execution.id, state__in=DONE).exists(), timeout=60)
    return Execution.objects.get(id=execution.id)


def request_error(execution: Execution) -> str:
    step = ExecutionStep.objects.filter(execution_id=execution.id, node_id="w1").order_by("-sequence").first()
    assert step is not None, "the web/request step was never reported"
    return step.error


@pytest.mark.parametrize("isolated", [False, True], ids=["warm", "subprocess"])
def test_shared_runners_apply_the_platform_and_organisation_policy(
    start_runner, live_api, internal_service, settings, isolated
):
    settings.API_URL = live_api  # the platform's API, as a one-box install has it
    allowed = f.make_organisation()
    Organisation.objects.filter(id=allowed.id).update(egress_allow=["127.0.0.0/8"])
    other = f.make_organisation()
    env = {"FLOMATION_RUNNER_EXECUTABLE_NAME": f"{sys.executable} -m flomation.executor"} if isolated else {}
    # The runner's own configuration allows everything: work from the shared queue ignores it.
    start_runner(
        queue_registration_code(queue=queue_shared()), FLOMATION_RUNNER_EGRESS_ALLOW="0.0.0.0/0,::/0", **env
    )

    reaches = f.run(f.make_workflow(allowed, web_flow(internal_service.url + "/allowed")))
    refused = f.run(f.make_workflow(other, web_flow(internal_service.url + "/other")))
    readyz_other = f.run(f.make_workflow(other, web_flow(live_api + "/readyz")))
    readyz_allowed = f.run(f.make_workflow(allowed, web_flow(live_api + "/readyz")))

    assert finished(reaches).outputs == {"status": 200}
    assert finished(refused).state == "failed"
    assert "egress refused: 127.0.0.1 is a loopback address" in request_error(refused)
    finished(readyz_other), finished(readyz_allowed)
    assert request_error(readyz_other).startswith("egress refused: localhost (127.0.0.1)")
    # Inside the organisation's allowed range the platform's own API stays refused.
    assert "is the platform's own API" in request_error(readyz_allowed)
    assert internal_service.paths == ["/allowed"]


def test_a_dedicated_runner_applies_its_own_configuration(start_runner, live_api, internal_service):
    organisation = f.make_organisation()
    Organisation.objects.filter(id=organisation.id).update(egress_allow=["127.0.0.0/8"])
    open_queue, open_code = f.make_queue(organisation)
    strict_queue, strict_code = f.make_queue(organisation)
    start_runner(open_code, name="on-premises", FLOMATION_RUNNER_EGRESS_ALLOW="127.0.0.0/8")
    start_runner(strict_code, name="default")

    reaches = f.run(f.make_workflow(organisation, web_flow(internal_service.url + "/open"), queue=open_queue))
    refused = f.run(
        f.make_workflow(organisation, web_flow(internal_service.url + "/strict"), queue=strict_queue)
    )

    assert finished(reaches).outputs == {"status": 200}
    # No egress section: the strict default, whatever the platform allows the organisation.
    assert "egress refused: 127.0.0.1 is a loopback address" in request_error(finished(refused))
    assert internal_service.paths == ["/open"]
