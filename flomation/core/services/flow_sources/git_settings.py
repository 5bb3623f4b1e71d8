"""An organisation's Git sync settings (one repository per organisation) and its push webhook's secret.

The webhook secret is made here, shown to the caller once (to paste into GitHub or GitLab) and stored
encrypted; a push is accepted with GitHub's `X-Hub-Signature-256` (HMAC-SHA256 of the body) or GitLab's
`X-Gitlab-Token` (the secret itself), both compared in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction

from flomation.core.models import Connection, Environment, FlowSource, Organisation
from flomation.core.services.connections import connection_reveal
from flomation.core.services.flow_sources.apply import flow_source_delete
from flomation.core.services.flow_sources.git import git_source_check
from flomation.core.services.flow_sources.lease import flow_source_due_now
from flomation.lib import crypto

UNCHANGED = object()


def git_source_get(*, organisation: Organisation) -> FlowSource | None:
    return (
        FlowSource.objects.select_related("connection")
        .filter(organisation=organisation, kind=FlowSource.Kind.GIT)
        .first()
    )


def _connection(organisation: Organisation, connection_id: Any) -> Connection | None:
    if connection_id in (None, ""):
        return None
    connection = Connection.objects.filter(organisation=organisation, id=connection_id).first()
    if connection is None:
        raise ValidationError({"connection": ["No such connection in this organisation."]})
    if connection.type != "git":
        raise ValidationError(
            {"connection": [f"{connection.name!r} is a {connection.type} connection, not git."]}
        )
    if connection.environment_id is not None:
        raise ValidationError(
            {"connection": ["Pick a connection for all environments; syncing is not per environment."]}
        )
    return connection


@transaction.atomic
def git_source_save(
    *,
    organisation: Organisation,
    repository_url: str,
    branch: str = "main",
    sub_path: str = "",
    connection_id: Any = None,
    interval_seconds: int = 300,
    default_environment: str = "production",
) -> tuple[FlowSource, str | None]:
    """Connects the organisation's repository or changes its settings, and syncs it soon. Returns the source
    and, when it was just connected, the webhook secret (shown this once)."""
    url, branch, sub_path = git_source_check(
        repository_url=str(repository_url or ""), branch=str(branch or "main"), sub_path=str(sub_path or "")
    )
    minimum = settings.GIT_SYNC_MIN_INTERVAL_SECONDS
    if not isinstance(interval_seconds, int) or not minimum <= interval_seconds <= 86400:
        raise ValidationError({"interval_seconds": [f"Fetch every {minimum} to 86400 seconds."]})
    if not Environment.objects.filter(organisation=organisation, name=default_environment).exists():
        raise ValidationError({"default_environment": [f"No environment {default_environment!r} here."]})
    connection = _connection(organisation, connection_id)
    prefix = str(connection_reveal(connection=connection).get("url_prefix") or "") if connection else ""
    if prefix and not url.startswith(prefix):
        raise ValidationError(
            {"repository_url": [f"The URL is not under the connection's URL prefix ({prefix}): its credentials "
                                "are used for that server only."]}
        )  # fmt: skip
    source = git_source_get(organisation=organisation)
    secret = None
    if source is None:
        secret = secrets.token_urlsafe(32)
        source = FlowSource(
            organisation=organisation, kind=FlowSource.Kind.GIT, webhook_secret=_encrypt(secret)
        )
    changed = (source.repository_url, source.branch, source.sub_path, source.connection_id) != (
        url, branch, sub_path, connection.id if connection else None,
    )  # fmt: skip
    source.repository_url, source.branch, source.sub_path = url, branch, sub_path
    source.connection, source.interval_seconds = connection, interval_seconds
    source.default_environment = default_environment
    if changed:  # read the new place again even if its head is the commit last seen
        source.commit_sha, source.status, source.errors = "", FlowSource.Status.PENDING, []
    source.save()
    flow_source_due_now(source=source)
    return source, secret


def git_source_disconnect(*, organisation: Organisation) -> None:
    """Stops syncing; the workflows it managed stay as they are and become editable here again."""
    source = git_source_get(organisation=organisation)
    if source is not None:
        flow_source_delete(source=source)


def git_source_rotate_secret(*, source: FlowSource) -> str:
    """A new webhook secret (the old one stops working at once); returned this once."""
    secret = secrets.token_urlsafe(32)
    FlowSource.objects.filter(id=source.id).update(webhook_secret=_encrypt(secret))
    return secret


def _encrypt(secret: str) -> str:
    return crypto.encrypt(settings.FLOMATION_ENCRYPTION_KEYS, secret)


def git_webhook_accept(*, source_id: Any, headers: dict[str, str], body: bytes) -> bool:
    """True (and the source is due at once) if the push carries a valid GitHub signature or GitLab token."""
    source = FlowSource.objects.filter(id=source_id, kind=FlowSource.Kind.GIT).first()
    if source is None or not source.webhook_secret:
        return False
    secret = crypto.decrypt(settings.FLOMATION_ENCRYPTION_KEYS, source.webhook_secret).encode()
    signature = headers.get("X-Hub-Signature-256", "")
    token = headers.get("X-Gitlab-Token", "")
    if signature:
        expected = "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()
        valid = hmac.compare_digest(signature.encode(), expected.encode())
    elif token:
        valid = hmac.compare_digest(token.encode(), secret)
    else:
        valid = False
    if valid:
        flow_source_due_now(source=source)
    return valid
