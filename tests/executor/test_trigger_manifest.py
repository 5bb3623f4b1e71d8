"""Every trigger kind declares the settings launch reads (docs/launch.md), with types and choices, so the
editor's panel can edit them; a flow written with the older spellings still validates."""

from __future__ import annotations

import pytest

from flomation.editor import catalogue
from flomation.executor import validate_flow
from flomation.executor.secret_inputs import secret_input_names


def _inputs(action: str) -> dict[str, dict]:
    spec = next(n for n in catalogue.manifest()["nodes"] if n["action"] == action)
    return {i["name"]: i for i in spec["inputs"]}


EXPECTED = {
    "trigger/webhook": {
        "methods": "multi_select", "authentication": "string", "api_key_header": "string", "api_key": "secret",
        "bearer_token": "secret", "hmac_secret": "secret", "responseMode": "string", "timeout": "integer",
        "cors": "string", "max_body_bytes": "integer", "rate_limit": "integer", "rate_limit_burst": "integer",
    },
    "trigger/web": {"methods": "multi_select", "authentication": "string", "responseMode": "string"},
    "trigger/schedule": {
        "mode": "string", "interval": "integer", "unit": "string", "time_of_day": "string",
        "days_of_week": "multi_select", "timezone": "timezone", "cron": "cron",
    },
    "trigger/form": {
        "fields": "object", "title": "string", "submit_label": "string", "thank_you_message": "text",
        "redirect_url": "string", "rate_limit": "integer", "max_body_bytes": "integer",
    },
    "trigger/qr": {"title": "string", "message": "text", "redirect_url": "string", "rate_limit": "integer"},
    "trigger/image": {"rate_limit": "integer", "rate_limit_burst": "integer"},
    "trigger/email": {
        "host": "string", "port": "integer", "security": "string", "username": "string", "password": "secret",
        "mailbox": "string", "from_contains": "string", "subject_contains": "string", "batch_size": "integer",
        "include_existing": "boolean", "interval": "integer", "unit": "string",
    },
    "trigger/git_poll": {"url": "string", "branch": "string", "password": "secret", "interval": "integer"},
    "trigger/database_row": {
        "connection": "secret", "schema": "string", "table": "string", "column": "string",
        "batch_size": "integer", "include_existing": "boolean", "interval": "integer",
    },
    "trigger/queue": {"broker_url": "secret", "queue": "string", "batch_size": "integer", "interval": "integer"},
    "trigger/mqtt": {
        "host": "string", "port": "integer", "tls": "boolean", "username": "string", "password": "secret",
        "topic": "string", "qos": "integer", "client_id": "string", "include_retained": "boolean",
        "batch_size": "integer", "interval": "integer",
    },
    "trigger/s3": {
        "bucket": "string", "prefix": "string", "access_key_id": "string", "secret_access_key": "secret",
        "region": "string", "endpoint_url": "string", "batch_size": "integer", "include_existing": "boolean",
        "interval": "integer", "unit": "string",
    },
}  # fmt: skip


@pytest.mark.parametrize("action", sorted(EXPECTED))
def test_each_trigger_kind_declares_its_settings_with_their_types(action):
    declared = _inputs(action)
    for name, kind in EXPECTED[action].items():
        assert name in declared, f"{action} does not declare {name}"
        assert declared[name]["type"] == kind, f"{action}.{name}"


def test_choices_are_declared_as_options():
    webhook = _inputs("trigger/webhook")
    assert [o["value"] for o in webhook["authentication"]["options"]] == ["none", "api_key", "bearer", "hmac"]
    assert [o["value"] for o in webhook["responseMode"]["options"]] == ["immediate", "lastNode"]
    assert [o["value"] for o in webhook["methods"]["options"]] == ["GET", "POST", "PUT", "PATCH", "DELETE"]
    assert [o["value"] for o in _inputs("trigger/email")["security"]["options"]] == [
        "ssl",
        "starttls",
        "none",
    ]
    assert [o["value"] for o in _inputs("trigger/schedule")["mode"]["options"]] == [
        "interval",
        "daily",
        "weekly",
        "cron",
    ]


def test_declared_secrets_stay_the_secret_inputs():
    assert {"api_key", "bearer_token", "hmac_secret", "token"} <= secret_input_names("trigger/webhook")
    assert "authentication" not in secret_input_names("trigger/webhook")
    assert "connection" in secret_input_names("trigger/database_row")


def _webhook_flow(**inputs):
    return {
        "nodes": [
            {
                "id": "t1",
                "type": "trigger/webhook",
                "data": {"config": {"inputs": [{"name": k, "value": v} for k, v in inputs.items()]}},
            }
        ],
        "edges": [],
    }


def test_older_spellings_still_validate_and_unknown_values_do_not():
    assert validate_flow(_webhook_flow(authentication="token", responseMode="sync", methods="post")) == []
    problems = validate_flow(_webhook_flow(authentication="password"))
    assert [p.field if hasattr(p, "field") else p[1] for p in problems] == ["authentication"]


def test_the_seeds_authentication_object_validates_by_its_type():
    seed_form = {"type": "api_key", "header": "X-API-Key"}
    assert validate_flow(_webhook_flow(authentication=seed_form)) == []
    problems = validate_flow(_webhook_flow(authentication={"type": "password"}))
    assert [p.field for p in problems] == ["authentication"]
