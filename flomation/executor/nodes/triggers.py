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
from flomation.executor.nodes.webhook_presets import PRESET_INPUTS, hidden_under_preset
from flomation.executor.registry import TRIGGER, Input, node

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from flomation.executor.engine.context import NodeContext

QUOTE = "Automation is good, so long as you know exactly where to put the machine."


_RFC1123_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_RFC1123_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def rfc1123(moment: time.struct_time) -> str:
    """`Mon, 02 Jan 2006 15:04:05 UTC`: Go's time.RFC1123 of a UTC time, as Flomation's manual trigger
    writes `start` (Go names the zone UTC where HTTP dates say GMT). English names whatever the locale."""
    return (
        f"{_RFC1123_DAYS[moment.tm_wday]}, {moment.tm_mday:02d} {_RFC1123_MONTHS[moment.tm_mon - 1]} {moment.tm_year} "
        f"{moment.tm_hour:02d}:{moment.tm_min:02d}:{moment.tm_sec:02d} UTC"
    )


def _now_rfc1123() -> str:
    return rfc1123(time.gmtime())


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
    _secret("hmac_secret", "The signing secret (hmac, or a preset's); whsec_<base64> for Standard Webhooks."),
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


_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
_RATE = (
    Input("rate_limit", "integer", default=6000, description="Requests per minute per worker (0: none)."),
    Input("rate_limit_burst", "integer", description="The bucket size (default: the rate ÷ 6)."),
)
_AUTH_ALIASES = ("", "apikey", "header", "token", "signature")


def _webhook_settings(*, response_default: str) -> tuple[Input, ...]:
    """The settings launch reads for an HTTP trigger (docs/launch.md, "Webhook inputs"); same names."""
    return (
        Input(
            "methods",
            "multi_select",
            default=["POST"],
            options=_METHODS,
            accepts=tuple(m.lower() for m in _METHODS),
            description="The HTTP methods accepted; others answer 405.",
        ),
        Input(
            "authentication",
            "string",
            default="none",
            options=(
                {"name": "None", "value": "none"},
                {"name": "API key header", "value": "api_key"},
                {"name": "Bearer token", "value": "bearer"},
                {"name": "HMAC signature", "value": "hmac"},
            ),
            accepts=_AUTH_ALIASES,
            description="How callers prove who they are; a wrong or missing credential answers 401.",
        ),
        Input(
            "api_key_header", "string", default="X-API-Key", description="The header carrying the API key."
        ),
        *_WEBHOOK_SECRETS,
        Input(
            "responseMode",
            "string",
            default=response_default,
            options=(
                {"name": "Immediately (202)", "value": "immediate"},
                {"name": "When the last node finishes", "value": "lastNode"},
            ),
            accepts=("last_node", "lastnode", "sync"),
            description="Answer at once, or wait for the flow's result (output/web_response sets the answer).",
        ),
        Input(
            "timeout", "integer", default=30000, description="Milliseconds to wait in lastNode, 1000–300000."
        ),
        Input(
            "cors", "string", description="Origins allowed to call from a browser, separated by commas, or *."
        ),
        Input(
            "max_body_bytes", "integer", default=1 << 20, description="The body cap in bytes, up to 10 MiB."
        ),
        *_RATE,
    )


