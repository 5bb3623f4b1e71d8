"""Reading a trigger node's inputs (`data.config.inputs`: a list of {name, type, value}) into typed settings.

Secret inputs (keys, tokens, passwords, connection strings; declared once on the trigger node, see
`flomation.executor.secret_inputs`) are split off at deploy time and stored encrypted; the plain `config`
may be shown to authors. Names follow the seed's webhook configuration
(`method`, `authentication`, `responseMode`, `timeout`, `cors`) with snake_case aliases; docs/launch.md lists
every input each trigger kind reads.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from flomation.executor.secret_inputs import is_blank, is_secret_input
from flomation.launch.signatures import ALGORITHMS, PRESETS, PresetSettings

HTTP_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


def split_inputs(inputs: Iterable[Any], *, action: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Returns (config, secrets) from the inputs of a node with `action`; inputs without a name are ignored.

    A secret's value is as the revision stores it: a `{"secret_ref": id}`, a `${secrets.NAME}` reference
    or (a revision saved before secrets were stored apart) the value itself.
    """
    config: dict[str, Any] = {}
    secrets: dict[str, Any] = {}
    for item in inputs or []:
        if not isinstance(item, dict) or not item.get("name"):
            continue
        name = str(item["name"])
        value = item.get("value")
        if is_secret_input(action, item):
            if not is_blank(value):
                secrets[name] = value
        else:
            config[name] = value
    return config, secrets


def first(config: dict[str, Any], *names: str, default: Any = None) -> Any:
    for name in names:
        value = config.get(name)
        if value not in (None, ""):
            return value
    return default


def as_list(value: Any) -> list[str]:
    """A multi-select value: a JSON list, a list, or a comma/newline separated string."""
    if value in (None, ""):
        return []
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            try:
                value = json.loads(text)
            except ValueError:
                value = text.strip("[]")
        if isinstance(value, str):
            return [part.strip() for part in value.replace("\n", ",").split(",") if part.strip()]
    if isinstance(value, dict):
        return [str(key) for key, enabled in value.items() if enabled]
    return [str(part).strip() for part in value if str(part).strip()]


def as_int(value: Any, default: int, *, minimum: int | None = None, maximum: int | None = None) -> int:
    try:
        number = int(float(value)) if value not in (None, "") else default
    except (TypeError, ValueError):
        number = default
    if minimum is not None:
        number = max(minimum, number)
    if maximum is not None:
        number = min(maximum, number)
    return number


