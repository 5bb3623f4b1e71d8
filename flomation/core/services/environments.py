"""Environments of an organisation (development, staging, production and any others)."""

from __future__ import annotations

import re
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max

from flomation.core.models import Environment, Organisation
from flomation.core.services.audit import audit_change
from flomation.core.services.errors import Conflict

_NAME = re.compile(r"^[a-z0-9][a-z0-9_\-]{0,63}$")


def _check_name(organisation: Organisation, name: str, exclude: Environment | None = None) -> str:
    name = (name or "").strip().lower()
    if not _NAME.match(name):
        raise ValidationError(
            {"name": "An environment name is lower-case letters, digits, '-' or '_' (at most 64)."}
        )
    clash = Environment.objects.filter(organisation=organisation, name=name)
    if exclude is not None:
        clash = clash.exclude(id=exclude.id)
    if clash.exists():
        raise Conflict(f"There is already an environment named {name!r}.")
    return name


def _audited(environment: Environment, action: str, summary: dict[str, Any]) -> None:
    audit_change(instance=environment, action=action, summary=summary)


@transaction.atomic
def environment_create(*, organisation: Organisation, name: str, position: int | None = None) -> Environment:
    """Adds an environment; by default it comes last in promotion order."""
    name = _check_name(organisation, name)
    if position is None:
        top = Environment.objects.filter(organisation=organisation).aggregate(top=Max("position"))["top"]
        position = 0 if top is None else top + 1
    environment = Environment.objects.create(organisation=organisation, name=name, position=position)
    _audited(environment, "environment.created", {"after": {"name": name, "position": position}})
    return environment


@transaction.atomic
def environment_update(
    *, environment: Environment, name: str | None = None, position: int | None = None
) -> Environment:
    fields = []
    before = {"name": environment.name, "position": environment.position}
    if name is not None:
        environment.name = _check_name(environment.organisation, name, exclude=environment)
        fields.append("name")
    if position is not None:
        if position < 0:
            raise ValidationError({"position": "The position is 0 or more."})
        environment.position = position
        fields.append("position")
    if fields:
        environment.save(update_fields=fields)
        after = {f: getattr(environment, f) for f in fields}
        _audited(
            environment, "environment.updated", {"before": {f: before[f] for f in fields}, "after": after}
        )
    return environment


@transaction.atomic
def environment_delete(*, environment: Environment) -> None:
    """Deletes an environment with its variables and secrets; refused while a workflow is deployed to it."""
    if environment.deployments.filter(is_current=True).exists():
        raise Conflict(f"Workflows are deployed to {environment.name}; archive or move them first.")
    environment_id = environment.id
    environment.delete()
    environment.id = environment_id
    _audited(environment, "environment.deleted", {"before": {"name": environment.name}})
