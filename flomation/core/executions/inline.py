"""Inline runs: a short flow made only of inline nodes runs in the web process that received its trigger.

A synchronous webhook whose flow is a few data transforms spent about 25 ms in hand-offs (the queue's
NOTIFY to the runner's long poll, the claim over HTTP, a pipe to the executor process, the report over
HTTP, a NOTIFY back to the waiting request) for well under a millisecond of work. Such a flow now runs in
the request's own thread, first, and the execution is then stored already finished, with its steps and the
trigger's invocation, in the one statement (and the one commit) that would have stored it pending. What
makes a runner's work safe still holds:

* Only flows whose every node declares `inline` (it computes on its inputs: no I/O, no waiting, no
  subprocess, no regular expression, no loop; see `NodeSpec.inline`), and only work the platform's shared
  runners would take (the shared queue, an organisation that accepts shared runners). Anything else goes
  through a runner exactly as before.
* The run is recorded as run by the web tier's own runner row ("<host> (web)"): the runner list, the run
  view and the audit log say where it ran, and an operator who disables that row turns inline runs off
  (within RUNNER_CACHE_SECONDS).
* A run is fenced at INLINE_RUN_BUDGET_MS: a flow still running then stops before its next node and is
  stored pending with its progress, so the runners go on from that node (see `claim`); a lastNode request
  then waits for it as usual.
* Nothing is stored before the run: a process that dies mid-run has stored nothing and answered nothing,
  as if the request had never arrived. A 2xx still means the execution is committed.
* At most INLINE_RUNS at a time per process; past that, the runner path.
"""

from __future__ import annotations

import json
import logging
import socket
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from flomation.core.executions.claim import job_context
from flomation.core.executions.leases import environment_value
from flomation.core.executions.results import execution_finished_announce
from flomation.core.executions.steps import MAX_EVENTS_PER_BATCH, steps_json
from flomation.core.models import (
    Account,
    Environment,
    Execution,
    ExecutionState,
    Organisation,
    Queue,
    Revision,
    Runner,
    Workflow,
)
from flomation.lib.protocol import normalise_result
from flomation.metrics import observe

logger = logging.getLogger(__name__)

RUNNER_CACHE_SECONDS = 5.0
FLOW_CACHE_SECONDS = 60.0
FLOW_CACHE_SIZE = 512
RESULT_STATES = {"succeeded", "failed", "cancelled", "timed_out"}
_MAX_ATTEMPTS = Execution._meta.get_field("max_attempts").default


@dataclass
class InlineTicket:
    """Leave to run one execution of a revision here: the web runner, the flow and who wrote it."""

    runner: Runner
    flow_text: str
    author_id: Any
    author_email: str
    _returned: bool = False

    def give_back(self) -> None:
        """Frees this process's inline slot (once)."""
        if not self._returned:
            self._returned = True
            _slots().release()


@dataclass
class InlineRun:
    """A finished inline run, ready to be stored by `execution_create`: the execution's id, its columns and
    its steps (JSON rows); `handed_off` when it went over budget and is stored pending for the runners."""

    execution_id: uuid.UUID
    runner: Runner
    state: str
    outputs: dict[str, Any] = field(default_factory=dict)
    node_results: dict[str, Any] = field(default_factory=dict)
    error: str = ""
    started_at: Any = None
    finished_at: Any = None
    steps: str = "[]"
    progress: dict[str, Any] | None = None

    @property
    def handed_off(self) -> bool:
        return self.state == ExecutionState.PENDING

    def columns(self) -> dict[str, Any]:
        """The execution's columns (by attribute name) that differ from a new pending execution's."""
        common = {"id": self.execution_id, "attempt": 1, "started_at": self.started_at}
        if self.handed_off:  # the runners' next attempt goes on from the progress, without using a retry
            return {**common, "progress": self.progress, "max_attempts": _MAX_ATTEMPTS + 1}
        return {
            **common,
            "state": self.state,
            "runner_id": self.runner.id,
            "claimed_at": self.started_at,
            "outputs": self.outputs,
            "node_results": self.node_results,
            "error": self.error,
            "finished_at": self.finished_at,
        }


@dataclass(frozen=True)
class _Flow:
    inline: bool
    text: str
    author_id: Any
    author_email: str
    read_at: float


