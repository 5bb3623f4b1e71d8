"""A node's inputs: templates rendered against parents, variables, the environment and secrets, then
coerced to the declared types; secrets masked in the copy that events and records show."""

from __future__ import annotations

from flomation.executor.coerce import coerce, is_blank
from flomation.executor.engine.errors import InputError
from flomation.executor.masking import MASK
from flomation.executor.secret_inputs import secret_input_names
from flomation.executor.templates import MISSING, render_value, walk

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from flomation.executor.engine.execution import Execution
    from flomation.executor.graph import FlowNode
    from flomation.executor.templates import Ref


def prepare_inputs(
    ex: Execution, node: FlowNode, flat: dict[str, Any], parents: list[tuple[str, dict[str, Any]]]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The inputs the node's ``run`` gets and the masked copy shown in events and records."""
    spec = node.spec
    assert spec is not None
    misses: list[str] = []
    resolve = None
    values: dict[str, Any] = {}
    shown: dict[str, Any] = {}
    input_map = spec.input_map
    for name, raw in node.inputs.items():
        value = raw
        if (isinstance(raw, str) and "${" in raw) or isinstance(raw, list | dict):
            if resolve is None:
                resolve = make_resolver(ex, flat)
            declared = input_map.get(name)
            escape = node.input_types.get(name) == "rows" or (
                declared is not None and declared.type == "rows"
            )
            value = render_value(raw, resolve, json_escape=escape, on_miss=lambda ref: misses.append(ref.raw))
            if isinstance(raw, str) and ("${secret." in raw or "${secrets." in raw):
                shown[name] = MASK
                values[name] = value
                continue
        values[name] = value
        shown[name] = value
        if isinstance(value, str) and value and _typed_secret(node, name):
            # A secret typed in as a value (a flow saved before secrets were stored apart): never shown.
            shown[name] = MASK
            ex.masker.add(value)
    injected = ex.injected.get(node.id)
    if injected:
        values.update(injected)
        shown.update(injected)
    if misses:
        ex.log("warning", "template resolved to nothing", node=node.id, tokens=",".join(misses))
        if ex.settings.strict_templates:
            raise InputError(f"template {misses[0]} resolved to nothing")
    last = parents[-1][1] if parents else None
    for declared in spec.inputs:
        name = declared.name
        value = values.get(name)
        wired = False
        if is_blank(value) and last is not None and name in last:
            value = last[name]
            shown[name] = value
            wired = True
        try:
            value = coerce(declared.type, value)
        except ValueError as exc:
            if not wired:
                raise InputError(f"input '{name}' {exc}") from None
            value = None  # an auto-wired value that does not fit is ignored, as Flomation does
            shown.pop(name, None)
        if value is None:
            value = declared.default
        if value is None and declared.required:
            raise InputError(f"input '{name}' is required")
        if declared.type != "multi_select" and not declared.allows(value):
            allowed = declared.option_values() or ()
            raise InputError(f"input '{name}' must be one of: {', '.join(map(str, allowed))} (got {value!r})")
        values[name] = value
    return values, shown


_SECRET_TYPES = frozenset({"secret", "credential"})


def _typed_secret(node: FlowNode, name: str) -> bool:
    """An input typed secret in the flow or the node's declaration, or a trigger's secret by its name."""
    declared = node.spec.input_map.get(name) if node.spec is not None else None
    if node.input_types.get(name) in _SECRET_TYPES or (
        declared is not None and declared.type in _SECRET_TYPES
    ):
        return True
    return node.action.startswith("trigger/") and name in secret_input_names(node.action)


def make_resolver(ex: Execution, flat: dict[str, Any]) -> Callable[[Ref], Any]:
    results = ex.results
    nodes = ex.graph.nodes

    def resolve(ref: Ref) -> Any:
        ns = ref.ns
        if ns == "ref":
            head = ref.head
            value = results.get(head, MISSING) if head in nodes else flat.get(head, MISSING)
        elif ns == "var":
            return _variable(ex.variables, ref)
        elif ns == "flow":
            value = ex.context.get(ref.head, MISSING)
        elif ns == "user":
            user = ex.context.get("user_variables")
            value = user.get(ref.head, MISSING) if isinstance(user, dict) else MISSING
        elif ns == "env":
            value = _provided(ex, "get_variable", ref.head, secret=False)
        elif ns == "secrets":
            value = _provided(ex, "get_secret", ref.head, secret=True)
        else:  # credentials
            value = _provided(ex, "get_credential", ref.head, secret=True)
        if value is MISSING or not ref.path:
            return value
        return walk(value, ref.path)

    return resolve


def _variable(variables: dict[str, Any], ref: Ref) -> Any:
    segments = (ref.head, *ref.path)
    for cut in range(len(segments), 0, -1):
        if not all(isinstance(s, str) for s in segments[:cut]):
            continue
        key = ".".join(segments[:cut])  # type: ignore[arg-type]
        if key in variables:
            return walk(variables[key], segments[cut:]) if cut < len(segments) else variables[key]
    return MISSING


def _provided(ex: Execution, method: str, name: str, *, secret: bool) -> Any:
    key = (method, name)
    if key in ex.value_cache:
        return ex.value_cache[key]
    provider = ex.secrets
    getter = getattr(provider, method, None) if provider is not None else None
    value: Any = MISSING
    if getter is not None:
        try:
            fetched = getter(name)
        except Exception as exc:
            raise InputError(f"could not fetch {method.removeprefix('get_')} '{name}': {exc}") from None
        if fetched is not None:
            value = fetched
            if secret:
                ex.masker.add(fetched if isinstance(fetched, str) else str(fetched))
    ex.value_cache[key] = value
    return value
