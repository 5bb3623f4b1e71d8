"""Runner protocol views for the data an execution keeps on the platform beyond its steps: an AI agent's
conversation memory and the organisation's vector store. Each is scoped by the execution the runner holds a
lease on, never by anything in the flow or the body."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse

from flomation.core import executions
from flomation.core.models import Runner
from flomation.core.protocol.views import protocol_view, refuse


@protocol_view("GET", "PUT")
def memory(
    request: HttpRequest, data: dict[str, Any], runner: Runner, execution_id: str, key: str
) -> HttpResponse:
    """An agent's conversation memory under `key`, in the leased execution's organisation and environment."""
    from flomation.core.selectors.ai import agent_memory_get
    from flomation.core.services.ai import agent_memory_save

    scope = executions.execution_lease_scope(
        runner=runner, execution_id=execution_id, lease_token=request.headers.get("X-Flomation-Lease", "")
    )
    if scope is None:
        return refuse(409, "lease_lost", "This runner does not hold the execution's lease.")
    organisation_id, environment_id = scope
    if request.method == "PUT":
        try:
            agent_memory_save(
                organisation_id=organisation_id,
                environment_id=environment_id,
                key=key,
                memory=data.get("memory"),
            )
        except ValueError as error:
            return refuse(400, "bad_memory", str(error))
        return JsonResponse({"key": key, "saved": True})
    found = agent_memory_get(organisation_id=organisation_id, environment_id=environment_id, key=key)
    if found is None:
        return refuse(404, "no_memory", f"No memory {key!r} yet.")
    response = JsonResponse({"key": key, "memory": found})
    response["Cache-Control"] = "no-store"
    return response


@protocol_view("POST")
def vectors(
    request: HttpRequest, data: dict[str, Any], runner: Runner, execution_id: str, operation: str
) -> HttpResponse:
    """An operation on the vector store of the execution's organisation: the server decides whose store,
    from the execution the runner holds, never from anything in the flow or the body."""
    from flomation.core.services.vectors import vector_operation_run
    from flomation.lib.vectors import VectorError

    scope = executions.execution_lease_scope(
        runner=runner, execution_id=execution_id, lease_token=request.headers.get("X-Flomation-Lease", "")
    )
    if scope is None:
        return refuse(404, "no_execution", "This runner holds no lease on that execution.")
    organisation_id, _environment_id = scope
    try:
        answer = vector_operation_run(organisation_id=organisation_id, operation=operation, payload=data)
    except VectorError as error:
        return refuse(400, "vector_store", str(error))
    return JsonResponse(answer)
