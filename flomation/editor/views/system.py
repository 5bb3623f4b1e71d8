"""`/system`: the platform's queues, runners and recent executions, for staff (operators) only."""

from __future__ import annotations

import logging

from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

from flomation.editor.context import editor_view, error_response, page
from flomation.editor.gateway import system

logger = logging.getLogger(__name__)


@require_GET
@editor_view(needs_organisation=False)
def system_page(request: HttpRequest) -> HttpResponse:
    if not system.is_operator(user=request.editor.user):
        logger.warning("system page refused to %s: not a staff account", request.editor.user.user_id)
        return error_response(
            request, "The System page is for the platform's operators (staff accounts) only.", 403, False
        )
    return page(request, "editor/system.html", {"system": system.system_overview(), "is_operator": True})
