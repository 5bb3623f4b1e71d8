from __future__ import annotations

from typing import Any, TypeVar

from django.core.exceptions import ValidationError
from django.db.models import Model, QuerySet

from flomation.core.permissions import NotFound

M = TypeVar("M", bound=Model)


def get_or_404(queryset: QuerySet[M], what: str, **lookup: Any) -> M:
    """The one row matching `lookup`, or NotFound (also for a malformed id)."""
    try:
        return queryset.get(**lookup)
    except (queryset.model.DoesNotExist, ValidationError, ValueError):
        raise NotFound(f"No such {what}.") from None
