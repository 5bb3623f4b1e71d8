"""The Telegram nodes against a loopback stand-in for the Bot API (https://core.telegram.org/bots/api):
the exact requests, a refused token (never shown: it is in the URL), retry_after, an unreachable host."""

from __future__ import annotations

import base64

from flomation.executor import StaticSecrets
from flomation.executor.nodes.integrations.chat.telegram import split_message
from tests.executor.conftest import chain, node, outputs_of, run, run_node
from tests.executor.integrations.chat_servers import TELEGRAM_TOKEN, answers, body_json, multipart, ok
from tests.support.servers import free_port

BOT = f"/bot{TELEGRAM_TOKEN}"


def telegram(server):
    return StaticSecrets(connections={"bot": {"type": "telegram", "fields": {"bot_token": TELEGRAM_TOKEN,
                                                                             "base_url": server.url}}})  # fmt: skip


def test_send_message_posts_the_chat_text_parse_mode_and_buttons(http_server):
    http_server.routes[f"{BOT}/sendMessage"] = ok({"ok": True, "result": {"message_id": 77}})
    inputs = {"connection": "bot", "channel_id": "-100123", "message": "<b>Approve?</b>", "parse_mode": "HTML",
              "reply_markup": '{"inline_keyboard":[[{"text":"Yes","callback_data":"yes"}]]}'}  # fmt: skip
    result = run_node("messaging/telegram/send_message", inputs, secrets=telegram(http_server))
    assert outputs_of(result) == {
        "tool_result": "message sent",
        "message_id": 77,
        "success": True,
        "error": "",
    }
    (request,) = http_server.requests
    assert request["method"] == "POST" and request["headers"]["Content-Type"] == "application/json"
    assert body_json(request) == {"chat_id": "-100123", "text": "<b>Approve?</b>", "parse_mode": "HTML",
                                  "reply_markup": {"inline_keyboard": [[{"text": "Yes", "callback_data": "yes"}]]}}  # fmt: skip
    assert TELEGRAM_TOKEN not in str(result.node_results)


def test_a_long_message_goes_in_parts_cut_at_lines_with_the_buttons_on_the_last():
    text = ("a" * 100 + "\n") * 60
    parts = split_message(text)
    assert (
        "".join(parts) == text and len(parts) == 2 and all(len(p) <= 4096 and p.endswith("\n") for p in parts)
    )
    assert split_message("😀" * 3000)[0] == "😀" * 2048


def test_a_refused_token_is_a_soft_failure_that_never_shows_it(http_server):
    http_server.routes[f"{BOT}/sendMessage"] = ok(
        {"ok": False, "error_code": 401, "description": "Unauthorized"}, 401
    )
    result = run_node("messaging/telegram/send_message", {"connection": "bot", "channel_id": "1", "message": "x"},
                      secrets=telegram(http_server))  # fmt: skip
    assert (
        outputs_of(result)["error"]
        == "Telegram sendMessage failed: the bot token was refused (401 Unauthorized)"
    )
    assert TELEGRAM_TOKEN not in str(result.node_results)


def test_retry_after_in_the_body_is_honoured(http_server):
    limited = ok({"ok": False, "error_code": 429, "description": "Too Many Requests: retry after 1",
                  "parameters": {"retry_after": 1}}, 429)  # fmt: skip
    http_server.routes[f"{BOT}/sendMessage"] = answers(limited, ok({"ok": True, "result": {"message_id": 5}}))
    result = run_node("messaging/telegram/send_message", {"connection": "bot", "channel_id": "1", "message": "x"},
                      secrets=telegram(http_server))  # fmt: skip
    assert outputs_of(result)["message_id"] == 5 and len(http_server.requests) == 2


