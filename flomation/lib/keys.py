"""New random keys for a new install (`manage.py generate_key [--secret]`). No Django: the command must
work before SECRET_KEY exists, since its output is how an operator sets SECRET_KEY in the first place."""

from __future__ import annotations

import argparse
import secrets

HELP = (
    "Prints a new random key: a Fernet key for FLOMATION_ENCRYPTION_KEY (default), or with --secret a "
    "64-character value for SECRET_KEY or AUTH_SECRET."
)


def new_key(*, secret: bool) -> str:
    if secret:
        return secrets.token_urlsafe(48)
    from cryptography.fernet import Fernet

    return Fernet.generate_key().decode()


def generate_key_main(arguments: list[str]) -> int:
    """`manage.py generate_key` run before Django's settings are read."""
    parser = argparse.ArgumentParser(prog="manage.py generate_key", description=HELP)
    parser.add_argument("--secret", action="store_true", help="a signing secret instead of a Fernet key")
    options = parser.parse_args(arguments)
    print(new_key(secret=options.secret))
    return 0
