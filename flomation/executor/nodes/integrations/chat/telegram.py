"""Telegram nodes: messaging/telegram/send_message, send_photo and send_document, with Flomation's inputs
and outputs, through the Bot API (https://core.telegram.org/bots/api).

The bot token sits in every request's path, so nothing here ever shows a URL; it is masked as soon as it
is read. A message longer than Telegram's 4,096 UTF-16 units is sent in parts split at a line or a word.
"""

from __future__ import annotations

from flomation.executor.connections import connection_input
from flomation.executor.engine.errors import NodeError
from flomation.executor.nodes.integrations.chat._client import (
    Client,
    file_bytes,
    json_object,
    required,
    service_fields,
    soft,
)
from flomation.executor.registry import Input, node
from flomation.lib.connections._http import ServiceFailed

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from flomation.executor.engine.context import NodeContext

MAX_MESSAGE_UNITS = 4096
BOT_TOKEN = Input(
    "bot_token",
    "secret",
    description="The bot's token, e.g. ${secrets.TELEGRAM_BOT_TOKEN}, when no connection is picked.",
)
CHAT = Input(
    "channel_id", "string", required=True, description="The chat's or channel's ID (or @channelname)."
)
FILE_INPUTS = (
    Input("file_blob", "string", description="The file: a path in the run's workspace (/work/chart.png)."),
    Input("file_base64", "string", description="Or the file's bytes as base64."),
)


def _call(ctx: NodeContext, inputs: dict[str, Any], method: str, **kwargs: Any) -> dict[str, Any]:
    """A Bot API method; its `result` object."""
    from flomation.lib.connections import telegram

    fields = service_fields(
        ctx, inputs, "telegram", inline=("bot_token",), secret=("bot_token", "webhook_secret")
    )
    what = f"Telegram {method}"
    reply = Client(ctx, inputs).call("POST", telegram.method_url(fields, method), what=what, **kwargs)
    problem = telegram.failure(reply, what)
    if problem:
        raise ServiceFailed(problem)
    result = reply.data.get("result")
    return result if isinstance(result, dict) else {}


def _chat(inputs: dict[str, Any]) -> str:
    chat = required(inputs, "channel_id", "chat_id")
    if chat.startswith(("${", "#{")):
        raise NodeError(
            f"input 'channel_id' holds an unresolved reference {chat[:60]!r} (try ${{flow.channel_id}})"
        )
    return chat


@node(
    "messaging/telegram/send_message",
    name="Send Telegram Message",
    category="telegram",
    description="Send a message through a Telegram bot (long text is sent in parts; buttons via reply_markup).",
    inputs=(
        connection_input("telegram"),
        BOT_TOKEN,
        CHAT,
        Input("message", "text", description="The text; empty: nothing is sent."),
        Input(
            "parse_mode",
            "string",
            options=("HTML", "MarkdownV2"),
            description="How the text is formatted; empty: plain.",
        ),
        Input(
            "reply_markup",
            "text",
            description='Buttons as JSON, e.g. {"inline_keyboard":[[{"text":"Approve","callback_data":"yes"}]]}.',
        ),
    ),
    outputs=("tool_result:string", "message_id:integer", "success:boolean", "error:string"),
    idempotent=False,
)
@soft("message_id")
def send_message(ctx: NodeContext, inputs: dict[str, Any]) -> dict[str, Any]:
    chat = _chat(inputs)
    text = inputs.get("message") or ""
    if not text.strip():
        return {
            "tool_result": "no message to send (empty message)",
            "message_id": 0,
            "success": True,
            "error": "",
        }
    markup = json_object(inputs.get("reply_markup"), "reply_markup")
    parts = split_message(text)
    first = 0
    for index, part in enumerate(parts):
        payload: dict[str, Any] = {"chat_id": chat, "text": part}
        if inputs.get("parse_mode"):
            payload["parse_mode"] = inputs["parse_mode"]
        if markup is not None and index == len(parts) - 1:
            payload["reply_markup"] = markup  # the buttons sit under the whole text
        sent = _call(ctx, inputs, "sendMessage", json=payload)
        first = first or int(sent.get("message_id") or 0)
    said = "message sent" if len(parts) == 1 else f"message sent in {len(parts)} parts"
    return {"tool_result": said, "message_id": first, "success": True, "error": ""}


def split_message(text: str) -> list[str]:
    """`text` in parts of at most 4,096 UTF-16 units, cut after the last newline (else space) that fits."""
    parts: list[str] = []
    while _units(text) > MAX_MESSAGE_UNITS:
        end, units = 0, 0
        while end < len(text) and units + (2 if ord(text[end]) > 0xFFFF else 1) <= MAX_MESSAGE_UNITS:
            units += 2 if ord(text[end]) > 0xFFFF else 1
            end += 1
        cut = text.rfind("\n", 0, end)
        if cut <= 0:
            cut = text.rfind(" ", 0, end)
        end = cut + 1 if cut > 0 else end
        parts.append(text[:end])
        text = text[end:]
    return [*parts, text] if text else parts


