"""Email over SMTP: `messaging/email/send` (Flomation's inputs smtp_host, smtp_port, use_tls, ...) and
`common/smtp` (the original node: host, port, security). Both take a stored `smtp` connection instead.

Text, HTML or both (multipart/alternative), cc/bcc (bcc never appears in the headers), reply-to, and
attachments read from the run's workspace `/work` or given as base64. The server is reached through the
egress policy (the checked address; the name stays the TLS server name), with STARTTLS or implicit TLS.
"""

from __future__ import annotations

from flomation.executor.connections import connection_fields, connection_input
from flomation.executor.engine.errors import NodeError
from flomation.executor.registry import Input, node

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from flomation.executor.engine.context import NodeContext

MAX_ATTACHMENT_BYTES = 25 * 1024 * 1024
MESSAGE_INPUTS = (
    Input("from", "string", description="The sender; the connection's from_address when empty."),
    Input("to", "any", required=True, description="Recipients: a comma-separated list or an array."),
    Input("cc", "any", description="Copy recipients: a comma-separated list or an array."),
    Input("bcc", "any", description="Blind-copy recipients (not shown in the message's headers)."),
    Input("reply_to", "string", description="Where replies go, when not to the sender."),
    Input("subject", "string", description="The subject line."),
    Input("body", "text", description="The message: plain text, or HTML when content_type is text/html."),
    Input(
        "content_type",
        "string",
        default="text/plain",
        options=("text/plain", "text/html"),
        description="What the body is.",
    ),
    Input("html", "text", description="An HTML version sent beside a plain-text body."),
    Input(
        "attachments",
        "any",
        description=(
            'Files to attach: paths in /work ("/work/report.pdf"), or objects {filename, content_base64, '
            "content_type}; an array of these."
        ),
    ),
    Input("timeout_seconds", "number", default=30, description="How long to wait for the mail server."),
)
OUTPUTS = (
    "success:boolean",
    "message_id:string",
    "recipients:array",
    "refused:object",
    "tool_result:string",
)


@node(
    "messaging/email/send",
    name="Send Email",
    category="messaging",
    description="Send an email through an SMTP server (a stored connection or the server's details).",
    inputs=(
        connection_input("smtp"),
        Input("smtp_host", "string", description="The mail server's name (when no connection is picked)."),
        Input("smtp_port", "integer", description="587 (STARTTLS), 465 (implicit TLS) or 25."),
        Input("username", "string", description="The login, if the server needs one."),
        Input("password", "secret", description="The login's password, e.g. ${secrets.SMTP_PASSWORD}."),
        Input(
            "use_tls", "boolean", default=False, description="Implicit TLS from the first byte (port 465)."
        ),
        Input(
            "security",
            "string",
            options=("starttls", "tls", "none"),
            description="Overrides use_tls: STARTTLS, implicit TLS or none. Empty: STARTTLS when offered.",
        ),
        *MESSAGE_INPUTS,
    ),
    outputs=OUTPUTS,
    idempotent=False,
)
def email_send(ctx: NodeContext, inputs: dict[str, Any]) -> dict[str, Any]:
    security = inputs.get("security") or ("tls" if inputs.get("use_tls") else None)
    inline = {
        "connection": inputs.get("connection"),
        "host": inputs.get("smtp_host"),
        "port": inputs.get("smtp_port"),
        "username": inputs.get("username"),
        "password": inputs.get("password"),
        "security": security,
        "from_address": inputs.get("from"),
    }
    fields = connection_fields(ctx, inline, "smtp", inline=tuple(inline)[1:], secret=("password",))
    fields["security"] = fields.get("security") or "auto"
    return _send(ctx, fields, inputs)


@node(
    "common/smtp",
    name="SMTP",
    category="messaging",
    description="Send an email through an SMTP server (the original node; see also Send Email).",
    inputs=(
        connection_input("smtp"),
        Input("host", "string", description="The mail server's name (when no connection is picked)."),
        Input("port", "integer", description="587 (STARTTLS), 465 (implicit TLS) or 25."),
        Input("username", "string", description="The login, if the server needs one."),
        Input("password", "secret", description="The login's password, e.g. ${secrets.SMTP_PASSWORD}."),
        Input(
            "security",
            "string",
            options=("starttls", "tls", "none"),
            description="STARTTLS, implicit TLS or none. Empty: STARTTLS when offered.",
        ),
        *MESSAGE_INPUTS,
    ),
    outputs=OUTPUTS,
    idempotent=False,
)
def smtp_send(ctx: NodeContext, inputs: dict[str, Any]) -> dict[str, Any]:
    names = ("host", "port", "username", "password", "security")
    fields = connection_fields(ctx, inputs, "smtp", inline=names, secret=("password",))
    fields["security"] = fields.get("security") or "auto"
    return _send(ctx, fields, inputs)


def _send(ctx: NodeContext, fields: dict[str, Any], inputs: dict[str, Any]) -> dict[str, Any]:
    from flomation.executor.nodes.integrations.email_message import build_message
    from flomation.lib.connections import ConnectionFailed
    from flomation.lib.connections import smtp as smtp_type
    from flomation.lib.egress import EgressDenied

    message, recipients = build_message(ctx, fields, inputs)
    timeout = float(inputs.get("timeout_seconds") or 30)
    timeout = max(1.0, float(ctx.remaining(timeout) or timeout))
    held: dict[str, Any] = {}

    def deliver() -> dict[str, Any]:
        client = held["client"] = smtp_type.open_client(fields, ctx.egress, timeout)
        try:
            return client.send_message(message, to_addrs=recipients)
        finally:
            try:
                client.quit()
            except Exception:  # noqa: BLE001 - the message went; a rude goodbye changes nothing
                client.close()

    def abort() -> None:
        if "client" in held:
            held["client"].close()

    host, port, _ = smtp_type.settings_of(fields)
    try:
        refused = ctx.call_blocking(deliver, on_abort=abort)
    except EgressDenied as denied:
        ctx.egress_refused(denied)
        raise NodeError(str(denied)) from None
    except ConnectionFailed as failed:
        raise NodeError(f"email not sent: {failed}") from None
    except Exception as error:  # noqa: BLE001 - turned into a sentence naming what failed
        failed = smtp_type.describe(error, f"{host}:{port}", str(fields.get("username") or ""))
        if failed is None:
            raise
        raise NodeError(f"email not sent: {failed}") from None
    refused = {address: f"{code} {_text(said)}" for address, (code, said) in (refused or {}).items()}
    accepted = [address for address in recipients if address not in refused]
    return {
        "success": True,
        "message_id": message["Message-ID"],
        "recipients": accepted,
        "refused": refused,
        "tool_result": f"sent to {len(accepted)} recipient(s)"
        + (f", {len(refused)} refused" if refused else ""),
    }


def _text(said: Any) -> str:
    return said.decode(errors="replace") if isinstance(said, bytes) else str(said)
