"""The Django admin, installed with identity's admin site (see flomation.identity.admin_site)."""

from __future__ import annotations

from django.contrib.admin.apps import AdminConfig


class FlomationAdminConfig(AdminConfig):
    default_site = "flomation.identity.admin_site.IdentityAdminSite"
