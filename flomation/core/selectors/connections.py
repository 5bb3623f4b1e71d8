from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from flomation.core.models import Connection, Organisation
from flomation.core.selectors.common import get_or_404


def connection_list(*, organisation: Organisation, type: str | None = None) -> QuerySet[Connection]:  # noqa: A002
    """The organisation's connections (of one type when given), with their environment."""
    rows = Connection.objects.filter(organisation=organisation).select_related("environment")
    if type:
        rows = rows.filter(type=type)
    return rows.order_by("name", "environment__position")


def connection_get(*, organisation: Organisation, connection_id: Any) -> Connection:
    """One of the organisation's connections; another organisation's is NotFound like a missing one."""
    return get_or_404(connection_list(organisation=organisation), "connection", id=connection_id)
