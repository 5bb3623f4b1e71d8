"""Trigger records from deployments: each trigger node of the current revision becomes (or stays) a
Trigger keyed by workflow, environment and node id, so its public id survives new revisions and rollbacks."""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from flomation.core.models import Deployment
from flomation.core.services.errors import FlowInvalid
from flomation.executor.secret_inputs import environment_reference
from flomation.launch.chat.telegram import telegram_webhooks_register_on_commit
from flomation.launch.config import poll_interval_seconds, split_inputs
from flomation.launch.models import Trigger, TriggerKind, TriggerLease
from flomation.launch.pollers import PollInputInvalid, poller_inputs_check
from flomation.launch.schedules import ScheduleError, next_fire_after, schedule_from_config
from flomation.launch.services.secrets import secrets_encrypt, secrets_from_revision
from flomation.lib import crypto

logger = logging.getLogger(__name__)

_KINDS = {choice.value for choice in TriggerKind}
# What a poller's cursor is a position in: when these inputs change, the cursor starts again.
_CURSOR_INPUTS = {
    TriggerKind.GIT_POLL: ("url", "repository", "repository_url", "branch"),
    TriggerKind.DATABASE_ROW: ("connection", "dsn", "host", "database", "schema", "table", "column"),
    TriggerKind.EMAIL: ("host", "username", "mailbox"),
    TriggerKind.QUEUE: ("url", "broker_url", "queue_url", "queue"),
    TriggerKind.MQTT: ("host", "port", "topic", "qos", "client_id"),
    TriggerKind.S3: ("endpoint_url", "bucket", "prefix"),
}


@dataclass(frozen=True)
class TriggerNode:
    node_id: str
    action: str
    inputs: list[Any]


def trigger_nodes(flow: dict[str, Any]) -> list[TriggerNode]:
    """The flow's trigger nodes: the action id is the node's `type`, else its `data.label` (as the executor)."""
    found = []
    for node in (flow or {}).get("nodes", []) or []:
        if not isinstance(node, dict) or not node.get("id"):
            continue
        data = node.get("data") or {}
        action = next(
            (str(a) for a in (node.get("type"), data.get("label")) if str(a or "").startswith("trigger/")),
            None,
        )
        if action:
            inputs = ((data.get("config") or {}).get("inputs")) or []
            found.append(TriggerNode(node_id=str(node["id"]), action=action, inputs=list(inputs)))
    return found


def kind_of(action: str) -> str:
    name = action.split("/", 1)[1] if "/" in action else action
    return name if name in _KINDS else TriggerKind.OTHER


def on_deployment_activated(sender: Any = None, *, deployment: Deployment, **kwargs: Any) -> None:
    trigger_sync(deployment=deployment)


@transaction.atomic
def trigger_sync(*, deployment: Deployment, now: datetime | None = None) -> list[Trigger]:
    """Makes the triggers of `deployment`'s workflow and environment match its revision's trigger nodes.

    Nodes no longer in the revision are retired (inactive, lease dropped) but kept, so a rollback that
    brings a node back also brings back its URL. Returns the active triggers.
    """
    now = now or timezone.now()
    revision = deployment.revision
    existing = {
        trigger.node_id: trigger
        for trigger in Trigger.objects.select_for_update().filter(
            workflow_id=deployment.workflow_id, environment_id=deployment.environment_id
        )
    }
    organisation_id = deployment.workflow.organisation_id
    nodes = []
    for node in trigger_nodes(revision.flow):
        config, secrets = split_inputs(node.inputs, action=node.action)
        secrets = secrets_from_revision(
            organisation_id=organisation_id,
            workflow_id=deployment.workflow_id,
            node_id=node.node_id,
            values=secrets,
        )
        nodes.append((node, config, secrets))
    _refuse_unusable_inputs(deployment, nodes)
    active: list[Trigger] = []
    for node, config, secrets in nodes:
        trigger = existing.pop(node.node_id, None) or Trigger(
            organisation_id=organisation_id,
            workflow_id=deployment.workflow_id,
            environment_id=deployment.environment_id,
            node_id=node.node_id,
        )
        was_running = trigger.pk is not None and trigger.active
        changed = trigger.config != config or trigger.action != node.action or not was_running
        trigger.action, trigger.kind = node.action, kind_of(node.action)
        trigger.config, trigger.deployment, trigger.active = config, deployment, True
        trigger.secrets_ciphertext = secrets_encrypt(secrets)
        _reset_cursor_if_moved(trigger, config, secrets)
        if changed or trigger.next_run_at is None:
            _schedule_first_run(trigger, now)
        if trigger.kind == TriggerKind.MANUAL and not trigger.run_token_hash:
            trigger_new_run_token(trigger=trigger, save=False)
        trigger.save()
        active.append(trigger)
    retired = list(existing.values())
    for trigger in retired:
        trigger.active = False
        trigger.save(update_fields=["active", "updated_at"])
    TriggerLease.objects.filter(trigger__in=retired).delete()
    telegram_webhooks_register_on_commit(active)
    return active


