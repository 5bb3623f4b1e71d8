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
