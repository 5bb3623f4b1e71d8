"""Key rotation for what identity keeps encrypted: the seeds of people's authenticator apps (TOTP)."""

from __future__ import annotations

from collections.abc import Iterator

from django.conf import settings

from flomation.identity import db as identity_db
from flomation.identity.models import TOTPDevice
from flomation.lib import crypto


def encryption_rotate(*, batch_size: int = 500) -> Iterator[int]:
    """Re-encrypts every TOTP seed under the first key of FLOMATION_ENCRYPTION_KEY; yields, per batch, how
    many seeds it re-encrypted.

    Seeds already under the first key are left alone, so a run that was stopped can simply be started again.
    Each batch commits on its own and locks only its rows (SKIP LOCKED: a device being enrolled right now
    is left for the next run). Only the seed column is written, so codes used meanwhile still count.
    Raises DecryptionError naming the user when no configured key opens a seed.
    """
    keys = settings.FLOMATION_ENCRYPTION_KEYS
    last_pk: int | None = None
    while True:
        with identity_db.atomic():
            rows = TOTPDevice.objects.order_by("pk").select_for_update(skip_locked=True)
            if last_pk is not None:
                rows = rows.filter(pk__gt=last_pk)
            batch = list(rows.only("pk", "user_id", "secret_ciphertext")[:batch_size])
            if not batch:
                return
            changed = [device for device in batch if _rotated(keys, device)]
            if changed:
                TOTPDevice.objects.bulk_update(changed, ["secret_ciphertext"])
            last_pk = batch[-1].pk
        yield len(changed)


def _rotated(keys: list[str], device: TOTPDevice) -> bool:
    """Re-encrypts the device's seed in memory if it is not under the first key; True if it did."""
    token = device.secret_ciphertext
    if not token or crypto.encrypted_with_primary(keys, token):
        return False
    try:
        device.secret_ciphertext = crypto.rotate(keys, token)
    except crypto.DecryptionError:
        raise crypto.DecryptionError(
            f"The authenticator seed of user {device.user_id} cannot be decrypted with any configured key: "
            "put back the key it was written with (after the new first key) and run the command again."
        ) from None
    return True
