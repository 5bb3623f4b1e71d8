"""factory_boy factories for core's models, and small flow builders."""

from __future__ import annotations

import itertools
import uuid
from typing import Any

import factory
from django.conf import settings
from django.utils import timezone

from flomation.core import models as m
from flomation.lib import crypto

_n = itertools.count(1)


def node(
    node_id: str, action: str, kind: int, inputs: list[dict[str, Any]] | None = None, **config: Any
) -> dict[str, Any]:
    body = {"id": node_id, "type": kind, "inputs": inputs or [], "outputs": [], **config}
    return {"id": node_id, "type": action, "data": {"id": node_id, "label": action, "config": body}}


def flow(input_schema: Any = None, value: str = "hello", *, schema_in_config: bool = False) -> dict[str, Any]:
    """A valid flow: a manual trigger (optionally with an input schema) and one output.

    The schema goes where the editor writes it, the trigger's `input_schema` input; `schema_in_config`
    puts it in `data.config.inputSchema` instead, as older flows do.
    """
    if input_schema is None:
        trigger = node("t1", "trigger/manual", 1)
    elif schema_in_config:
        trigger = node("t1", "trigger/manual", 1, inputSchema=input_schema)
    else:
        schema_input = {"name": "input_schema", "type": "object", "value": input_schema}
        trigger = node("t1", "trigger/manual", 1, [schema_input])
    output = node(
        "o1",
        "output/set",
        3,
        [
            {"name": "name", "type": "string", "value": "summary"},
            {"name": "value", "type": "string", "value": value},
        ],
    )
    return {"nodes": [trigger, output], "edges": [{"id": "e1", "source": "t1", "target": "o1"}]}


class AccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = m.Account
        skip_postgeneration_save = True

    id = factory.LazyFunction(uuid.uuid4)
    email = factory.Sequence(lambda n: f"person{n}@example.test")
    display_name = factory.Sequence(lambda n: f"Person {n}")

    @factory.post_generation
    def identity_user(account: m.Account, create: bool, extracted: Any, **kwargs: Any) -> None:
        """The identity user behind the account (an API token works only while that user is active)."""
        if not create:
            return
        from flomation.identity.models import User

        if not User.objects.filter(id=account.id).exists():
            User.objects.create_user(account.email, None, id=account.id, display_name=account.display_name)


class OrganisationFactory(factory.django.DjangoModelFactory):
    """An organisation with the three default environments (as organisation_create makes them)."""

    class Meta:
        model = m.Organisation
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Organisation {n}")
    slug = factory.Sequence(lambda n: f"organisation-{n}")

    @factory.post_generation
    def environments(self, create: bool, extracted: Any, **kwargs: Any) -> None:
        if create:
            for position, name in enumerate(("development", "staging", "production")):
                m.Environment.objects.create(organisation=self, name=name, position=position)


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = m.Membership

    organisation = factory.SubFactory(OrganisationFactory)
    account = factory.SubFactory(AccountFactory)
    role = m.MemberRole.MEMBER


class QueueFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = m.Queue

    organisation = factory.SubFactory(OrganisationFactory)
    name = factory.Sequence(lambda n: f"queue-{n}")
    registration_code_ciphertext = factory.LazyFunction(
        lambda: crypto.encrypt(settings.FLOMATION_ENCRYPTION_KEYS, f"frq_code_{next(_n)}")
    )
    registration_code_hash = factory.LazyFunction(lambda: crypto.sha256_hex(f"frq_{uuid.uuid4()}"))


class RunnerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = m.Runner

    queue = factory.SubFactory(QueueFactory)
    name = factory.Sequence(lambda n: f"runner-{n}")
    public_key = "-----BEGIN PUBLIC KEY-----\ntest\n-----END PUBLIC KEY-----\n"
    version = "1.0.0"
    executor_version = "1.0.0"
    last_contact_at = factory.LazyFunction(timezone.now)


class WorkflowFactory(factory.django.DjangoModelFactory):
    """A draft workflow with revision 1 holding a valid flow (pass revisions=0 for none)."""

    class Meta:
        model = m.Workflow
        skip_postgeneration_save = True

    organisation = factory.SubFactory(OrganisationFactory)
    name = factory.Sequence(lambda n: f"Workflow {n}")

    @factory.post_generation
    def revisions(self, create: bool, extracted: Any, **kwargs: Any) -> None:
        count = 1 if extracted is None else extracted
        for number in range(1, count + 1):
            m.Revision.objects.create(
                workflow=self, number=number, flow=kwargs.get("flow") or flow(), message=f"r{number}"
            )
        if count:
            self.latest_revision = count
            self.save(update_fields=["latest_revision"])


class ExecutionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = m.Execution

    workflow = factory.SubFactory(WorkflowFactory)
    organisation = factory.LazyAttribute(lambda o: o.workflow.organisation)
    revision = factory.LazyAttribute(lambda o: o.workflow.revisions.order_by("-number").first())
    queue = factory.LazyAttribute(lambda o: QueueFactory(organisation=o.workflow.organisation))
    state = m.ExecutionState.PENDING
    trigger_type = "manual"


class StepFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = m.ExecutionStep

    execution = factory.SubFactory(ExecutionFactory)
    sequence = factory.Sequence(lambda n: n)
    attempt = 1
    node_id = "t1"
    action = "trigger/manual"
    status = "succeeded"
    inputs = factory.LazyFunction(dict)
    outputs = factory.LazyFunction(lambda: {"start": "now"})
    duration_ms = 3
