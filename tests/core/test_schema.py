"""The OpenAPI schema generates without warnings and the interactive docs work offline."""

from __future__ import annotations

import re

import pytest
from django.core.management import call_command


def test_the_api_schema_generates_without_warnings(tmp_path):
    call_command(
        "spectacular", "--urlconf", "flomation.core.api.schema", "--validate", "--fail-on-warn",
        "--file", str(tmp_path / "schema.yaml"),
    )  # fmt: skip
    text = (tmp_path / "schema.yaml").read_text()
    assert "/api/v1/organisations/{org_id}/workflows/{workflow_id}/deployments/" in text
    assert "apiToken" in text


@pytest.mark.django_db
def test_the_schema_and_docs_are_served_without_a_cdn(client):
    schema = client.get("/api/v1/schema/")
    assert schema.status_code == 200 and b"openapi" in schema.content
    docs = client.get("/api/v1/docs/")
    assert docs.status_code == 200
    sources = re.findall(rb'(?:src|href)="([^"]+)"', docs.content)
    assert sources and not [s for s in sources if s.startswith((b"http://", b"https://", b"//"))]
