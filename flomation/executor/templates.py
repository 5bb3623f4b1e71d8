"""``${...}`` templates: parsed once per distinct string, rendered against a resolver.

Namespaces (first segment of the expression):

``env.NAME``, ``secret.NAME`` / ``secrets.NAME``, ``credentials.NAME``, ``flow.FIELD``,
``user.NAME``, ``var.NAME[.path]`` and otherwise ``nodeId.key[.path]`` (when the first segment
is a node id) or ``key[.path]`` (a key of the merged parent outputs).

A reference that resolves to nothing (a *miss*) renders as the empty string everywhere, whatever
its namespace, and a whole-value reference that misses (or finds null) gives ``""`` as well, with any
spaces around the token kept. The engine logs a
warning naming the token; ``ExecutorSettings(strict_templates=True)`` turns misses into node
failures instead.
"""

from __future__ import annotations

from flomation.executor.coerce import dumps, parse_json_text

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

NAMESPACES = frozenset({"env", "secret", "secrets", "credentials", "credential", "flow", "user", "var"})
_CACHE: dict[str, Template | None] = {}
_CACHE_LIMIT = 8192
MISSING = object()


class Ref:
    """One ``${...}`` token: its namespace (or ``"ref"`` for node ids and parent keys) and path."""

    __slots__ = ("raw", "ns", "head", "path")

    def __init__(self, raw: str, ns: str, head: str, path: tuple[str | int, ...]) -> None:
        self.raw = raw
        self.ns = ns
        self.head = head
        self.path = path

    def __repr__(self) -> str:
        return f"Ref({self.raw!r})"


class Template:
    __slots__ = ("parts", "whole", "refs")

    def __init__(self, parts: tuple[str | Ref, ...], whole: Ref | None) -> None:
        self.parts = parts
        self.whole = whole
        self.refs = tuple(p for p in parts if isinstance(p, Ref))


def compile_template(text: str) -> Template | None:
    """The parsed template for ``text``, or None when it holds no ``${...}`` token. Cached."""
    try:
        return _CACHE[text]
    except KeyError:
        pass
    template = _parse(text) if "${" in text else None
    if len(_CACHE) >= _CACHE_LIMIT:
        _CACHE.clear()
    _CACHE[text] = template
    return template


def _parse(text: str) -> Template | None:
    parts: list[str | Ref] = []
    literal_start = 0
    pos = 0
    while True:
        start = text.find("${", pos)
        if start < 0:
            break
        end = text.find("}", start + 2)
        if end < 0:
            break
        inner = text[start + 2 : end]
        if "{" in inner:  # no nesting: `${a${b}}` is not a token here, `${b}` is found next
            pos = start + 1
            continue
        ref = parse_ref(inner)
        if ref is None:
            pos = end + 1
            continue
        if start > literal_start:
            parts.append(text[literal_start:start])
        parts.append(ref)
        literal_start = pos = end + 1
    if not any(isinstance(p, Ref) for p in parts):
        return None
    if literal_start < len(text):
        parts.append(text[literal_start:])
    whole = None
    stripped = [p for p in parts if not (isinstance(p, str) and not p.strip())]
    if len(stripped) == 1 and isinstance(stripped[0], Ref):
        whole = stripped[0]
    return Template(tuple(parts), whole)


def parse_ref(expression: str) -> Ref | None:
    raw = "${" + expression + "}"
    segments = split_path(expression.strip())
    if not segments or not isinstance(segments[0], str) or not segments[0]:
        return None
    head = segments[0]
    if head in NAMESPACES and len(segments) > 1:
        ns = "secrets" if head == "secret" else "credentials" if head == "credential" else head
        name = segments[1]
        return Ref(raw, ns, str(name), tuple(segments[2:]))
    return Ref(raw, "ref", head, tuple(segments[1:]))


