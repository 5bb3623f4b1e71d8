"""Connections: typed, named credentials of an organisation, per environment or for all of them.

Every field is stored encrypted (one Fernet token of the JSON object, under the key set secrets use).
Secret fields are write-only: `connection_public_fields` shows them as {"set": true|false}; an update that
leaves one out keeps it. `connection_reveal` and `connection_resolve` are internal (the runner protocol and
the Test button), never API output. Validation happens before anything is written, so a refused request
changes nothing.
"""

from __future__ import annotations

import json
import logging
import re
import threading
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Q

from flomation.core.models import Connection, Environment, Organisation
from flomation.core.services.audit import audit_change
from flomation.core.services.errors import Conflict
from flomation.lib import connections as connection_types
from flomation.lib import crypto

logger = logging.getLogger(__name__)

NAME_PATTERN = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.\- ]{0,127}$")
MAX_FIELD_LENGTH = 64 * 1024
TEST_TIMEOUT = 10.0
UNSET = object()


def connection_type_list() -> list[dict[str, Any]]:
    """Every connection type with its fields, for the API and the editor's forms."""
    return [
        {
            "type": kind,
            "label": getattr(module, "LABEL", kind),
            "fields": [f.to_dict() for f in module.FIELDS],
        }
        for kind, module in connection_types.types().items()
    ]


def _type_module(kind: Any) -> ModuleType:
    module = connection_types.get(str(kind or ""))
    if module is None:
        known = ", ".join(connection_types.types())
        raise ValidationError({"type": [f"Unknown connection type {str(kind)[:40]!r}; one of: {known}."]})
    return module


def _secret_names(module: ModuleType) -> set[str]:
    return {f.name for f in module.FIELDS if f.secret}


def _check_name(name: Any) -> str:
    name = str(name or "").strip()
    if not NAME_PATTERN.match(name):
        raise ValidationError(
            {
                "name": [
                    "A connection name starts with a letter, digit or underscore and has only letters, "
                    "digits, spaces, '_', '.' or '-' (at most 128 characters)."
                ]
            }
        )
    return name


def _coerce(field: Any, value: Any) -> Any:
    """The value as the field's type, or a message saying what is wrong (returned as a ValueError)."""
    if value is None or value == "":
        return None
    if field.type == "integer":
        if isinstance(value, bool):
            raise ValueError("must be a whole number")
        try:
            number = int(str(value).strip())
        except ValueError:
            raise ValueError("must be a whole number") from None
        return number
    if field.type == "boolean":
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in ("true", "1", "yes", "on"):
            return True
        if text in ("false", "0", "no", "off"):
            return False
        raise ValueError("must be true or false")
    if not isinstance(value, str):
        raise ValueError("must be text")
    if len(value) > MAX_FIELD_LENGTH:
        raise ValueError(f"may be at most {MAX_FIELD_LENGTH} characters")
    if field.options and value not in field.options:
        raise ValueError(f"must be one of: {', '.join(field.options)}")
    return value


def _clean(module: ModuleType, given: Any, stored: dict[str, Any]) -> dict[str, Any]:
    """`stored` updated with `given`, checked against the type's FIELDS. A secret field left out (or sent
    as {"set": true}, what the API shows) keeps its stored value; null or "" clears a field."""
    if given is None:
        given = {}
    if not isinstance(given, dict):
        raise ValidationError({"fields": ["Send the fields as an object of name: value."]})
    declared = {f.name: f for f in module.FIELDS}
    errors: dict[str, list[str]] = {}
    unknown = sorted(set(given) - set(declared))
    if unknown:
        errors["fields"] = [
            f"Unknown field(s) {', '.join(unknown)} for a {module.KIND} connection; "
            f"its fields are {', '.join(declared)}."
        ]
    result: dict[str, Any] = {}
    for name, field in declared.items():
        value = given.get(name, UNSET)
        if value is UNSET or (field.secret and isinstance(value, dict) and "set" in value):
            value = stored.get(name, field.default if not field.secret and not stored else None)
        try:
            value = _coerce(field, value)
        except ValueError as problem:
            # The message names the field and the rule, never the value (it may be a secret).
            errors.setdefault(name, []).append(f"{name} {problem}.")
            continue
        if value is None and field.required:
            errors.setdefault(name, []).append(f"{name} is required.")
        if value is not None:
            result[name] = value
    if errors:
        raise ValidationError(errors)
    return result


def _environment(organisation: Organisation, environment_id: Any) -> Environment | None:
    if environment_id in (None, ""):
        return None
    environment = Environment.objects.filter(organisation=organisation, id=environment_id).first()
    if environment is None:
        raise ValidationError({"environment": ["No such environment in this organisation."]})
    return environment


def _encrypt(fields: dict[str, Any]) -> str:
    return crypto.encrypt(settings.FLOMATION_ENCRYPTION_KEYS, json.dumps(fields, sort_keys=True))


def connection_reveal(*, connection: Connection) -> dict[str, Any]:
    """Every field in plain text. Internal only: the runner protocol and the Test button."""
    value = json.loads(crypto.decrypt(settings.FLOMATION_ENCRYPTION_KEYS, connection.ciphertext))
    return value if isinstance(value, dict) else {}


