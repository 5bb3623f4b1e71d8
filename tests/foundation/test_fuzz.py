"""Every operation of the OpenAPI schemas, fed generated requests (valid and invalid) over real HTTP, never
answers with a server error.

The suite's live server answers for every role over loopback HTTP; an organisation owner's identity token
signs every request, and the path parameters are the ids of that organisation's real objects, so the
requests reach the handlers instead of stopping at a 404. Each operation gets a few examples of valid
and of invalid data, generated from a fixed seed so that a failure reproduces.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
import requests
import schemathesis
from django.utils import timezone
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode

from flomation.core import models as m
from flomation.core.services.secrets import secret_set
from flomation.identity.models import User
from flomation.identity.services.sessions import session_create
from flomation.launch.models import Trigger
from tests.core import factories as f
from tests.core.conftest import identity_token

pytestmark = pytest.mark.django_db(transaction=True)

# (what data, whether the path holds the ids of real objects, how many examples): valid and invalid
# requests to real objects, and a few valid ones with whatever path parameters the schema allows.
PASSES = (
    (GenerationMode.POSITIVE, True, 6),
    (GenerationMode.NEGATIVE, True, 6),
    (GenerationMode.POSITIVE, False, 2),
)
# Query parameters that name an object: given the real one in valid requests.
QUERY_IDS = {"workflow": "workflow_id"}


@dataclass
class Failure:
    operation: str
    status: int
    request: str
    body: str


@dataclass
class Run:
    operations: int = 0
    cases: int = 0
    statuses: dict[int, int] = field(default_factory=dict)
    # What each operation answered: one that only ever answered 404 never reached its handler's work.
    answers: dict[str, set[int]] = field(default_factory=dict)
    failures: list[Failure] = field(default_factory=list)


def world() -> tuple[str, dict[str, str]]:
    """An owner's token and the ids of every kind of object in their organisation, named as in the paths."""
    organisation = f.OrganisationFactory(name="Fuzzed")
    owner = f.MembershipFactory(organisation=organisation, role=m.MemberRole.OWNER).account
    member = f.MembershipFactory(organisation=organisation, role=m.MemberRole.MEMBER).account
    environment = organisation.environments.get(name="development")
    workflow = f.WorkflowFactory(organisation=organisation, revisions=2)
    queue = f.QueueFactory(organisation=organisation)
    runner = f.RunnerFactory(queue=queue)
    execution = f.ExecutionFactory(workflow=workflow, queue=queue)
    group = m.Group.objects.create(organisation=organisation, name="Operators", permissions=[])
    invitation = m.Invitation.objects.create(
        organisation=organisation, email="invitee@example.test", token_hash=uuid.uuid4().hex,
        expires_at=timezone.now() + timedelta(days=7),
    )  # fmt: skip
    m.Variable.objects.create(environment=environment, name="REGION", value="eu")
    secret_set(environment=environment, name="REGION", value="eu-secret")
    from flomation.core.services.connections import connection_create

    connection = connection_create(
        organisation=organisation, name="mail", type="smtp", fields={"host": "mail.example.test", "port": 587}
    )
    from flomation.core.services.vectors import vector_operation_run

    collection = vector_operation_run(
        organisation_id=organisation.id, operation="create_collection", payload={"name": "kb", "dimension": 3}
    )["collection"]

    from flomation.core.services.flow_sources.git_settings import git_source_save

    git_source_save(  # a connected repository, so the Git sync operations have one to show and sync
        organisation=organisation,
        repository_url="https://git.example.test/acme/flows.git",
        default_environment="development",
    )
    token = identity_token(owner)
    # A second session of the owner's, so revoking "a session" does not end the one the requests use.
    other_session = session_create(user=User.objects.get(id=owner.id))[0]
    api_token = m.ApiToken.objects.create(
        account=owner, organisation=organisation, name="ci", prefix="flo_fuzz", token_hash=uuid.uuid4().hex,
        expires_at=timezone.now() + timedelta(days=7),
    )  # fmt: skip
    trigger = Trigger.objects.create(
        organisation=organisation, workflow=workflow, environment=environment, node_id="t1",
        action="trigger/webhook", kind="webhook", public_id="fuzzedtrigger01",
    )  # fmt: skip
    return token, {
        "org_id": str(organisation.id),
        "workflow_id": str(workflow.id),
        "number": "1",
        "environment_id": str(environment.id),
        "name": "REGION",
        "execution_id": str(execution.id),
        "account_id": str(member.id),
        "invitation_id": str(invitation.id),
        "group_id": str(group.id),
        "token_id": str(api_token.id),
        "queue_id": str(queue.id),
        "runner_id": str(runner.id),
        "session_id": str(other_session.id),
        "public_id": trigger.public_id,
        "connection_id": str(connection.id),
        "collection_id": collection["id"],
    }


