"""Every role's JSON endpoints describe themselves in OpenAPI without a warning."""

from __future__ import annotations

from tests.support.servers import manage


def test_the_whole_platforms_schema_generates_and_validates_without_warnings(tmp_path):
    result = manage("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yml"))
    assert result.returncode == 0, result.stderr
    schema = (tmp_path / "schema.yml").read_text()
    for path in ("/api/v1/organisations/", "/identity/api/token", "/launch/api/triggers"):
        assert f"  {path}:" in schema
