"""Connections for the editor's pages and the node panel's picker, through core's services."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flomation.core import models as core
from flomation.core.selectors import connections as selectors
from flomation.core.services import connections as services
from flomation.editor.gateway import Refused

VIEW = "connection.view"
MANAGE = "connection.manage"
USE = "connection.use"


SUMMARY_FIELDS = ("host", "url_prefix", "endpoint_url", "servers", "bucket", "database")


@dataclass(frozen=True)
class ConnectionView:
    connection: core.Connection
    fields: dict[str, Any]  # secret ones as {"set": bool}
    label: str

    @property
    def summary(self) -> str:
        """Where it points, for the list (host:port, a URL prefix, an endpoint...; never a secret field)."""
        for name in SUMMARY_FIELDS:
            value = self.fields.get(name)
            if value and not isinstance(value, dict):
                port = self.fields.get("port") if name == "host" else None
                return f"{value}:{port}" if port and not isinstance(port, dict) else str(value)
        return ""


def types() -> list[dict[str, Any]]:
    return services.connection_type_list()


def _labels() -> dict[str, str]:
    return {t["type"]: t["label"] for t in types()}


def connection_views(*, organisation: core.Organisation) -> list[ConnectionView]:
    labels = _labels()
    return [
        ConnectionView(row, services.connection_public_fields(connection=row), labels.get(row.type, row.type))
        for row in selectors.connection_list(organisation=organisation)
    ]


def connection_view(*, organisation: core.Organisation, connection_id: str) -> ConnectionView:
    row = selectors.connection_get(organisation=organisation, connection_id=connection_id)
    fields = services.connection_public_fields(connection=row)
    return ConnectionView(row, fields, _labels().get(row.type, row.type))


def picker_choices(*, organisation: core.Organisation) -> list[dict[str, Any]]:
    """What the node panel's picker offers: names, types and environments (never a field)."""
    return [
        {
            "id": str(row.id),
            "name": row.name,
            "type": row.type,
            "environment": row.environment.name if row.environment else None,
        }
        for row in selectors.connection_list(organisation=organisation)
    ]


def _fields_from_form(kind: str, form: Any, *, editing: bool) -> dict[str, Any]:
    """The posted `field-<name>` values of the type's fields. A secret left empty while editing is kept;
    a ticked `clear-<name>` clears it."""
    module = next((t for t in types() if t["type"] == kind), None)
    if module is None:
        raise Refused("Choose a connection type.")
    fields: dict[str, Any] = {}
    for field in module["fields"]:
        name = field["name"]
        if field["type"] == "boolean":
            fields[name] = form.get(f"field-{name}") == "on"
            continue
        value = form.get(f"field-{name}", "")
        if field["secret"] and editing:
            if form.get(f"clear-{name}") == "on":
                fields[name] = None
            elif value:
                fields[name] = value
            continue
        fields[name] = value.strip() if not field["secret"] and field["type"] != "text" else value
    return fields


def connection_create(*, organisation: core.Organisation, form: Any) -> core.Connection:
    kind = form.get("type", "")
    return services.connection_create(
        organisation=organisation,
        name=form.get("name", ""),
        type=kind,
        fields=_fields_from_form(kind, form, editing=False),
        environment_id=form.get("environment") or None,
    )


def connection_update(*, organisation: core.Organisation, connection_id: str, form: Any) -> core.Connection:
    row = selectors.connection_get(organisation=organisation, connection_id=connection_id)
    return services.connection_update(
        connection=row,
        name=form.get("name", row.name),
        fields=_fields_from_form(row.type, form, editing=True),
        environment_id=form.get("environment") or None,
    )


def connection_delete(*, organisation: core.Organisation, connection_id: str) -> str:
    row = selectors.connection_get(organisation=organisation, connection_id=connection_id)
    services.connection_delete(connection=row)
    return row.name


def connection_test(*, organisation: core.Organisation, connection_id: str) -> dict[str, Any]:
    row = selectors.connection_get(organisation=organisation, connection_id=connection_id)
    outcome = services.connection_test(connection=row)
    return {"ok": outcome.ok, "message": outcome.message}
