"""Secret trigger inputs, encrypted at rest with the project's key set and never shown back."""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings

from flomation.launch.models import Trigger
from flomation.lib import crypto

# Decrypting is cheap but not free; ingress reads the same trigger's secrets on every request.
_cache: dict[tuple[str, str], dict[str, Any]] = {}


def secrets_encrypt(values: dict[str, Any]) -> str:
    return crypto.encrypt(settings.FLOMATION_ENCRYPTION_KEYS, json.dumps(values)) if values else ""


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
    return found


def scrub(text: str, secrets: dict[str, Any]) -> str:
    """Removes every secret value from a message (errors of pollers quote connection strings)."""
    for value in secrets.values():
        if isinstance(value, str) and len(value) >= 3:
            text = text.replace(value, "********")
    return text
