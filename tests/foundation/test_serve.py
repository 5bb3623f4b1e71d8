"""`manage.py serve` runs exactly the chosen roles, answers health checks, and stops cleanly within 5 s."""

from __future__ import annotations

import signal

import pytest
import requests

from tests.support.servers import serve

pytestmark = pytest.mark.django_db(transaction=True)


def test_serve_api_answers_the_api_and_not_launch(tmp_path):
    with serve("api", tmp_path=tmp_path) as server:
        assert requests.get(server.url + "/api/v1/").status_code != 404
        assert requests.get(server.url + "/launch/").status_code == 404
        assert requests.get(server.url + "/identity/authenticate").status_code == 404
        assert requests.get(server.url + "/healthz").json() == {"status": "ok"}
        assert requests.get(server.url + "/readyz").json()["status"] == "ok"
        assert requests.get(server.url + "/version").json()["roles"] == ["api"]


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_every_role_in_one_process_stops_within_five_seconds(tmp_path, sig):
    with serve("all", tmp_path=tmp_path) as server:
        elapsed = server.stop(sig)
        assert server.process.returncode is not None
        assert elapsed < 5, f"took {elapsed:.1f} s to stop:\n{server.log()}"
