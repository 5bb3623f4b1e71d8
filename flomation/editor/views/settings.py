"""Organisation settings: environments, queues, runners, members and invitations, API tokens, account."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.views.decorators.http import require_GET, require_POST

from flomation.editor.context import editor_view, page
from flomation.editor.gateway import Refused
from flomation.editor.gateway import organisations as orgs
from flomation.editor.gateway import settings as org_settings


def _back(path: str) -> HttpResponseRedirect:
    return HttpResponseRedirect(path)


@require_GET
@editor_view(orgs.ENV_VIEW)
def environments(request: HttpRequest) -> HttpResponse:
    views = org_settings.environment_views(organisation=request.editor.organisation)
    return page(
        request,
        "editor/settings/environments.html",
        {
            "environments": views,
            "can_manage": request.editor.can(orgs.ENV_MANAGE),
            "api_url": settings.API_URL.rstrip("/"),
            "section": "environments",
        },
    )


@require_POST
@editor_view(orgs.ENV_MANAGE)
def environment_change(request: HttpRequest, environment_id: str, kind: str, action: str) -> HttpResponse:
    """kind: variables | secrets; action: set | delete."""
    organisation = request.editor.organisation
    name, value = request.POST.get("name", ""), request.POST.get("value", "")
    if kind == "variables" and action == "set":
        org_settings.variable_set(
            organisation=organisation, environment_id=environment_id, name=name, value=value
        )
        messages.success(request, f"Saved the variable {name.strip()}.")
    elif kind == "variables" and action == "delete":
        org_settings.variable_delete(organisation=organisation, environment_id=environment_id, name=name)
        messages.success(request, f"Deleted the variable {name}.")
    elif kind == "secrets" and action == "set":
        org_settings.secret_set(
            organisation=organisation, environment_id=environment_id, name=name, value=value
        )
        messages.success(request, f"Saved the secret {name.strip()}; its value will not be shown again.")
    elif kind == "secrets" and action == "delete":
        org_settings.secret_delete(organisation=organisation, environment_id=environment_id, name=name)
        messages.success(request, f"Deleted the secret {name}.")
    else:
        raise Refused("Unknown change.", 404)
    return _back("/settings/environments")


@require_GET
@editor_view(orgs.RUNNER_VIEW)
def queues(request: HttpRequest) -> HttpResponse:
    rows = org_settings.queue_list(organisation=request.editor.organisation)
    return page(
        request,
        "editor/settings/queues.html",
        {
            "queues": rows,
            "can_manage": request.editor.can(orgs.RUNNER_MANAGE),
            "api_url": settings.API_URL,
            "section": "queues",
        },
    )


@require_POST
@editor_view(orgs.RUNNER_MANAGE)
def queue_create(request: HttpRequest) -> HttpResponse:
    queue, _code = org_settings.queue_create(
        organisation=request.editor.organisation, name=request.POST.get("name", "")
    )
    messages.success(request, f"Created the queue {queue.name}. Copy its registration code to enrol runners.")
    return _back("/settings/queues")


@require_POST
@editor_view(orgs.RUNNER_MANAGE)
def queue_rotate(request: HttpRequest, queue_id: str) -> HttpResponse:
    queue = org_settings.queue_get(organisation=request.editor.organisation, queue_id=queue_id)
    org_settings.queue_rotate_code(queue=queue)
    messages.success(
        request,
        f"Rotated the registration code of {queue.name}. Enrolled runners keep working; new ones need it.",
    )
    return _back("/settings/queues")


@require_GET
@editor_view(orgs.RUNNER_MANAGE, json_view=True)
def queue_code(request: HttpRequest, queue_id: str) -> JsonResponse:
    """The registration code, fetched only when an admin presses Copy (never rendered into the page)."""
    queue = org_settings.queue_get(organisation=request.editor.organisation, queue_id=queue_id)
    response = JsonResponse({"code": org_settings.queue_registration_code(queue=queue)})
    response["Cache-Control"] = "no-store"
    return response


@require_GET
@editor_view(orgs.RUNNER_VIEW)
def runners(request: HttpRequest) -> HttpResponse:
    organisation = request.editor.organisation
    return page(
        request,
        "editor/settings/runners.html",
        {
            "runners": org_settings.runner_list(organisation=organisation),
            "shared_runners": org_settings.runner_list_shared(organisation=organisation),
            "can_manage": request.editor.can(orgs.RUNNER_MANAGE),
            "section": "runners",
        },
    )


@require_POST
@editor_view(orgs.RUNNER_MANAGE)
def runner_enable(request: HttpRequest, runner_id: str) -> HttpResponse:
    enabled = request.POST.get("enabled") == "1"
    org_settings.runner_set_enabled(
        organisation=request.editor.organisation, runner_id=runner_id, enabled=enabled
    )
    messages.success(request, f"Runner {'enabled' if enabled else 'disabled'}.")
    return _back("/settings/runners")


@require_GET
@editor_view(orgs.ORG_VIEW)
def members(request: HttpRequest) -> HttpResponse:
    organisation = request.editor.organisation
    return page(
        request,
        "editor/settings/members.html",
        {
            "members": orgs.member_list(organisation=organisation),
            "invitations": orgs.invitation_list(organisation=organisation),
            "roles": ["owner", "admin", "member", "viewer"],
            "can_manage": request.editor.can(orgs.ORG_MANAGE),
            "invite_link": request.session.pop("editor_invite_link", "")
            if hasattr(request, "session")
            else "",
            "section": "members",
        },
    )


@require_POST
@editor_view(orgs.ORG_MANAGE)
def member_change(request: HttpRequest, action: str) -> HttpResponse:
    organisation, acting = request.editor.organisation, request.editor.membership
    if action == "invite":
        invitation, token = orgs.invitation_create(
            organisation=organisation,
            email=request.POST.get("email", ""),
            role=request.POST.get("role", "member"),
            acting=acting,
        )
        request.session["editor_invite_link"] = (
            f"{settings.EDITOR_URL.rstrip('/')}/welcome?invitation={token}"
        )
        messages.success(
            request, f"Invited {invitation.email}. Send them the link below; it works once, for 7 days."
        )
    elif action == "revoke":
        orgs.invitation_revoke(organisation=organisation, invitation_id=request.POST.get("invitation", ""))
        messages.success(request, "Revoked the invitation.")
    elif action == "role":
        orgs.member_set_role(
            organisation=organisation,
            account_id=request.POST.get("account", ""),
            role=request.POST.get("role", ""),
            acting=acting,
        )
        messages.success(request, "Changed the member's role.")
    elif action == "remove":
        orgs.member_remove(
            organisation=organisation, account_id=request.POST.get("account", ""), acting=acting
        )
        messages.success(request, "Removed the member.")
    else:
        raise Refused("Unknown change.", 404)
    return _back("/settings/members")


@require_GET
@editor_view()
def tokens(request: HttpRequest) -> HttpResponse:
    rows = orgs.api_token_list(account=request.editor.account, organisation=request.editor.organisation)
    new_token = request.session.pop("editor_new_token", "")
    return page(
        request, "editor/settings/tokens.html", {"tokens": rows, "new_token": new_token, "section": "tokens"}
    )


@require_POST
@editor_view()
def token_change(request: HttpRequest, action: str) -> HttpResponse:
    if action == "create":
        try:
            days = int(request.POST.get("days", "90"))
        except ValueError:
            raise Refused("Enter the token's lifetime in days.") from None
        row, secret = orgs.api_token_create(
            account=request.editor.account,
            organisation=request.editor.organisation,
            name=request.POST.get("name", ""),
            days=days,
        )
        request.session["editor_new_token"] = secret
        messages.success(request, f"Created the token {row.name}. Copy it now: it is shown only once.")
    elif action == "revoke":
        orgs.api_token_revoke(
            account=request.editor.account,
            organisation=request.editor.organisation,
            token_id=request.POST.get("token", ""),
        )
        messages.success(request, "Revoked the token.")
    else:
        raise Refused("Unknown change.", 404)
    return _back("/settings/tokens")


@require_GET
@editor_view()
def account(request: HttpRequest) -> HttpResponse:
    identity = settings.IDENTITY_URL.rstrip("/")
    return page(
        request,
        "editor/settings/account.html",
        {
            "section": "account",
            "links": [
                (
                    "Two-factor authentication",
                    f"{identity}/identity/mfa",
                    "Add or remove an authenticator app.",
                ),
                (
                    "Sessions",
                    f"{identity}/identity/sessions",
                    "See where you are logged in and end sessions.",
                ),
                ("Log out", f"{identity}/identity/logout", "End this session."),
            ],
        },
    )
