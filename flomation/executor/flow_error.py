"""The validation error type (kept apart so a valid flow never pays for importing dataclasses)."""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class FlowError:
    """One problem in a flow. ``node_id`` and ``field`` are None when the flow as a whole is wrong."""

    node_id: str | None
    field: str | None
    message: str

    def to_dict(self) -> dict[str, str | None]:
        return asdict(self)

    def __str__(self) -> str:
        where = " ".join(
            part for part in (f"node {self.node_id}" if self.node_id else "", self.field or "") if part
        )
        return f"{where}: {self.message}" if where else self.message
