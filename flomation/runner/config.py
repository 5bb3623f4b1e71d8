"""The runner's configuration: config.json as the seed's runner reads it, every key overridable by env.

    {
      "runner": {"url": ..., "registration_code": ..., "name": ..., "checkin_timeout": 5,
                 "certificate": "flomation-runner.pem"},
      "execution": {"max_concurrent_executors": 5, "execution_directory": ..., "executable_name": ...,
                    "state_directory": "./", "prefetch": 5},
      "egress": {"allow": ["10.20.0.0/16"], "allow_local": false, "allow_platform": false},
      "tls": {"enabled": true, "ca_cert": "ca.pem", "cert": "runner.crt", "key": "runner.key",
              "api_url": "https://api-mtls.example.com"}
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

`tls` is Flomation's mutual TLS (MTLS_ENABLED, MTLS_CA_CERT, MTLS_CERT, MTLS_KEY, MTLS_API_URL): the runner
presents the client certificate `cert`/`key` on every connection to the API, checks the API's certificate
against `ca_cert` (default: the system's CAs), and talks to `api_url` instead of `runner.url` when given
(a proxy that verifies client certificates, see deploy/nginx-runner-mtls.conf).

Flomation's Docker entrypoint variables are read too, below ours: RUNNER_URL, RUNNER_REGISTRATION_CODE,
RUNNER_NAME, RUNNER_CHECKIN_TIMEOUT, EXECUTOR_MAX_CONCURRENT and EXECUTOR_DIRECTORY. Its EXECUTOR_INSTALL_DIR,
EXECUTOR_MODULE_DIR and EXECUTOR_DOWNLOAD_ON_START have no use here (the executor comes with the package)
and are logged as ignored.
"""

from __future__ import annotations

import json
import logging
import os
import shlex
import socket
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from flomation.lib.egress import EgressPolicy, Endpoint, parse_networks

logger = logging.getLogger(__name__)


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
    ("tls", "enabled", "MTLS_ENABLED"),
    ("tls", "ca_cert", "MTLS_CA_CERT"),
    ("tls", "cert", "MTLS_CERT"),
    ("tls", "key", "MTLS_KEY"),
    ("tls", "api_url", "MTLS_API_URL"),
)
# Flomation's Docker entrypoint names: read when ours are not set.
DOCKER_VARIABLES = {
    "FLOMATION_API": "RUNNER_URL",
    "FLOMATION_REGISTRATION_CODE": "RUNNER_REGISTRATION_CODE",
    "FLOMATION_RUNNER_NAME": "RUNNER_NAME",
    "FLOMATION_RUNNER_CHECKIN_TIMEOUT": "RUNNER_CHECKIN_TIMEOUT",
    "FLOMATION_RUNNER_MAX_EXECUTORS": "EXECUTOR_MAX_CONCURRENT",
    "FLOMATION_RUNNER_EXECUTION_DIRECTORY": "EXECUTOR_DIRECTORY",
}
DOCKER_IGNORED = ("EXECUTOR_INSTALL_DIR", "EXECUTOR_MODULE_DIR", "EXECUTOR_DOWNLOAD_ON_START")
ENVIRONMENT_VARIABLES = tuple(variable for _, _, variable in _KEYS) + tuple(DOCKER_VARIABLES.values())


@dataclass(frozen=True)
class ClientTls:
    """The client certificate the runner presents, and the CA bundle it checks the API with (None: system)."""

    cert: str
    key: str
    ca: str | None = None


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
    tls_enabled: bool = False
    tls_ca_cert: str = ""
    tls_cert: str = ""
    tls_key: str = ""
    tls_api_url: str = ""

    @property
    def tls(self) -> ClientTls | None:
        if not self.tls_enabled:
            return None
        return ClientTls(cert=self.tls_cert, key=self.tls_key, ca=self.tls_ca_cert or None)

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
        if self.tls_enabled and self.tls_api_url:
            return self.tls_api_url.rstrip("/")
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
        docker = DOCKER_VARIABLES.get(variable, "")
        if environ.get(variable, "") != "":
            values[key], sources[key] = environ[variable], variable
            if environ.get(docker):
                logger.warning("%s is set, so %s is ignored; remove one of them", variable, docker)
        elif environ.get(docker):
            values[key], sources[key] = environ[docker], docker
        elif part.get(key) not in (None, ""):
            values[key], sources[key] = part[key], f"{section}.{key} in {config_path}"

    for name in DOCKER_IGNORED:
        if environ.get(name):
            logger.warning("%s is ignored: the executor is installed with the runner's package", name)
    if section_tls := _tls_values(values, sources):
        values.update(section_tls)
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


def _tls_values(values: dict[str, Any], sources: dict[str, str]) -> dict[str, Any]:
    """The tls_* fields from the `tls` keys (popped from `values`); enabled needs a readable cert and key."""
    keys = ("enabled", "ca_cert", "cert", "key", "api_url")
    found = {key: values.pop(key) for key in keys if key in values}
    if not found:
        return {}
    enabled = _flag(found.get("enabled", False), sources.get("enabled", "tls.enabled"))
    result: dict[str, Any] = {"tls_enabled": enabled}
    for key in ("ca_cert", "cert", "key", "api_url"):
        if key in found:
            result[f"tls_{key}"] = str(found[key])
    if not enabled:
        return result
    for key, variable in (("cert", "MTLS_CERT"), ("key", "MTLS_KEY"), ("ca_cert", "MTLS_CA_CERT")):
        path = result.get(f"tls_{key}", "")
        if key != "ca_cert" and not path:
            raise ConfigError(f"mutual TLS is enabled but {variable} (tls.{key}) is not set")
        if path and not os.access(path, os.R_OK):
            raise ConfigError(f"{sources.get(key, variable)} names {path!r}, which cannot be read")
    api_url = result.get("tls_api_url", "")
    if api_url and not api_url.startswith("https://"):
        raise ConfigError(
            f"{sources.get('api_url', 'MTLS_API_URL')} must be an https:// URL, got {api_url!r}"
        )
    return result


def _flag(value: Any, where: str) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in {"1", "true", "yes", "on"}:
        return True
    if text in {"0", "false", "no", "off"}:
        return False
    raise ConfigError(f"{where} must be true or false, got {value!r}")
