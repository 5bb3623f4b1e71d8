"""How launch turns an accepted trigger into an execution, behind one interface.

* LocalGateway (launch shares the API's database): core's `execution_create` and the Invocation row in one
  transaction, so a 2xx always means both are committed; lastNode waits through core's
  `execution_wait_finished` (woken by the process's one listener).
* RemoteGateway (LAUNCH_API_URL set): the Invocation row is committed first, then submitted to the API
  with an idempotency key derived from it; one the API did not take stays pending and the launch loop
  submits it again, so nothing accepted is lost.
"""

from __future__ import annotations

import hashlib
import logging
import time
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from functools import cache
from typing import Any, Protocol

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from flomation.core.executions import (
    CompanionInsert,
    ExecutionRefused,
    InlineRun,
    execution_create,
    execution_queue,
    execution_wait_finished,
    inline_announce,
    inline_run,
    inline_ticket,
)
from flomation.core.models import ExecutionState
from flomation.launch.models import Invocation, Trigger
from flomation.launch.remote import ApiClient, RemoteError, launch_api_settings

logger = logging.getLogger(__name__)


class Replayed(Exception):
    """A signed delivery id, or a signature, this trigger has already accepted."""


_REPLAY_CONSTRAINTS = frozenset({"launch_invocation_delivery", "launch_invocation_signature"})


@dataclass(frozen=True)
class Accepted:
    execution_id: uuid.UUID | None  # None only when the API could not be reached yet (remote mode)
    created: bool  # False when an Idempotency-Key matched an earlier request
    invocation_id: uuid.UUID | None = None
    # The flow's outcome when it ran here, inline, before it was stored (see core's `inline`).
    outcome: Outcome | None = None


@dataclass(frozen=True)
class Outcome:
    state: str
    outputs: dict[str, Any] = field(default_factory=dict)


class ExecutionGateway(Protocol):
    def accept(
        self,
        *,
        trigger: Trigger,
        trigger_data: dict[str, Any],
        method: str = "",
        idempotency_key: str | None = None,
        delivery_id: str | None = None,
        signature_hash: str | None = None,
        inline: bool = False,
    ) -> Accepted: ...

    def wait(self, *, trigger: Trigger, execution_id: uuid.UUID, timeout: float) -> Outcome | None:
        """The finished execution's state and outputs, or None if it did not finish within `timeout`."""
        ...


def core_idempotency_key(trigger: Trigger, key: str) -> str:
    """Core's keys are unique per organisation: scope the caller's key to this trigger."""
    if len(key) > 120:
        key = hashlib.sha256(key.encode()).hexdigest()
    return f"launch:{trigger.public_id}:{key}"


def _constraint_name(error: IntegrityError) -> str:
    diag = getattr(error.__cause__, "diag", None)
    return getattr(diag, "constraint_name", "") or ""


class LocalGateway:
    def accept(
        self,
        *,
        trigger: Trigger,
        trigger_data: dict[str, Any],
        method: str = "",
        idempotency_key: str | None = None,
        delivery_id: str | None = None,
        signature_hash: str | None = None,
        inline: bool = False,
    ) -> Accepted:
        """Stores the execution, its queue's NOTIFY and the Invocation in one statement (one round trip):
        a 2xx after this returns means all three are committed (or will commit with the caller's
        transaction, when there is one).

        With `inline`, a flow that may run here (see core's `inline`) runs first and is stored as it ended,
        in that same statement; the answer carries its outcome."""
        invocation_id = uuid.uuid4()
        run = self._run_inline(trigger, trigger_data) if inline else None
        try:
            result = execution_create(
                workflow=trigger.workflow,
                trigger_type=trigger.kind,
                trigger_data=trigger_data,
                environment=trigger.environment,
                deployment=trigger.deployment,
                idempotency_key=core_idempotency_key(trigger, idempotency_key) if idempotency_key else None,
                companion=CompanionInsert(
                    _INSERT_INVOCATION,
                    (invocation_id, trigger.id, idempotency_key, delivery_id, signature_hash, method),
                ),
                inline=run,
            )
        except IntegrityError as error:
            if _constraint_name(error) in _REPLAY_CONSTRAINTS:
                raise Replayed(delivery_id) from None
            raise
        if not result.created:  # an earlier request's execution (the run here is dropped: it had no effect)
            return Accepted(result.execution.id, False)
        if run is None or run.handed_off:
            return Accepted(result.execution.id, True, invocation_id)
        inline_announce(run=run, workflow=trigger.workflow, trigger_type=trigger.kind)
        return Accepted(result.execution.id, True, invocation_id, Outcome(run.state, run.outputs))

    @staticmethod
    def _run_inline(trigger: Trigger, trigger_data: dict[str, Any]) -> InlineRun | None:
        deployment = trigger.deployment
        if deployment is None:
            return None
        try:
            queue = execution_queue(workflow=trigger.workflow)
        except ExecutionRefused:  # execution_create says so, as without an inline run
            return None
        ticket = inline_ticket(
            revision_id=deployment.revision_id, queue=queue, organisation=trigger.workflow.organisation
        )
        if ticket is None:
            return None
        try:
            return inline_run(
                ticket=ticket, workflow=trigger.workflow, revision_number=deployment.revision.number,
                environment=trigger.environment, trigger_type=trigger.kind, trigger_data=trigger_data,
            )  # fmt: skip
        except Exception:  # an engine bug: the runners run it instead
            logger.exception("trigger %s: the inline run failed; a runner runs it", trigger.public_id)
            return None

    def wait(self, *, trigger: Trigger, execution_id: uuid.UUID, timeout: float) -> Outcome | None:
        # Core's wait: the process's one listener wakes it, and it holds no database connection long.
        outcome = execution_wait_finished(execution_id=execution_id, timeout=timeout)
        return None if outcome is None else Outcome(state=outcome.state, outputs=outcome.outputs)


