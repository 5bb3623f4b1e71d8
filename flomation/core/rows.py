"""Model instances from plain SQL rows, for the few hot reads where compiling the ORM's query costs more
than running it. The instances are what the ORM would load: every concrete field, converted the same way."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

from django.db import connection
from django.db.models import Model

M = TypeVar("M", bound=Model)


def columns(model: type[Model], alias: str) -> str:
    """The model's concrete columns, qualified by `alias`, in field order (what `loaded` expects)."""
    return ", ".join(f"{alias}.{connection.ops.quote_name(f.column)}" for f in model._meta.concrete_fields)


def width(model: type[Model]) -> int:
    return len(model._meta.concrete_fields)


def loaded(model: type[M], values: Sequence[Any]) -> M | None:
    """The instance whose column values these are (in `columns` order); None when the primary key is NULL
    (an outer join that matched nothing)."""
    fields = model._meta.concrete_fields
    if values[0] is None:
        return None
    converted = [
        field.from_db_value(value, None, connection) if hasattr(field, "from_db_value") else value
        for field, value in zip(fields, values, strict=True)
    ]
    return model.from_db(connection.alias, [field.attname for field in fields], converted)
