"""An operator gets the shared queue's registration code for a runner run on its own box."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from flomation.core.services.queues import queue_shared
from flomation.core.services.runs import runner_register
from flomation.lib import signing
from tests.runner import factories as f

pytestmark = pytest.mark.django_db


def test_the_printed_code_registers_a_runner_into_the_shared_queue():
    out = StringIO()
    call_command("shared_queue_code", stdout=out)
    code = out.getvalue().strip()
    runner = runner_register(
        registration_code=code, public_key=signing.public_key_pem(f.test_key()), name="own box", slots_total=1
    )
    assert runner.queue_id == queue_shared().id
