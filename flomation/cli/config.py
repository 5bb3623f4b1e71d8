"""Where the command line finds the API and its token: the environment first, then the file `login` wrote."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from flomation.cli.errors import CliError


@dataclass(frozen=True)
class Settings:
    url: str
    token: str
    organisation: str | None


def config_path() -> Path:
    """FLOMATION_CLI_CONFIG, else $XDG_CONFIG_HOME/flomation/cli.json (~/.config when unset)."""
    explicit = os.environ.get("FLOMATION_CLI_CONFIG")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "flomation" / "cli.json"


def config_read() -> dict[str, str]:
    path = config_path()
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as error:
        raise CliError(f"cannot read the configuration file {path}: {error}") from None
    if not isinstance(data, dict):
        raise CliError(f"the configuration file {path} is not a JSON object; run `flomation login` again")
    return {key: value for key, value in data.items() if isinstance(value, str)}


def config_write(*, url: str, token: str, organisation: str | None) -> Path:
    """Writes the file readable by its owner only: it holds a token."""
    path = config_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    data = {"url": url, "token": token, **({"organisation": organisation} if organisation else {})}
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        json.dump(data, handle, indent=2)
    os.chmod(path, 0o600)  # an older file may have been created with wider permissions
    return path


def settings_load(*, organisation: str | None = None) -> Settings:
    """FLOMATION_URL / FLOMATION_TOKEN / FLOMATION_ORG over the configuration file; raises CliError naming
    what is missing."""
    stored = config_read()
    url = os.environ.get("FLOMATION_URL") or stored.get("url") or ""
    token = os.environ.get("FLOMATION_TOKEN") or stored.get("token") or ""
    if not url:
        raise CliError("no API address: set FLOMATION_URL or run `flomation login`")
    if not token:
        raise CliError(
            "no API token: set FLOMATION_TOKEN (a flo_ personal API token) or run `flomation login`"
        )
    chosen = organisation or os.environ.get("FLOMATION_ORG") or stored.get("organisation") or None
    return Settings(url=url.rstrip("/"), token=token, organisation=chosen)
