"""Where an integration node's credentials come from: a stored connection, or Flomation's inline inputs.

A node declares ``connection_input("smtp")`` among its inputs. When the author picks a stored connection,
its fields come from the run's provider (``get_connection(name)``: the runner asks the API with a signed
call scoped to the execution's environment) and every secret field is masked from then on. A flow exported
from Flomation names ``host``, ``username``, ``password`` (often ``${secrets.X}``) inline instead; those
inputs are read as they are, and an inline input fills a field the stored connection leaves blank.
"""

from __future__ import annotations

from typing import Any

from flomation.executor.engine.errors import NodeError
from flomation.executor.registry import Input

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable

    from flomation.executor.engine.context import NodeContext


def connection_input(kind: str, *, description: str = "") -> Input:
    """The ``connection`` input: the editor offers a picker of the organisation's ``kind`` connections."""
    return Input(
        "connection",
        "connection",
        connection=kind,
        description=description or f"A stored {kind} connection (or fill in the inputs below).",
    )


def connection_fields(
    ctx: NodeContext,
    inputs: dict[str, Any],
    kind: str,
    inline: Iterable[str],
    secret: Iterable[str] = (),
) -> dict[str, Any]:
    """The fields to connect with: the named connection's, completed by the node's inline inputs."""
    from flomation.lib.connections import completed

    name = inputs.get("connection")
    own = {key: inputs.get(key) for key in inline}
    fields = completed(_stored(ctx, str(name), kind), own) if name else own
    for key in secret:
        value = fields.get(key)
        if isinstance(value, str) and value:
            ctx.mask(value)
    return fields


def _stored(ctx: NodeContext, name: str, kind: str) -> dict[str, Any]:
    get = getattr(ctx.secrets, "get_connection", None)
    if get is None:
        raise NodeError(f"connection '{name}': stored connections are not available to this run")
    found = get(name)
    if not found:
        raise NodeError(f"connection '{name}' does not exist in this environment")
    if found.get("type") != kind:
        raise NodeError(f"connection '{name}' is a {found.get('type')} connection, this node needs {kind}")
    fields = found.get("fields")
    return fields if isinstance(fields, dict) else {}