def split_path(expression: str) -> list[str | int]:
    """``a.b[0]["c d"]`` -> ``["a", "b", 0, "c d"]``."""
    segments: list[str | int] = []
    current = ""
    i = 0
    n = len(expression)
    while i < n:
        ch = expression[i]
        if ch == ".":
            if current:
                segments.append(current)
            current = ""
            i += 1
        elif ch == "[":
            if current:
                segments.append(current)
            current = ""
            close = expression.find("]", i)
            if close < 0:
                return []
            token = expression[i + 1 : close].strip()
            if len(token) >= 2 and token[0] == token[-1] and token[0] in "\"'":
                segments.append(token[1:-1])
            else:
                try:
                    segments.append(int(token))
                except ValueError:
                    segments.append(token)
            i = close + 1
        else:
            current += ch
            i += 1
    if current:
        segments.append(current)
    return segments


def walk(value: Any, path: tuple[str | int, ...] | list[str | int]) -> Any:
    """Follow ``path`` into ``value``; JSON text met on the way is parsed. MISSING when absent."""
    current = value
    for segment in path:
        if isinstance(current, str):
            current = parse_json_text(current)
        if isinstance(current, dict):
            key = segment if isinstance(segment, str) else str(segment)
            if key not in current:
                return MISSING
            current = current[key]
        elif isinstance(current, list):
            try:
                index = segment if isinstance(segment, int) else int(segment)
                current = current[index]
            except (ValueError, IndexError):
                return MISSING
        else:
            return MISSING
    return current


def to_text(value: Any) -> str:
    """How a value is written into a string: strings bare, null as "", the rest as JSON."""
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e16:
        return str(int(value))
    # Objects written into text are JSON with sorted keys, as Go's encoding/json writes maps, so a flow
    # comparing or hashing such text gets the same string from Flomation's executor and from this one.
    return dumps(value, sort_keys=True)


def render(
    template: Template,
    resolve: Callable[[Ref], Any],
    *,
    json_escape: bool = False,
    on_miss: Callable[[Ref], None] | None = None,
) -> Any:
    """Substitute every token. A whole-value reference (one token, maybe with spaces around it) to an
    array, object, number or boolean keeps that value's type, as Flomation does; a string, a null and a
    miss are written into the text instead, so spaces around the token are kept and the result is a
    string ("" for a null or a miss, never null: scripts and nodes expecting text get text)."""
    whole_value: Any = MISSING
    if template.whole is not None and not json_escape:
        whole_value = resolve(template.whole)
        if whole_value is not MISSING and whole_value is not None and not isinstance(whole_value, str):
            return whole_value
    out: list[str] = []
    for part in template.parts:
        if isinstance(part, str):
            out.append(part)
            continue
        value = whole_value if part is template.whole and not json_escape else resolve(part)
        if value is MISSING:
            if on_miss is not None:
                on_miss(part)
            continue
        text = to_text(value)
        if json_escape:
            text = dumps(text)[1:-1]
        out.append(text)
    return "".join(out)


def render_value(
    value: Any,
    resolve: Callable[[Ref], Any],
    *,
    json_escape: bool = False,
    on_miss: Callable[[Ref], None] | None = None,
) -> Any:
    """Render a configured value: strings, and strings nested in arrays and objects."""
    if isinstance(value, str):
        if "${" not in value:
            return value
        template = compile_template(value)
        if template is None:
            return value
        return render(template, resolve, json_escape=json_escape, on_miss=on_miss)
    if isinstance(value, list):
        return [render_value(v, resolve, json_escape=json_escape, on_miss=on_miss) for v in value]
    if isinstance(value, dict):
        return {
            k: render_value(v, resolve, json_escape=json_escape, on_miss=on_miss) for k, v in value.items()
        }
    return value


def references(value: Any) -> list[Ref]:
    """Every token in a configured value (strings nested in arrays and objects included)."""
    if isinstance(value, str):
        template = compile_template(value) if "${" in value else None
        return list(template.refs) if template is not None else []
    if isinstance(value, list):
        return [ref for item in value for ref in references(item)]
    if isinstance(value, dict):
        return [ref for item in value.values() for ref in references(item)]
    return []