def as_bool(value: Any, default: bool = False) -> bool:
    if isinstance(value, bool):
        return value
    if value in (None, ""):
        return default
    return str(value).strip().lower() in {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class WebhookSettings:
    methods: frozenset[str]
    auth: str  # none | api_key | bearer | hmac
    api_key_header: str
    response_mode: str  # immediate | lastNode
    timeout_seconds: float
    cors_origins: frozenset[str]
    max_body_bytes: int
    rate_per_second: float  # 0 means no limit
    burst: int
    preset: PresetSettings | None = None  # an app-event preset: its scheme replaces `auth`


AUTH_MODES = {"none": "none", "": "none", "api_key": "api_key", "apikey": "api_key", "header": "api_key",
              "bearer": "bearer", "token": "bearer", "hmac": "hmac", "signature": "hmac"}  # fmt: skip


def webhook_settings(config: dict[str, Any], *, kind: str) -> WebhookSettings:
    auth_value = first(config, "authentication", "auth", "auth_type", default="none")
    header = "X-API-Key"
    if isinstance(auth_value, dict):  # the seed's {"type": "api_key", "header": "X-API-Key"}
        header = auth_value.get("header") or header
        auth_value = auth_value.get("type", "none")
    auth = AUTH_MODES.get(str(auth_value).strip().lower())
    if auth is None:
        raise ValueError(f"unknown authentication {auth_value!r}; use none, api_key, bearer or hmac")
    methods = {m.upper() for m in as_list(first(config, "methods", "method"))} or {"POST"}
    cors = first(config, "cors", "cors_origins", "allowed_origins", default=[])
    if isinstance(cors, dict):
        cors = cors.get("allowedOrigins", []) if as_bool(cors.get("enabled"), True) else []
    default_mode = "lastNode" if kind == "web" else "immediate"
    mode = str(first(config, "responseMode", "response_mode", default=default_mode))
    per_minute = as_int(first(config, "rate_limit", "rate_limit_per_minute"), 6000, minimum=0)
    preset = preset_settings(config)
    return WebhookSettings(
        preset=preset,
        methods=frozenset(methods & set(HTTP_METHODS)) or frozenset({"POST"}),
        auth="preset" if preset else auth,
        api_key_header=str(first(config, "api_key_header", "header", default=header)),
        response_mode="lastNode" if mode.lower() in {"lastnode", "last_node", "sync"} else "immediate",
        timeout_seconds=as_int(first(config, "timeout"), 30000, minimum=1000, maximum=300000) / 1000,
        cors_origins=frozenset(as_list(cors)),
        max_body_bytes=as_int(
            first(config, "max_body_bytes", "max_body_size"), 1 << 20, minimum=1, maximum=10 << 20
        ),
        rate_per_second=per_minute / 60,
        burst=as_int(first(config, "rate_limit_burst", "burst"), max(1, per_minute // 6), minimum=1),
    )


def preset_settings(config: dict[str, Any]) -> PresetSettings | None:
    """The webhook's app-event preset (GitHub, Stripe, ...), or None for the plain authentication modes."""
    name = str(first(config, "preset", default="none")).strip().lower().replace("-", "_")
    if name in {"", "none", "custom"}:
        return None
    if name not in PRESETS:
        raise ValueError(f"unknown preset {name!r}; use one of {', '.join(PRESETS)}")
    algorithm = str(first(config, "signature_algorithm", default="sha256")).lower().replace("-", "")
    if algorithm not in ALGORITHMS:
        raise ValueError(f"unknown signature_algorithm {algorithm!r}; use {', '.join(ALGORITHMS)}")
    encoding = str(first(config, "signature_encoding", default="hex")).lower()
    if encoding not in {"hex", "base64"}:
        raise ValueError(f"unknown signature_encoding {encoding!r}; use hex or base64")
    return PresetSettings(
        name=name,
        tolerance_seconds=as_int(first(config, "signature_tolerance"), 300, minimum=1, maximum=86400),
        header=str(first(config, "signature_header", default="X-Signature")),
        algorithm=algorithm,
        encoding=encoding,
        prefix=str(first(config, "signature_prefix", default="")),
        timestamp_header=str(first(config, "timestamp_header", default="")),
        delivery_header=str(first(config, "delivery_header", default="")),
        event_header=str(first(config, "event_header", default="")),
        signature_url=str(first(config, "signature_url", default="")),
    )


@dataclass(frozen=True)
class FormField:
    name: str
    label: str
    type: str  # text | email | number | textarea | checkbox | select | date | tel | url
    required: bool
    options: tuple[str, ...] = ()


FIELD_TYPES = frozenset({"text", "email", "number", "textarea", "checkbox", "select", "date", "tel", "url"})


def form_fields(config: dict[str, Any]) -> list[FormField]:
    """The form's fields from `fields`: a list of {name, label, type, required, options}, a key/value list
    (label → type), or names separated by commas. A trailing `*` on a name marks it required."""
    raw = config.get("fields")
    if isinstance(raw, str) and raw.strip().startswith(("[", "{")):
        with contextlib.suppress(ValueError):
            raw = json.loads(raw)
    items: list[dict[str, Any]] = []
    if isinstance(raw, dict):
        items = [{"name": key, "type": value} for key, value in raw.items()]
    elif isinstance(raw, list):
        for entry in raw:
            if isinstance(entry, dict) and "key" in entry and "name" not in entry:
                items.append({"name": entry["key"], "type": entry.get("value") or "text"})
            elif isinstance(entry, dict):
                items.append(entry)
            else:
                items.append({"name": str(entry)})
    elif raw:
        items = [{"name": name} for name in as_list(raw)]
    fields = []
    for entry in items:
        name = str(entry.get("name", "")).strip()
        required = as_bool(entry.get("required"), False) or name.endswith("*")
        name = name.rstrip("*").strip()
        if not name:
            continue
        kind = str(entry.get("type") or "text").lower()
        fields.append(
            FormField(
                name=name,
                label=str(entry.get("label") or name.replace("_", " ").capitalize()),
                type=kind if kind in FIELD_TYPES else "text",
                required=required,
                options=tuple(as_list(entry.get("options"))),
            )
        )
    return fields or [FormField(name="message", label="Message", type="textarea", required=True)]


def poll_interval_seconds(config: dict[str, Any], default: int = 60) -> int:
    """`interval` in `unit` (seconds, minutes, hours); at least 5 seconds."""
    interval = as_int(first(config, "interval", "poll_interval"), default, minimum=1)
    unit = str(first(config, "unit", default="seconds")).lower()
    factor = {"minutes": 60, "minute": 60, "hours": 3600, "hour": 3600}.get(unit, 1)
    return max(5, interval * factor)
