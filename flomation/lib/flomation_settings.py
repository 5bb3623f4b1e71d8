"""A Flomation install's configuration read as ours: the environment names and `config.json` keys of
Flomation's installation guide (Sentinel, API, Launch and the editor's environment file) mapped onto this
platform's variables, so an operator can start a role with the files they already have.

Our own variable wins when it is set too; each such clash gives a warning naming both (never a value).
Within Flomation's names the environment wins over `config.json` (FLOMATION_CONFIG), as its services do.
Django-free: settings.py calls `flomation_settings_apply(os.environ)` before it reads anything.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable, Mapping, MutableMapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

CONFIG_VARIABLE = "FLOMATION_CONFIG"

# Ours <- Flomation's environment names, first set wins.
_ENVIRONMENT: dict[str, tuple[str, ...]] = {
    "LAUNCH_URL": ("LAUNCH_SERVICE_URL", "TRIGGER_URL"),
    "CSRF_TRUSTED_ORIGINS": ("ALLOWED_ORIGINS",),
    "API_URL": ("AUTOMATE_API_URL",),
    "IDENTITY_URL": ("LOGIN_URL", "LISTEN_URL"),
}
# Ours <- config.json key paths (Sentinel's, the API's and Launch's), first present wins.
_CONFIG: dict[str, tuple[str, ...]] = {
    "LAUNCH_URL": ("launch.url", "public_url"),
    "CSRF_TRUSTED_ORIGINS": ("security.allowed_origins",),
    "IDENTITY_SERVICE": ("security.identity_service",),
    "EDITOR_URL": ("security.editor_url",),
    "IDENTITY_URL": ("listener.url",),
    "LAUNCH_API_URL": ("automate.url",),
    "LAUNCH_API_KEY": ("automate.key",),
    "AUTH_SECRET": ("security.secret",),
    "AUTH_REALM": ("security.realm",),
    "AUTH_LOGIN_REDIRECT": ("security.login_redirect",),
    "AUTH_LOGOUT_REDIRECT": ("security.logout_redirect",),
    "AUTH_COOKIE_DOMAIN": ("security.cookie.domain",),
    "AUTH_COOKIE_SECURE": ("security.cookie.secure",),
    "AUTH_TOKEN_LIFETIME": ("security.cookie.expiration",),
    "NOTIFICATIONS_ENABLED": ("notification.enabled",),
    "NOTIFICATIONS_SEND_FROM": ("notification.send_from",),
    "SMTP_HOST": ("notification.smtp.host",),
    "SMTP_PORT": ("notification.smtp.port",),
    "SMTP_USERNAME": ("notification.smtp.username",),
    "SMTP_PASSWORD": ("notification.smtp.password",),
}
# The database, field by field: Sentinel's DB_* names, the API's DATABASE_* names, then config.json.
_DATABASE: dict[str, tuple[tuple[str, ...], str]] = {
    "host": (("DB_HOSTNAME", "DATABASE_HOSTNAME"), "database.hostname"),
    "port": (("DB_PORT", "DATABASE_PORT"), "database.port"),
    "user": (("DB_USERNAME", "DATABASE_USER", "DATABASE_USERNAME"), "database.username"),
    "password": (("DB_PASSWORD", "DATABASE_PASSWORD"), "database.password"),
    "name": (("DB_NAME", "DATABASE_NAME"), "database.database"),
    "sslmode": (("DB_SSL_MODE", "DATABASE_SSL_MODE"), "database.ssl_mode"),
    "key": (("DB_ENCRYPTION_KEY", "DATABASE_ENCRYPTION_KEY"), "database.encryption_key"),
}
# Every Flomation name read here, for documentation and the example environment.
FLOMATION_NAMES = sorted(
    {name for names in _ENVIRONMENT.values() for name in names}
    | {name for names, _ in _DATABASE.values() for name in names}
    | {"LISTEN_ADDRESS", "LISTEN_PORT", CONFIG_VARIABLE}
)


@dataclass
class Mapped:
    """Our variables to set (`values`), where each came from (`sources`) and the clashes (`warnings`)."""

    values: dict[str, str] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


def flomation_config_read(path: str) -> dict[str, Any]:
    """A service's config.json; raises ValueError naming the file when it cannot be used."""
    try:
        data = json.loads(Path(path).read_text())
    except OSError as error:
        raise ValueError(f"{CONFIG_VARIABLE}={path!r} cannot be read: {error.strerror}") from None
    except ValueError as error:
        raise ValueError(f"{CONFIG_VARIABLE}={path!r} is not valid JSON: {error}") from None
    if not isinstance(data, dict):
        raise ValueError(f"{CONFIG_VARIABLE}={path!r} must hold a JSON object")
    return data


