"""Serializer fields shaped by the database column they end up in."""

from __future__ import annotations

from typing import Any

from django.db.models import Model
from rest_framework import serializers

from flomation.core.api.params import column_range


def column_integer(
    model: type[Model],
    field_name: str,
    *,
    min_value: int | None = None,
    max_value: int | None = None,
    **kwargs: Any,
) -> serializers.IntegerField:
    """An IntegerField that accepts no more than the column `model.field_name` can store (a smallint
    position of 40000 is a 400 naming the field, not a database error), narrowed further by
    `min_value`/`max_value` when given."""
    low, high = column_range(model, field_name)
    return serializers.IntegerField(
        min_value=low if min_value is None else max(low, min_value),
        max_value=high if max_value is None else min(high, max_value),
        **kwargs,
    )
