"""The runner protocol's server side: registration, request authentication, claim, heartbeat, steps, result.

Every state change of a leased execution is a compare-and-swap on (id, lease_token, state), so a runner
whose lease was taken over can change nothing; the claim is one UPDATE ... SKIP LOCKED statement with
eligibility inside it. Views and loops stay thin and call these functions.
"""

from flomation.core.services.runs.auth import nonces_purge_expired, runner_register, runner_verify_request
from flomation.core.services.runs.claim import (
    execution_claim,
    runner_channels,
    runner_poll_channel,
    runner_poll_supersede,
)
from flomation.core.services.runs.common import LEASED, ProtocolError, lease_seconds
from flomation.core.services.runs.leases import (
    execution_heartbeat,
    execution_lookup_connection,
    execution_lookup_value,
    executions_reclaim_expired,
)
from flomation.core.services.runs.results import (
    Report,
    execution_finish,
    execution_release,
    execution_steps_record,
)

__all__ = [
    "LEASED",
    "ProtocolError",
    "Report",
    "execution_claim",
    "execution_finish",
    "execution_heartbeat",
    "execution_lookup_connection",
    "execution_lookup_value",
    "execution_release",
    "execution_steps_record",
    "executions_reclaim_expired",
    "lease_seconds",
    "nonces_purge_expired",
    "runner_channels",
    "runner_poll_channel",
    "runner_poll_supersede",
    "runner_register",
    "runner_verify_request",
]
