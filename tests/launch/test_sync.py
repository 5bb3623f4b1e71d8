"""Trigger records follow deployments: stable public ids, retirement, rollback, pause, encrypted secrets."""

from __future__ import annotations

from django.conf import settings

from flomation.launch.models import Trigger, TriggerLease
from flomation.launch.selectors import trigger_run_token, triggers_for_workflow
from flomation.launch.services.sync import trigger_nodes, trigger_set_enabled
from flomation.lib import crypto
from tests.launch.conftest import trigger_node


def test_a_deployment_turns_each_trigger_node_into_a_trigger(world):
    world.deploy(
        trigger_node("trigger/webhook", {"methods": "POST"}, "hook"),
        trigger_node("trigger/schedule", {"cron": "0 9 * * *", "timezone": "Europe/London"}, "cron"),
    )
    triggers = {t.node_id: t for t in Trigger.objects.filter(workflow=world.workflow)}
    assert set(triggers) == {"hook", "cron"}
    assert triggers["hook"].kind == "webhook" and triggers["hook"].config == {"methods": "POST"}
    assert triggers["cron"].kind == "schedule" and triggers["cron"].next_run_at is not None


def test_the_public_id_survives_a_new_revision_and_a_rollback(world):
    first = world.deploy(trigger_node("trigger/webhook", {"methods": "POST"}))
    public_id = world.trigger().public_id
    world.deploy(trigger_node("trigger/webhook", {"methods": "PUT"}))
    assert world.trigger().public_id == public_id and world.trigger().config == {"methods": "PUT"}
    world.deploy(trigger_node("trigger/manual", node_id="other"))
    assert world.trigger().active is False
    world.deploy(revision=first.revision, kind="rollback")
    trigger = world.trigger()
    assert trigger.active and trigger.public_id == public_id and trigger.config == {"methods": "POST"}
    assert trigger.deployment.revision_id == first.revision_id


def test_secret_inputs_are_stored_encrypted_and_left_out_of_the_config(world):
    world.deploy(trigger_node("trigger/webhook", {"authentication": "hmac", "hmac_secret": "s3cr3t-value"}))
    trigger = world.trigger()
    assert "hmac_secret" not in trigger.config
    assert "s3cr3t-value" not in trigger.secrets_ciphertext
    assert "s3cr3t-value" in crypto.decrypt(settings.FLOMATION_ENCRYPTION_KEYS, trigger.secrets_ciphertext)


def test_pausing_a_trigger_drops_its_lease_and_resuming_schedules_from_now(world):
    world.deploy(trigger_node("trigger/schedule", {"cron": "*/5 * * * *"}))
    trigger = world.trigger()
    TriggerLease.objects.create(
        trigger=trigger, owner="a", acquired_at=trigger.created_at, expires_at=trigger.created_at
    )
    trigger_set_enabled(trigger=trigger, enabled=False)
    assert not TriggerLease.objects.filter(trigger=trigger).exists()
    assert world.trigger().enabled is False
    trigger_set_enabled(trigger=trigger, enabled=True)
    assert world.trigger().enabled and world.trigger().next_run_at is not None


def test_a_manual_trigger_gets_a_run_token_that_the_editor_can_show(world):
    world.deploy(trigger_node("trigger/manual"))
    trigger = world.trigger()
    token = trigger_run_token(trigger=trigger)
    assert token.startswith("frt_") and crypto.sha256_hex(token) == trigger.run_token_hash


def test_the_workflow_listing_shows_next_fire_times(world):
    world.deploy(trigger_node("trigger/schedule", {"cron": "0 9 * * 1-5", "timezone": "America/New_York"}))
    (listed,) = triggers_for_workflow(workflow=world.workflow, environment=world.environment)
    assert len(listed.next_fire_times) == 5
    assert all(moment.astimezone().tzinfo for moment in listed.next_fire_times)
    assert listed.url == ""  # a schedule has no public address


def test_trigger_nodes_are_found_by_type_or_label():
    flow = {
        "nodes": [
            {"id": "a", "type": "custom", "data": {"label": "trigger/form"}},
            {"id": "b", "type": "web/request"},
        ]
    }
    assert [(n.node_id, n.action) for n in trigger_nodes(flow)] == [("a", "trigger/form")]
