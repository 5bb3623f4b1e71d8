"""Input the database cannot hold is refused at the door with 400 and a sentence naming what was wrong,
over real HTTP: numbers past a column's range, page sizes past PostgreSQL's LIMIT, UTC offsets past
±18:00, and text with a NUL character. Each of these once answered 500."""

from __future__ import annotations

from datetime import timedelta

import pytest
import requests
from django.utils import timezone

from flomation.core import models as m
from tests.core import factories as f
from tests.core.conftest import identity_token
from tests.support.servers import manage

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def api(live_server, cast):
    """An HTTP session signed in as the owner, and the organisation's base URL on the live server."""
    session = requests.Session()
    session.headers["Authorization"] = "Bearer " + identity_token(cast.owner)
    return session, live_server.url + cast.url()


def refusal(response: requests.Response) -> str:
    assert response.status_code == 400, (response.status_code, response.text[:500])
    return response.json()["detail"]


@pytest.mark.parametrize("parameter", ["limit", "offset"])
def test_a_page_bound_past_postgresqls_bigint_is_refused_naming_it(api, parameter):
    session, base = api
    detail = refusal(session.get(base + "workflows/", params={parameter: "18446744073709551617"}))
    assert detail.startswith(f"{parameter}: Give a whole number from ")


@pytest.mark.parametrize("limit", ["0", "1001", "abc", "1.5", "-1", "١٢"])
def test_a_limit_that_is_not_a_page_size_is_refused(api, limit):
    session, base = api
    assert refusal(session.get(base + "executions/", params={"limit": limit})) == (
        "limit: Give a whole number from 1 to 1000."
    )


def test_a_page_size_within_bounds_still_pages(api, cast):
    session, base = api
    for _ in range(3):
        f.WorkflowFactory(organisation=cast.organisation)
    page = session.get(base + "workflows/", params={"limit": "2", "offset": "1"})
    assert page.status_code == 200
    assert page.json()["count"] == 3 and len(page.json()["results"]) == 2


def test_the_largest_page_size_follows_the_setting(api, settings):
    session, base = api
    settings.API_MAX_PAGE_SIZE = 20
    assert refusal(session.get(base + "workflows/", params={"limit": "21"})).endswith("from 1 to 20.")
    assert session.get(base + "workflows/", params={"limit": "20"}).status_code == 200


def test_a_largest_page_size_below_one_stops_start_up():
    result = manage("check", env={"FLOMATION_API_MAX_PAGE_SIZE": "0"})
    assert result.returncode != 0
    assert "FLOMATION_API_MAX_PAGE_SIZE=0 is not valid: expected 1 or more." in result.stderr


def test_an_environment_position_past_its_smallint_column_is_refused(api, cast):
    session, base = api
    environment = cast.environment("staging")
    response = session.patch(base + f"environments/{environment.id}/", json={"position": 40000})
    assert refusal(response) == "position: Ensure this value is less than or equal to 32767."
    environment.refresh_from_db()
    assert environment.position == 1
    created = session.post(base + "environments/", json={"name": "qa", "position": 40000})
    assert refusal(created).startswith("position: ")
    assert not cast.organisation.environments.filter(name="qa").exists()


def test_a_revision_number_past_its_column_is_refused(api, cast):
    session, base = api
    workflow = f.WorkflowFactory(organisation=cast.organisation)
    response = session.post(
        base + f"workflows/{workflow.id}/deployments/",
        json={"environment": "production", "revision": 2**40},
    )
    assert refusal(response) == "revision: Ensure this value is less than or equal to 2147483647."
    exported = session.get(base + f"workflows/{workflow.id}/export", params={"revision": str(2**40)})
    assert refusal(exported) == "revision: Give a whole number from 1 to 2147483647."


def test_a_step_cursor_past_bigint_is_refused(api, cast):
    session, base = api
    execution = f.ExecutionFactory(workflow=f.WorkflowFactory(organisation=cast.organisation))
    response = session.get(base + f"executions/{execution.id}/steps", params={"after": "9" * 25})
    assert refusal(response).startswith("after: Give a whole number from 0 to ")


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (
            "2026-01-01T00:00:00+21:31",
            "The UTC offset is out of range; give one from -18:00 to +18:00, or Z.",
        ),
        ("2026-02-30T00:00:00Z", "Give an ISO 8601 date and time, e.g. 2026-01-31T09:30:00+01:00."),
        ("yesterday", "Give an ISO 8601 date and time, e.g. 2026-01-31T09:30:00+01:00."),
        ("0001-01-01T00:00:00+01:00", "Give a date and time between the years 1 and 9999."),
    ],
)
def test_a_creation_date_filter_that_is_no_moment_is_refused(api, value, message):
    session, base = api
    for name in ("created_after", "created_before"):
        assert refusal(session.get(base + "executions/", params={name: value})) == f"{name}: {message}"


def test_a_creation_date_filter_with_any_real_offset_filters_in_utc(api, cast):
    session, base = api
    execution = f.ExecutionFactory(workflow=f.WorkflowFactory(organisation=cast.organisation))
    created = m.Execution.objects.get(id=execution.id).created_at
    # The same moment written in Kiribati's time (+14:00) and in Baker Island's (-12:00).
    for offset in (timedelta(hours=14), timedelta(hours=-12)):
        local = created.astimezone(timezone.get_fixed_timezone(offset))
        before = (local - timedelta(seconds=1)).isoformat()
        after = (local + timedelta(seconds=1)).isoformat()
        listed = session.get(base + "executions/", params={"created_after": before, "created_before": after})
        assert listed.status_code == 200, listed.text
        assert [row["id"] for row in listed.json()["results"]] == [str(execution.id)]
        later = session.get(base + "executions/", params={"created_after": after})
        assert later.json()["results"] == []


def test_a_nul_character_in_a_query_string_is_refused(api, live_server):
    session, base = api
    response = session.get(base + "workflows/", params={"search": "ord\x00ers"})
    assert refusal(response) == (
        "The address contains a NUL character (%00), which no path or parameter here can hold; remove it."
    )
    assert refusal(session.get(live_server.url + "/launch/api/triggers?workflow=%00")).startswith(
        "The address contains a NUL character"
    )


def test_a_nul_character_in_a_path_is_refused(api, cast):
    session, base = api
    environment = cast.environment()
    response = session.put(base + f"environments/{environment.id}/variables/RE%00GION", json={"value": "eu"})
    assert refusal(response).startswith("The address contains a NUL character (%00)")
    assert not environment.variables.exists()


def test_a_nul_character_anywhere_in_a_json_body_is_refused(api, cast):
    session, base = api
    flow = f.flow(value="a\x00b")
    response = session.post(base + "workflows/", json={"name": "Orders", "flow": flow})
    assert refusal(response) == (
        "The request body contains a NUL character (\\u0000), which no text field can hold; remove it."
    )
    assert not m.Workflow.objects.filter(organisation=cast.organisation).exists()
    key = session.post(base + "groups/", json={"name": "Ops", "permissions": [], "members": [], "\x00": 1})
    assert refusal(key).startswith("The request body contains a NUL character")


def test_a_nul_character_in_a_form_body_is_refused(api, cast):
    session, base = api
    environment = cast.environment()
    response = session.put(base + f"environments/{environment.id}/secrets/TOKEN", data={"value": "a\x00b"})
    assert refusal(response).startswith("The request body contains a NUL character")
    assert not environment.secrets.exists()