def test_send_photo_and_document_upload_multipart_with_the_caption(http_server, tmp_path):
    http_server.routes[f"{BOT}/sendPhoto"] = ok({"ok": True, "result": {"message_id": 8}})
    http_server.routes[f"{BOT}/sendDocument"] = ok({"ok": True, "result": {"message_id": 9}})
    png = b"\x89PNG\r\n\x1a\nfake"
    out = outputs_of(run_node("messaging/telegram/send_photo", {"connection": "bot", "channel_id": "42",
                     "file_base64": base64.b64encode(png).decode(), "caption": "Chart"}, secrets=telegram(http_server)))  # fmt: skip
    assert out["message_id"] == 8 and out["photo_size_bytes"] == len(png)
    assert multipart(http_server.requests[0]) == {"chat_id": (None, b"42"), "caption": (None, b"Chart"),
                                                  "photo": ("photo.jpg", png)}  # fmt: skip
    out = outputs_of(run_node("messaging/telegram/send_document", {"connection": "bot", "channel_id": "42",
                     "file_blob": "a,b\n", "filename": "data.csv"}, secrets=telegram(http_server)))  # fmt: skip
    assert out["file_size_bytes"] == 4
    assert multipart(http_server.requests[1]) == {
        "chat_id": (None, b"42"),
        "document": ("data.csv", b"a,b\n"),
    }


def test_an_unreachable_bot_api_names_the_host_not_the_url():
    port = free_port()
    secrets = StaticSecrets(connections={"bot": {"type": "telegram", "fields": {"bot_token": TELEGRAM_TOKEN,
                                                                                "base_url": f"http://127.0.0.1:{port}"}}})  # fmt: skip
    result = run_node("messaging/telegram/send_message", {"connection": "bot", "channel_id": "1", "message": "x"},
                      secrets=secrets)  # fmt: skip
    assert outputs_of(result)["error"] == (
        f"Telegram sendMessage failed: could not connect to 127.0.0.1:{port}: connection refused"
    )


def test_a_document_is_read_from_the_runs_workspace(http_server):
    http_server.routes[f"{BOT}/sendDocument"] = ok({"ok": True, "result": {"message_id": 10}})
    flow = chain(
        node("w", "file/write", {"file_path": "/work/report.txt", "content": "all green"}),
        node("n", "messaging/telegram/send_document", {"connection": "bot", "channel_id": "42",
                                                       "file_blob": "/work/report.txt", "filename": "report.txt"}),
    )  # fmt: skip
    result, _ = run(flow, secrets=telegram(http_server))
    assert result.status == "succeeded", result.error
    assert multipart(http_server.requests[0])["document"] == ("report.txt", b"all green")
    escape = run_node("messaging/telegram/send_document", {"connection": "bot", "channel_id": "42",
                                                           "file_blob": "/work/../etc/passwd"}, secrets=telegram(http_server))  # fmt: skip
    assert escape.status == "failed" and "must not contain '..'" in escape.error


def test_audio_and_video_carry_their_documented_metadata_fields(http_server):
    http_server.routes[f"{BOT}/sendAudio"] = ok({"ok": True, "result": {"message_id": 11}})
    http_server.routes[f"{BOT}/sendVideo"] = ok({"ok": True, "result": {"message_id": 12}})
    clip = base64.b64encode(b"ID3-bytes").decode()
    out = outputs_of(run_node("messaging/telegram/send_audio", {"connection": "bot", "channel_id": "42", "file_base64": clip,
                     "title": "Theme", "performer": "Band", "duration": 61}, secrets=telegram(http_server)))  # fmt: skip
    assert out["message_id"] == 11 and out["audio_size_bytes"] == 9
    assert multipart(http_server.requests[0]) == {"chat_id": (None, b"42"), "title": (None, b"Theme"),
        "performer": (None, b"Band"), "duration": (None, b"61"), "audio": ("audio.mp3", b"ID3-bytes")}  # fmt: skip
    out = outputs_of(run_node("messaging/telegram/send_video", {"connection": "bot", "channel_id": "42", "file_base64": clip,
                     "width": 640, "height": 360}, secrets=telegram(http_server)))  # fmt: skip
    assert out["video_size_bytes"] == 9
    assert multipart(http_server.requests[1]) == {"chat_id": (None, b"42"), "width": (None, b"640"),
        "height": (None, b"360"), "video": ("video.mp4", b"ID3-bytes")}  # fmt: skip
