"""The System page: staff see every organisation's queues, runners and last hour's executions; anyone else
is refused."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from flomation.identity.models import User
from tests.core import factories as f


def test_staff_see_the_queues_with_their_backlog_and_the_runners(team, browser_for):
    browser = browser_for("owner")  # makes the owner's identity user
    User.objects.filter(id=team.owner.id).update(is_staff=True)
    queue = f.QueueFactory(organisation=team.organisation, name="night-jobs")
    workflow = f.WorkflowFactory(organisation=team.organisation)
    for _ in range(3):
        f.ExecutionFactory(workflow=workflow, queue=queue, trigger_type="webhook")
    f.RunnerFactory(queue=queue, name="box-7", slots_in_use=2, slots_total=4, last_contact_at=timezone.now())
    f.RunnerFactory(queue=queue, name="gone", last_contact_at=timezone.now() - timedelta(days=30))
    page = browser.get("/system")
    assert page.status_code == 200
    html = page.content.decode()
    assert f"{team.organisation.slug}/night-jobs</td><td>3</td>" in html
    assert "box-7" in html and "2/4" in html and "gone" not in html
    assert "<td>pending</td><td>webhook</td><td>3</td>" in html


def test_a_member_who_is_not_staff_is_refused(team, browser_for, caplog):
    response = browser_for("owner").get("/system")
    assert response.status_code == 403
    assert "operators (staff accounts) only" in response.content.decode()
    assert "system page refused" in caplog.text
