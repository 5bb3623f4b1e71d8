"""Forms, QR codes and their scans, tracking pixels and manual runs, over real HTTP."""

from __future__ import annotations

import re

import pytest
import requests

from flomation.launch.models import Invocation
from flomation.launch.selectors import trigger_run_token
from flomation.launch.services.sync import trigger_set_enabled
from tests.launch.conftest import trigger_node

FIELDS = [
    {"name": "name", "label": "Your name", "required": True},
    {"name": "email", "type": "email", "required": True},
    {"name": "size", "type": "select", "options": "S,M,L"},
]


@pytest.fixture
def deployed(live_world, live_server):
    def make(action: str, **inputs: object) -> tuple[str, str]:
        live_world.deploy(trigger_node(action, inputs))
        return live_server.url, live_world.trigger().public_id

    return make


def form_token(html: str) -> str:
    return re.search(r'name="_token" value="([^"]+)"', html).group(1)


class TestForm:
    def test_it_serves_an_html_form_built_from_the_fields(self, deployed):
        base, public_id = deployed("trigger/form", fields=FIELDS, title="T-shirt order")
        page = requests.get(f"{base}/launch/form/{public_id}", timeout=10)
        assert page.status_code == 200 and "T-shirt order" in page.text
        assert (
            'name="email"' in page.text and 'type="email"' in page.text and "<option>M</option>" in page.text
        )

    def test_a_posted_form_starts_a_run_and_shows_the_thank_you_page(self, deployed, live_world):
        base, public_id = deployed("trigger/form", fields=FIELDS, thank_you_message="Order received!")
        session = requests.Session()
        token = form_token(session.get(f"{base}/launch/form/{public_id}", timeout=10).text)
        response = session.post(
            f"{base}/launch/form/{public_id}",
            data={"_token": token, "name": "Ada", "email": "ada@example.com", "size": "M"},
            timeout=10,
        )
        assert response.status_code == 200 and "Order received!" in response.text
        (execution,) = live_world.executions()
        assert execution.trigger_data["fields"] == {"name": "Ada", "email": "ada@example.com", "size": "M"}
        assert execution.trigger_data["name"] == "Ada"

    def test_sending_the_same_rendered_form_twice_starts_one_run(self, deployed, live_world):
        base, public_id = deployed("trigger/form", fields=FIELDS)
        token = form_token(requests.get(f"{base}/launch/form/{public_id}", timeout=10).text)
        data = {"_token": token, "name": "Ada", "email": "ada@example.com"}
        for _ in range(2):
            assert requests.post(f"{base}/launch/form/{public_id}", data=data, timeout=10).status_code == 200
        assert len(live_world.executions()) == 1

    def test_a_form_post_without_a_valid_token_is_refused(self, deployed, live_world):
        base, public_id = deployed("trigger/form", fields=FIELDS)
        response = requests.post(
            f"{base}/launch/form/{public_id}",
            data={"_token": "forged", "name": "A", "email": "a@b.co"},
            timeout=10,
        )
        assert response.status_code == 400 and "expired" in response.text
        assert live_world.executions() == []

    def test_missing_required_fields_show_the_form_again_with_errors(self, deployed, live_world):
        base, public_id = deployed("trigger/form", fields=FIELDS)
        token = form_token(requests.get(f"{base}/launch/form/{public_id}", timeout=10).text)
        response = requests.post(
            f"{base}/launch/form/{public_id}",
            data={"_token": token, "name": "Ada", "email": "not-an-email"},
            timeout=10,
        )
        assert (
            response.status_code == 400
            and "must be an email address" in response.text
            and 'value="Ada"' in response.text
        )
        assert live_world.executions() == []

    def test_a_filled_honeypot_looks_accepted_but_starts_nothing(self, deployed, live_world):
        base, public_id = deployed("trigger/form", fields=FIELDS)
        token = form_token(requests.get(f"{base}/launch/form/{public_id}", timeout=10).text)
        response = requests.post(
            f"{base}/launch/form/{public_id}",
            data={"_token": token, "name": "Bot", "email": "b@b.co", "website": "spam"},
            timeout=10,
        )
        assert response.status_code == 200 and live_world.executions() == []

    def test_a_json_post_is_accepted_without_a_token(self, deployed, live_world):
        base, public_id = deployed("trigger/form", fields=FIELDS)
        response = requests.post(
            f"{base}/launch/form/{public_id}", json={"name": "Ada", "email": "ada@example.com"}, timeout=10
        )
        assert response.status_code == 202 and response.json()["execution_id"] == str(
            live_world.executions()[0].id
        )
        bad = requests.post(f"{base}/launch/form/{public_id}", json={"name": "Ada"}, timeout=10)
        assert bad.status_code == 400 and "email" in bad.json()["fields"]

    def test_it_redirects_after_a_post_when_configured(self, deployed):
        base, public_id = deployed(
            "trigger/form", fields="message*", redirect_url="https://example.com/thanks"
        )
        token = form_token(requests.get(f"{base}/launch/form/{public_id}", timeout=10).text)
        response = requests.post(
            f"{base}/launch/form/{public_id}",
            data={"_token": token, "message": "hi"},
            allow_redirects=False,
            timeout=10,
        )
        assert response.status_code == 303 and response.headers["Location"] == "https://example.com/thanks"