# The Invocation row, written by core's execution insert statement (`created_execution` is the new
# execution; its stored trigger data is the payload, so the body is serialised once).
_INSERT_INVOCATION = (
    f"INSERT INTO {Invocation._meta.db_table} "
    "(id, trigger_id, execution_id, idempotency_key, delivery_id, signature_hash, method, payload, "
    "received_at) SELECT %s, %s, created_execution.id, %s, %s, %s, %s, created_execution.trigger_data, now() "
    "FROM created_execution"
)


class RemoteGateway:
    def __init__(self, client: ApiClient) -> None:
        self.client = client

    def accept(
        self,
        *,
        trigger: Trigger,
        trigger_data: dict[str, Any],
        method: str = "",
        idempotency_key: str | None = None,
        delivery_id: str | None = None,
        signature_hash: str | None = None,
        inline: bool = False,  # the API's runners run everything launch submits from here
    ) -> Accepted:
        try:
            with transaction.atomic():
                invocation = Invocation.objects.create(
                    trigger=trigger,
                    idempotency_key=idempotency_key,
                    delivery_id=delivery_id,
                    signature_hash=signature_hash,
                    method=method,
                    payload=trigger_data,
                )
        except IntegrityError as error:
            if _constraint_name(error) in _REPLAY_CONSTRAINTS:
                raise Replayed(delivery_id) from None
            earlier = Invocation.objects.get(trigger=trigger, idempotency_key=idempotency_key)
            return Accepted(earlier.execution_id, False, earlier.id)
        # Submitted once the invocation is committed (at once when no outer transaction is open).
        transaction.on_commit(lambda: self.submit(invocation))
        return Accepted(invocation.execution_id, True, invocation.id)

    def submit(self, invocation: Invocation) -> bool:
        """Hands one stored invocation to the API; returns False on failure, leaving it pending with the
        reason in its `error` (shown with the trigger's invocations) so nothing accepted is lost."""
        trigger = invocation.trigger
        now = timezone.now()
        try:
            remote = self.client.execution_create(
                organisation_id=trigger.organisation_id,
                workflow_id=trigger.workflow_id,
                environment_id=trigger.environment_id,
                deployment_id=trigger.deployment_id,
                trigger_type=trigger.kind,
                trigger_data=invocation.payload,
                idempotency_key=f"launch-invocation:{invocation.id}",
            )
        except RemoteError as error:
            logger.warning(
                "invocation %s of trigger %s not submitted: %s", invocation.id, trigger.public_id, error
            )
            invocation.error, invocation.submitted_at = str(error), now
            Invocation.objects.filter(id=invocation.id).update(error=str(error), submitted_at=now)
            return False
        invocation.execution_id, invocation.error, invocation.submitted_at = remote.id, "", now
        Invocation.objects.filter(id=invocation.id).update(execution_id=remote.id, error="", submitted_at=now)
        return True

    def submit_pending(
        self,
        *,
        limit: int = 50,
        older_than: timedelta = timedelta(seconds=5),
        retry_after: timedelta = timedelta(seconds=30),
    ) -> int:
        """Submits invocations the API has not taken yet (older than a few seconds, so the request that
        stored one has had its own try; one the API refused is tried again after `retry_after`, so a wrong
        key does not hammer it); returns how many went."""
        now = timezone.now()
        sent = 0
        with transaction.atomic():
            pending = list(
                Invocation.objects.select_for_update(skip_locked=True)
                .select_related("trigger")
                .filter(execution_id__isnull=True, received_at__lt=now - older_than)
                .filter(Q(submitted_at__isnull=True) | Q(submitted_at__lt=now - retry_after))
                .order_by("received_at")[:limit]
            )
            for invocation in pending:
                sent += self.submit(invocation)
        return sent

    def wait(self, *, trigger: Trigger, execution_id: uuid.UUID, timeout: float) -> Outcome | None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                body = self.client.execution_get(
                    organisation_id=trigger.organisation_id, execution_id=execution_id
                )
            except RemoteError:
                body = {}
            if body.get("state") in ExecutionState.finished() | {ExecutionState.SUSPENDED}:
                return Outcome(state=body["state"], outputs=body.get("outputs") or {})
            time.sleep(min(0.5, max(0.0, deadline - time.monotonic())))
        return None


@cache
def execution_gateway() -> ExecutionGateway:
    url, key = launch_api_settings()
    return RemoteGateway(ApiClient(url, key)) if url else LocalGateway()
