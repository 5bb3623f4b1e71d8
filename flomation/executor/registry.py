"""The node registry: action id -> NodeSpec, built-ins loaded lazily, plug-ins by entry point.

A node is a function ``run(ctx, inputs) -> dict`` declared with :func:`node`. Built-in modules are
imported only when one of their action ids is looked up (``nodes.BUILTIN_INDEX``); third-party
packages add nodes through the entry-point group ``flomation.nodes``, loaded the first time an
unknown action id is looked up or the manifest is built. An entry point may name a NodeSpec, a
list of them, a function decorated with :func:`node`, or a module whose import registers nodes.
"""

from __future__ import annotations

import _thread

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable
    from typing import Any

ENTRY_POINT_GROUP = "flomation.nodes"

# Node classes as they appear in ``data.config.type``.
TRIGGER, ACTION, OUTPUT, CONDITIONAL, LOOP, SWITCH, AWAIT = 1, 2, 3, 4, 5, 6, 7
ROUTING_CLASSES = frozenset({CONDITIONAL, LOOP, SWITCH, AWAIT})

_REGISTRY: dict[str, NodeSpec] = {}
_LOCK = _thread.RLock()
_state = {"entry_points": False, "all_builtins": False}


class Input:
    """One declared input: what the editor shows and how the engine coerces the value."""

    __slots__ = (
        "name", "type", "required", "default", "options", "description", "accepts", "connection", "shown_when",
    )  # fmt: skip

    def __init__(
        self,
        name: str,
        type: str = "string",  # noqa: A002 - mirrors the manifest field name
        *,
        required: bool = False,
        default: Any = None,
        options: Iterable[Any] | None = None,
        description: str = "",
        accepts: Iterable[Any] = (),
        connection: str | None = None,
        shown_when: dict[str, tuple[Any, ...]] | None = None,
    ) -> None:
        self.name = name
        # The editor shows the field only while another input has one of these values ({"preset": (...)}).
        self.shown_when = shown_when
        self.connection = connection  # for type "connection": the connection type the picker offers
        self.type = type
        self.accepts = tuple(accepts)  # older spellings still read (not offered as choices)
        self.required = required
        self.default = default
        self.options = tuple(options) if options is not None else None
        self.description = description

    def option_values(self) -> tuple[Any, ...] | None:
        if self.options is None:
            return None
        return tuple(o["value"] if isinstance(o, dict) else o for o in self.options) + self.accepts

    def allows(self, value: Any) -> bool:
        """Whether `value` is one of the choices (always, where there are none). An object naming its choice
        in `type`, as Flomation's seed writes a webhook's `{"type": "api_key", "header": "X-API-Key"}`,
        counts as that choice."""
        allowed = self.option_values()
        if allowed is None or value is None:
            return True
        if isinstance(value, dict):
            value = value.get("type")
        return value in allowed

    def to_dict(self) -> dict[str, Any]:
        options = None
        if self.options is not None:
            options = [o if isinstance(o, dict) else {"name": str(o), "value": o} for o in self.options]
        return {
            "name": self.name,
            "type": self.type,
            "required": self.required,
            "default": self.default,
            "options": options,
            "description": self.description,
            "accepts": list(self.accepts),
            **({"connection": self.connection} if self.connection else {}),
            **({"shown_when": {k: list(v) for k, v in self.shown_when.items()}} if self.shown_when else {}),
        }


class Output:
    __slots__ = ("name", "type", "description")

    def __init__(self, name: str, type: str = "string", description: str = "") -> None:  # noqa: A002
        self.name = name
        self.type = type
        self.description = description

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "type": self.type, "description": self.description}


class NodeSpec:
    """A registered node: its contract (manifest entry) and the function that runs it."""

    __slots__ = (
        "action",
        "name",
        "category",
        "description",
        "class_type",
        "inputs",
        "outputs",
        "handles",
        "run",
        "dynamic_outputs",
        "input_map",
        "idempotent",
        "inline",
    )

    def __init__(
        self,
        action: str,
        run: Callable[[Any, dict[str, Any]], dict[str, Any]],
        *,
        name: str,
        category: str,
        description: str = "",
        class_type: int = ACTION,
        inputs: Iterable[Input] = (),
        outputs: Iterable[Output | str] = (),
        handles: Iterable[str] = (),
        dynamic_outputs: bool = False,
        idempotent: bool = True,
        inline: bool = False,
    ) -> None:
        self.action = action
        self.run = run
        self.name = name
        self.category = category
        self.description = description
        self.class_type = class_type
        self.inputs = tuple(inputs)
        self.outputs = tuple(_output(o) for o in outputs)
        self.handles = tuple(handles)
        self.dynamic_outputs = dynamic_outputs
        # False for a node whose effect outside would happen twice if it ran twice (a sent email, a POST):
        # it gets an idempotency key (`NodeContext.idempotency_key`) to hand to services that honour one.
        self.idempotent = idempotent
        # True for a node that only computes on its inputs, in time bounded by their size: no I/O, no
        # waiting, no subprocess, no regular expression, no loop, no output much larger than its input. A flow
        # made only of such nodes may run in the web process that received its trigger, where a node cannot
        # be killed mid-run, instead of on a runner (`core.executions.inline`). A trigger node is one: in
        # the flow it only passes on what its trigger brought.
        self.inline = inline or class_type == TRIGGER
        self.input_map = {i.name: i for i in self.inputs}

    def output_names(self) -> frozenset[str]:
        return frozenset(o.name for o in self.outputs)

    def to_manifest(self) -> dict[str, Any]:
        return {
            "action": self.action,
            "name": self.name,
            "category": self.category,
            "description": self.description,
            "type": self.class_type,
            "inputs": [i.to_dict() for i in self.inputs],
            "outputs": [o.to_dict() for o in self.outputs],
            "handles": list(self.handles),
            "dynamic_outputs": self.dynamic_outputs,
            "idempotent": self.idempotent,
            "inline": self.inline,
        }


