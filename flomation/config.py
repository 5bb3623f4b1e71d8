"""Typed reading of environment variables for settings.py, on top of django-environ.

Every reader names the variable in its error, so a malformed value stops start-up with a message an
operator can act on. `secret()` also reads `NAME_FILE` (a path whose contents are the value), which is how
systemd credentials and container secrets are usually passed.
"""

from __future__ import annotations

import base64
import hashlib
import os
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import environ
from django.core.exceptions import ImproperlyConfigured

from flomation.roles import RoleError, parse_roles

_UNSET = object()


class Env:
    def __init__(self, base_dir: Path) -> None:
        self._env = environ.Env()
        # An optional .env beside manage.py for development; real deployments use EnvironmentFile=.
        dotenv = base_dir / ".env"
        if dotenv.is_file() and not os.environ.get("FLOMATION_IGNORE_DOTENV"):
            environ.Env.read_env(str(dotenv), overwrite=False)

    def _raw(self, name: str) -> str | None:
        return os.environ.get(name)

    def _fail(self, name: str, value: str, expected: str) -> ImproperlyConfigured:
        shown = value if len(value) <= 60 else value[:57] + "..."
        return ImproperlyConfigured(f"{name}={shown!r} is not valid: expected {expected}.")

    def str(self, name: str, default: str) -> str:
        value = self._raw(name)
        return default if value is None else value

    def bool(self, name: str, default: bool) -> bool:
        value = self._raw(name)
        if value is None or value == "":
            return default
        lowered = value.strip().lower()
        if lowered in {"1", "true", "yes", "on"}:
            return True
        if lowered in {"0", "false", "no", "off"}:
            return False
        raise self._fail(name, value, "true or false (also 1/0, yes/no, on/off)")

    def int(self, name: str, default: int, *, between: tuple[int, int] | None = None, unit: str = "") -> int:
        """A whole number; with `between` (inclusive), one outside the range fails naming it."""
        value = self._raw(name)
        if value is None or value == "":
            number = default
        else:
            try:
                number = int(value.strip())
            except ValueError:
                raise self._fail(name, value, "a whole number") from None
        if between is not None and not between[0] <= number <= between[1]:
            raise ImproperlyConfigured(
                f"{name} must be between {between[0]} and {between[1]}{' ' + unit if unit else ''}."
            )
        return number

    def choice(self, name: str, default: str, choices: list[str]) -> str:
        value = self._raw(name)
        if value is None or value == "":
            return default
        for choice in choices:
            if value.strip().lower() == choice.lower():
                return choice
        raise self._fail(name, value, "one of " + ", ".join(choices))

    def list(self, name: str, default: list[str]) -> list[str]:
        value = self._raw(name)
        if value is None:
            return list(default)
        return [item.strip() for item in value.split(",") if item.strip()]

    def path(self, name: str, default: Path) -> Path:
        value = self._raw(name)
        return Path(value).expanduser().resolve() if value else default

    def url(self, name: str, default: str) -> str:
        value = self._raw(name)
        if value is None or value == "":
            return default.rstrip("/")
        parts = urlsplit(value.strip())
        if parts.scheme not in {"http", "https"} or not parts.netloc:
            raise self._fail(name, value, "an absolute http:// or https:// URL")
        return value.strip().rstrip("/")

    def roles(self, name: str, default: str) -> frozenset[str]:
        value = self._raw(name) or default
        try:
            return parse_roles(value)
        except RoleError as exc:
            raise ImproperlyConfigured(f"{name}={value!r} is not valid: {exc}") from None

    def secret(self, name: str, default: Any = _UNSET) -> Any:
        """The value of NAME, else the contents of the file named by NAME_FILE, else the default."""
        value = self._raw(name)
        if value is not None and value != "":
            return value
        file_name = self._raw(name + "_FILE")
        if file_name:
            try:
                return Path(file_name).read_text().strip()
            except OSError as exc:
                raise ImproperlyConfigured(
                    f"{name}_FILE={file_name!r} cannot be read: {exc.strerror}."
                ) from None
        if default is _UNSET or default is None:
            raise ImproperlyConfigured(
                f"{name} is not set. Set {name} (or {name}_FILE to a file holding it); see .env.example."
            )
        return default

    def secret_list(self, name: str, default: list[str]) -> list[str]:
        raw = self.secret(name, default="")
        if not raw:
            return list(default)
        keys = [key.strip() for key in raw.split(",") if key.strip()]
        for key in keys:
            try:
                if len(base64.urlsafe_b64decode(key.encode())) != 32:
                    raise ValueError
            except ValueError:
                raise self._fail(
                    name, "<hidden>", "comma-separated Fernet keys (32 url-safe base64 bytes each)"
                ) from None
        return keys

    @staticmethod
    def derived_key(secret_key: str | None) -> str:
        """A development-only Fernet key derived from SECRET_KEY, so DEBUG installs work out of the box."""
        digest = hashlib.sha256(("flomation-encryption:" + (secret_key or "")).encode()).digest()
        return base64.urlsafe_b64encode(digest).decode()

    def database(self, url: str, var_dir: Path, name: str = "DATABASE_URL") -> dict[str, Any]:
        if not url:
            return {
                "ENGINE": "flomation.db",
                "NAME": self.str("EMBEDDED_DATABASE_NAME", "flomation"),
                "EMBEDDED_DATA_DIR": str(var_dir / "postgres"),
                "CONN_MAX_AGE": 60,
                "CONN_HEALTH_CHECKS": True,
            }
        try:
            config = environ.Env.db_url_config(url)
        except Exception:
            raise self._fail(name, "<hidden>", "a postgres://user:pass@host:port/name URL") from None
        if config.get("ENGINE") != "django.db.backends.postgresql":
            raise ImproperlyConfigured(f"{name} must point at PostgreSQL (postgres:// or postgresql://).")
        config["CONN_MAX_AGE"] = self.int("DATABASE_CONN_MAX_AGE", 60)
        config["CONN_HEALTH_CHECKS"] = True
        return config
