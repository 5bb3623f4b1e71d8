"""Environments (variables and write-only secrets), queues and runners, through core's services."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import IntegrityError

from flomation.core import models as core
from flomation.core.selectors import environments as env_selectors
from flomation.core.selectors import queues as queue_selectors
from flomation.core.services import queues as queue_services
from flomation.core.services import secrets as secret_services
from flomation.editor.gateway import NotFound, Refused


@dataclass(frozen=True)
class EnvironmentView:
    environment: core.Environment
    variables: list[core.Variable]
    secret_names: list[str]


@dataclass(frozen=True)
class RunnerView:
    runner: core.Runner
    state: str  # online | offline | never_seen | disabled


def environment_views(*, organisation: core.Organisation) -> list[EnvironmentView]:
    return [
        EnvironmentView(
            env,
            list(env_selectors.variable_list(environment=env)),
            [s.name for s in env_selectors.secret_list(environment=env)],
        )
        for env in env_selectors.environment_list(organisation=organisation)
    ]


def reference_names(*, organisation: core.Organisation) -> dict[str, list[str]]:
    """Names the property panel offers as ${env.X} and ${secrets.X} references (never secret values)."""
    variables: set[str] = set()
    secrets: set[str] = set()
    for view in environment_views(organisation=organisation):
        variables.update(v.name for v in view.variables)
        secrets.update(view.secret_names)
    return {"variables": sorted(variables), "secrets": sorted(secrets)}


def _env(organisation: core.Organisation, environment_id: str) -> core.Environment:
    return env_selectors.environment_get(organisation=organisation, environment_id=environment_id)


def variable_set(*, organisation: core.Organisation, environment_id: str, name: str, value: str) -> None:
    secret_services.variable_set(
        environment=_env(organisation, environment_id), name=name.strip(), value=value
    )


def variable_delete(*, organisation: core.Organisation, environment_id: str, name: str) -> None:
    if not secret_services.variable_delete(environment=_env(organisation, environment_id), name=name):
        raise NotFound(f"There is no variable {name!r} in that environment.")


def secret_set(*, organisation: core.Organisation, environment_id: str, name: str, value: str) -> None:
    """Stores the value encrypted; it is never shown again, only replaced or deleted."""
    if not value:
        raise Refused("Enter the secret's value; it will not be shown again.")
    secret_services.secret_set(environment=_env(organisation, environment_id), name=name.strip(), value=value)


def secret_delete(*, organisation: core.Organisation, environment_id: str, name: str) -> None:
    if not secret_services.secret_delete(environment=_env(organisation, environment_id), name=name):
        raise NotFound(f"There is no secret {name!r} in that environment.")


def queue_list(*, organisation: core.Organisation) -> list[core.Queue]:
    return list(queue_selectors.queue_list(organisation=organisation))


def queue_get(*, organisation: core.Organisation, queue_id: str) -> core.Queue:
    return queue_selectors.queue_get(organisation=organisation, queue_id=queue_id)


def queue_create(*, organisation: core.Organisation, name: str) -> tuple[core.Queue, str]:
    name = name.strip()
    if not name or len(name) > 120:
        raise Refused("Give the queue a name of at most 120 characters.")
    try:
        return queue_services.queue_create(organisation=organisation, name=name)
    except IntegrityError:
        raise Refused(f"A queue called {name!r} already exists.", 409) from None


def queue_rotate_code(*, queue: core.Queue) -> str:
    return queue_services.queue_rotate_code(queue=queue)


def queue_registration_code(*, queue: core.Queue) -> str:
    return queue_services.queue_registration_code(queue=queue)


def runner_list(*, organisation: core.Organisation) -> list[RunnerView]:
    return [
        RunnerView(runner, queue_selectors.runner_state(runner=runner))
        for runner in queue_selectors.runner_list(organisation=organisation)
    ]


def runner_list_shared(*, organisation: core.Organisation) -> list[RunnerView]:
    return [
        RunnerView(runner, queue_selectors.runner_state(runner=runner))
        for runner in queue_selectors.runner_list_shared(organisation=organisation)
    ]


def runner_set_enabled(*, organisation: core.Organisation, runner_id: str, enabled: bool) -> None:
    runner = queue_selectors.runner_get(organisation=organisation, runner_id=runner_id)
    queue_services.runner_set_enabled(runner=runner, enabled=enabled)
