"""`trigger/email`: new messages in an IMAP mailbox that match the trigger's filters.

Inputs: `host`, `port` (993 with `security` ssl, the default; 143 with starttls or none), `username`,
`password` (secret), `mailbox` (INBOX), filters `from_contains` and `subject_contains` (case-insensitive),
`batch_size` (default 25), `include_existing` (default false). The cursor is the mailbox's UIDVALIDITY and
the last UID seen; messages are read with BODY.PEEK so their \\Seen flag is left alone. One execution per
matching message.
"""

from __future__ import annotations

import contextlib
import email
import email.policy
import imaplib
import re
import socket
from datetime import datetime
from typing import Any

from flomation.launch.config import as_bool, as_int, first
from flomation.launch.models import Trigger
from flomation.launch.pollers import PollError, PollEvent, PollResult, egress_policy_for
from flomation.lib.egress import connect as egress_connect

IMAP_TIMEOUT = 30
_UIDVALIDITY = re.compile(rb"UIDVALIDITY (\d+)")


class _PinnedIMAP(imaplib.IMAP4):
    """IMAP connected to the addresses the egress policy checked (not to the name again)."""

    addresses: list[str] = []

    def _create_socket(self, timeout: float | None) -> socket.socket:
        return egress_connect(self.addresses, self.port, timeout=timeout)


class _PinnedIMAPSSL(_PinnedIMAP, imaplib.IMAP4_SSL):
    """Over TLS, the certificate is checked against the name (IMAP4_SSL wraps the pinned socket)."""

    def _create_socket(self, timeout: float | None) -> socket.socket:
        sock = _PinnedIMAP._create_socket(self, timeout)
        return self.ssl_context.wrap_socket(sock, server_hostname=self.host)


def _client(cls: type[_PinnedIMAP], host: str, port: int, addresses: list[str]) -> imaplib.IMAP4:
    pinned = type(cls.__name__, (cls,), {"addresses": addresses})
    return pinned(host, port, timeout=IMAP_TIMEOUT)


def _connect(trigger: Trigger, config: dict[str, Any], secrets: dict[str, Any]) -> imaplib.IMAP4:
    host = str(first(config, "host", "imap_host", default=""))
    username = str(first(config, "username", "user", default=""))
    password = str(secrets.get("password", ""))
    if not host or not username:
        raise PollError("set the IMAP host, username and password")
    security = str(first(config, "security", "encryption", default="ssl")).lower()
    port = as_int(config.get("port"), 993 if security == "ssl" else 143, minimum=1, maximum=65535)
    try:
        addresses = egress_policy_for(trigger).check_host(host, port)
        if security == "ssl":
            client: imaplib.IMAP4 = _client(_PinnedIMAPSSL, host, port, addresses)
        else:
            client = _client(_PinnedIMAP, host, port, addresses)
            if security == "starttls":
                client.starttls()
        client.login(username, password)
    except imaplib.IMAP4.error as error:
        raise PollError(f"the IMAP server refused the login: {error}") from None
    except OSError as error:
        raise PollError(f"cannot reach the IMAP server {host}:{port}: {error}") from None
    return client


def _message(uid: int, raw: bytes) -> dict[str, Any]:
    message = email.message_from_bytes(raw, policy=email.policy.default)
    text = html = ""
    for part in message.walk() if message.is_multipart() else [message]:
        if part.get_content_maintype() == "multipart" or part.get_content_disposition() == "attachment":
            continue
        try:
            content = part.get_content()
        except (LookupError, ValueError):
            continue
        if part.get_content_type() == "text/plain" and not text:
            text = content
        elif part.get_content_type() == "text/html" and not html:
            html = content
    attachments = (
        [part.get_filename() for part in message.iter_attachments()] if message.is_multipart() else []
    )
    return {
        "uid": uid,
        "message_id": str(message.get("Message-ID", "")),
        "from": str(message.get("From", "")),
        "to": str(message.get("To", "")),
        "cc": str(message.get("Cc", "")),
        "subject": str(message.get("Subject", "")),
        "date": str(message.get("Date", "")),
        "text": text,
        "html": html,
        "attachments": [name for name in attachments if name],
    }


def _matches(message: dict[str, Any], config: dict[str, Any]) -> bool:
    sender = str(first(config, "from_contains", "from", "from_filter", default="")).lower()
    subject = str(first(config, "subject_contains", "subject", "subject_filter", default="")).lower()
    return (not sender or sender in message["from"].lower()) and (
        not subject or subject in message["subject"].lower()
    )


class EmailPoller:
    def poll(
        self, *, trigger: Trigger, config: dict[str, Any], secrets: dict[str, Any], cursor: Any, now: datetime
    ) -> PollResult:
        mailbox = str(first(config, "mailbox", "folder", default="INBOX"))
        batch = as_int(config.get("batch_size"), 25, minimum=1, maximum=500)
        client = _connect(trigger, config, secrets)
        try:
            status, _ = client.select(f'"{mailbox}"', readonly=True)
            if status != "OK":
                raise PollError(f"the mailbox {mailbox!r} cannot be opened")
            validity = int(client.response("UIDVALIDITY")[1][0] or 0)
            cursor = cursor or {}
            if cursor.get("uidvalidity") != validity:
                if cursor or not as_bool(config.get("include_existing")):
                    # First poll, or the mailbox was recreated: start after what is there now.
                    return PollResult(cursor={"uidvalidity": validity, "last_uid": self._max_uid(client)})
                cursor = {"uidvalidity": validity, "last_uid": 0}
            last = int(cursor.get("last_uid", 0))
            status, data = client.uid("SEARCH", None, "UID", f"{last + 1}:*")
            uids = sorted(int(uid) for uid in (data[0] or b"").split() if int(uid) > last)[:batch]
            events = []
            for uid in uids:
                status, parts = client.uid("FETCH", str(uid), "(BODY.PEEK[])")
                raw = next((part[1] for part in parts if isinstance(part, tuple)), None)
                if status != "OK" or raw is None:
                    continue
                message = _message(uid, raw)
                if _matches(message, config):
                    events.append(PollEvent(data={"mailbox": mailbox, **message}, key=f"{validity}:{uid}"))
            return PollResult(
                cursor={"uidvalidity": validity, "last_uid": uids[-1] if uids else last}, events=events
            )
        finally:
            with contextlib.suppress(imaplib.IMAP4.error, OSError):
                client.logout()

    @staticmethod
    def _max_uid(client: imaplib.IMAP4) -> int:
        status, data = client.uid("SEARCH", None, "ALL")
        uids = [int(uid) for uid in (data[0] or b"").split()] if status == "OK" else []
        return max(uids, default=0)
