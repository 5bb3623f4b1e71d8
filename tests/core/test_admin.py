"""Every core model is in the operators' admin, with list columns, filters and search that work."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.contrib import admin

from flomation.core.services.secrets import secret_set
from tests.core import factories as f

pytestmark = pytest.mark.django_db


def test_every_core_model_is_registered_with_columns_filters_and_search():
    for model in apps.get_app_config("core").get_models():
        model_admin = admin.site._registry.get(model)
        assert model_admin is not None, f"{model.__name__} is not in the admin"
        assert model_admin.list_display != ("__str__",), model.__name__
        assert model_admin.list_filter and model_admin.search_fields, model.__name__


def test_every_admin_list_and_change_page_opens(cast, admin_client):
    workflow = f.WorkflowFactory(organisation=cast.organisation)
    execution = f.ExecutionFactory(workflow=workflow)
    f.StepFactory(execution=execution)
    f.RunnerFactory(queue=execution.queue)
    secret_set(environment=cast.environment(), name="TOKEN", value="x")
    for model in apps.get_app_config("core").get_models():
        opts = model._meta
        base = f"/admin/{opts.app_label}/{opts.model_name}/"
        assert admin_client.get(base + "?q=a").status_code == 200, base
        row = model.objects.first()
        if row is not None:
            assert admin_client.get(f"{base}{row.pk}/change/").status_code == 200, base


def test_an_operator_sets_an_organisations_egress_ranges_in_the_admin(cast, admin_client):
    url = f"/admin/core/organisation/{cast.organisation.id}/change/"
    form = {
        "name": cast.organisation.name,
        "slug": cast.organisation.slug,
        "accept_shared_runners": "on",
        "memberships-TOTAL_FORMS": "0",
        "memberships-INITIAL_FORMS": "0",
        "created_by": str(cast.owner.id),
    }
    refused = admin_client.post(url, {**form, "egress_allow": "10.20.0.0/16,intranet"})
    assert (
        refused.status_code == 200
        and "egress allowed ranges: &#x27;intranet&#x27; is not an address range" in refused.content.decode()
    )
    saved = admin_client.post(url, {**form, "egress_allow": "10.20.0.0/16,fd00::/8"})
    assert saved.status_code == 302, saved.content.decode()[:2000]
    cast.organisation.refresh_from_db()
    assert cast.organisation.egress_allow == ["10.20.0.0/16", "fd00::/8"]


def test_an_organisations_owner_can_neither_see_nor_set_its_egress_ranges(cast, as_):
    response = as_("owner").patch(
        cast.url(), {"egress_allow": ["0.0.0.0/0"], "name": "Acme 2"}, format="json"
    )
    assert response.status_code == 200 and "egress_allow" not in response.json()
    cast.organisation.refresh_from_db()
    assert cast.organisation.name == "Acme 2" and cast.organisation.egress_allow == []