def connection_public_fields(*, connection: Connection) -> dict[str, Any]:
    """The fields a member may see: secret ones only as {"set": true|false}."""
    fields = connection_reveal(connection=connection)
    module = connection_types.get(connection.type)
    secret = _secret_names(module) if module else set(fields)
    names = [f.name for f in module.FIELDS] if module else sorted(fields)
    return {
        name: {"set": fields.get(name) not in (None, "")} if name in secret else fields.get(name)
        for name in names
    }


def _save(connection: Connection) -> Connection:
    try:
        with transaction.atomic():
            connection.save()
    except IntegrityError:
        where = connection.environment.name if connection.environment else "all environments"
        raise Conflict(f"A connection called {connection.name!r} already exists for {where}.") from None
    return connection


def _audited(connection: Connection, action: str, **summary: Any) -> None:
    """The connection's name, type and where it applies; of its fields only which ones changed."""
    audit_change(
        instance=connection,
        action=action,
        related=[connection.environment_id],
        summary={
            "name": connection.name,
            "type": connection.type,
            "environment": connection.environment.name if connection.environment else None,
            **summary,
        },
    )


@transaction.atomic
def connection_create(
    *,
    organisation: Organisation,
    name: Any,
    type: Any,
    fields: Any,
    environment_id: Any = None,  # noqa: A002
) -> Connection:
    module = _type_module(type)
    name = _check_name(name)
    environment = _environment(organisation, environment_id)
    cleaned = _clean(module, fields, {})
    connection = Connection(
        organisation=organisation,
        environment=environment,
        name=name,
        type=module.KIND,
        ciphertext=_encrypt(cleaned),
    )
    _save(connection)
    _audited(connection, "connection.created", fields_set=sorted(cleaned))
    return connection


def connection_update(
    *, connection: Connection, name: Any = UNSET, fields: Any = UNSET, environment_id: Any = UNSET
) -> Connection:
    """Changes what is given; fields merge into the stored ones (a secret left out is kept)."""
    module = _type_module(connection.type)
    before = {"name": connection.name, "environment": str(connection.environment_id or "") or None}
    changed: list[str] = []
    if name is not UNSET:
        connection.name = _check_name(name)
    if environment_id is not UNSET:
        connection.environment = _environment(connection.organisation, environment_id)
    if fields is not UNSET:
        stored = connection_reveal(connection=connection)
        cleaned = _clean(module, fields, stored)
        changed = sorted(n for n in set(stored) | set(cleaned) if stored.get(n) != cleaned.get(n))
        connection.ciphertext = _encrypt(cleaned)
    with transaction.atomic():
        _save(connection)
        after = {"name": connection.name, "environment": str(connection.environment_id or "") or None}
        _audited(connection, "connection.updated", before=before, after=after, fields_changed=changed)
    return connection


@transaction.atomic
def connection_delete(*, connection: Connection) -> None:
    connection_id = connection.id
    connection.delete()
    connection.id = connection_id
    _audited(connection, "connection.deleted")


def connection_resolve(*, organisation_id: Any, environment_id: Any, name: str) -> dict[str, Any] | None:
    """{type, fields} of the connection `name` a run in that environment uses: the environment's own one
    wins over one for all environments. None when there is none."""
    connection = (
        Connection.objects.filter(organisation_id=organisation_id, name=name)
        .filter(Q(environment_id=environment_id) | Q(environment__isnull=True))
        .order_by(F("environment_id").asc(nulls_last=True))
        .first()
    )
    if connection is None:
        return None
    return {"type": connection.type, "fields": connection_reveal(connection=connection)}


@dataclass(frozen=True)
class TestOutcome:
    ok: bool
    message: str


def connection_test(*, connection: Connection, timeout: float = TEST_TIMEOUT) -> TestOutcome:
    """Runs the type's `test` through the organisation's egress policy, giving up after `timeout`."""
    from flomation.core.services.egress import organisation_egress_policy
    from flomation.lib.egress import EgressDenied, refusal_logged

    module = _type_module(connection.type)
    fields = connection_reveal(connection=connection)
    policy = organisation_egress_policy(organisation_id=connection.organisation_id)
    outcome: dict[str, TestOutcome] = {}

    def attempt() -> None:
        try:
            outcome["result"] = TestOutcome(True, str(module.test(fields, policy, timeout)))
        except connection_types.ConnectionFailed as failed:
            outcome["result"] = TestOutcome(False, _scrubbed(str(failed), fields, module))
        except EgressDenied as refused:  # the reason and how to allow it, whichever type raised it
            refusal_logged(
                refused, organisation=connection.organisation_id, source=f"connection {connection.name}"
            )
            outcome["result"] = TestOutcome(False, str(refused))
        except Exception as error:  # a type's bug must not become a 500 that might echo a field
            logger.warning(
                "connection test of %s (%s) failed unexpectedly: %s",
                connection.id,
                connection.type,
                type(error).__name__,
            )
            outcome["result"] = TestOutcome(False, f"the test failed unexpectedly ({type(error).__name__})")

    worker = threading.Thread(target=attempt, name=f"connection-test-{connection.id}", daemon=True)
    worker.start()
    worker.join(timeout + 2)
    return outcome.get("result") or TestOutcome(False, f"no answer within {timeout:g} seconds")


def _scrubbed(message: str, fields: dict[str, Any], module: ModuleType) -> str:
    """The message with any secret field's value cut out, in case a server or library repeated it."""
    for name in _secret_names(module):
        value = fields.get(name)
        if isinstance(value, str) and len(value) >= 4:
            message = message.replace(value, "***")
    return message[:500]