_lock = threading.Lock()
_slot_semaphore: threading.BoundedSemaphore | None = None
_runner_cache: tuple[float, Runner | None] | None = None
_flow_cache: dict[Any, _Flow] = {}


def _slots() -> threading.BoundedSemaphore:
    global _slot_semaphore
    with _lock:
        if _slot_semaphore is None:
            _slot_semaphore = threading.BoundedSemaphore(max(1, int(settings.INLINE_RUNS)))
        return _slot_semaphore


def flow_is_inline(flow: Any) -> bool:
    """True when every node of `flow` is one whose spec declares `inline` (and it has at least one)."""
    from flomation.executor.registry import lookup

    nodes = flow.get("nodes") if isinstance(flow, dict) else None
    if not isinstance(nodes, list) or not nodes:
        return False
    for item in nodes:
        action = item.get("type") if isinstance(item, dict) else None
        spec = lookup(action) if isinstance(action, str) else None
        if spec is None or not spec.inline:
            return False
    return True


def _flow(revision_id: Any) -> _Flow | None:
    """The revision's flow and whether it may run inline, read at most once a minute per process."""
    now = time.monotonic()
    cached = _flow_cache.get(revision_id)
    if cached is not None and now - cached.read_at < FLOW_CACHE_SECONDS:
        return cached
    row = Revision.objects.filter(id=revision_id).values_list("flow", "author_id").first()
    if row is None:
        return None
    flow, author_id = row
    email = Account.objects.filter(id=author_id).values_list("email", flat=True).first() if author_id else ""
    entry = _Flow(flow_is_inline(flow), json.dumps(flow), author_id, email or "", now)
    if len(_flow_cache) >= FLOW_CACHE_SIZE:
        _flow_cache.clear()
    _flow_cache[revision_id] = entry
    return entry


def web_runner() -> Runner | None:
    """This host's web runner row, created on first use on the shared queue; None while it is disabled.

    It takes no protocol requests (it has no key); its last contact is kept fresh while it is used."""
    global _runner_cache
    now = time.monotonic()
    cached = _runner_cache
    if cached is not None and now - cached[0] < RUNNER_CACHE_SECONDS:
        return cached[1]
    from flomation.core.services.queues import queue_shared

    queue = queue_shared()
    name = f"{socket.gethostname()} (web)"[:120]
    runner = Runner.objects.filter(queue=queue, name=name, public_key="").first()
    if runner is None:
        with transaction.atomic():
            Queue.objects.select_for_update().filter(id=queue.id).first()  # one creator per queue at a time
            runner = Runner.objects.filter(queue=queue, name=name, public_key="").first()
            if runner is None:
                runner = Runner.objects.create(
                    queue=queue, name=name, public_key="", version=settings.FLOMATION_VERSION,
                    slots_total=max(1, int(settings.INLINE_RUNS)),
                )  # fmt: skip
    if runner.enabled:
        Runner.objects.filter(id=runner.id).update(
            last_contact_at=timezone.now(), version=settings.FLOMATION_VERSION
        )
    found = runner if runner.enabled else None
    if not connection.in_atomic_block:  # never remember a row a rollback may undo
        _runner_cache = (now, found)
    return found


def inline_ticket(*, revision_id: Any, queue: Queue, organisation: Organisation) -> InlineTicket | None:
    """Leave to run an execution of this revision inline, or None: the runners take it as usual.

    Holds one of this process's INLINE_RUNS slots until the ticket is given back (`inline_run` does)."""
    if int(settings.INLINE_RUNS) <= 0 or queue.organisation_id is not None or connection.in_atomic_block:
        return None
    if not organisation.accept_shared_runners:
        return None
    flow = _flow(revision_id)
    if flow is None or not flow.inline:
        return None
    runner = web_runner()
    if runner is None or runner.queue_id != queue.id:
        return None
    if not _slots().acquire(blocking=False):
        return None
    return InlineTicket(runner, flow.text, flow.author_id, flow.author_email)


