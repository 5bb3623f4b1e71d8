"""The runner's configuration: config.json as the seed's runner reads it, every key overridable by env.

    {
      "runner": {"url": ..., "registration_code": ..., "name": ..., "checkin_timeout": 5,
                 "certificate": "flomation-runner.pem"},
      "execution": {"max_concurrent_executors": 5, "execution_directory": ..., "executable_name": ...,
                    "state_directory": "./", "prefetch": 5},
      "egress": {"allow": ["10.20.0.0/16"], "allow_local": false, "allow_platform": false}
    }

An environment variable wins over the file. A relative `certificate` lives in `state_directory`. An empty
`executable_name` means the warm pool (executor processes that import the engine once); a command there
means a fresh subprocess per execution. `prefetch` (not in the seed's file; default: 16 per slot) caps how
many claimed executions may wait for a slot, so that a slot that finishes starts the next at once.

`egress` is this runner's own egress policy, used for executions of its organisation's queues (a dedicated
runner on a customer's network): `allow` lists address ranges its flows may reach besides public ones
(comma-separated in FLOMATION_RUNNER_EGRESS_ALLOW), `allow_local` lets them use unix sockets and file paths,
`allow_platform` lets them reach the platform's API at `runner.url`. With no `egress` section the strict
default applies. Executions from the platform's shared queue always run under the policy the platform sends
with them (the platform's and the organisation's), whatever this file says.
"""

from __future__ import annotations

import json
import os
import shlex
import socket
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from flomation.lib.egress import EgressPolicy, Endpoint, parse_networks


class ConfigError(ValueError):
    """The configuration cannot work; the message names the key or variable and says what to do."""


# (section, key, environment variable)
_KEYS: tuple[tuple[str, str, str], ...] = (
    ("runner", "url", "FLOMATION_API"),
    ("runner", "registration_code", "FLOMATION_REGISTRATION_CODE"),
    ("runner", "name", "FLOMATION_RUNNER_NAME"),
    ("runner", "checkin_timeout", "FLOMATION_RUNNER_CHECKIN_TIMEOUT"),
    ("runner", "certificate", "FLOMATION_RUNNER_CERTIFICATE_PATH"),
    ("execution", "max_concurrent_executors", "FLOMATION_RUNNER_MAX_EXECUTORS"),
    ("execution", "execution_directory", "FLOMATION_RUNNER_EXECUTION_DIRECTORY"),
    ("execution", "executable_name", "FLOMATION_RUNNER_EXECUTABLE_NAME"),
    ("execution", "state_directory", "FLOMATION_RUNNER_STATE_DIRECTORY"),
    ("execution", "prefetch", "FLOMATION_RUNNER_PREFETCH"),
    ("egress", "allow", "FLOMATION_RUNNER_EGRESS_ALLOW"),
    ("egress", "allow_local", "FLOMATION_RUNNER_EGRESS_ALLOW_LOCAL"),
    ("egress", "allow_platform", "FLOMATION_RUNNER_EGRESS_ALLOW_PLATFORM"),
)
ENVIRONMENT_VARIABLES = tuple(variable for _, _, variable in _KEYS)


