"""TOTP (RFC 6238) multi-factor authentication and single-use recovery codes."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time

import pyotp
import segno
from django.conf import settings
from django.utils import timezone

from flomation.identity import db as identity_db
from flomation.identity.errors import CodeInvalid, LoginRefused, MfaStateError
from flomation.identity.models import RecoveryCode, TOTPDevice, User
from flomation.lib import crypto

RECOVERY_CODE_COUNT = 10
_RECOVERY_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # 32 symbols, no 0/O or 1/I: 5 bits each
_RECOVERY_LENGTH = 16  # 80 random bits
_STEP = 30


def _hash(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


def _normalise(code: str) -> str:
    return re.sub(r"[\s-]", "", code or "").upper()


def _seed(device: TOTPDevice) -> str:
    return crypto.decrypt(settings.FLOMATION_ENCRYPTION_KEYS, device.secret_ciphertext)


def _totp_accept(device: TOTPDevice, code: str) -> bool:
    """Accepts a code of the previous, current or next time step, each step at most once."""
    if not re.fullmatch(r"\d{6}", code):
        return False
    totp = pyotp.TOTP(_seed(device))
    now_step = int(time.time()) // _STEP
    for step in (now_step - 1, now_step, now_step + 1):
        if step > device.last_used_step and hmac.compare_digest(totp.at(step * _STEP), code):
            # Compare-and-swap: of two requests racing with the same code, only one wins.
            won = TOTPDevice.objects.filter(pk=device.pk, last_used_step__lt=step).update(last_used_step=step)
            if won:
                device.last_used_step = step
            return bool(won)
    return False


def totp_enrol_start(*, user: User) -> str:
    """Starts (or restarts) enrolment with a new seed and returns it; MFA is on only after confirmation."""
    if user.mfa_enabled:
        raise MfaStateError("Two-factor authentication is already on. Turn it off first to change apps.")
    seed = pyotp.random_base32(length=32)
    TOTPDevice.objects.update_or_create(
        user=user,
        defaults={
            "secret_ciphertext": crypto.encrypt(settings.FLOMATION_ENCRYPTION_KEYS, seed),
            "confirmed_at": None,
            "last_used_step": 0,
            "created_at": timezone.now(),
        },
    )
    return seed


def totp_pending_seed(*, user: User) -> str | None:
    """The seed of an enrolment that is started but not confirmed, to show its QR code again."""
    device = TOTPDevice.objects.filter(user=user, confirmed_at__isnull=True).first()
    return _seed(device) if device else None


def totp_provisioning_uri(*, user: User, seed: str) -> str:
    return pyotp.TOTP(seed).provisioning_uri(
        name=user.email, issuer_name=f"Flomation ({settings.AUTH_REALM})"
    )


def totp_qr_svg(*, uri: str) -> str:
    """An inline SVG QR code of an otpauth:// URI (no image library needed)."""
    return segno.make(uri, error="m").svg_inline(scale=5, dark="#111827", light="#ffffff")


@identity_db.atomic()
def totp_enrol_confirm(*, user: User, code: str) -> list[str]:
    """Turns MFA on once the app shows a correct code; returns the new recovery codes (shown once)."""
    device = TOTPDevice.objects.select_for_update().filter(user=user, confirmed_at__isnull=True).first()
    if device is None:
        raise MfaStateError("There is no set-up in progress. Start the set-up again.")
    if not _totp_accept(device, _normalise(code)):
        raise CodeInvalid()
    device.confirmed_at = timezone.now()
    device.save(update_fields=["confirmed_at"])
    return recovery_codes_generate(user=user)


def recovery_codes_generate(*, user: User) -> list[str]:
    """Replaces the user's recovery codes with ten new ones and returns them (only hashes are kept)."""
    codes = [
        "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(_RECOVERY_LENGTH))
        for _ in range(RECOVERY_CODE_COUNT)
    ]
    with identity_db.atomic():
        RecoveryCode.objects.filter(user=user).delete()
        RecoveryCode.objects.bulk_create(RecoveryCode(user=user, code_hash=_hash(code)) for code in codes)
    return ["-".join(code[i : i + 4] for i in range(0, _RECOVERY_LENGTH, 4)) for code in codes]


def mfa_verify(*, user: User, code: str) -> bool:
    """True for a current, unused TOTP code or an unused recovery code (which is then used up)."""
    code = _normalise(code)
    device = TOTPDevice.objects.filter(user=user, confirmed_at__isnull=False).first()
    if device is None or not code:
        return False
    if re.fullmatch(r"\d{6}", code):
        return _totp_accept(device, code)
    if len(code) != _RECOVERY_LENGTH:
        return False
    return bool(
        RecoveryCode.objects.filter(user=user, code_hash=_hash(code), used_at__isnull=True).update(
            used_at=timezone.now()
        )
    )


def mfa_disable(*, user: User, password: str, code: str) -> None:
    """Turns MFA off; needs the password and a current code (or a recovery code)."""
    if not user.mfa_enabled:
        raise MfaStateError("Two-factor authentication is not on.")
    if not user.check_password(password):
        raise LoginRefused("The password is wrong.")
    if not mfa_verify(user=user, code=code):
        raise CodeInvalid()
    with identity_db.atomic():
        TOTPDevice.objects.filter(user=user).delete()
        RecoveryCode.objects.filter(user=user).delete()


def recovery_codes_regenerate(*, user: User, code: str) -> list[str]:
    if not user.mfa_enabled:
        raise MfaStateError("Two-factor authentication is not on.")
    if not mfa_verify(user=user, code=code):
        raise CodeInvalid()
    return recovery_codes_generate(user=user)