def _units(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _send_file(
    ctx: NodeContext,
    inputs: dict[str, Any],
    method: str,
    field: str,
    filename: str,
    extra: tuple[str, ...] = (),
) -> tuple[int, int]:
    """Uploads the file as `field` of a multipart sendPhoto/sendDocument/...; (message id, size)."""
    chat = _chat(inputs)
    content = file_bytes(ctx, inputs)
    data = {"chat_id": chat}
    for name in ("caption", *extra):
        if inputs.get(name) not in (None, "", 0):
            data[name] = str(inputs[name])
    sent = _call(
        ctx, inputs, method, data=data, files={field: (filename, content, "application/octet-stream")}
    )
    return int(sent.get("message_id") or 0), len(content)


@node(
    "messaging/telegram/send_photo",
    name="Send Telegram Photo",
    category="telegram",
    description="Send a photo through a Telegram bot.",
    inputs=(
        connection_input("telegram"),
        BOT_TOKEN,
        CHAT,
        *FILE_INPUTS,
        Input("caption", "string", description="Text shown beneath the photo."),
    ),
    outputs=(
        "tool_result:string",
        "message_id:integer",
        "photo_size_bytes:integer",
        "success:boolean",
        "error:string",
    ),
    idempotent=False,
)
@soft("message_id", "photo_size_bytes")
def send_photo(ctx: NodeContext, inputs: dict[str, Any]) -> dict[str, Any]:
    message_id, size = _send_file(ctx, inputs, "sendPhoto", "photo", "photo.jpg")
    return {"tool_result": f"photo sent ({size} bytes)", "message_id": message_id, "photo_size_bytes": size,
            "success": True, "error": ""}  # fmt: skip


@node(
    "messaging/telegram/send_document",
    name="Send Telegram Document",
    category="telegram",
    description="Send a file through a Telegram bot (any type, up to 50 MB).",
    inputs=(
        connection_input("telegram"),
        BOT_TOKEN,
        CHAT,
        *FILE_INPUTS,
        Input("filename", "string", default="file.bin", description="The file name the recipient sees."),
        Input("caption", "string", description="Text shown with the file."),
    ),
    outputs=(
        "tool_result:string",
        "message_id:integer",
        "file_size_bytes:integer",
        "success:boolean",
        "error:string",
    ),
    idempotent=False,
)
@soft("message_id", "file_size_bytes")
def send_document(ctx: NodeContext, inputs: dict[str, Any]) -> dict[str, Any]:
    filename = str(inputs.get("filename") or "file.bin").strip()
    message_id, size = _send_file(ctx, inputs, "sendDocument", "document", filename)
    return {"tool_result": f"document {filename!r} sent ({size} bytes)", "message_id": message_id,
            "file_size_bytes": size, "success": True, "error": ""}  # fmt: skip


@node(
    "messaging/telegram/send_audio",
    name="Send Telegram Audio",
    category="telegram",
    description="Send a music or audio file through a Telegram bot (voice notes are another kind).",
    inputs=(
        connection_input("telegram"),
        BOT_TOKEN,
        CHAT,
        *FILE_INPUTS,
        Input("title", "string", description="The track's title."),
        Input("performer", "string", description="The artist."),
        Input("duration", "integer", description="The length in seconds."),
        Input("caption", "string", description="Text shown with the audio."),
    ),
    outputs=(
        "tool_result:string",
        "message_id:integer",
        "audio_size_bytes:integer",
        "success:boolean",
        "error:string",
    ),
    idempotent=False,
)
@soft("message_id", "audio_size_bytes")
def send_audio(ctx: NodeContext, inputs: dict[str, Any]) -> dict[str, Any]:
    message_id, size = _send_file(
        ctx, inputs, "sendAudio", "audio", "audio.mp3", ("title", "performer", "duration")
    )
    return {"tool_result": f"audio sent ({size} bytes)", "message_id": message_id, "audio_size_bytes": size,
            "success": True, "error": ""}  # fmt: skip


@node(
    "messaging/telegram/send_video",
    name="Send Telegram Video",
    category="telegram",
    description="Send a video (MP4) through a Telegram bot; Telegram shows it in its player.",
    inputs=(
        connection_input("telegram"),
        BOT_TOKEN,
        CHAT,
        *FILE_INPUTS,
        Input("caption", "string", description="Text shown beneath the video."),
        Input("duration", "integer", description="The length in seconds."),
        Input("width", "integer", description="The width in pixels."),
        Input("height", "integer", description="The height in pixels."),
    ),
    outputs=(
        "tool_result:string",
        "message_id:integer",
        "video_size_bytes:integer",
        "success:boolean",
        "error:string",
    ),
    idempotent=False,
)
@soft("message_id", "video_size_bytes")
def send_video(ctx: NodeContext, inputs: dict[str, Any]) -> dict[str, Any]:
    message_id, size = _send_file(
        ctx, inputs, "sendVideo", "video", "video.mp4", ("duration", "width", "height")
    )
    return {"tool_result": f"video sent ({size} bytes)", "message_id": message_id, "video_size_bytes": size,
            "success": True, "error": ""}  # fmt: skip