class InlineSecrets:
    """Secrets and variables of the run's environment, as a runner reads them (audited, never logged)."""

    def __init__(self, runner: Runner, execution_id: Any, environment: Environment | None) -> None:
        self._runner, self._execution_id, self._environment = runner, execution_id, environment
        self._cache: dict[tuple[str, str], str | None] = {}

    def __repr__(self) -> str:
        return f"InlineSecrets(execution={self._execution_id})"

    def _value(self, kind: str, name: str) -> str | None:
        environment = self._environment
        if environment is None:
            return None
        if (kind, name) not in self._cache:
            self._cache[(kind, name)] = environment_value(
                runner=self._runner, execution_id=self._execution_id,
                organisation_id=environment.organisation_id, environment_id=environment.id, kind=kind, name=name,
            )  # fmt: skip
        return self._cache[(kind, name)]

    def get_secret(self, name: str) -> str | None:
        return self._value("secret", name)

    def get_variable(self, name: str) -> str | None:
        return self._value("variable", name)


def inline_run(
    *,
    ticket: InlineTicket,
    workflow: Workflow,
    revision_number: int,
    environment: Environment | None,
    trigger_type: str,
    trigger_data: dict[str, Any],
) -> InlineRun:
    """Runs the ticket's flow here, now, within INLINE_RUN_BUDGET_MS; gives the ticket back. The caller
    stores the result with `execution_create(inline=...)` and then calls `inline_announce`."""
    from flomation.core.services.egress import egress_policy
    from flomation.executor import ExecutorSettings, run_flow

    execution_id = uuid.uuid4()
    started_at = timezone.now()
    events: list[dict[str, Any]] = []
    progress: list[dict[str, Any]] = []
    deadline = time.monotonic() + int(settings.INLINE_RUN_BUDGET_MS) / 1000

    def within_budget() -> bool:
        return time.monotonic() < deadline

    def on_event(event: dict[str, Any]) -> None:
        events.append({**event, "sequence": len(events)})

    try:
        state = run_flow(
            json.loads(ticket.flow_text),
            trigger_data=trigger_data,
            context=job_context(
                workflow_id=workflow.id,
                workflow_name=workflow.name,
                execution_id=execution_id,
                organisation_id=workflow.organisation_id,
                runner_id=ticket.runner.id,
                revision_number=revision_number,
                attempt=1,
                claimed_at=started_at,
                trigger_type=trigger_type,
                author_id=ticket.author_id,
                author_email=ticket.author_email,
                triggerer_email="",
                environment_name=environment.name if environment else "",
                environment_id=environment.id if environment else None,
            ),
            secrets=InlineSecrets(ticket.runner, execution_id, environment),
            on_event=on_event,
            on_progress=progress.append,
            fence=within_budget,
            settings=ExecutorSettings(
                egress=egress_policy(organisation_ranges=workflow.organisation.egress_allow or [])
            ),
        ).to_state()
    finally:
        ticket.give_back()
    result = normalise_result(state)
    status = result["status"]
    run = InlineRun(execution_id, ticket.runner, status, started_at=started_at, finished_at=timezone.now())
    if status not in RESULT_STATES or (status == "cancelled" and not within_budget()):
        # Over budget (or it would suspend): the runners go on after the last finished node. The steps kept
        # are those of the nodes that finished (not the next one's "cancelled before it started").
        logger.info("execution %s: past the inline budget; the runners take it from here", execution_id)
        run.state, run.progress = ExecutionState.PENDING, progress[-1] if progress else None
        done = set((run.progress or {}).get("node_results") or {})
        events = [event for event in events if (event.get("id") or event.get("node_id")) in done]
        events = [{**event, "sequence": sequence} for sequence, event in enumerate(events)]
    # A flow of inline nodes has no loop: a step or two per node, far fewer than a report may hold.
    run.steps = steps_json(events[:MAX_EVENTS_PER_BATCH])
    if run.handed_off:
        return run
    run.error = result["error"]
    # As stored and read back: what a runner's report would have made of them.
    run.outputs = json.loads(json.dumps(result["outputs"], default=str))
    run.node_results = json.loads(json.dumps(result["node_results"], default=str))
    return run


def inline_announce(*, run: InlineRun, workflow: Workflow, trigger_type: str) -> None:
    """After the stored run committed: what follows any stored result (metrics, the outcome email)."""
    if run.handed_off:
        return
    observe("trigger_to_start", 0.0)
    execution_finished_announce(
        execution_id=run.execution_id, state=run.state, trigger_type=trigger_type,
        notify_on_failure=workflow.notify_on_failure, notify_on_success=workflow.notify_on_success,
    )  # fmt: skip
