"""First start and later starts: the key pair, the state file with the runner id, and registration.

The key (RSA-2048, PEM, mode 0600) and the state file live in `state_directory`. A later start reuses
both; a new registration happens only when there is no state, the API URL changed, or a different
registration code is configured. A refused code is logged with what to do and retried with backoff
(the code may be fixed in the API, or rotated back), never a crash loop. No Django.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
from typing import Any

from flomation import __version__
from flomation.lib import signing
from flomation.runner.client import ApiClient, ApiRefused, ApiUnavailable
from flomation.runner.config import RunnerConfig

logger = logging.getLogger(__name__)


def _code_hash(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest() if code else ""


def read_state(config: RunnerConfig) -> dict[str, Any]:
    try:
        data = json.loads(config.state_path.read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _write_state(config: RunnerConfig, state: dict[str, Any]) -> None:
    config.state_path.parent.mkdir(parents=True, exist_ok=True)
    temporary = config.state_path.with_name(config.state_path.name + ".tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        json.dump(state, handle, indent=2)
    os.replace(temporary, config.state_path)


def forget(config: RunnerConfig) -> None:
    """Drops the runner id (the API deleted this runner); the key is kept and registered again."""
    config.state_path.unlink(missing_ok=True)


def executor_details() -> tuple[str, dict[str, Any]]:
    """The executor's version and node manifest, when the engine is installed beside the runner."""
    try:
        import flomation.executor as executor

        manifest = executor.manifest()
    except Exception as error:  # the runner can still work with a subprocess executor
        logger.info("the executor's manifest is not available here (%s)", error)
        return "", {}
    version = str(getattr(executor, "__version__", "") or (manifest or {}).get("version") or __version__)
    return version, manifest if isinstance(manifest, dict) else {}


def ensure_registered(config: RunnerConfig, client: ApiClient, stop: threading.Event) -> bool:
    """Sets up `client` to sign as this runner; returns False if `stop` was set first, or when the API
    refuses this runner's protocol version (retrying cannot help: the runner needs an upgrade)."""
    key = signing.load_or_create_key(config.key_path)
    client.key = key
    state = read_state(config)
    wanted = _code_hash(config.registration_code)
    if (
        state.get("runner_id")
        and state.get("api_url") == config.api_url
        and (not wanted or state.get("registration_code_sha256") == wanted)
    ):
        client.runner_id = str(state["runner_id"])
        return True
    if not config.registration_code:
        logger.error(
            "this runner is not registered and has no registration code: set runner.registration_code "
            "in config.json or FLOMATION_REGISTRATION_CODE (copy it from the queue's page)"
        )
        stop.wait()
        return False
    executor_version, manifest = executor_details()
    payload = {
        "registration_code": config.registration_code,
        "public_key": signing.public_key_pem(key),
        "name": config.name,
        "version": __version__,
        "executor_version": executor_version,
        "manifest": manifest,
        "slots": config.max_concurrent_executors,
    }
    delay = min(config.checkin_timeout, 5.0)
    while not stop.is_set():
        try:
            answer = client.register(payload)
        except ApiUnavailable as error:
            logger.warning("registration: the API cannot be reached (%s); retrying in %.0f s", error, delay)
        except ApiRefused as error:
            if error.status == 426:  # an older runner than the server speaks to: retrying cannot help
                logger.error("registration refused (%s): %s", error.code, error.message)
                return False
            logger.error(
                "registration refused (%s): %s Retrying in %.0f s.", error.code, error.message, delay
            )
        else:
            client.runner_id = str(answer["runner_id"])
            _write_state(
                config,
                {
                    "runner_id": client.runner_id,
                    "queue_id": answer.get("queue_id"),
                    "api_url": config.api_url,
                    "registration_code_sha256": wanted,
                    "name": config.name,
                },
            )
            logger.info("registered as runner %s in queue %s", client.runner_id, answer.get("queue_id"))
            return True
        if stop.wait(delay):
            break
        delay = min(delay * 2, 300.0)
    return False
