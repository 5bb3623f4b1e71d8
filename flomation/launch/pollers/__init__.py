"""Pollers: each reads new items from an outside system after a cursor and returns them as events.

A poller does its network work outside any transaction and returns a PollResult; the caller commits the
new cursor and the executions in one transaction (compare-and-swap on the cursor version, so a process
whose lease was taken over cannot fire the same items), then calls `finish(committed)` so a queue poller
acknowledges its messages only after the commit.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from flomation.launch.models import Trigger
from flomation.lib.egress import EgressPolicy


class PollError(Exception):
    """A configuration or remote problem, shown on the trigger as its last error."""


class PollInputInvalid(PollError):
    """An input the poller can never use as given (`field` names it): refused at deploy time too."""

    def __init__(self, message: str, *, field: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class PollEvent:
    data: dict[str, Any]
    key: str | None = None  # idempotency key: the same item never starts two executions


def _nothing(committed: bool) -> None:
    return None


@dataclass
class PollResult:
    cursor: Any
    events: list[PollEvent] = field(default_factory=list)
    finish: Callable[[bool], None] = _nothing


class Poller(Protocol):
    def poll(
        self, *, trigger: Trigger, config: dict[str, Any], secrets: dict[str, Any], cursor: Any, now: datetime
    ) -> PollResult: ...


_REGISTRY = {
    "git_poll": "flomation.launch.pollers.git.GitPoller",
    "database_row": "flomation.launch.pollers.database.DatabaseRowPoller",
    "email": "flomation.launch.pollers.email.EmailPoller",
    "queue": "flomation.launch.pollers.queue.QueuePoller",
    "mqtt": "flomation.launch.pollers.mqtt.MqttPoller",
    "s3": "flomation.launch.pollers.s3.S3Poller",
}


def egress_policy_for(trigger: Trigger) -> EgressPolicy:
    """The policy a poller's connections go through: the platform's plus the trigger's organisation's."""
    from flomation.core.services.egress import organisation_egress_policy

    return organisation_egress_policy(organisation_id=trigger.organisation_id)


def stored_connection_fields(
    trigger: Trigger, config: dict[str, Any], kind: str, inline: dict[str, Any]
) -> dict[str, Any]:
    """The fields a poller connects with: the stored connection its `connection` input names (the trigger's
    organisation's, for its environment or all environments), completed by its own inputs (`inline`); just
    `inline` when it names none. Raises PollError when the connection is missing or of another type."""
    name = str(config.get("connection") or "").strip()
    if not name:
        return inline
    from flomation.core.services.connections import connection_resolve

    found = connection_resolve(
        organisation_id=trigger.organisation_id, environment_id=trigger.environment_id, name=name
    )
    if found is None:
        raise PollError(f"connection {name!r} does not exist in this trigger's environment")
    if found["type"] != kind:
        raise PollError(f"connection {name!r} is a {found['type']} connection; this trigger needs {kind}")
    from flomation.lib.connections import completed

    return completed(found["fields"], inline)


# Per kind, a function (config, secrets) that raises PollInputInvalid for inputs that can never be polled.
_INPUT_CHECKS = {
    "git_poll": "flomation.launch.pollers.git.git_poll_source",
    "mqtt": "flomation.launch.pollers.mqtt.mqtt_inputs_check",
    "s3": "flomation.launch.pollers.s3.s3_source",
}


def poller_inputs_check(*, kind: str, config: dict[str, Any], secrets: dict[str, Any]) -> None:
    """Raises PollInputInvalid if a poller of `kind` would refuse these inputs on every poll."""
    path = _INPUT_CHECKS.get(kind)
    if path is not None:
        module, _, name = path.rpartition(".")
        getattr(importlib.import_module(module), name)(config, secrets)


def poller_for(kind: str) -> Poller:
    path = _REGISTRY.get(kind)
    if path is None:
        raise PollError(f"no poller for trigger kind {kind!r}")
    module, _, name = path.rpartition(".")
    return getattr(importlib.import_module(module), name)()
