"""Which of a trigger node's inputs are secrets, and the shapes a secret input takes in a stored flow.

A trigger's secret inputs (signing secrets, API keys, passwords, connection strings) are declared once,
on the trigger node (inputs of type ``secret``, plus the older names a trigger still reads, see
``nodes/triggers.py``). Core keeps their values out of stored revisions: a saved flow holds, in place of a
plaintext value, either

* a reference to a value core stores encrypted, ``{"secret_ref": "<id>"}``, or
* a reference to an environment secret, the string ``${secrets.NAME}``, resolved where it is used.

Nothing here imports Django: core, launch, the editor and the executor share these rules.
"""

from __future__ import annotations

import copy
import re

from flomation.executor.registry import lookup

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator
    from typing import Any

SECRET_TYPES = frozenset({"secret", "credential"})
REF_KEY = "secret_ref"
_ENVIRONMENT_REFERENCE = re.compile(r"^\s*\$\{secrets?\.([A-Za-z_][A-Za-z0-9_.\-]{0,127})\}\s*$")


def _declared_secret_names() -> dict[str, frozenset[str]]:
    from flomation.executor.nodes import triggers

    return triggers.SECRET_INPUTS


def secret_input_names(action: str) -> frozenset[str]:
    """The names of `action`'s secret inputs: its inputs declared with a secret type and their aliases.

    A trigger action no node declares (a plug-in's, or one from a newer flow) gets every name any built-in
    trigger treats as secret: the stricter choice, since launch serves unknown triggers as webhooks.
    """
    if not str(action or "").startswith("trigger/"):
        return frozenset()
    declared = _declared_secret_names()
    names = declared.get(action)
    if names is not None:
        return names
    spec = lookup(action)
    own = (
        frozenset(i.name for i in spec.inputs if i.type in SECRET_TYPES) if spec is not None else frozenset()
    )
    return own.union(*declared.values())


def is_secret_input(action: str, item: Any) -> bool:
    """Whether an input entry ({name, type, value}) of a node with `action` holds a trigger secret."""
    if not isinstance(item, dict) or not str(action or "").startswith("trigger/"):
        return False
    return (
        str(item.get("name") or "") in secret_input_names(action)
        or str(item.get("type") or "") in SECRET_TYPES
    )


def secret_ref(value: Any) -> str | None:
    """The id in a ``{"secret_ref": id}`` value, else None."""
    if isinstance(value, dict) and isinstance(value.get(REF_KEY), str) and value[REF_KEY]:
        return value[REF_KEY]
    return None


def is_reference_marker(value: Any) -> bool:
    """A value that is a stored-secret marker (``{"secret_ref": ...}``), set or not."""
    return isinstance(value, dict) and REF_KEY in value


def environment_reference(value: Any) -> str | None:
    """The NAME of a whole-value ``${secrets.NAME}`` (or ``${secret.NAME}``) reference, else None."""
    if isinstance(value, str):
        found = _ENVIRONMENT_REFERENCE.match(value)
        if found:
            return found.group(1)
    return None


def is_blank(value: Any) -> bool:
    return value is None or value == "" or (is_reference_marker(value) and not secret_ref(value))


def trigger_action(node: Any) -> str | None:
    """A flow node's action id when it is a trigger (its `type`, else `data.label`), else None."""
    if not isinstance(node, dict):
        return None
    data = node.get("data") if isinstance(node.get("data"), dict) else {}
    for candidate in (node.get("type"), data.get("label")):
        if str(candidate or "").startswith("trigger/"):
            return str(candidate)
    return None


def trigger_secret_inputs(flow: Any) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(node id, action, input entry) for every secret input of every trigger node in `flow`.

    The entries are the flow's own dicts: a caller working on a copy may change them in place.
    """
    if not isinstance(flow, dict) or not isinstance(flow.get("nodes"), list):
        return
    for node in flow["nodes"]:
        action = trigger_action(node)
        if action is None:
            continue
        config = (node.get("data") or {}).get("config")
        inputs = config.get("inputs") if isinstance(config, dict) else None
        if not isinstance(inputs, list):
            continue
        for item in inputs:
            if is_secret_input(action, item):
                yield str(node.get("id") or ""), action, item


def is_plaintext(value: Any) -> bool:
    """A value a stored flow must not keep: anything but blank, a marker or an environment reference."""
    return not (is_blank(value) or secret_ref(value) or environment_reference(value) is not None)


def flow_redact(flow: Any) -> Any:
    """A copy of `flow` fit to show anyone who may read the workflow: each trigger secret input keeps its
    reference (a marker or ``${secrets.NAME}``), never a value, and says whether it is set."""
    if not isinstance(flow, dict):
        return flow
    shown = copy.deepcopy(flow)
    for _node_id, _action, item in trigger_secret_inputs(shown):
        value = item.get("value")
        item["set"] = not is_blank(value)
        if is_plaintext(value):
            item["value"] = None  # only a flow saved around core's services gets here
    return shown


def flow_without_secrets(flow: Any) -> tuple[Any, list[dict[str, str]]]:
    """A copy of `flow` for export: stored secrets are left out (unset); environment references stay,
    since they name a secret without holding it. Returns the copy and the inputs left unset."""
    if not isinstance(flow, dict):
        return flow, []
    exported = copy.deepcopy(flow)
    unset: list[dict[str, str]] = []
    for node_id, _action, item in trigger_secret_inputs(exported):
        item.pop("set", None)
        value = item.get("value")
        if environment_reference(value) is not None or is_blank(value):
            continue
        item["value"] = None
        unset.append({"node_id": node_id, "input": str(item.get("name"))})
    return exported, unset


def flow_unset_secrets(flow: Any) -> list[dict[str, str]]:
    """The trigger secret inputs present in `flow` with no value (an import leaves exported ones so)."""
    return [
        {"node_id": node_id, "input": str(item.get("name"))}
        for node_id, _action, item in trigger_secret_inputs(flow)
        if is_blank(item.get("value"))
    ]
