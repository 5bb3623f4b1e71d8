"""Secrets are write-only and encrypted at rest: absent from every response, log line and error page."""

from __future__ import annotations

import logging

import pytest
from django.conf import settings
from django.core.management import call_command

from flomation.core import models as m
from flomation.core.services.secrets import (
    ENCRYPTED_COLUMNS,
    encryption_rotate_column,
    secret_reveal,
    secret_set,
)
from flomation.lib import crypto
from tests.core import factories as f

pytestmark = pytest.mark.django_db

PLAINTEXT = "sk_live_TOPSECRET_0123456789"


@pytest.fixture
def secret(cast, as_):
    env = cast.environment("production")
    response = as_("owner").put(
        cast.url(f"environments/{env.id}/secrets/STRIPE_KEY"), {"value": PLAINTEXT}, format="json"
    )
    assert response.status_code == 200
    return m.Secret.objects.get(environment=env, name="STRIPE_KEY")


def test_a_secret_is_encrypted_at_rest_and_revealed_only_internally(secret):
    assert PLAINTEXT not in secret.ciphertext
    assert crypto.decrypt(settings.FLOMATION_ENCRYPTION_KEYS, secret.ciphertext) == PLAINTEXT
    assert secret_reveal(environment_id=secret.environment_id, name="STRIPE_KEY") == PLAINTEXT
    assert secret_reveal(environment_id=secret.environment_id, name="MISSING") is None


def test_no_response_carries_a_secret(cast, as_, secret, caplog):
    caplog.set_level(logging.DEBUG)
    env = secret.environment
    workflow = f.WorkflowFactory(organisation=cast.organisation)
    execution = f.ExecutionFactory(workflow=workflow, environment=env)
    client = as_("owner")
    urls = [
        "", "environments/", f"environments/{env.id}/", f"environments/{env.id}/secrets/",
        f"environments/{env.id}/variables/", f"workflows/{workflow.id}/", f"workflows/{workflow.id}/export",
        "executions/", f"executions/{execution.id}/",
    ]  # fmt: skip
    listing = client.get(cast.url(f"environments/{env.id}/secrets/")).json()["results"]
    assert listing == [{"name": "STRIPE_KEY", "updated_at": listing[0]["updated_at"]}]
    for url in urls:
        response = client.get(cast.url(url))
        assert response.status_code == 200, url
        assert (
            PLAINTEXT.encode() not in response.content and secret.ciphertext.encode() not in response.content
        )
    replaced = client.put(
        cast.url(f"environments/{env.id}/secrets/STRIPE_KEY"), {"value": PLAINTEXT + "2"}, format="json"
    )
    assert PLAINTEXT.encode() not in replaced.content
    assert PLAINTEXT not in caplog.text


def test_error_pages_do_not_echo_a_secret(cast, as_, secret, caplog):
    env = secret.environment
    client = as_("owner")
    too_long = PLAINTEXT * 5000
    response = client.put(
        cast.url(f"environments/{env.id}/secrets/STRIPE_KEY"), {"value": too_long}, format="json"
    )
    assert response.status_code == 400
    assert PLAINTEXT.encode() not in response.content
    bad_name = client.put(
        cast.url(f"environments/{env.id}/secrets/bad name!"), {"value": PLAINTEXT}, format="json"
    )
    assert bad_name.status_code == 400 and PLAINTEXT.encode() not in bad_name.content
    denied = as_("viewer").put(
        cast.url(f"environments/{env.id}/secrets/STRIPE_KEY"), {"value": PLAINTEXT}, format="json"
    )
    assert denied.status_code == 403 and PLAINTEXT.encode() not in denied.content
    assert PLAINTEXT not in caplog.text


def test_a_server_error_page_does_not_show_a_secret(cast, as_, secret, monkeypatch, caplog):
    from flomation.core.services import secrets as secrets_service

    def explode(**kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(secrets_service.Secret.objects, "update_or_create", explode)
    client = as_("owner")
    client.raise_request_exception = False
    response = client.put(
        cast.url(f"environments/{secret.environment_id}/secrets/STRIPE_KEY"),
        {"value": PLAINTEXT},
        format="json",
    )
    assert response.status_code == 500
    assert PLAINTEXT.encode() not in response.content
    assert PLAINTEXT not in caplog.text


def test_the_admin_never_shows_ciphertext_or_plaintext(cast, secret, admin_client):
    for url in ("/admin/core/secret/", f"/admin/core/secret/{secret.pk}/change/"):
        response = admin_client.get(url)
        assert response.status_code == 200
        assert (
            PLAINTEXT.encode() not in response.content and secret.ciphertext.encode() not in response.content
        )


def test_the_admin_can_replace_a_secret_without_seeing_it(cast, secret, admin_client):
    response = admin_client.post(
        f"/admin/core/secret/{secret.pk}/change/",
        {"environment": secret.environment_id, "name": "STRIPE_KEY", "new_value": "replaced"},
    )
    assert response.status_code == 302
    assert secret_reveal(environment_id=secret.environment_id, name="STRIPE_KEY") == "replaced"


# --- key rotation ----------------------------------------------------------------------------------

NEW_KEY = "u0bRUmBDpU3c9O5iQ9Q6Yz8F0m3Zq0oY5Vq8w1mN3kE="


def test_rotation_re_encrypts_every_value_under_the_new_first_key(cast, settings):
    env = cast.environment()
    for n in range(5):
        secret_set(environment=env, name=f"S{n}", value=f"value-{n}")
    queue = f.QueueFactory(organisation=cast.organisation)
    settings.FLOMATION_ENCRYPTION_KEYS = [NEW_KEY, *settings.FLOMATION_ENCRYPTION_KEYS]
    call_command("rotate_encryption_keys", "--batch-size", "2")
    for secret in m.Secret.objects.all():
        assert crypto.encrypted_with_primary([NEW_KEY], secret.ciphertext)
    queue.refresh_from_db()
    assert crypto.encrypted_with_primary([NEW_KEY], queue.registration_code_ciphertext)
    settings.FLOMATION_ENCRYPTION_KEYS = [NEW_KEY]  # the old keys can go now
    assert secret_reveal(environment_id=env.id, name="S3") == "value-3"


def test_a_stopped_rotation_resumes_without_redoing_rows(cast, settings):
    env = cast.environment()
    for n in range(4):
        secret_set(environment=env, name=f"S{n}", value=f"value-{n}")
    settings.FLOMATION_ENCRYPTION_KEYS = [NEW_KEY, *settings.FLOMATION_ENCRYPTION_KEYS]
    secrets_column = next(c for c in ENCRYPTED_COLUMNS if c.model is m.Secret)
    batches = encryption_rotate_column(column=secrets_column, batch_size=2)
    assert next(batches) == 2  # then "Ctrl-C"
    batches.close()
    first_two = {s.pk: s.ciphertext for s in m.Secret.objects.order_by("pk")[:2]}
    assert sum(encryption_rotate_column(column=secrets_column, batch_size=2)) == 2
    assert {s.pk: s.ciphertext for s in m.Secret.objects.order_by("pk")[:2]} == first_two
    assert sum(encryption_rotate_column(column=secrets_column, batch_size=2)) == 0