def flomation_settings(*, environ: Mapping[str, str], config: dict[str, Any] | None = None) -> Mapped:
    """Our variables for Flomation's names in `environ` and keys in `config`, ours in `environ` winning."""
    mapped = Mapped()
    config = config or {}

    def offer(ours: str, value: Any, source: str) -> None:
        text = _text(value)
        if text is None or ours in mapped.values:
            return
        if environ.get(ours):
            mapped.warnings.append(f"{ours} is set, so {source} is ignored; remove one of them.")
            return
        mapped.values[ours] = text
        mapped.sources[ours] = source

    for ours, names in _ENVIRONMENT.items():
        for name in names:
            offer(ours, environ.get(name), name)
    if environ.get("LOGIN_URL"):  # the editor's Sentinel: people log in at its /authenticate page
        offer("IDENTITY_LOGIN_URL", environ["LOGIN_URL"].rstrip("/") + "/authenticate", "LOGIN_URL")
    for ours, paths in _CONFIG.items():
        for path in paths:
            offer(ours, _lookup(config, path), f"{path} in {CONFIG_VARIABLE}")
    if "IDENTITY_SERVICE" in mapped.values and not environ.get("TOKEN_VERIFICATION"):
        # A Flomation service with an identity service checks every token there: so does this role.
        mapped.values["TOKEN_VERIFICATION"] = "introspect"
        mapped.sources["TOKEN_VERIFICATION"] = mapped.sources["IDENTITY_SERVICE"]
    _listen(environ, config, offer)
    _database(environ, config, offer, mapped)
    return mapped


def flomation_settings_apply(environ: MutableMapping[str, str]) -> list[str]:
    """Sets our variables in `environ` from Flomation's; returns the warnings. A bad config.json raises
    ValueError (settings turns it into ImproperlyConfigured)."""
    path = environ.get(CONFIG_VARIABLE)
    config = flomation_config_read(path) if path else None
    mapped = flomation_settings(environ=environ, config=config)
    environ.update(mapped.values)
    return mapped.warnings


def _listen(environ: Mapping[str, str], config: dict[str, Any], offer: Callable[..., None]) -> None:
    """LISTEN_ADDRESS/LISTEN_PORT (listener.* for Sentinel, http.* for the API and Launch) -> FLOMATION_BIND.
    Flomation binds 127.0.0.1 unless told otherwise, and so does a mapped bind."""
    port = environ.get("LISTEN_PORT") or _text(
        _lookup(config, "listener.port") or _lookup(config, "http.port")
    )
    if not port:
        return
    address = (
        environ.get("LISTEN_ADDRESS")
        or _text(_lookup(config, "listener.address") or _lookup(config, "http.address"))
        or "127.0.0.1"
    )
    source = (
        "LISTEN_ADDRESS/LISTEN_PORT" if environ.get("LISTEN_PORT") else f"the listener in {CONFIG_VARIABLE}"
    )
    host = f"[{address}]" if ":" in address else address
    offer("FLOMATION_BIND", f"{host}:{port}", source)


def _database(
    environ: Mapping[str, str], config: dict[str, Any], offer: Callable[..., None], mapped: Mapped
) -> None:
    parts: dict[str, str] = {}
    for part, (names, path) in _DATABASE.items():
        value = next((environ[name] for name in names if environ.get(name)), None)
        value = value or _text(_lookup(config, path))
        if value:
            parts[part] = value
    if parts.get("key"):
        offer("FLOMATION_ENCRYPTION_KEY", fernet_key(parts["key"]), "DB_ENCRYPTION_KEY")
    if not parts.get("name"):
        if parts.get("host"):
            mapped.warnings.append(
                "DB_HOSTNAME (or DATABASE_HOSTNAME) is set without DB_NAME; set the name too."
            )
        return
    auth = quote(parts.get("user", ""), safe="")
    if parts.get("password"):
        auth += ":" + quote(parts["password"], safe="")
    host = parts.get("host", "localhost")
    host = f"[{host}]" if ":" in host else host
    url = f"postgres://{auth + '@' if auth else ''}{host}:{parts.get('port', '5432')}/{quote(parts.get('name', ''), safe='')}"
    if parts.get("sslmode"):
        url += "?sslmode=" + quote(parts["sslmode"], safe="")
    offer("DATABASE_URL", url, "DB_*/DATABASE_* (or database in config.json)")


def fernet_key(value: str) -> str:
    """`value` when it already is a Fernet key, else one derived from it: Flomation's encryption keys are free
    text, ours are 32 url-safe base64 bytes. (Flomation's encrypted rows are not read here, so the key only
    needs to be stable, not the same bytes.)"""
    try:
        if len(base64.urlsafe_b64decode(value.encode())) == 32:
            return value
    except ValueError:
        pass
    digest = hashlib.sha256(("flomation-db-encryption-key:" + value).encode()).digest()
    return base64.urlsafe_b64encode(digest).decode()


def _lookup(config: dict[str, Any], path: str) -> Any:
    current: Any = config
    for key in path.split("."):
        if not isinstance(current, dict) or key not in current:
            return None
        current = current[key]
    return current


def _text(value: Any) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):  # allowed_origins given as an array (Flomation refuses it; we accept it)
        return ",".join(str(item) for item in value)
    return str(value)
