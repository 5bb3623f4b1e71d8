"""The organisation's audit log for the editor's Audit page, through core's selectors."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping
from typing import Any

from flomation.core import models as core
from flomation.core.selectors import audit as audit_selectors
from flomation.editor.gateway import Forbidden

AuditFilters = audit_selectors.AuditFilters
CSV_COLUMNS = audit_selectors.CSV_COLUMNS


def _require(membership: core.Membership) -> None:
    if not audit_selectors.audit_readable(membership=membership):
        raise Forbidden(
            "Reading the audit log needs the permission 'audit.view' or 'organisation.manage' in "
            f"{membership.organisation.name}."
        )


def audit_filters(*, params: Mapping[str, Any]) -> AuditFilters:
    return audit_selectors.audit_filters_parse(params=params, max_limit=200)


def audit_page(
    *, membership: core.Membership, filters: AuditFilters
) -> tuple[list[core.AuditEntry], int | None]:
    _require(membership)
    return audit_selectors.audit_page(organisation_id=membership.organisation_id, filters=filters)


def summary_text(*, entry: core.AuditEntry) -> str:
    """The before/after summary as one readable line: `name: API_KEY · before: role=member · ...`."""

    def plain(value: Any) -> str:
        if isinstance(value, dict):
            return ", ".join(f"{k}={plain(v)}" for k, v in value.items())
        if isinstance(value, list):
            return ", ".join(plain(v) for v in value) or "none"
        return "—" if value is None else str(value)

    return " · ".join(f"{key}: {plain(value)}" for key, value in entry.summary.items())


def audit_export(*, membership: core.Membership, filters: AuditFilters, fmt: str) -> str:
    """Every matching entry as CSV (one row each) or JSON (a list of the API's documents)."""
    _require(membership)
    rows = audit_selectors.audit_export(organisation_id=membership.organisation_id, filters=filters)
    if fmt == "json":
        return json.dumps([audit_selectors.entry_document(row) for row in rows], indent=1)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        # A cell starting with = + - @ would be a formula in a spreadsheet: prefixed so it stays text.
        writer.writerow(
            ["'" + c if c[:1] in ("=", "+", "-", "@") else c for c in audit_selectors.entry_row(row)]
        )
    return out.getvalue()
