"""What a connection type declares: its fields and a test that connects for real. No Django.

One module per type in this package (``smtp.py``, ``postgresql.py``, ...) defines ``KIND``, ``LABEL``,
``FIELDS`` and ``test(fields, policy, timeout)``; `types()` in the package finds them all.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


class ConnectionFailed(Exception):  # noqa: N818 - reads as what happened
    """Why a connection could not be made (auth, DNS, refused, TLS, timeout), never echoing a secret."""


@dataclass(frozen=True)
class Field:
    name: str
    type: str = "string"  # string | integer | boolean | secret | text (multi-line, e.g. a key) | choice
    required: bool = False
    default: Any = None
    options: tuple[str, ...] = ()
    description: str = ""

    @property
    def secret(self) -> bool:
        return self.type == "secret"

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "type": self.type,
            "required": self.required,
            "default": self.default,
            "options": list(self.options),
            "description": self.description,
            "secret": self.secret,
        }