def whole_platform_schema() -> dict[str, Any]:
    """The schema of every role's JSON endpoints (identity's API and launch's management API among them)."""
    return SchemaGenerator().get_schema(request=None, public=True)


def fuzz(operations: list[Any], *, base_url: str, token: str, ids: dict[str, str], run: Run) -> None:
    """Calls each operation with the examples of each pass in PASSES, recording what it answered."""
    # Deleting comes last, deepest paths first (a variable before its environment), so that the objects
    # the other operations are given still exist.
    operations = sorted(
        operations,
        key=lambda op: (
            op.method.upper() == "DELETE",
            -op.path.count("/") if op.method.upper() == "DELETE" else 0,
        ),
    )
    session = requests.Session()
    session.headers["Authorization"] = "Bearer " + token
    for operation in operations:
        run.operations += 1
        real = {p.name: ids[p.name] for p in operation.path_parameters}
        for mode, real_ids, examples in PASSES:
            path_parameters = real if real_ids else {}
            query = {p.name: ids[QUERY_IDS[p.name]] for p in operation.query if p.name in QUERY_IDS}
            strategy = operation.as_strategy(
                generation_mode=mode,
                path_parameters=path_parameters or None,
                query=query if mode is GenerationMode.POSITIVE and query else None,
            )

            @given(case=strategy)
            @settings(
                max_examples=examples, deadline=None, derandomize=True, database=None,
                phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck),
            )  # fmt: skip
            def call(case: schemathesis.Case) -> None:
                response = case.call(base_url=base_url, session=session, timeout=30)
                run.cases += 1
                run.statuses[response.status_code] = run.statuses.get(response.status_code, 0) + 1
                run.answers.setdefault(case.operation.label, set()).add(response.status_code)
                if response.status_code >= 500:
                    run.failures.append(
                        Failure(
                            case.operation.label,
                            response.status_code,
                            case.as_curl_command(),
                            response.text[:300],
                        )
                    )

            call()
    session.close()  # so the server's thread lets go of its database connection


def test_no_operation_answers_with_a_server_error(live_server):
    token, ids = world()
    platform = whole_platform_schema()
    started = time.monotonic()
    run = Run()
    api = schemathesis.openapi.from_url(live_server.url + "/api/v1/schema/")
    others = {path: item for path, item in platform["paths"].items() if not path.startswith("/api/v1/")}
    rest = schemathesis.openapi.from_dict({**platform, "paths": others})
    operations = [result.ok() for schema in (api, rest) for result in schema.get_all_operations()]
    fuzz(operations, base_url=live_server.url, token=token, ids=ids, run=run)
    elapsed = time.monotonic() - started
    print(
        f"{run.operations} operations, {run.cases} cases in {elapsed:.0f} s; statuses {sorted(run.statuses.items())}"
    )
    assert run.operations > 50 and run.cases > run.operations * 4
    # The requests reached the handlers: every operation answered something other than "no such object"
    # or "who are you?" at least once (trigger ingress takes launch's key, not a person's token).
    unreached = [
        label
        for label, answers in sorted(run.answers.items())
        if answers <= {401, 404} and not label.endswith("/executions")
    ]
    assert not unreached, unreached
    assert not run.failures, "\n\n".join(
        f"{x.operation} -> {x.status}\n{x.request}\n{x.body}" for x in run.failures
    )
