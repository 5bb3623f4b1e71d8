"""Anthropic's messages API (Claude). The test lists the models, through the egress policy."""

from __future__ import annotations

from typing import Any

from flomation.lib.connections.base import Field
from flomation.lib.egress import EgressPolicy

KIND = "anthropic"
LABEL = "Anthropic (Claude)"
FIELDS = (
    Field("base_url", default="https://api.anthropic.com", description="The API's address."),
    Field("api_key", "secret", required=True),
    Field("model", default="claude-sonnet-4-6", description="Default model, e.g. claude-sonnet-4-6."),
)


def test(fields: dict[str, Any], policy: EgressPolicy, timeout: float) -> str:
    from flomation.lib.llm.client import connection_test

    return connection_test("anthropic", fields, policy, timeout)
