"""Waiting and flow-level actions: wait, pause, human approval, sleep, start_flow, set_variable."""

from __future__ import annotations

import time

from flomation.executor.coerce import parse_duration, to_str
from flomation.executor.engine.errors import NodeError
from flomation.executor.registry import ACTION, AWAIT, Input, node

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from flomation.executor.engine.context import NodeContext

MAX_SLEEP_SECONDS = 3600


def _iso(epoch: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


def parse_iso(text: str) -> float:
    """Seconds since the epoch for an RFC 3339 / ISO 8601 time (no zone means UTC)."""
    from datetime import UTC, datetime

    value = text.strip().replace("z", "Z")
    if value.endswith("Z"):
        value = value[:-1] + "+00:00"
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise NodeError(f"'{text}' is not an RFC 3339 time such as 2026-06-15T14:00:00Z") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


@node(
    "common/wait",
    name="Wait",
    category="flow",
    description="Suspend the run for a duration or until a time; the API resumes it (frees the runner).",
    inputs=(
        Input("duration", "string", description="5m, 1h, 2d, 1w"),
        Input("resume_at", "string", description="RFC 3339 time, e.g. 2026-06-15T14:00:00Z"),
    ),
    outputs=(
        "tool_result:string",
        "suspended:boolean",
        "resume_at:string",
        "duration:string",
        "resumed:boolean",
    ),
)
def wait(ctx: NodeContext, inputs: dict[str, Any]) -> dict[str, Any]:
    duration = inputs.get("duration") or ""
    previous = ctx.resume_info
    if previous and previous.get("resume_at"):
        target = parse_iso(previous["resume_at"])
    elif inputs.get("resume_at"):
        target = parse_iso(inputs["resume_at"])
    elif duration:
        try:
            target = time.time() + parse_duration(duration)
        except ValueError as exc:
            raise NodeError(f"input 'duration' {exc}") from None
    else:
        raise NodeError("either duration or resume_at is required")
    resume_at = _iso(target)
    if previous is not None and time.time() >= target - 1:
        return {
            "tool_result": f"Resumed after waiting until {resume_at}",
            "suspended": True,
            "resumed": True,
            "resume_at": resume_at,
            "duration": duration,
        }
    raise ctx.suspend(
        "wait",
        resume_at=resume_at,
        resume_trigger_type="time",
        outputs={
            "tool_result": f"Waiting until {resume_at}",
            "suspended": True,
            "resume_at": resume_at,
            "duration": duration,
        },
    )


@node(
    "common/pause",
    name="Pause",
    category="flow",
    description="Suspend the run until someone resumes it by hand.",
    inputs=(Input("reason", "string"),),
    outputs=("resumed:boolean", "resume_data:object"),
)
def pause(ctx: NodeContext, inputs: dict[str, Any]) -> dict[str, Any]:
    if ctx.resume_info is not None:
        return {"resumed": True, "resume_data": ctx.resume_data}
    raise ctx.suspend("manual", resume_trigger_type="manual", message=inputs.get("reason") or "")


@node(
    "humanintheloop/await",
    name="Await Approval",
    category="human",
    description="Ask a person to choose an option; delivery children send the request, then the run suspends.",
    class_type=AWAIT,
    inputs=(
        Input("message", "text", required=True),
        Input("options", "key_value_array", required=True, description="label -> value"),
        Input("timeout", "string", default="24h", description="Go-style duration; d and w allowed"),
        Input("web_base_url", "string"),
    ),
    outputs=(
        "matched_case:string",
        "answered_option:string",
        "answered_by:string",
        "outcome:string",
        "message:string",
        "options:array",
        "links:object",
    ),
    handles=("option_<value>", "timeout", "delivery"),
)
def await_approval(ctx: NodeContext, inputs: dict[str, Any]) -> dict[str, Any]:
    options = [{"label": label, "value": to_str(value)} for label, value in inputs["options"]]
    values = [o["value"] for o in options]
    try:
        timeout_seconds = parse_duration(inputs["timeout"])
    except ValueError as exc:
        raise NodeError(f"input 'timeout' {exc}") from None
    previous = ctx.resume_info
    if previous is not None:
        data = ctx.resume_data if isinstance(ctx.resume_data, dict) else {}
        answered = data.get("answered_option", data.get("option", data.get("value")))
        outcome = data.get("outcome")
        expires = previous.get("timeout_at")
        timed_out = outcome == "timeout" or data.get("timeout") is True
        if answered is None and not timed_out and expires and time.time() >= parse_iso(expires):
            timed_out = True
        if timed_out:
            return {
                "matched_case": "timeout",
                "answered_option": "",
                "answered_by": to_str(data.get("answered_by")),
                "outcome": "timeout",
            }
        if answered is not None:
            answered = to_str(answered)
            if answered not in values:
                raise NodeError(f"the answer '{answered}' is not one of the options: {', '.join(values)}")
            return {
                "matched_case": f"option_{answered}",
                "answered_option": answered,
                "answered_by": to_str(data.get("answered_by")),
                "outcome": outcome or "answered",
            }
    execution_id = to_str(ctx.context.get("execution_id"))
    base = (inputs.get("web_base_url") or to_str(ctx.context.get("web_base_url"))).rstrip("/")
    links = (
        {o["value"]: f"{base}/hitl/{execution_id}/{ctx.node_id}?option={o['value']}" for o in options}
        if base
        else {}
    )
    timeout_at = previous.get("timeout_at") if previous else _iso(time.time() + timeout_seconds)
    pending = {"message": inputs["message"], "options": options, "links": links, "timeout_at": timeout_at}
    raise ctx.suspend(
        "hitl",
        resume_at=timeout_at,
        resume_trigger_type="hitl",
        resume_trigger_match={"node_id": ctx.node_id, "options": values},
        timeout_at=timeout_at,
        message=inputs["message"],
        options=options,
        outputs=pending,
    )


@node(
    "common/sleep",
    name="Sleep",
    category="flow",
    description="Block for a while (at most one hour); stops early when the run is cancelled.",
    inputs=(
        Input("duration", "number", required=True),
        Input("unit", "string", default="seconds", options=("seconds", "minutes", "hours")),
    ),
    outputs=("slept_for_seconds:number", "cancelled:boolean"),
)
def sleep(ctx: NodeContext, inputs: dict[str, Any]) -> dict[str, Any]:
    factor = {"seconds": 1, "minutes": 60, "hours": 3600}[inputs["unit"]]
    seconds = min(MAX_SLEEP_SECONDS, inputs["duration"] * factor)
    if seconds <= 0:
        return {"slept_for_seconds": 0, "cancelled": False}
    started = time.monotonic()
    finished = ctx.sleep(seconds)
    slept = round(time.monotonic() - started, 3)
    return {"slept_for_seconds": seconds if finished else slept, "cancelled": not finished}


@node(
    "common/set_variable",
    name="Set Variable",
    category="flow",
    inline=True,
    description="Set a flow variable, readable later as ${var.name}.",
    inputs=(Input("name", "string", required=True), Input("value", "any")),
    outputs=("name:string", "value:object"),
)
def set_variable(ctx: NodeContext, inputs: dict[str, Any]) -> dict[str, Any]:
    value = inputs.get("value")
    if value is None:
        value = ""
    ctx.set_variable(inputs["name"], value)
    return {"name": inputs["name"], "value": value}


@node(
    "common/start_flow",
    name="Start Flow",
    category="flow",
    description="Start another flow through the API, optionally waiting for it to finish.",
    class_type=ACTION,
    inputs=(
        Input("flow_id", "string", required=True),
        Input("wait_for_completion", "boolean", default=False),
        Input("timeout_seconds", "integer", default=300),
        Input("inputs", "object", description="Trigger data for the started flow."),
    ),
    outputs=("execution_id:string", "status:string", "result:object"),
)
def start_flow(ctx: NodeContext, inputs: dict[str, Any]) -> dict[str, Any]:
    from flomation.executor.nodes.api import start_flow_via_api

    return start_flow_via_api(ctx, inputs)