def _output(value: Output | str) -> Output:
    if isinstance(value, Output):
        return value
    name, _, kind = value.partition(":")
    return Output(name, kind or "string")


def node(
    action: str,
    *,
    name: str,
    category: str,
    description: str = "",
    class_type: int = ACTION,
    inputs: Iterable[Input] = (),
    outputs: Iterable[Output | str] = (),
    handles: Iterable[str] = (),
    dynamic_outputs: bool = False,
    idempotent: bool = True,
    inline: bool = False,
) -> Callable[[Callable[..., dict[str, Any]]], Callable[..., dict[str, Any]]]:
    """Declare and register a node. Outputs may be written ``"name:type"``."""

    def wrap(fn: Callable[..., dict[str, Any]]) -> Callable[..., dict[str, Any]]:
        spec = NodeSpec(
            action,
            fn,
            name=name,
            category=category,
            description=description,
            class_type=class_type,
            inputs=inputs,
            outputs=outputs,
            handles=handles,
            dynamic_outputs=dynamic_outputs,
            idempotent=idempotent,
            inline=inline,
        )
        register(spec)
        fn.__flomation_node__ = spec  # type: ignore[attr-defined]
        return fn

    return wrap


def register(spec: NodeSpec) -> None:
    with _LOCK:
        _REGISTRY[spec.action] = spec


def lookup(action: str) -> NodeSpec | None:
    """The spec registered for ``action``, importing its built-in module or plug-ins on demand."""
    spec = _REGISTRY.get(action)
    if spec is not None:
        return spec
    from flomation.executor.nodes import BUILTIN_INDEX

    module = BUILTIN_INDEX.get(action)
    if module is not None:
        _import(module)
        spec = _REGISTRY.get(action)
        if spec is not None:
            return spec
    load_entry_points()
    return _REGISTRY.get(action)


def _import(module: str) -> None:
    import importlib

    importlib.import_module(f"flomation.executor.nodes.{module}")


def load_all() -> dict[str, NodeSpec]:
    """Every node: all built-ins and every plug-in."""
    from flomation.executor.nodes import BUILTIN_INDEX

    if not _state["all_builtins"]:
        for module in sorted(set(BUILTIN_INDEX.values())):
            _import(module)
        _state["all_builtins"] = True
    load_entry_points()
    return dict(_REGISTRY)


def load_entry_points() -> None:
    with _LOCK:
        if _state["entry_points"]:
            return
        _state["entry_points"] = True
        from importlib.metadata import entry_points

        for ep in entry_points(group=ENTRY_POINT_GROUP):
            try:
                _register_loaded(ep.load())
            except Exception as exc:  # a broken plug-in must not take the engine down
                import sys

                sys.stderr.write(f"flomation-executor: could not load node plug-in {ep.value!r}: {exc}\n")


def _register_loaded(obj: Any) -> None:
    if isinstance(obj, NodeSpec):
        register(obj)
    elif hasattr(obj, "__flomation_node__"):
        register(obj.__flomation_node__)
    elif isinstance(obj, list | tuple):
        for item in obj:
            _register_loaded(item)
    elif callable(obj) and not isinstance(obj, type) and not hasattr(obj, "__path__"):
        result = obj()
        if result is not None:
            _register_loaded(result)
    # A module: importing it ran its @node decorators.


def manifest() -> dict[str, Any]:
    """The node catalogue for the editor's palette, sorted by action id."""
    from flomation import __version__

    specs = load_all()
    return {
        "version": __version__,
        "classes": {
            "1": "trigger",
            "2": "action",
            "3": "output",
            "4": "conditional",
            "5": "loop",
            "6": "switch",
            "7": "await",
        },
        "nodes": [specs[action].to_manifest() for action in sorted(specs)],
        "scripts": _scripts(),
    }


def _scripts() -> dict[str, Any]:
    """What script nodes can use here: the isolation mode and the operator's packages (name, version)."""
    from flomation.executor.sandbox.packages import installed
    from flomation.executor.settings import ExecutorSettings

    settings = ExecutorSettings()
    return {
        "isolation": settings.script_isolation,
        "python_packages": installed(settings.script_packages_dir),
    }
