"""What a flow or a request controls on the executor's command line (subprocess mode): real runner process,
real HTTP on loopback. The entry node id (a re-run from a node) is the value of `--entry` and can never be
read as an option of its own, such as `--no-shell`."""

from __future__ import annotations

import sys

import pytest

from flomation.core.models import Execution
from flomation.core.services.queues import queue_registration_code, queue_shared
from tests.runner import factories as f
from tests.runner.conftest import wait_until
from tests.runner.flows import chain, node

pytestmark = pytest.mark.django_db(transaction=True)


def test_an_entry_node_named_like_an_option_is_run_not_read_as_the_option(start_runner):
    flow = chain(
        node("t1", "trigger/manual", 1),
        node(
            "--no-shell", "script/bash", 2, [{"name": "script", "type": "string", "value": "echo entry-ran"}]
        ),
    )
    start_runner(
        queue_registration_code(queue=queue_shared()),
        FLOMATION_RUNNER_EXECUTABLE_NAME=f"{sys.executable} -m flomation.executor",
    )
    execution = f.run(f.make_workflow(f.make_organisation(), flow), entry_node="--no-shell")
    finished = wait_until(
        lambda: Execution.objects.filter(id=execution.id, state__in=("succeeded", "failed")).first(),
        timeout=60,
    )
    # Read as the flag, it would have turned shell off and failed the node ("shell is not allowed").
    assert finished.state == "succeeded", finished.error
    assert "shell is not allowed" not in (finished.error or "")
