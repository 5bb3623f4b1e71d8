"""Runner registration and the authentication of signed requests (DESIGN §5, flomation.lib.signing)."""

from __future__ import annotations

import datetime as dt
import logging
from functools import lru_cache
from typing import Any

from cryptography.hazmat.primitives.asymmetric import rsa
from django.db import connection, transaction
from django.utils import timezone

from flomation.core.executions.common import ProtocolError, as_uuid
from flomation.core.models import Queue, Runner, RunnerNonce
from flomation.core.services.audit import actor_for_runner, audit_record
from flomation.core.services.runs.registration_throttle import (
    registration_attempt,
    registration_failure_record,
)
from flomation.lib import crypto, signing

logger = logging.getLogger(__name__)


def runner_register(
    *,
    registration_code: str,
    public_key: str,
    name: str,
    version: str = "",
    executor_version: str = "",
    manifest: dict[str, Any] | None = None,
    slots_total: int = 1,
    ip_address: str | None = None,
) -> Runner:
    """Enrols a runner into the queue whose registration code this is (looked up by its SHA-256).

    Registering the same public key into the same queue again returns the same runner (a retried
    registration whose answer was lost), with its details refreshed. Wrong codes are counted per client
    address (`ip_address`; None for a caller inside the platform): past RUNNER_REGISTRATION_FAILURE_LIMIT
    in the window every attempt from that address is refused with 429, a right code included.
    """
    code = (registration_code or "").strip()
    with registration_attempt(ip_address=ip_address):
        queue = Queue.objects.filter(registration_code_hash=crypto.sha256_hex(code)).first() if code else None
        if queue is None:
            registration_failure_record(ip_address=ip_address)  # committed with the count, then refused
    if queue is None:
        logger.warning(
            "Runner registration refused: wrong registration code from %s.", ip_address or "inside"
        )
        raise ProtocolError(
            403,
            "invalid_registration_code",
            "The registration code is not valid for any queue. Copy the code from the queue's page "
            "(it changes when an admin rotates it) and set runner.registration_code or "
            "FLOMATION_REGISTRATION_CODE.",
        )
    try:
        signing.load_public_key(public_key)
    except ValueError as error:
        raise ProtocolError(400, "invalid_public_key", f"The public key was refused: {error}.") from None
    details = {
        "name": (name or "Flo Runner")[:120],
        "version": (version or "")[:40],
        "executor_version": (executor_version or "")[:40],
        "manifest": manifest if isinstance(manifest, dict) else {},
        "slots_total": max(1, min(int(slots_total or 1), 1000)),
        "last_contact_at": timezone.now(),
    }
    with transaction.atomic():
        runner = Runner.objects.select_for_update().filter(queue=queue, public_key=public_key).first()
        again = runner is not None
        if runner is None:
            runner = Runner.objects.create(queue=queue, public_key=public_key, **details)
        else:
            for field, value in details.items():
                setattr(runner, field, value)
            runner.save(update_fields=list(details))
        audit_record(
            action="runner.registered",
            organisation_id=queue.organisation_id,
            target_type="runner",
            target_id=runner.id,
            related=[queue.id],
            summary={"name": runner.name, "queue": queue.name, "version": runner.version, "again": again},
            actor=actor_for_runner(runner),
        )
        return runner


@lru_cache(maxsize=1024)
def _public_key(pem: str) -> rsa.RSAPublicKey:
    return signing.load_public_key(pem)


_RUNNER_AND_NONCE_SQL = f"""
WITH runner AS (
    SELECT id, queue_id, public_key, enabled FROM {Runner._meta.db_table} WHERE id = %s
),
burnt AS (
    INSERT INTO {RunnerNonce._meta.db_table} (runner_id, nonce, expires_at)
    SELECT id, %s, %s FROM runner
    ON CONFLICT (runner_id, nonce) DO NOTHING RETURNING 1
)
SELECT id, queue_id, public_key, enabled, EXISTS (SELECT 1 FROM burnt) FROM runner"""


