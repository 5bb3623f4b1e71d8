"""Settings > Git sync: the organisation's flow repository, through core's flow-source services."""

from __future__ import annotations

from typing import Any

from django.conf import settings

from flomation.core import models as core
from flomation.core.selectors import connections as connection_selectors
from flomation.core.services.flow_sources import git_settings as services
from flomation.core.services.flow_sources.lease import flow_source_due_now
from flomation.editor.gateway import Refused, translated


def git_source(*, organisation: core.Organisation) -> core.FlowSource | None:
    return services.git_source_get(organisation=organisation)


def git_connections(*, organisation: core.Organisation) -> list[core.Connection]:
    """The git connections a repository may use (those for all environments)."""
    rows = connection_selectors.connection_list(organisation=organisation, type="git")
    return [row for row in rows if row.environment_id is None]


def webhook_url(*, source: core.FlowSource, base: str) -> str:
    return (settings.API_URL or base).rstrip("/") + f"/api/v1/git-sync/{source.id}/webhook"


def _interval(value: Any) -> int:
    try:
        return int(str(value or "300").strip())
    except ValueError:
        raise Refused("The fetch interval is a whole number of seconds.") from None


def git_source_save(*, organisation: core.Organisation, form: Any) -> tuple[core.FlowSource, str | None]:
    try:
        return services.git_source_save(
            organisation=organisation,
            repository_url=str(form.get("repository_url", "")),
            branch=str(form.get("branch", "") or "main"),
            sub_path=str(form.get("sub_path", "")),
            connection_id=form.get("connection") or None,
            interval_seconds=_interval(form.get("interval_seconds")),
            default_environment=str(form.get("default_environment", "") or "production"),
        )
    except Exception as exc:
        refused = translated(exc)
        if refused is None:
            raise
        raise refused from None


def git_source_sync_now(*, source: core.FlowSource) -> None:
    flow_source_due_now(source=source)


def git_source_rotate_secret(*, source: core.FlowSource) -> str:
    return services.git_source_rotate_secret(source=source)


def git_source_disconnect(*, organisation: core.Organisation) -> None:
    services.git_source_disconnect(organisation=organisation)