def _refuse_unusable_inputs(
    deployment: Deployment, nodes: list[tuple[TriggerNode, dict[str, Any], dict[str, Any]]]
) -> None:
    """Raises FlowInvalid (the deployment rolls back: 400) for poller inputs every poll would refuse, such
    as a git_poll url that is an option or a transport helper rather than an https, ssh or git URL."""
    problems = []
    for node, config, secrets in nodes:
        if any(environment_reference(value) for value in secrets.values()):
            continue  # a ${secrets.NAME} input is resolved at each poll, and checked there
        try:
            poller_inputs_check(kind=kind_of(node.action), config=config, secrets=secrets)
        except PollInputInvalid as error:
            logger.warning(
                "deployment refused: organisation %s, workflow %s, trigger node %s (%s): %s",
                deployment.workflow.organisation_id,
                deployment.workflow_id,
                node.node_id,
                node.action,
                error,
            )
            problems.append({"node_id": node.node_id, "field": error.field, "message": str(error)})
    if problems:
        raise FlowInvalid(problems)


def _reset_cursor_if_moved(trigger: Trigger, config: dict[str, Any], secrets: dict[str, Any]) -> None:
    names = _CURSOR_INPUTS.get(trigger.kind, ())  # type: ignore[call-overload]
    identity = json.dumps([config.get(n, secrets.get(n)) for n in names], sort_keys=True, default=str)
    key = hashlib.sha256(identity.encode()).hexdigest()
    if trigger.cursor_key != key:
        trigger.cursor_key, trigger.cursor = key, None
        trigger.cursor_version += 1


def _schedule_first_run(trigger: Trigger, now: datetime) -> None:
    trigger.last_error = ""
    if trigger.kind == TriggerKind.SCHEDULE:
        try:
            trigger.next_run_at = next_fire_after(schedule_from_config(trigger.config), now)
        except ScheduleError as error:
            trigger.next_run_at, trigger.last_error = None, str(error)
    elif trigger.kind in TriggerKind.timed():
        poll_interval_seconds(trigger.config)  # validates nothing fatal; first poll at once
        trigger.next_run_at = now
    else:
        trigger.next_run_at = None


def trigger_new_run_token(*, trigger: Trigger, save: bool = True) -> str:
    """Gives a trigger a new run token (manual runs); the old one stops working. Returns the token."""
    token = crypto.random_token("frt_", 24)
    trigger.run_token_hash = crypto.sha256_hex(token)
    trigger.run_token_ciphertext = crypto.encrypt(settings.FLOMATION_ENCRYPTION_KEYS, token)
    if save:
        trigger.save(update_fields=["run_token_hash", "run_token_ciphertext", "updated_at"])
    return token


def trigger_set_enabled(*, trigger: Trigger, enabled: bool, now: datetime | None = None) -> Trigger:
    """Pauses or resumes a trigger. A resumed schedule continues from now: pause time is not made up."""
    now = now or timezone.now()
    with transaction.atomic():
        trigger.enabled = enabled
        if enabled:
            _schedule_first_run(trigger, now)
        trigger.save(update_fields=["enabled", "next_run_at", "last_error", "updated_at"])
        if not enabled:
            TriggerLease.objects.filter(trigger=trigger).delete()
    return trigger