class TestQrCodes:
    def test_it_draws_the_scan_url_as_png_and_svg(self, deployed):
        base, public_id = deployed("trigger/qr", message="Welcome to the stand")
        png = requests.get(f"{base}/launch/qr/{public_id}.png", timeout=10)
        assert (
            png.status_code == 200
            and png.headers["Content-Type"] == "image/png"
            and png.content[:8] == b"\x89PNG\r\n\x1a\n"
        )
        assert png.headers["X-Scan-URL"].endswith(f"/launch/scan/{public_id}")
        svg = requests.get(f"{base}/launch/qr/{public_id}?format=svg", timeout=10)
        assert svg.headers["Content-Type"] == "image/svg+xml" and b"<svg" in svg.content

    def test_scanning_fires_the_flow_and_shows_a_page(self, deployed, live_world):
        base, public_id = deployed("trigger/qr", message="Welcome to the stand")
        page = requests.get(
            f"{base}/launch/scan/{public_id}?table=4", headers={"User-Agent": "phone"}, timeout=10
        )
        assert page.status_code == 200 and "Welcome to the stand" in page.text
        (execution,) = live_world.executions()
        assert (
            execution.trigger_data["query"] == {"table": "4"}
            and execution.trigger_data["user_agent"] == "phone"
        )

    def test_a_paused_code_shows_a_page_and_fires_nothing(self, deployed, live_world):
        base, public_id = deployed("trigger/qr")
        trigger_set_enabled(trigger=live_world.trigger(), enabled=False)
        page = requests.get(f"{base}/launch/scan/{public_id}", timeout=10)
        assert page.status_code == 503 and "not active" in page.text and live_world.executions() == []


class TestPixel:
    def test_the_pixel_is_a_one_by_one_gif_that_fires_with_request_metadata(self, deployed, live_world):
        base, public_id = deployed("trigger/image")
        response = requests.get(
            f"{base}/launch/image/{public_id}.gif?campaign=spring",
            headers={"Referer": "https://mail.example"},
            timeout=10,
        )
        assert response.status_code == 200 and response.content.startswith(b"GIF89a")
        assert "no-store" in response.headers["Cache-Control"]
        (execution,) = live_world.executions()
        assert execution.trigger_data["referer"] == "https://mail.example"
        assert (
            execution.trigger_data["query"] == {"campaign": "spring"}
            and execution.trigger_data["ip"] == "127.0.0.1"
        )
        assert Invocation.objects.get().execution_id == execution.id

    def test_a_png_pixel_is_served_too(self, deployed):
        base, public_id = deployed("trigger/image")
        assert requests.get(f"{base}/launch/image/{public_id}.png", timeout=10).content[:4] == b"\x89PNG"


class TestManualRun:
    def test_a_run_with_the_run_token_starts_the_workflow_with_the_posted_inputs(self, deployed, live_world):
        base, public_id = deployed("trigger/manual")
        token = trigger_run_token(trigger=live_world.trigger())
        response = requests.post(
            f"{base}/launch/run/{public_id}",
            json={"customer": "c-1"},
            headers={"Authorization": f"Bearer {token}"},
            timeout=10,
        )
        assert response.status_code == 202
        (execution,) = live_world.executions()
        assert execution.trigger_type == "manual" and execution.trigger_data["customer"] == "c-1"

    def test_a_run_without_the_right_token_is_refused(self, deployed, live_world):
        base, public_id = deployed("trigger/manual")
        assert (
            requests.post(
                f"{base}/launch/run/{public_id}", json={}, headers={"X-Run-Token": "frt_wrong"}, timeout=10
            ).status_code
            == 401
        )
        assert requests.post(f"{base}/launch/run/{public_id}", json={}, timeout=10).status_code == 401
        assert live_world.executions() == []
