"""A flow with a Slack node run by a real runner: the node reads the environment's stored slack connection,
posts through the organisation's egress policy to a loopback stand-in for the Web API, and the bot token
shows nowhere in the run's steps, outputs or errors."""

from __future__ import annotations

import json

import pytest

from flomation.core.models import Execution, ExecutionStep
from flomation.core.services.connections import connection_create
from flomation.core.services.queues import queue_registration_code, queue_shared
from tests.executor.integrations.chat_servers import BOT_TOKEN, body_json, ok, serving
from tests.runner import factories as f
from tests.runner.conftest import wait_until

pytestmark = pytest.mark.django_db(transaction=True)


def slack_flow() -> dict:
    value = lambda name, text: {"name": name, "type": "string", "value": text}  # noqa: E731
    return f.chain(
        f.node("t1", "trigger/manual", 1),
        f.node("post", "slack/send_message", 2, [
            {"name": "connection", "type": "connection", "value": "team"},
            value("channel_id", "C0DEPLOYS"), value("message", "Release *1.2* is out"),
        ]),
        f.node("o1", "output/set", 3, [value("name", "ts"), value("value", "${post.timestamp}")]),
    )  # fmt: skip


def test_a_slack_node_posts_with_the_stored_connection_through_a_real_runner(start_runner):
    organisation = f.make_organisation()
    organisation.egress_allow = ["127.0.0.0/8"]
    organisation.save(update_fields=["egress_allow"])
    with serving() as slack:
        slack.routes["/api/chat.postMessage"] = ok(
            {"ok": True, "channel": "C0DEPLOYS", "ts": "1712345678.000200"}
        )
        connection_create(organisation=organisation, name="team", type="slack",
                          fields={"bot_token": BOT_TOKEN, "base_url": slack.url + "/api"})  # fmt: skip
        start_runner(queue_registration_code(queue=queue_shared()))
        execution = f.run(f.make_workflow(organisation, slack_flow()))
        wait_until(
            lambda: Execution.objects.get(id=execution.id).state in ("succeeded", "failed"), timeout=40
        )
    done = Execution.objects.get(id=execution.id)
    assert done.state == "succeeded", done.error
    assert done.outputs["ts"] == "1712345678.000200"
    (request,) = slack.requests
    assert request["headers"]["Authorization"] == f"Bearer {BOT_TOKEN}"
    assert body_json(request) == {"channel": "C0DEPLOYS", "text": "Release *1.2* is out", "mrkdwn": True}
    steps = list(ExecutionStep.objects.filter(execution=execution).values())
    assert BOT_TOKEN not in json.dumps([steps, done.outputs, done.error], default=str)
