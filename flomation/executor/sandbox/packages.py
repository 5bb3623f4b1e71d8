"""The operator's script packages: a directory of installed distributions that every script sandbox sees
read-only at /opt/flomation/packages (on ``sys.path`` for script/python).

Like n8n's external-module allow-list, the list is the operator's (``FLOMATION_SCRIPT_REQUIREMENTS``), never a
flow's: ``manage.py install_script_packages`` installs it with pip into a fresh directory and swaps it in whole,
so a failed install leaves the previous set in place. Standard library only; no Django.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

# A requirement as pip reads it (name, extras, version specifiers, markers), never an option such as
# --index-url or a path or URL: where packages come from stays pip's own configuration.
_REQUIREMENT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*(\[[A-Za-z0-9._,\s-]+\])?\s*([<>=!~;][^\s/\\]*)?$")


class PackageError(ValueError):
    """The requirements cannot be installed; the message says which and why."""


def check_requirements(requirements: list[str]) -> list[str]:
    cleaned = [item.strip() for item in requirements if item.strip()]
    for item in cleaned:
        if not _REQUIREMENT.match(item):
            raise PackageError(
                f"{item!r} is not a package requirement (expected a name with an optional version, "
                "such as 'requests==2.32.3'; options, paths and URLs are not accepted)"
            )
    return cleaned


def installed(directory: str | os.PathLike[str] | None) -> list[dict[str, str]]:
    """The distributions installed in ``directory`` (name and version), sorted by name."""
    if not directory or not os.path.isdir(directory):
        return []
    found = []
    for info in Path(directory).glob("*.dist-info"):
        fields: dict[str, str] = {}
        try:
            with open(info / "METADATA", encoding="utf-8", errors="replace") as metadata:
                for line in metadata:
                    if not line.strip():
                        break
                    key, _, value = line.partition(":")
                    if key in ("Name", "Version"):
                        fields[key] = value.strip()
        except OSError:
            continue
        if "Name" in fields:
            found.append({"name": fields["Name"], "version": fields.get("Version", "")})
    return sorted(found, key=lambda item: item["name"].lower())


def install(
    requirements: list[str], directory: str | os.PathLike[str], *, python: str | None = None
) -> list[dict[str, str]]:
    """Installs ``requirements`` into a new directory beside ``directory`` and swaps it in; returns what is
    installed. Raises PackageError (nothing changed) when a requirement is refused or pip fails."""
    wanted = check_requirements(requirements)
    target = Path(directory).resolve()
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = target.with_name(target.name + ".new")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    if wanted:
        command = [python or sys.executable, "-m", "pip", "install", "--quiet", "--no-input"]
        command += ["--disable-pip-version-check", "--target", str(staging), "--", *wanted]
        done = subprocess.run(command, capture_output=True, text=True)
        if done.returncode != 0:
            shutil.rmtree(staging, ignore_errors=True)
            detail = (done.stderr or done.stdout).strip()[-1500:]
            raise PackageError(f"pip could not install {', '.join(wanted)}: {detail}")
    for path in [staging, *staging.rglob("*")]:  # readable by every run's uid, writable by none
        if not path.is_symlink():
            os.chmod(path, 0o755 if path.is_dir() or os.access(path, os.X_OK) else 0o644)
    previous = target.with_name(target.name + ".old")
    shutil.rmtree(previous, ignore_errors=True)
    if target.exists():
        target.rename(previous)
    staging.rename(target)
    shutil.rmtree(previous, ignore_errors=True)
    return installed(target)


def main(arguments: list[str] | None = None) -> int:
    """``python -m flomation.executor.sandbox.packages DIRECTORY [REQUIREMENT ...]``: the same install on a
    runner's machine, where Django (and so manage.py) may not be installed."""
    arguments = sys.argv[1:] if arguments is None else arguments
    if not arguments or arguments[0].startswith("-"):
        print(
            "usage: python -m flomation.executor.sandbox.packages DIRECTORY [REQUIREMENT ...]",
            file=sys.stderr,
        )
        return 64
    try:
        packages = install(arguments[1:], arguments[0])
    except PackageError as error:
        print(error, file=sys.stderr)
        return 1
    listed = ", ".join(f"{item['name']} {item['version']}" for item in packages) or "none"
    print(f"script packages in {arguments[0]}: {listed}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
