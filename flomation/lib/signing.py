"""Request signing of the runner protocol, shared by the runner (signs) and the API (verifies). No Django.

Every request after registration carries these headers:

    X-Flomation-Runner      the runner id
    X-Flomation-Timestamp   Unix time in whole seconds; the API accepts +-5 minutes
    X-Flomation-Nonce       32 random hex characters, never reused by this runner
    X-Flomation-Content-SHA256  hex SHA-256 of the body (empty body: the hash of b"")
    X-Flomation-Signature   base64 RSA-PSS (MGF1-SHA-256, salt length = digest length) over SHA-256 of
                            the canonical string below

The canonical string binds every part of the request that matters, one per line:

    FLOMATION-RUNNER-V1
    <METHOD>
    <path with query string, exactly as sent>
    <timestamp>
    <nonce>
    <hex SHA-256 of the body>
    <runner id>
"""

from __future__ import annotations

import base64
import hashlib
import os
import secrets
import time
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

SCHEME = "FLOMATION-RUNNER-V1"
HEADER_RUNNER = "X-Flomation-Runner"
HEADER_TIMESTAMP = "X-Flomation-Timestamp"
HEADER_NONCE = "X-Flomation-Nonce"
HEADER_BODY_HASH = "X-Flomation-Content-SHA256"
HEADER_SIGNATURE = "X-Flomation-Signature"
MAX_SKEW_SECONDS = 300
KEY_BITS = 2048

_PSS = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=padding.PSS.DIGEST_LENGTH)


def body_hash(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def canonical_string(
    *, method: str, path: str, timestamp: str, nonce: str, content_sha256: str, runner_id: str
) -> bytes:
    return "\n".join((SCHEME, method.upper(), path, timestamp, nonce, content_sha256, runner_id)).encode()


def sign_headers(
    key: rsa.RSAPrivateKey, *, runner_id: str, method: str, path: str, body: bytes, now: float | None = None
) -> dict[str, str]:
    """The headers that authenticate one request; `path` includes the query string as it is sent."""
    timestamp = str(int(now if now is not None else time.time()))
    nonce = secrets.token_hex(16)
    digest = body_hash(body)
    message = canonical_string(
        method=method, path=path, timestamp=timestamp, nonce=nonce, content_sha256=digest, runner_id=runner_id
    )
    signature = key.sign(message, _PSS, hashes.SHA256())
    return {
        HEADER_RUNNER: runner_id,
        HEADER_TIMESTAMP: timestamp,
        HEADER_NONCE: nonce,
        HEADER_BODY_HASH: digest,
        HEADER_SIGNATURE: base64.b64encode(signature).decode(),
    }


def load_public_key(pem: str) -> rsa.RSAPublicKey:
    """Parses a PEM public key; raises ValueError unless it is an RSA key of at least 2048 bits."""
    try:
        key = serialization.load_pem_public_key(pem.encode())
    except (ValueError, TypeError) as error:
        raise ValueError("the public key is not a PEM-encoded public key") from error
    if not isinstance(key, rsa.RSAPublicKey) or key.key_size < KEY_BITS:
        raise ValueError(f"the public key must be an RSA key of at least {KEY_BITS} bits")
    return key


def verify(public_key: rsa.RSAPublicKey, signature_b64: str, message: bytes) -> bool:
    try:
        signature = base64.b64decode(signature_b64, validate=True)
        public_key.verify(signature, message, _PSS, hashes.SHA256())
    except (InvalidSignature, ValueError):
        return False
    return True


def public_key_pem(key: rsa.RSAPrivateKey) -> str:
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def load_or_create_key(path: Path) -> rsa.RSAPrivateKey:
    """Reads the runner's private key, or makes an RSA-2048 key and writes it as PEM with mode 0600."""
    if path.exists():
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        if not isinstance(key, rsa.RSAPrivateKey):
            raise ValueError(f"{path} does not hold an RSA private key")
        return key
    key = rsa.generate_private_key(public_exponent=65537, key_size=KEY_BITS)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(pem)
    os.chmod(temporary, 0o600)
    os.replace(temporary, path)
    return key
