"""What the script nodes share: limits, declared outputs, the literal-secret guard."""

from __future__ import annotations

from flomation.executor.coerce import to_dict, to_pairs, to_str
from flomation.executor.engine.errors import NodeError
from flomation.executor.registry import Input

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from flomation.executor.engine.context import NodeContext

MAX_CODE_BYTES = 64 * 1024
MAX_LOG_BYTES = 256 * 1024

OUTPUT_TYPES = ("string", "number", "boolean", "array", "object")
COMMON_INPUTS = (
    Input("outputs", "key_value_array", description="name -> type; empty: the whole result under 'result'."),
    Input("input_vars", "key_value_array", description="Named inputs (values may be ${...})."),
    Input("inputs_data", "object", description="A JSON object of inputs; named input_vars win."),
    Input("timeout_seconds", "number", description="Default 30, at most 300."),
)
COMMON_OUTPUTS = ("tool_result:string", "logs:string", "success:boolean", "duration_ms:integer")

_SECRET_PATTERNS = (
    r"\b(sk|pk|rk)[-_][a-zA-Z0-9]{20,}",
    r"\b(ghp|gho|ghu|ghs|ghr)_[a-zA-Z0-9]{20,}",
    r"\bxox[bpsa]-[a-zA-Z0-9-]+",
    r"\bxapp-[a-zA-Z0-9-]+",
    r"\bAKIA[A-Z0-9]{16}",
    r"\beyJ[a-zA-Z0-9_-]{20,}\.[a-zA-Z0-9_-]+",
    r"\bglpat-[a-zA-Z0-9_-]{20,}",
    r"-----BEGIN (RSA |EC |DSA |OPENSSH )?PRIVATE KEY",
)


def check_code(code: str) -> None:
    import re

    if len(code.encode("utf-8")) > MAX_CODE_BYTES:
        raise NodeError(f"the script is longer than {MAX_CODE_BYTES} bytes; split it into several nodes")
    cleaned = re.sub(r"\$\{(secrets?|credentials?)\.[^}]+\}", "", code)
    for pattern in _SECRET_PATTERNS:
        if re.search(pattern, cleaned):
            raise NodeError(
                "the script contains what looks like a literal secret; store it as an environment secret "
                "and pass it in as an input with ${secrets.NAME}"
            )


def script_inputs(inputs: dict[str, Any]) -> dict[str, Any]:
    data: dict[str, Any] = {}
    raw = inputs.get("inputs_data")
    if raw not in (None, ""):
        try:
            data = dict(to_dict(raw))
        except ValueError as exc:
            raise NodeError(f"input 'inputs_data' {exc}") from None
    for key, value in inputs.get("input_vars") or []:
        if key:
            data[key] = value
    return data


def declared_outputs(inputs: dict[str, Any]) -> list[tuple[str, str]]:
    declared: dict[str, str] = {}
    for key, kind in to_pairs(inputs.get("outputs")):
        key = key.strip()
        if key:
            declared[key] = (to_str(kind).strip() or "string").lower()
    return list(declared.items())


def _zero(kind: str) -> Any:
    return {
        "string": "",
        "number": 0,
        "integer": 0,
        "float": 0,
        "boolean": False,
        "bool": False,
        "array": [],
        "object": {},
    }.get(kind)


def build_outputs(declared: list[tuple[str, str]], result: dict[str, Any]) -> dict[str, Any]:
    """Declared outputs are the contract: missing ones get their type's zero, others are dropped."""
    if not declared:
        return {"result": result}
    return {name: result[name] if name in result else _zero(kind) for name, kind in declared}


def timeout_for(ctx: NodeContext, inputs: dict[str, Any]) -> float:
    settings = ctx.settings
    value = inputs.get("timeout_seconds") or settings.script_timeout_seconds
    return max(0.1, min(float(value), float(settings.script_max_timeout_seconds)))


def truncate_logs(text: str) -> str:
    if len(text) <= MAX_LOG_BYTES:
        return text
    return text[:MAX_LOG_BYTES] + "\n...truncated"
