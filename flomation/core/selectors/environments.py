from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from flomation.core.models import Environment, Organisation, Secret, Variable
from flomation.core.selectors.common import get_or_404


def environment_list(*, organisation: Organisation) -> QuerySet[Environment]:
    return Environment.objects.filter(organisation=organisation).order_by("position", "name")


def environment_get(
    *, organisation: Organisation, environment_id: Any = None, name: str | None = None
) -> Environment:
    """By id, or by name when `name` is given (the CI deploy endpoint takes names)."""
    if name is not None:
        return get_or_404(environment_list(organisation=organisation), "environment", name=name)
    return get_or_404(environment_list(organisation=organisation), "environment", id=environment_id)


def environment_by_id_or_name(*, organisation: Organisation, value: str) -> Environment:
    import uuid

    try:
        uuid.UUID(str(value))
    except ValueError:
        return environment_get(organisation=organisation, name=str(value))
    return environment_get(organisation=organisation, environment_id=value)


def variable_list(*, environment: Environment) -> QuerySet[Variable]:
    return Variable.objects.filter(environment=environment).order_by("name")


def secret_list(*, environment: Environment) -> QuerySet[Secret]:
    """Secrets' names and times only: the ciphertext column is deferred so it is never even loaded."""
    return Secret.objects.filter(environment=environment).defer("ciphertext").order_by("name")
