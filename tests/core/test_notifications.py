"""Email about finished runs: on failure to the owners, on success when asked, once per execution."""

from __future__ import annotations

import pytest
from django.core import mail

from flomation.core.services.notifications import execution_notify
from tests.core import factories as f

pytestmark = pytest.mark.django_db


def notify(execution, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        execution_notify(execution_id=execution.id)


def test_a_failure_is_emailed_to_the_organisations_owners(cast, django_capture_on_commit_callbacks):
    workflow = f.WorkflowFactory(organisation=cast.organisation, name="Billing")
    execution = f.ExecutionFactory(workflow=workflow, state="failed", error="HTTP 500 from api")
    notify(execution, django_capture_on_commit_callbacks)
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [cast.owner.email]
    assert "Billing" in message.subject and "failed" in message.subject
    assert "HTTP 500 from api" in message.body and str(execution.id) in message.body


def test_the_email_goes_out_once_however_often_it_is_asked_for(cast, django_capture_on_commit_callbacks):
    execution = f.ExecutionFactory(
        workflow=f.WorkflowFactory(organisation=cast.organisation), state="timed_out"
    )
    notify(execution, django_capture_on_commit_callbacks)
    notify(execution, django_capture_on_commit_callbacks)
    assert len(mail.outbox) == 1


def test_success_is_emailed_only_when_the_workflow_asks_to_its_recipients(
    cast, django_capture_on_commit_callbacks
):
    quiet = f.WorkflowFactory(organisation=cast.organisation)
    notify(f.ExecutionFactory(workflow=quiet, state="succeeded"), django_capture_on_commit_callbacks)
    assert mail.outbox == []
    loud = f.WorkflowFactory(
        organisation=cast.organisation, notify_on_success=True, notify_recipients=["ops@example.test"]
    )
    notify(f.ExecutionFactory(workflow=loud, state="succeeded"), django_capture_on_commit_callbacks)
    assert [m.to for m in mail.outbox] == [["ops@example.test"]]


def test_an_unfinished_execution_sends_nothing(cast, django_capture_on_commit_callbacks):
    notify(
        f.ExecutionFactory(workflow=f.WorkflowFactory(organisation=cast.organisation)),
        django_capture_on_commit_callbacks,
    )
    assert mail.outbox == []
