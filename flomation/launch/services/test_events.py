"""Test events: the editor's "Listen for test event" on a trigger node.

The author starts a listening session (`test_listen_start`) and gets a test URL carrying a signed token that
names the session and expires with it. The first request to that URL is captured (method, query, headers
with the values of credentials hidden, body up to LAUNCH_TEST_MAX_BODY_BYTES) and nothing is executed; the
editor reads it back with `test_listen_result`, which answers only the account that started the session.
"""

from __future__ import annotations

import json
import logging
import uuid
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core import signing
from django.urls import reverse
from django.utils import timezone

from flomation.core.models import Organisation, Workflow
from flomation.launch.models import TestListen

log = logging.getLogger(__name__)

_SALT = "flomation.launch.test-event"
HIDDEN_HEADERS = frozenset(
    {
        "authorization",
        "cookie",
        "proxy-authorization",
        "x-api-key",
        "x-flomation-signature",
        "webhook-signature",
    }
)


class TestEventRefused(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def test_url(*, listen: TestListen, token: str) -> str:
    path = reverse("launch-test-event", args=[str(listen.workflow_id), listen.node_id])
    return f"{settings.LAUNCH_URL.rstrip('/')}{path}?token={token}"


def test_listen_start(
    *, organisation: Organisation, workflow: Workflow, node_id: str, account_id: uuid.UUID
) -> tuple[TestListen, str]:
    """A new listening session for `node_id` (the author's earlier ones on that node end); its token."""
    now = timezone.now()
    TestListen.objects.filter(expires_at__lt=now).delete()
    TestListen.objects.filter(workflow=workflow, node_id=node_id, account_id=account_id).delete()
    listen = TestListen.objects.create(
        organisation=organisation,
        workflow=workflow,
        node_id=node_id,
        account_id=account_id,
        expires_at=now + timedelta(seconds=settings.LAUNCH_TEST_LISTEN_SECONDS),
    )
    token = signing.TimestampSigner(salt=_SALT).sign(f"{listen.id}:{workflow.id}:{node_id}")
    return listen, token


def test_listen_result(*, listen_id: str, workflow: Workflow, account_id: uuid.UUID) -> TestListen | None:
    """The author's own session on `workflow`, else None (someone else's session is not found)."""
    try:
        return TestListen.objects.get(id=uuid.UUID(str(listen_id)), workflow=workflow, account_id=account_id)
    except (ValueError, TestListen.DoesNotExist):
        return None


def _body(raw: bytes, content_type: str) -> Any:
    text = raw.decode("utf-8", errors="replace")
    if "json" in content_type:
        try:
            return json.loads(text)
        except ValueError:
            return text
    return text


def test_event_capture(
    *,
    workflow_id: str,
    node_id: str,
    token: str,
    method: str,
    headers: dict[str, str],
    query: dict[str, list[str]],
    body: bytes,
) -> TestListen:
    """Stores one request for the listening session `token` names; refused (403/410) otherwise."""
    try:
        value = signing.TimestampSigner(salt=_SALT).unsign(token, max_age=settings.LAUNCH_TEST_LISTEN_SECONDS)
    except signing.SignatureExpired:
        raise TestEventRefused(410, "this test URL has expired; listen for a test event again") from None
    except signing.BadSignature:
        log.warning("test event refused: bad token (workflow %s, node %s)", workflow_id, node_id)
        raise TestEventRefused(403, "this test URL's token is not valid") from None
    listen_id, signed_workflow, signed_node = value.split(":", 2)
    if signed_workflow != workflow_id or signed_node != node_id:
        log.warning("test event refused: token for another node (workflow %s, node %s)", workflow_id, node_id)
        raise TestEventRefused(403, "this test URL's token is not valid")
    content_type = headers.get("Content-Type", "")
    event = {
        "method": method,
        "headers": {
            name: ("[hidden]" if name.lower() in HIDDEN_HEADERS else value) for name, value in headers.items()
        },
        "query": {key: values[0] if len(values) == 1 else values for key, values in query.items()},
        "body": _body(body, content_type),
        "content_type": content_type,
        "triggered_at": timezone.now().strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    taken = TestListen.objects.filter(
        id=listen_id, captured__isnull=True, expires_at__gt=timezone.now()
    ).update(captured=event, captured_at=timezone.now())
    if not taken:
        raise TestEventRefused(410, "nobody is listening on this test URL now; listen for a test event again")
    return TestListen.objects.get(id=listen_id)
