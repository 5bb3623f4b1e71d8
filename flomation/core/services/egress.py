"""The platform's egress policy for an organisation: the platform-wide settings, the ranges an operator
allowed for the organisation (admin only), and the platform's own database and API as endpoints that stay
refused. Launch's pollers apply it directly; the shared runners receive it with each claimed execution."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from urllib.parse import urlsplit

from django.conf import settings
from django.db import connections

from flomation.core.models import Organisation
from flomation.lib.egress import EgressPolicy, Endpoint

DATABASE = "the platform's own database"
API = "the platform's own API"


def egress_platform_endpoints() -> list[Endpoint]:
    """Every database the platform uses (host and port, or its unix socket) and the API's host and port."""
    endpoints: list[Endpoint] = []
    for alias in connections:
        config = connections[alias].settings_dict
        port = int(config.get("PORT") or 5432)
        if config.get("EMBEDDED_DATA_DIR"):
            endpoints.append(Endpoint(str(config["EMBEDDED_DATA_DIR"]), None, DATABASE))
        hosts = [host.strip() for host in str(config.get("HOST") or "").split(",") if host.strip()]
        if not hosts and not config.get("EMBEDDED_DATA_DIR"):
            hosts = ["/var/run/postgresql", "/tmp"]  # libpq's default socket directories
        for host in hosts:
            endpoints.append(Endpoint(host, None if host.startswith("/") else port, DATABASE))
    api = urlsplit(settings.API_URL)
    if api.hostname:
        endpoints.append(Endpoint(api.hostname, api.port or (443 if api.scheme == "https" else 80), API))
    return endpoints


def egress_policy(*, organisation_ranges: Iterable[str] = ()) -> EgressPolicy:
    """The platform's policy with an organisation's allowed ranges added."""
    platform = EgressPolicy.build(
        allow=settings.EGRESS_ALLOW,
        allow_local=settings.EGRESS_ALLOW_LOCAL,
        allow_platform=settings.EGRESS_ALLOW_PLATFORM,
        platform=egress_platform_endpoints(),
    )
    return platform.with_allowed(list(organisation_ranges))


def organisation_egress_policy(*, organisation_id: uuid.UUID | str) -> EgressPolicy:
    ranges = (
        Organisation.objects.filter(id=organisation_id).values_list("egress_allow", flat=True).first() or []
    )
    return egress_policy(organisation_ranges=ranges)
