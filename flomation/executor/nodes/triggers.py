"""Triggers: each passes the trigger data it was given (its inputs) on as outputs, never its secrets.

A trigger's secret inputs (a webhook's signing secret or API key, a poller's password or connection string)
are declared here, once, with the type ``secret``; ``SECRET_INPUTS`` adds the older names a trigger still
reads for the same secret. Core keeps them out of stored revisions, launch reads them encrypted, and
``_echo`` never passes them on as outputs.
"""

from __future__ import annotations

import time

from flomation.executor.engine.errors import NodeError
from flomation.executor.input_schema import SchemaError, inputs_check, schema_fields
from flomation.executor.registry import TRIGGER, Input, node

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from flomation.executor.engine.context import NodeContext

QUOTE = "Automation is good, so long as you know exactly where to put the machine."


def _now_rfc1123() -> str:
    return time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime())


def _now_iso() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


# action -> the names of its secret inputs (declared inputs of type secret, and their aliases).
SECRET_INPUTS: dict[str, frozenset[str]] = {"trigger/manual": frozenset()}
_SECRET_TYPES = frozenset({"secret", "credential"})


def _echo(inputs: dict[str, Any], hidden: frozenset[str] = frozenset()) -> dict[str, Any]:
    return {k: v for k, v in inputs.items() if v is not None and k not in hidden}


def _hidden_inputs(ctx: NodeContext, action: str) -> frozenset[str]:
    """The inputs of this node that are never echoed: its declared secrets and any input the flow types as
    a secret (a stored secret's reference, an environment secret, or a value saved before either)."""
    typed = {name for name, kind in ctx.node.input_types.items() if kind in _SECRET_TYPES}
    return SECRET_INPUTS.get(action, frozenset()) | typed


def _secret(name: str, description: str) -> Input:
    return Input(name, "secret", description=description + " Write-only: shown as set or not set.")


_WEBHOOK_SECRETS = (
    _secret("api_key", "The key callers send in the API key header (authentication api_key)."),
    _secret("bearer_token", "The token callers send as 'Authorization: Bearer' (authentication bearer)."),
    _secret("hmac_secret", "The signing secret (authentication hmac); whsec_<base64> for Standard Webhooks."),
)
_WEBHOOK_ALIASES = ("token", "secret", "signing_secret")


def apply_schema(schema: Any, data: dict[str, Any]) -> dict[str, Any]:
    """Check trigger data against a manual trigger's input schema; returns the checked values.

    The checking itself is shared with core's "run now" (flomation.executor.input_schema). Trigger data may
    carry more than the schema declares (ids the API adds, for one), so undeclared keys are not errors.
    """
    try:
        fields = schema_fields(schema)
    except SchemaError as exc:
        raise NodeError(str(exc)) from None
    check = inputs_check(fields=fields, inputs=data, allow_unknown=True)
    if not check.ok:
        problems = "; ".join(f"'{name}' {message}" for name, message in check.errors.items())
        raise NodeError("the trigger data does not match the input schema: " + problems)
    return check.values


@node(
    "trigger/manual",
    name="Manual",
    category="trigger",
    description="Run by hand or through the API; an optional input schema checks and fills the data given.",
    class_type=TRIGGER,
    inputs=(
        Input(
            "input_schema",
            "object",
            description=(
                "Fields [{name, type (string/integer/number/boolean/object/array), required, default, enum, "
                "description, min, max}], or an object of name: field."
            ),
        ),
    ),
    outputs=("start:string", "quote:string"),
    dynamic_outputs=True,
)
def manual(ctx: NodeContext, inputs: dict[str, Any]) -> dict[str, Any]:
    data = {k: v for k, v in inputs.items() if k != "input_schema"}
    schema = inputs.get("input_schema")
    outputs = {"start": _now_rfc1123(), "quote": QUOTE}
    if schema:
        checked = apply_schema(schema, data)
        outputs.update(data)
        outputs.update(checked)
    else:
        outputs.update(_echo(data, _hidden_inputs(ctx, "trigger/manual")))
    return outputs


