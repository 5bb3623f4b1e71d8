"""Secret trigger inputs, encrypted at rest with the project's key set and never shown back.

At deploy time a trigger's stored secrets (`{"secret_ref": id}` in the revision) are read from core and
kept encrypted on the Trigger row. A `${secrets.NAME}` reference stays a reference: it is resolved against
the trigger's environment each time the secrets are read, so changing the environment secret takes effect
without a new deployment.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from django.conf import settings

from flomation.core.services.flow_secrets import flow_secret_reveal
from flomation.core.services.secrets import secret_reveal
from flomation.executor.secret_inputs import environment_reference, secret_ref
from flomation.launch.models import Trigger
from flomation.lib import crypto

logger = logging.getLogger(__name__)

# Decrypting is cheap but not free; ingress reads the same trigger's secrets on every request.
_cache: dict[tuple[str, str], dict[str, Any]] = {}


def secrets_encrypt(values: dict[str, Any]) -> str:
    return crypto.encrypt(settings.FLOMATION_ENCRYPTION_KEYS, json.dumps(values)) if values else ""


def secrets_from_revision(
    *, organisation_id: Any, workflow_id: Any, node_id: str, values: dict[str, Any]
) -> dict[str, Any]:
    """A trigger node's secrets as launch keeps them: stored ones read (plaintext, to be encrypted on the
    Trigger row), environment references and older plaintext values as they are. A reference to a stored
    secret that is gone is left out (the trigger then refuses what needs it) and logged."""
    found: dict[str, Any] = {}
    for name, value in values.items():
        ref = secret_ref(value)
        if ref is None:
            found[name] = value
            continue
        plaintext = flow_secret_reveal(workflow_id=workflow_id, ref=ref)
        if plaintext is None:
            logger.warning(
                "trigger secret not found: organisation %s workflow %s node %s input %s",
                organisation_id,
                workflow_id,
                node_id,
                name,
            )
            continue
        found[name] = plaintext
    return found


def trigger_secrets(trigger: Trigger) -> dict[str, Any]:
    if not trigger.secrets_ciphertext:
        return {}
    key = (str(trigger.id), trigger.secrets_ciphertext)
    found = _cache.get(key)
    if found is None:
        found = json.loads(crypto.decrypt(settings.FLOMATION_ENCRYPTION_KEYS, trigger.secrets_ciphertext))
        if len(_cache) > 10_000:
            _cache.clear()
        _cache[key] = found
    if not any(environment_reference(value) for value in found.values()):
        return found
    return {name: _resolve(trigger, name, value) for name, value in found.items()}


def _resolve(trigger: Trigger, name: str, value: Any) -> Any:
    secret_name = environment_reference(value)
    if secret_name is None:
        return value
    plaintext = secret_reveal(environment_id=trigger.environment_id, name=secret_name)
    if plaintext is None:
        logger.warning(
            "trigger %s of organisation %s: input %s refers to environment secret %s, which does not exist",
            trigger.id,
            trigger.organisation_id,
            name,
            secret_name,
        )
        return ""
    return plaintext


def scrub(text: str, secrets: dict[str, Any]) -> str:
    """Removes every secret value from a message (errors of pollers quote connection strings)."""
    for value in secrets.values():
        if isinstance(value, str) and len(value) >= 3:
            text = text.replace(value, "********")
    return text
