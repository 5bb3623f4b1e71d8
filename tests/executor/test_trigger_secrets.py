"""A trigger never passes its secrets on: not as outputs, not in events, not in the state file."""

from __future__ import annotations

import json

from conftest import edge, flow, node, run

from flomation.executor import StaticSecrets
from flomation.executor.secret_inputs import flow_redact, flow_without_secrets, secret_input_names

SECRET = "plain-signing-secret-42"


def webhook_flow(**inputs: object) -> dict:
    return flow(
        [
            node("t1", "trigger/webhook", {"authentication": "hmac", **inputs}),
            node("o1", "output/set", {"name": "seen", "value": "${t1.body.order}"}),
        ],
        [edge("t1", "o1")],
    )


def test_a_webhook_trigger_does_not_echo_its_signing_secret():
    result, recorder = run(webhook_flow(hmac_secret=SECRET), trigger_data={"body": {"order": 5}})
    assert result.outputs == {"seen": 5}
    outputs = result.node_results["t1"]["outputs"]
    assert "hmac_secret" not in outputs and outputs["authentication"] == "hmac"
    assert SECRET not in json.dumps([recorder.events, result.node_results])


def test_every_older_name_for_the_secret_and_a_stored_reference_stay_out_too():
    result, _ = run(
        webhook_flow(token=SECRET, secret=SECRET, signing_secret=SECRET, api_key={"secret_ref": "abc"}),
        trigger_data={"body": {"order": 1}},
    )
    outputs = result.node_results["t1"]["outputs"]
    assert not {"token", "secret", "signing_secret", "api_key"} & set(outputs)
    assert SECRET not in json.dumps(result.node_results)


def test_an_environment_secret_reference_is_not_echoed_either():
    result, recorder = run(
        webhook_flow(hmac_secret="${secrets.HOOK}"),
        trigger_data={"body": {"order": 2}},
        secrets=StaticSecrets({"HOOK": SECRET}),
    )
    assert "hmac_secret" not in result.node_results["t1"]["outputs"]
    assert SECRET not in json.dumps([recorder.events, result.node_results])


def test_pollers_declare_their_passwords_and_connection_strings_as_secrets():
    assert {"api_key", "bearer_token", "hmac_secret"} <= secret_input_names("trigger/webhook")
    assert "connection" in secret_input_names("trigger/database_row")
    assert "password" in secret_input_names("trigger/email")
    assert "broker_url" in secret_input_names("trigger/queue")
    assert secret_input_names("trigger/manual") == frozenset()
    assert "hmac_secret" in secret_input_names("trigger/someone-elses")  # unknown triggers: the strict set


def test_a_read_shows_whether_a_secret_is_set_and_an_export_leaves_it_out():
    stored = webhook_flow(hmac_secret={"secret_ref": "r1"}, api_key="${secrets.K}", bearer_token=None)
    shown = {i["name"]: i for i in flow_redact(stored)["nodes"][0]["data"]["config"]["inputs"]}
    assert shown["hmac_secret"]["set"] is True and shown["bearer_token"]["set"] is False
    assert "set" not in shown["authentication"]
    plaintext = {
        i["name"]: i
        for i in flow_redact(webhook_flow(hmac_secret=SECRET))["nodes"][0]["data"]["config"]["inputs"]
    }
    assert plaintext["hmac_secret"] == {"name": "hmac_secret", "type": "string", "value": None, "set": True}
    exported, unset = flow_without_secrets(stored)
    assert unset == [{"node_id": "t1", "input": "hmac_secret"}]
    inputs = {i["name"]: i["value"] for i in exported["nodes"][0]["data"]["config"]["inputs"]}
    assert inputs["hmac_secret"] is None and inputs["api_key"] == "${secrets.K}"
