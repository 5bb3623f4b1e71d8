"""Environment variables and secrets. Secrets are encrypted at rest and never leave through the API.

`secret_reveal` is internal: the runner protocol hands a secret to an executor running in that
environment. No API response, log line or error message carries a secret's value.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models, transaction

from flomation.core.models import Connection, Environment, FlowSecret, Queue, Secret, Variable
from flomation.core.services.audit import audit_record
from flomation.lib import crypto

NAME_PATTERN = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-]{0,127}$")
MAX_VALUE_LENGTH = 64 * 1024


def _check_name(name: str, what: str) -> str:
    name = (name or "").strip()
    if not NAME_PATTERN.match(name):
        raise ValidationError(
            f"A {what} name must start with a letter or underscore and contain only letters, digits, "
            f"'_', '.' or '-' (at most 128 characters); got {name[:40]!r}.",
            code="invalid_name",
        )
    return name


def _check_value(value: Any, what: str) -> str:
    if not isinstance(value, str):
        raise ValidationError(f"A {what} value must be a string.", code="invalid_value")
    if len(value) > MAX_VALUE_LENGTH:
        raise ValidationError(
            f"A {what} value may be at most {MAX_VALUE_LENGTH} characters.", code="too_long"
        )
    return value


def _audited(environment: Environment, action: str, name: str, **summary: Any) -> None:
    """Names only: a secret's or a variable's value never goes into the audit log."""
    audit_record(
        action=action,
        organisation_id=environment.organisation_id,
        target_type=action.partition(".")[0],
        target_id=name,
        related=[environment.id],
        summary={"name": name, "environment": environment.name, **summary},
    )


@transaction.atomic
def secret_set(*, environment: Environment, name: str, value: str) -> Secret:
    """Creates or replaces a secret; the value is encrypted under the first key of the key set."""
    name = _check_name(name, "secret")
    ciphertext = crypto.encrypt(settings.FLOMATION_ENCRYPTION_KEYS, _check_value(value, "secret"))
    secret, created = Secret.objects.update_or_create(
        environment=environment, name=name, defaults={"ciphertext": ciphertext}
    )
    _audited(environment, "secret.set", name, created=created)
    return secret


@transaction.atomic
def secret_delete(*, environment: Environment, name: str) -> bool:
    """Deletes a secret; returns False if there was none by that name."""
    deleted, _ = Secret.objects.filter(environment=environment, name=name).delete()
    if deleted:
        _audited(environment, "secret.deleted", name)
    return bool(deleted)


def secret_reveal(*, environment_id: Any, name: str) -> str | None:
    """The plaintext of a secret, or None. Internal only: for the runner protocol, never for API output."""
    ciphertext = (
        Secret.objects.filter(environment_id=environment_id, name=name)
        .values_list("ciphertext", flat=True)
        .first()
    )
    if ciphertext is None:
        return None
    return crypto.decrypt(settings.FLOMATION_ENCRYPTION_KEYS, ciphertext)


@transaction.atomic
def variable_set(*, environment: Environment, name: str, value: str) -> Variable:
    name = _check_name(name, "variable")
    variable, created = Variable.objects.update_or_create(
        environment=environment, name=name, defaults={"value": _check_value(value, "variable")}
    )
    _audited(environment, "variable.set", name, created=created)
    return variable


@transaction.atomic
def variable_delete(*, environment: Environment, name: str) -> bool:
    deleted, _ = Variable.objects.filter(environment=environment, name=name).delete()
    if deleted:
        _audited(environment, "variable.deleted", name)
    return bool(deleted)


def variable_value(*, environment_id: Any, name: str) -> str | None:
    return (
        Variable.objects.filter(environment_id=environment_id, name=name)
        .values_list("value", flat=True)
        .first()
    )


# --- key rotation ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class EncryptedColumn:
    model: type[models.Model]
    field: str

    @property
    def label(self) -> str:
        return f"{self.model._meta.label}.{self.field}"


ENCRYPTED_COLUMNS: tuple[EncryptedColumn, ...] = (
    EncryptedColumn(Secret, "ciphertext"),
    EncryptedColumn(Queue, "registration_code_ciphertext"),
    EncryptedColumn(FlowSecret, "ciphertext"),
    EncryptedColumn(Connection, "ciphertext"),
)


def encryption_rotate_column(*, column: EncryptedColumn, batch_size: int = 500) -> Iterator[int]:
    """Re-encrypts one column under the first key, in batches; yields how many rows each batch changed.

    Rows already under the first key are skipped, so a run that was stopped can simply be started again.
    Each batch commits on its own and locks only its rows (SKIP LOCKED: a row being written is left for
    the next pass, which re-reads it).
    """
    keys = settings.FLOMATION_ENCRYPTION_KEYS
    model, field = column.model, column.field
    last_pk: Any = None
    while True:
        with transaction.atomic():
            rows = model.objects.order_by("pk").select_for_update(skip_locked=True)
            if last_pk is not None:
                rows = rows.filter(pk__gt=last_pk)
            batch = list(rows.only("pk", field)[:batch_size])
            if not batch:
                return
            changed = []
            for row in batch:
                token = getattr(row, field)
                if token and not crypto.encrypted_with_primary(keys, token):
                    setattr(row, field, crypto.rotate(keys, token))
                    changed.append(row)
            if changed:
                model.objects.bulk_update(changed, [field])
            last_pk = batch[-1].pk
        yield len(changed)


def encryption_rotators() -> list[tuple[str, Callable[[int], Iterator[int]]]]:
    """Every encrypted column's rotator: core's own, plus identity's if it exposes one.

    Identity may provide `flomation.identity.services.encryption_rotate(batch_size=...)` yielding counts
    per batch; core does not read identity's tables itself.
    """
    rotators: list[tuple[str, Callable[[int], Iterator[int]]]] = [
        (column.label, lambda size, column=column: encryption_rotate_column(column=column, batch_size=size))
        for column in ENCRYPTED_COLUMNS
    ]
    try:
        from flomation.identity import services as identity_services  # type: ignore[attr-defined]
    except ImportError:
        return rotators
    rotate = getattr(identity_services, "encryption_rotate", None)
    if callable(rotate):
        rotators.append(("identity", lambda size: iter(rotate(batch_size=size))))
    return rotators