@dataclass(frozen=True)
class RunnerConfig:
    url: str
    registration_code: str = ""
    name: str = field(default_factory=lambda: f"Flo Runner ({socket.gethostname()})")
    checkin_timeout: float = 5.0
    certificate: str = "flomation-runner.pem"
    max_concurrent_executors: int = max(1, min(4, os.cpu_count() or 1))
    execution_directory: str = ""
    executable_name: str = ""
    state_directory: str = "./"
    prefetch: int | None = None
    egress_allow: tuple[str, ...] = ()
    egress_allow_local: bool = False
    egress_allow_platform: bool = False

    @property
    def egress_policy(self) -> EgressPolicy:
        """This runner's own policy (for executions not from the shared queue); the API it talks to is
        one of the platform's endpoints."""
        parts = urlsplit(self.api_url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
        return EgressPolicy.build(
            allow=self.egress_allow,
            allow_local=self.egress_allow_local,
            allow_platform=self.egress_allow_platform,
            platform=[Endpoint(parts.hostname or "", port, "the platform's API")],
        )

    @property
    def claim_ahead(self) -> int:
        """At most how many claimed executions may wait for a slot (`prefetch`; by default 16 per slot)."""
        return 16 * self.max_concurrent_executors if self.prefetch is None else self.prefetch

    @property
    def api_url(self) -> str:
        return self.url.rstrip("/")

    @property
    def state_dir(self) -> Path:
        return Path(self.state_directory or ".").expanduser()

    @property
    def key_path(self) -> Path:
        path = Path(self.certificate).expanduser()
        return path if path.is_absolute() else self.state_dir / path

    @property
    def state_path(self) -> Path:
        return self.state_dir / "flomation-runner-state.json"

    @property
    def workspace_root(self) -> Path:
        if self.execution_directory:
            return Path(self.execution_directory).expanduser()
        return self.state_dir / "workspace"

    @property
    def executor_command(self) -> list[str]:
        """The subprocess command, or [] for the warm pool."""
        return shlex.split(self.executable_name) if self.executable_name.strip() else []


def _number(value: Any, where: str, kind: type, minimum: float) -> Any:
    try:
        number = kind(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{where} must be a number, got {value!r}") from None
    if number < minimum:
        raise ConfigError(f"{where} must be at least {minimum}, got {value!r}")
    return number


def load_config(path: str | Path | None = None, environ: Mapping[str, str] | None = None) -> RunnerConfig:
    """Reads `path` (if given and present; the default is ./config.json) and then the environment."""
    environ = os.environ if environ is None else environ
    data: dict[str, Any] = {}
    config_path = Path(path) if path else Path(environ.get("FLOMATION_RUNNER_CONFIG") or "config.json")
    if config_path.exists():
        try:
            raw = json.loads(config_path.read_text())
        except ValueError as error:
            raise ConfigError(f"{config_path} is not valid JSON: {error}") from None
        if not isinstance(raw, dict):
            raise ConfigError(f"{config_path} must hold a JSON object with 'runner' and 'execution'")
        data = raw
    elif path:
        raise ConfigError(f"the configuration file {config_path} does not exist")

    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for section, key, variable in _KEYS:
        part = data.get(section) or {}
        if not isinstance(part, dict):
            raise ConfigError(f"'{section}' in {config_path} must be an object")
        if environ.get(variable, "") != "":
            values[key], sources[key] = environ[variable], variable
        elif part.get(key) not in (None, ""):
            values[key], sources[key] = part[key], f"{section}.{key} in {config_path}"

    if not values.get("url"):
        raise ConfigError("no API URL: set runner.url in config.json or FLOMATION_API")
    url = str(values["url"])
    if not url.startswith(("http://", "https://")):
        raise ConfigError(f"{sources['url']} must be an http:// or https:// URL, got {url!r}")
    for key, kind, minimum in (
        ("checkin_timeout", float, 0.1),
        ("max_concurrent_executors", int, 1),
        ("prefetch", int, 0),
    ):
        if key in values:
            values[key] = _number(values[key], sources[key], kind, minimum)
    for key in ("registration_code", "name", "certificate", "execution_directory", "executable_name"):
        if key in values:
            values[key] = str(values[key])
    if "state_directory" in values:
        values["state_directory"] = str(values["state_directory"])
    if "allow" in values:
        try:
            networks = parse_networks(values.pop("allow"), where=sources["allow"])
        except ValueError as error:
            raise ConfigError(str(error)) from None
        values["egress_allow"] = tuple(str(network) for network in networks)
    for key in ("allow_local", "allow_platform"):
        if key in values:
            values[f"egress_{key}"] = _flag(values.pop(key), sources[key])
    return RunnerConfig(**values)


def _flag(value: Any, where: str) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in {"1", "true", "yes", "on"}:
        return True
    if text in {"0", "false", "no", "off"}:
        return False
    raise ConfigError(f"{where} must be true or false, got {value!r}")
