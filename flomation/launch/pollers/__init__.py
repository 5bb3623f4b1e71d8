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
