"""Twilio nodes: twilio/send_sms and twilio/make_call, with Flomation's inputs and outputs, through the
REST API (https://www.twilio.com/docs/usage/api) with the account SID and auth token as basic auth.

Flomation's make_call connects the callee to a live voice session of its Launch service; there is none
here, so the call plays what `message` says (or the author's own TwiML, or TwiML fetched from `url`), and
`session_id` stays empty.
"""

from __future__ import annotations

from xml.sax.saxutils import escape

from flomation.executor.connections import connection_input
from flomation.executor.engine.errors import NodeError
from flomation.executor.nodes.integrations.chat._client import Client, service_fields, soft
from flomation.executor.registry import Input, node
from flomation.lib.connections._http import ServiceFailed

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from flomation.executor.engine.context import NodeContext

ACCOUNT = (
    connection_input("twilio"),
    Input("account_sid", "string", description="The account SID (AC...), when no connection is picked."),
    Input("auth_token", "secret", description="The auth token, e.g. ${secrets.TWILIO_AUTH_TOKEN}."),
    Input("from", "string", description="The sending number (E.164); the connection's when empty."),
    Input("to", "string", required=True, description="The recipient's number (E.164, +441234567890)."),
)


def _create(ctx: NodeContext, inputs: dict[str, Any], resource: str, form: dict[str, str]) -> dict[str, Any]:
    """POSTs a new Message or Call; its JSON."""
    from flomation.lib.connections import twilio

    fields = service_fields(
        ctx, inputs, "twilio", inline=("account_sid", "auth_token"), secret=("auth_token",)
    )
    # Unlike a credential, the node's own sender wins over the connection's default one.
    sender = str(inputs.get("from") or fields.get("from") or "").strip()
    if not sender:
        raise NodeError("input 'from' is required (or set it on the twilio connection)")
    what = f"Twilio {resource[:-1].lower()}"
    url = f"{twilio.account_url(fields)}/{resource}.json"
    form = {"From": sender, "To": str(inputs["to"]).strip(), **form}
    reply = Client(ctx, inputs).call("POST", url, what=what, auth=twilio.auth_of(fields), data=form)
    problem = twilio.failure(reply, what)
    if problem:
        raise ServiceFailed(problem)
    return reply.data if isinstance(reply.data, dict) else {}


@node(
    "twilio/send_sms",
    name="Send Twilio SMS",
    category="twilio",
    description="Send an SMS (or an MMS with a media URL) through Twilio.",
    inputs=(
        *ACCOUNT,
        Input("message", "text", description="The text; empty: nothing is sent."),
        Input("media_url", "string", description="A public image URL to send as an MMS."),
    ),
    outputs=("tool_result:string", "message_sid:string", "success:boolean", "error:string"),
    idempotent=False,
)
@soft("message_sid")
def send_sms(ctx: NodeContext, inputs: dict[str, Any]) -> dict[str, Any]:
    if not str(inputs.get("message") or "").strip():
        return {
            "tool_result": "no message to send (empty body)",
            "message_sid": "",
            "success": True,
            "error": "",
        }
    form = {"Body": inputs["message"]}
    if inputs.get("media_url"):
        form["MediaUrl"] = inputs["media_url"]
    data = _create(ctx, inputs, "Messages", form)
    sid = str(data.get("sid") or "")
    return {"tool_result": f"SMS sent to {inputs['to']} ({sid}, {data.get('status') or 'queued'})",
            "message_sid": sid, "success": True, "error": ""}  # fmt: skip


@node(
    "twilio/make_call",
    name="Make Call",
    category="twilio",
    description="Place a phone call through Twilio that speaks a message (or runs the TwiML given).",
    inputs=(
        *ACCOUNT,
        Input("timeout", "integer", default=30, description="How long to let it ring, in seconds."),
        Input("message", "text", description="What the call says (text to speech)."),
        Input("voice", "string", default="alice", description="The text-to-speech voice."),
        Input(
            "twiml", "text", description="Instead of a message: the call's TwiML (<Response>...</Response>)."
        ),
        Input("url", "string", description="Instead: a URL Twilio fetches the call's TwiML from."),
    ),
    outputs=("tool_result:string", "call_sid:string", "session_id:string", "success:boolean", "error:string"),
    idempotent=False,
)
@soft("call_sid", "session_id")
def make_call(ctx: NodeContext, inputs: dict[str, Any]) -> dict[str, Any]:
    ring = inputs.get("timeout")
    form = {"Timeout": str(max(5, min(600, int(ring)))) if isinstance(ring, int) and ring > 0 else "30"}
    if inputs.get("twiml"):
        form["Twiml"] = str(inputs["twiml"])
    elif inputs.get("url"):
        form["Url"] = str(inputs["url"])
    elif str(inputs.get("message") or "").strip():
        voice = escape(str(inputs.get("voice") or "alice"), {'"': "&quot;"})
        form["Twiml"] = f'<Response><Say voice="{voice}">{escape(str(inputs["message"]))}</Say></Response>'
    else:
        raise NodeError("give the call something to do: 'message', 'twiml' or 'url'")
    data = _create(ctx, inputs, "Calls", form)
    sid = str(data.get("sid") or "")
    return {"tool_result": f"call placed to {inputs['to']} ({sid}, {data.get('status') or 'queued'})",
            "call_sid": sid, "session_id": "", "success": True, "error": ""}  # fmt: skip
