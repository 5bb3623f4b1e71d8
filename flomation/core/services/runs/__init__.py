"""The runner side of the protocol's server: registration (with its throttle) and request authentication.

What a runner does to an execution (claim, heartbeat, steps, result, release) lives with the execution's
life in `flomation.core.executions`.
"""

from flomation.core.services.runs.auth import nonces_purge_expired, runner_register, runner_verify_request

__all__ = ["nonces_purge_expired", "runner_register", "runner_verify_request"]