def _echo_trigger(
    action: str,
    name: str,
    description: str,
    outputs: tuple[str, ...],
    inputs: tuple[Input, ...] = (),
    extra: dict[str, Any] | None = None,
    secret_aliases: tuple[str, ...] = (),
) -> None:
    declared = frozenset(i.name for i in inputs if i.type in _SECRET_TYPES)
    SECRET_INPUTS[action] = declared | frozenset(secret_aliases)

    def run(ctx: NodeContext, given: dict[str, Any]) -> dict[str, Any]:
        result: dict[str, Any] = {}
        if extra:
            for key, factory in extra.items():
                result[key] = factory(given)
        result.update(_echo(given, _hidden_inputs(ctx, action)))
        return result

    run.__name__ = action.replace("/", "_")
    node(
        action,
        name=name,
        category="trigger",
        description=description,
        class_type=TRIGGER,
        inputs=inputs,
        outputs=outputs,
        dynamic_outputs=True,
    )(run)


_echo_trigger(
    "trigger/webhook",
    "Webhook",
    "Started by an HTTP call to the flow's webhook URL.",
    ("body:object", "method:string", "content_type:string", "triggered_at:string"),
    inputs=_WEBHOOK_SECRETS,
    extra={"triggered_at": lambda _: _now_iso()},
    secret_aliases=_WEBHOOK_ALIASES,
)
_echo_trigger(
    "trigger/web",
    "Web",
    "A synchronous web endpoint; pair it with output/web_response.",
    ("method:string", "history:array", "raw_body:string"),
    inputs=(
        Input("methods", "multi_select", options=("GET", "POST", "PUT", "PATCH", "DELETE")),
        Input("auth_mode", "string", default="publishable", options=("publishable", "public")),
        Input("fields", "object", description="field -> path/query/header/body mapping"),
        Input("keep_history", "boolean", default=False),
        Input("message_field", "string"),
        *_WEBHOOK_SECRETS,
    ),
    secret_aliases=_WEBHOOK_ALIASES,
)
_echo_trigger(
    "trigger/schedule",
    "Schedule",
    "Started on a schedule (the API's scheduler decides when).",
    ("triggered_at:string", "schedule_mode:string"),
    inputs=(
        Input("mode", "string", default="interval", options=("interval", "daily", "weekly", "cron")),
        Input("interval", "integer"),
        Input("unit", "string", options=("minutes", "hours", "days")),
        Input("time_of_day", "string"),
        Input("days_of_week", "multi_select"),
        Input("timezone", "string", default="UTC"),
        Input("cron", "string"),
    ),
    extra={
        "triggered_at": lambda _: _now_iso(),
        "schedule_mode": lambda given: given.get("mode") or "interval",
    },
)
_echo_trigger(
    "trigger/form",
    "Form",
    "Started when a hosted form is submitted.",
    ("fields:object", "submitted_at:string"),
)
_echo_trigger(
    "trigger/qr", "QR Code", "Started when a QR code is scanned.", ("scanned_at:string", "user_agent:string")
)
_echo_trigger(
    "trigger/image",
    "Tracking Image",
    "Started when a tracking pixel is loaded.",
    ("loaded_at:string", "user_agent:string"),
)
_echo_trigger(
    "trigger/email",
    "Email",
    "Started by an incoming email.",
    ("from:string", "to:string", "subject:string", "body:string"),
    inputs=(_secret("password", "The mailbox password."),),
)
_echo_trigger(
    "trigger/git_poll",
    "Git Poll",
    "Started when a polled Git repository has new commits.",
    ("repository:string", "branch:string", "commit:string"),
    inputs=(_secret("password", "A password or access token for the repository."),),
    secret_aliases=("token",),
)
_echo_trigger(
    "trigger/database_row",
    "Database Row",
    "Started for each new row a poller finds.",
    ("row:object", "table:string"),
    inputs=(_secret("connection", "The database's connection URL or DSN (it may hold a password)."),),
    secret_aliases=("dsn", "password"),
)
_echo_trigger(
    "trigger/queue",
    "Queue",
    "Started by a message on a queue.",
    ("message:object", "queue:string"),
    inputs=(_secret("broker_url", "The broker's URL (amqp:// or redis://; it may hold a password)."),),
    secret_aliases=("queue_url", "password"),
)