def _nonce_expiry(timestamp: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(timestamp + 2 * signing.MAX_SKEW_SECONDS, dt.UTC)


def runner_verify_request(
    *, runner_id: str, method: str, path: str, body: bytes, headers: dict[str, str], now: float | None = None
) -> Runner:
    """Authenticates one signed request and burns its nonce; raises ProtocolError (401/403) otherwise.

    Call it inside a transaction that a refusal rolls back (the protocol views do). `headers` maps the signing header names (signing.HEADER_*) to their values; `path` has the query.
    """
    now = timezone.now().timestamp() if now is None else now
    missing = [
        name
        for name in (
            signing.HEADER_RUNNER,
            signing.HEADER_TIMESTAMP,
            signing.HEADER_NONCE,
            signing.HEADER_SIGNATURE,
        )
        if not headers.get(name)
    ]
    if missing:
        raise ProtocolError(401, "unsigned", f"The request is not signed: missing {', '.join(missing)}.")
    if headers[signing.HEADER_RUNNER] != str(runner_id):
        raise ProtocolError(401, "runner_mismatch", "The signing runner is not the runner in the URL.")
    try:
        timestamp = int(headers[signing.HEADER_TIMESTAMP])
    except ValueError:
        raise ProtocolError(401, "bad_timestamp", "The timestamp must be whole Unix seconds.") from None
    if abs(now - timestamp) > signing.MAX_SKEW_SECONDS:
        raise ProtocolError(
            401,
            "stale_timestamp",
            f"The request's timestamp is {int(now - timestamp)} s away from the API's clock (at most "
            f"{signing.MAX_SKEW_SECONDS} s allowed): check the runner's clock (NTP).",
        )
    nonce = headers[signing.HEADER_NONCE]
    if not 16 <= len(nonce) <= 64:
        raise ProtocolError(401, "bad_nonce", "The nonce must be 16 to 64 characters.")
    runner_uuid = as_uuid(runner_id)
    row = None
    if runner_uuid is not None:
        # One round trip: the runner and its nonce burnt. Callers run this inside a transaction, so the
        # nonce of a request refused below (bad signature) is rolled back with it.
        with connection.cursor() as cursor:
            cursor.execute(_RUNNER_AND_NONCE_SQL, [runner_uuid, nonce, _nonce_expiry(timestamp)])
            row = cursor.fetchone()
    if row is None:
        raise ProtocolError(
            401, "unknown_runner", "No runner has this id: it was deleted, so register again."
        )
    runner = Runner(id=row[0], queue_id=row[1], public_key=row[2], enabled=row[3])
    digest = signing.body_hash(body)
    claimed = headers.get(signing.HEADER_BODY_HASH)
    message = signing.canonical_string(
        method=method,
        path=path,
        timestamp=str(timestamp),
        nonce=nonce,
        content_sha256=digest,
        runner_id=str(runner.id),
    )
    try:
        public_key = _public_key(runner.public_key)
    except ValueError:  # a runner without a key (the web tier's, for inline runs) signs nothing
        public_key = None
    if (
        (claimed and claimed != digest)
        or public_key is None
        or not signing.verify(public_key, headers[signing.HEADER_SIGNATURE], message)
    ):
        raise ProtocolError(
            401, "bad_signature", "The signature does not match this runner's key and request."
        )
    if not row[4]:
        raise ProtocolError(401, "replayed", "This request was already received (its nonce was used).")
    if not runner.enabled:
        raise ProtocolError(403, "runner_disabled", "This runner is disabled: an admin can enable it again.")
    return runner


def nonces_purge_expired(*, limit: int = 5000) -> int:
    ids = RunnerNonce.objects.filter(expires_at__lt=timezone.now()).values_list("id", flat=True)[:limit]
    deleted, _ = RunnerNonce.objects.filter(id__in=list(ids)).delete()
    return deleted
