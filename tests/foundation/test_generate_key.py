"""`manage.py generate_key` works on a new box, before any key is set: its output is how one gets set."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parents[2]


def generate(*arguments: str) -> subprocess.CompletedProcess[str]:
    keyless = {
        key: value
        for key, value in os.environ.items()
        if key not in ("SECRET_KEY", "AUTH_SECRET", "FLOMATION_ENCRYPTION_KEY", "DJANGO_SETTINGS_MODULE")
    }
    return subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "generate_key", *arguments],
        env={**keyless, "DEBUG": "false", "FLOMATION_IGNORE_DOTENV": "1"},
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip


def test_a_signing_secret_is_printed_on_a_box_with_no_secret_key_yet():
    result = generate("--secret")
    assert result.returncode == 0, result.stderr
    secret = result.stdout.strip()
    assert len(secret) == 64 and secret != generate("--secret").stdout.strip()


def test_an_encryption_key_is_printed_on_a_box_with_no_secret_key_yet():
    result = generate()
    assert result.returncode == 0, result.stderr
    Fernet(result.stdout.strip().encode())  # a valid key


def test_a_mistyped_option_is_refused_with_usage():
    result = generate("--secrte")
    assert result.returncode == 2 and "usage: manage.py generate_key" in result.stderr
