"""Operators find every model of every component in the Django admin, with columns, filters and search."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.contrib import admin

APPS = ("identity", "core", "launch")


def models():
    return [model for label in APPS for model in apps.get_app_config(label).get_models()]


@pytest.mark.parametrize("model", models(), ids=lambda model: model._meta.label)
def test_every_model_is_in_the_admin_with_columns_filters_and_search(model):
    model_admin = admin.site._registry.get(model)
    assert model_admin is not None, f"{model._meta.label} is not in the admin"
    assert model_admin.list_display != ("__str__",)
    assert model_admin.list_filter and model_admin.search_fields


@pytest.mark.django_db
def test_every_list_page_opens_and_searches(admin_client):
    for model in models():
        url = f"/admin/{model._meta.app_label}/{model._meta.model_name}/?q=a"
        assert admin_client.get(url).status_code == 200, url
