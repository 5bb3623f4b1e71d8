"""Secret masking: every resolved secret value is replaced by ``********`` wherever it appears."""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

MASK = "********"
# Values shorter than this are masked only where a whole string equals them: masking every "1"
# inside every string would make events unreadable and protects nothing.
MIN_SUBSTRING_LENGTH = 4


class Masker:
    """Collects secret values resolved during one run and scrubs them out of data and text."""

    __slots__ = ("_values", "_long")

    def __init__(self) -> None:
        self._values: set[str] = set()
        self._long: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self._values)

    def add(self, value: Any) -> None:
        if not isinstance(value, str) or not value or value == MASK or value in self._values:
            return
        self._values.add(value)
        for line in value.splitlines():  # a multi-line secret (a PEM key) also leaks line by line
            if len(line.strip()) >= MIN_SUBSTRING_LENGTH and line != value:
                self._values.add(line.strip())
        self._long = tuple(
            sorted((v for v in self._values if len(v) >= MIN_SUBSTRING_LENGTH), key=len, reverse=True)
        )

    def text(self, value: str) -> str:
        if not self._values:
            return value
        if value in self._values:
            return MASK
        for secret in self._long:
            if secret in value:
                value = value.replace(secret, MASK)
        return value

    def data(self, value: Any) -> Any:
        """A copy of ``value`` with secrets masked in every string (keys included)."""
        if not self._values:
            return value
        return self._data(value)

    def _data(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {self.text(k) if isinstance(k, str) else k: self._data(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self._data(v) for v in value]
        return value