_echo_trigger(
    "trigger/webhook",
    "Webhook",
    "Started by an HTTP call to the flow's webhook URL; a preset checks an app's signed events.",
    ("body:object", "method:string", "content_type:string", "triggered_at:string", "event:string"),
    inputs=(*PRESET_INPUTS, *hidden_under_preset(_webhook_settings(response_default="immediate"))),
    extra={"triggered_at": lambda _: _now_iso()},
    secret_aliases=_WEBHOOK_ALIASES,
)
_echo_trigger(
    "trigger/web",
    "Web",
    "A synchronous web endpoint; pair it with output/web_response.",
    ("method:string", "history:array", "raw_body:string"),
    inputs=(
        Input("auth_mode", "string", default="publishable", options=("publishable", "public")),
        Input("fields", "object", description="field -> path/query/header/body mapping"),
        Input("keep_history", "boolean", default=False),
        Input("message_field", "string"),
        *_webhook_settings(response_default="lastNode"),
    ),
    secret_aliases=_WEBHOOK_ALIASES,
)
_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_echo_trigger(
    "trigger/schedule",
    "Schedule",
    "Started on a schedule (the API's scheduler decides when).",
    ("triggered_at:string", "schedule_mode:string"),
    inputs=(
        Input(
            "mode",
            "string",
            default="interval",
            options=("interval", "daily", "weekly", "cron"),
            description="interval: every N minutes/hours; daily/weekly at a time of day; cron: the expression.",
        ),
        Input(
            "interval", "integer", description="Every how many units (interval mode); divides the hour/day."
        ),
        Input("unit", "string", options=("minutes", "hours", "days"), accepts=("minute", "hour", "day")),
        Input("time_of_day", "string", description="HH:MM, in the time zone (daily and weekly)."),
        Input(
            "days_of_week",
            "multi_select",
            options=_DAYS,
            accepts=("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"),
        ),
        Input("timezone", "timezone", default="UTC", description="An IANA time zone such as Europe/London."),
        Input("cron", "cron", description="Five fields: minute hour day-of-month month day-of-week."),
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
    inputs=(
        Input(
            "fields",
            "object",
            description=(
                "[{name, label, type (text, email, number, textarea, checkbox, select, date, tel, url), "
                "required, options}], or names separated by commas (a trailing * marks one required)."
            ),
        ),
        Input("title", "string", description="The form's heading (default: the flow's name)."),
        Input("description", "text"),
        Input("submit_label", "string", default="Send"),
        Input("thank_you_message", "text", default="Thank you. Your answer was sent."),
        Input(
            "redirect_url", "string", description="Send the visitor here after submitting (http or https)."
        ),
        Input(
            "max_body_bytes", "integer", default=1 << 20, description="The body cap in bytes, up to 10 MiB."
        ),
        *_RATE,
    ),
)
_PAGE_AFTER = (
    Input("title", "string", default="Thanks"),
    Input("message", "text", description="The page shown after the visit (when no redirect is set)."),
    Input("redirect_url", "string", description="Send the visitor here instead (http or https)."),
)
_echo_trigger(
    "trigger/qr",
    "QR Code",
    "Started when a QR code is scanned.",
    ("scanned_at:string", "user_agent:string"),
    inputs=(*_PAGE_AFTER, *_RATE),
)
_echo_trigger(
    "trigger/image",
    "Tracking Image",
    "Started when a tracking pixel is loaded.",
    ("loaded_at:string", "user_agent:string"),
    inputs=_RATE,
)


def _poll_every(default: int = 60) -> tuple[Input, ...]:
    return (
        Input("interval", "integer", default=default, description="How often to poll (at least 5 seconds)."),
        Input(
            "unit",
            "string",
            default="seconds",
            options=("seconds", "minutes", "hours"),
            accepts=("second", "minute", "hour"),
            description="The unit of the interval.",
        ),  # fmt: skip
    )


_echo_trigger(
    "trigger/email",
    "Email",
    "Started by an incoming email.",
    ("from:string", "to:string", "subject:string", "body:string"),
    inputs=(
        Input("host", "string", description="Required. The IMAP server."),
        Input("port", "integer", description="Default 993 (ssl) or 143."),
        Input("security", "string", default="ssl", options=("ssl", "starttls", "none")),
        Input("username", "string", description="Required."),
        _secret("password", "The mailbox password."),
        Input("mailbox", "string", default="INBOX"),
        Input("from_contains", "string", description="Only messages whose sender contains this."),
        Input("subject_contains", "string", description="Only messages whose subject contains this."),
        Input("batch_size", "integer", default=25, description="Messages per poll, 1–500."),
        Input("include_existing", "boolean", default=False, description="Start for messages already there."),
        *_poll_every(),
    ),
)
_echo_trigger(
    "trigger/git_poll",
    "Git Poll",
    "Started when a polled Git repository has new commits.",
    ("repository:string", "branch:string", "commit:string"),
    inputs=(
        Input("url", "string", description="Required. The repository's URL."),
        Input("branch", "string", default="main"),
        _secret("password", "A password or access token for the repository."),
        *_poll_every(),
    ),
    secret_aliases=("token",),
)
_echo_trigger(
    "trigger/database_row",
    "Database Row",
    "Started for each new row a poller finds.",
    ("row:object", "table:string"),
    inputs=(
        _secret("connection", "The database's connection URL or DSN (it may hold a password)."),
        Input("schema", "string", default="public"),
        Input("table", "string", description="Required."),
        Input("column", "string", description="Required. An increasing column (an id or a timestamp)."),
        Input("batch_size", "integer", default=100, description="Rows per poll, 1–1000."),
        Input("include_existing", "boolean", default=False, description="Start for rows already there."),
        *_poll_every(),
    ),
    secret_aliases=("dsn", "password"),
)
_echo_trigger(
    "trigger/queue",
    "Queue",
    "Started by a message on a queue.",
    ("message:object", "queue:string"),
    inputs=(
        _secret("broker_url", "The broker's URL (amqp:// or redis://; it may hold a password)."),
        Input("queue", "string", description="Required. The queue's name."),
        Input("batch_size", "integer", default=50, description="Messages per poll, 1–1000."),
        *_poll_every(),
    ),
    secret_aliases=("queue_url", "password"),
)


# The broker and object-store triggers, declared with the helpers above.
from flomation.executor.nodes import trigger_chat, trigger_sources  # noqa: E402, F401
