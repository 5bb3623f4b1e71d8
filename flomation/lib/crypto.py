"""Encryption at rest with a rotating key set: the first key encrypts, every key decrypts. No Django here."""

from __future__ import annotations

import hashlib
import secrets

from cryptography.fernet import Fernet, InvalidToken, MultiFernet


class DecryptionError(Exception):
    """No key in the set opens the token (a key was removed too early, or the data is damaged)."""


def _fernet(keys: list[str]) -> MultiFernet:
    if not keys:
        raise ValueError("no encryption key configured (FLOMATION_ENCRYPTION_KEY)")
    return MultiFernet([Fernet(key.encode() if isinstance(key, str) else key) for key in keys])


def encrypt(keys: list[str], plaintext: str) -> str:
    return _fernet(keys).encrypt(plaintext.encode()).decode()


def decrypt(keys: list[str], token: str) -> str:
    try:
        return _fernet(keys).decrypt(token.encode()).decode()
    except InvalidToken:
        raise DecryptionError("the value cannot be decrypted with any configured key") from None


def rotate(keys: list[str], token: str) -> str:
    """Re-encrypts `token` under the first key (no-op in effect if it already is)."""
    try:
        return _fernet(keys).rotate(token.encode()).decode()
    except InvalidToken:
        raise DecryptionError("the value cannot be decrypted with any configured key") from None


def encrypted_with_primary(keys: list[str], token: str) -> bool:
    try:
        Fernet(keys[0].encode()).decrypt(token.encode())
    except InvalidToken:
        return False
    return True


def sha256_hex(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def random_token(prefix: str = "", nbytes: int = 32) -> str:
    """A URL-safe random token (nbytes of randomness), optionally with a recognisable prefix."""
    return prefix + secrets.token_urlsafe(nbytes)
