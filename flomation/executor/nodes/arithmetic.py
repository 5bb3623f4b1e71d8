"""Integer arithmetic, as Flomation does it (floats are truncated towards zero)."""

from __future__ import annotations

from flomation.executor.engine.errors import NodeError
from flomation.executor.registry import Input, node

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from flomation.executor.engine.context import NodeContext

_AB = (Input("a", "integer", required=True), Input("b", "integer", required=True))


@node(
    "arithmetic/addition",
    name="Addition",
    category="arithmetic",
    inline=True,
    description="a + b",
    inputs=_AB,
    outputs=("answer:integer",),
)
def addition(ctx: NodeContext, inputs: dict[str, Any]) -> dict[str, Any]:
    return {"answer": inputs["a"] + inputs["b"]}


@node(
    "arithmetic/subtraction",
    name="Subtraction",
    category="arithmetic",
    inline=True,
    description="a - b",
    inputs=_AB,
    outputs=("answer:integer",),
)
def subtraction(ctx: NodeContext, inputs: dict[str, Any]) -> dict[str, Any]:
    return {"answer": inputs["a"] - inputs["b"]}


@node(
    "arithmetic/multiplication",
    name="Multiplication",
    category="arithmetic",
    inline=True,
    description="a × b",
    inputs=_AB,
    outputs=("answer:integer",),
)
def multiplication(ctx: NodeContext, inputs: dict[str, Any]) -> dict[str, Any]:
    return {"answer": inputs["a"] * inputs["b"]}


@node(
    "arithmetic/division",
    name="Division",
    category="arithmetic",
    inline=True,
    description="numerator ÷ denominator, as a whole number (truncated towards zero).",
    inputs=(Input("numerator", "integer", required=True), Input("denominator", "integer", required=True)),
    outputs=("answer:integer",),
)
def division(ctx: NodeContext, inputs: dict[str, Any]) -> dict[str, Any]:
    if inputs["denominator"] == 0:
        raise NodeError("division by zero: the denominator is 0")
    numerator, denominator = inputs["numerator"], inputs["denominator"]
    quotient = abs(numerator) // abs(denominator)
    return {"answer": quotient if (numerator >= 0) == (denominator > 0) else -quotient}
