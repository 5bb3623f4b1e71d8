"""Building an email: addresses, text and HTML parts, and attachments from `/work` or base64."""

from __future__ import annotations

import base64
import binascii
import json
import mimetypes
import os
import re
from email.message import EmailMessage
from email.utils import formatdate, getaddresses
from typing import Any

from flomation.executor.engine.context import NodeContext
from flomation.executor.engine.errors import NodeError
from flomation.executor.nodes.integrations.email import MAX_ATTACHMENT_BYTES


def addresses(value: Any, name: str) -> list[str]:
    """Addresses from a comma-separated string or a list; refuses what is not an address."""
    if value in (None, ""):
        return []
    items = value if isinstance(value, list) else [value]
    found: list[str] = []
    for _display, address in getaddresses([str(item) for item in items if item not in (None, "")]):
        if "@" not in address or any(c in address for c in "\r\n "):
            raise NodeError(f"input '{name}' has an address that is not one: {address[:80]!r}")
        found.append(address)
    return found


def build_message(
    ctx: NodeContext, fields: dict[str, Any], inputs: dict[str, Any]
) -> tuple[EmailMessage, list[str]]:
    """The message and every envelope recipient (to, cc and bcc)."""
    sender = str(inputs.get("from") or fields.get("from_address") or "").strip()
    if not sender:
        raise NodeError("set 'from' (or the connection's from_address): who the email is from")
    to, cc, bcc = (addresses(inputs.get(key), key) for key in ("to", "cc", "bcc"))
    if not to and not cc and not bcc:
        raise NodeError("input 'to' needs at least one recipient")
    message = EmailMessage()
    message["From"] = sender
    if to:
        message["To"] = ", ".join(to)
    if cc:
        message["Cc"] = ", ".join(cc)
    if inputs.get("reply_to"):
        message["Reply-To"] = ", ".join(addresses(inputs["reply_to"], "reply_to"))
    message["Subject"] = str(inputs.get("subject") or "")
    message["Date"] = formatdate(localtime=False)
    domain = sender.rpartition("@")[2].strip("> ") or None
    # The same Message-ID whenever this node of this execution sends (a retry, or a run that goes on after
    # its runner was lost): receiving servers and clients recognise the repeat as one message.
    if not domain or not re.fullmatch(r"[A-Za-z0-9.-]{1,253}", domain):
        domain = "flomation.invalid"
    message["Message-ID"] = f"<{ctx.idempotency_key}@{domain}>"
    body = str(inputs.get("body") or "")
    html = str(inputs.get("html") or "")
    if inputs.get("content_type") == "text/html":
        message.set_content(body, subtype="html")
    else:
        message.set_content(body)
        if html:
            message.add_alternative(html, subtype="html")
    total = 0
    for filename, content, mime in _attachments(ctx, inputs.get("attachments")):
        total += len(content)
        if total > MAX_ATTACHMENT_BYTES:
            raise NodeError(f"the attachments come to more than {MAX_ATTACHMENT_BYTES // (1024 * 1024)} MB")
        maintype, _, subtype = mime.partition("/")
        message.add_attachment(
            content, maintype=maintype, subtype=subtype or "octet-stream", filename=filename
        )
    return message, [*to, *cc, *bcc]


def _attachments(ctx: NodeContext, value: Any) -> list[tuple[str, bytes, str]]:
    if isinstance(value, str) and value.lstrip().startswith(("[", "{")):
        try:
            value = json.loads(value)
        except ValueError:
            raise NodeError("input 'attachments' looks like JSON but is not valid JSON") from None
    if value in (None, "", []):
        return []
    items = value if isinstance(value, list) else [value]
    found = []
    for index, item in enumerate(items):
        where = f"attachment {index + 1}"
        if isinstance(item, str):
            item = {"path": item}
        if not isinstance(item, dict):
            raise NodeError(f"{where} must be a path in /work or an object with filename and content_base64")
        if item.get("path"):
            content = read_workspace_file(ctx, str(item["path"]))
            filename = str(item.get("filename") or os.path.basename(str(item["path"])))
        else:
            encoded = item.get("content_base64") or item.get("content") or ""
            try:
                content = base64.b64decode(str(encoded), validate=True)
            except (binascii.Error, ValueError):
                raise NodeError(f"{where}: content_base64 is not valid base64") from None
            filename = str(item.get("filename") or f"attachment-{index + 1}")
        mime = str(
            item.get("content_type") or mimetypes.guess_type(filename)[0] or "application/octet-stream"
        )
        found.append((filename, content, mime))
    return found


def read_workspace_file(ctx: NodeContext, path: str) -> bytes:
    """A file of the run's workspace, named `/work/x` or `x`; nothing outside it (no `..`, no symlink
    leading out)."""
    from flomation.executor.sandbox import isolation

    run = ctx.resource("isolation", lambda: isolation.RunIsolation(ctx.settings))
    root = os.path.realpath(run.ensure_workspace().path)
    relative = path[len("/work/") :] if path.startswith("/work/") else path
    if relative.startswith("/") or ".." in relative.split("/") or not relative.strip("/"):
        raise NodeError(f"attachment {path[:120]!r} must be a file in /work")
    full = os.path.realpath(os.path.join(root, relative))
    if not full.startswith(root + os.sep):
        raise NodeError(f"attachment {path[:120]!r} leads outside /work")
    try:
        descriptor = os.open(full, os.O_RDONLY | os.O_NOFOLLOW)
    except FileNotFoundError:
        raise NodeError(f"attachment {path[:120]!r}: no such file in /work") from None
    except OSError as error:
        raise NodeError(f"attachment {path[:120]!r} cannot be read: {error.strerror}") from None
    with os.fdopen(descriptor, "rb") as handle:
        content = handle.read(MAX_ATTACHMENT_BYTES + 1)
    if len(content) > MAX_ATTACHMENT_BYTES:
        raise NodeError(
            f"attachment {path[:120]!r} is larger than {MAX_ATTACHMENT_BYTES // (1024 * 1024)} MB"
        )
    return content
