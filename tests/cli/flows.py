"""Flows the command line tests import and run (plain data, written as files by the tests)."""

from __future__ import annotations

from typing import Any

from tests.runner.flows import chain, node

SCHEMA = {"name": "input_schema", "type": "object", "value": {"d": {"type": "integer", "required": True}}}


def division_flow() -> dict[str, Any]:
    """10 ÷ the run's input `d`: succeeds for d=2 (output `answer` = 5), fails for d=0."""
    return chain(
        node("t1", "trigger/manual", 1, [SCHEMA]),
        node(
            "div",
            "arithmetic/division",
            2,
            [
                {"name": "numerator", "type": "integer", "value": 10},
                {"name": "denominator", "type": "integer", "value": "${t1.d}"},
            ],
        ),
        node(
            "o1",
            "output/set",
            3,
            [
                {"name": "name", "type": "string", "value": "answer"},
                {"name": "value", "type": "string", "value": "${div.answer}"},
            ],
        ),
    )


def webhook_flow() -> dict[str, Any]:
    return chain(
        node("hook", "trigger/webhook", 1),
        node(
            "o1",
            "output/set",
            3,
            [
                {"name": "name", "type": "string", "value": "got"},
                {"name": "value", "type": "string", "value": "yes"},
            ],
        ),
    )
