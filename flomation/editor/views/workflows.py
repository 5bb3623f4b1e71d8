"""The workflows list and what it offers: create (blank or from a starter), duplicate, import, export, archive."""

from __future__ import annotations

import json
import posixpath

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.utils.text import slugify
from django.views.decorators.http import require_GET, require_POST

from flomation.editor.context import ORG_COOKIE, editor_view, page
from flomation.editor.gateway import Refused
from flomation.editor.gateway import organisations as orgs
from flomation.editor.gateway import workflows as wf
from flomation.editor.starters import STARTERS

MAX_IMPORT_BYTES = 2_000_000


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    return HttpResponseRedirect("/workflows")


@require_GET
@editor_view()
def workflow_list(request: HttpRequest) -> HttpResponse:
    search = request.GET.get("q", "")
    show_archived = request.GET.get("archived") == "1"
    rows = wf.workflow_list(
        organisation=request.editor.organisation, search=search, include_archived=show_archived
    )
    return page(
        request,
        "editor/workflows/list.html",
        {"rows": rows, "search": search, "show_archived": show_archived, "starters": STARTERS},
    )


@require_POST
@editor_view(orgs.CREATE)
def workflow_create(request: HttpRequest) -> HttpResponse:
    starter = STARTERS.get(request.POST.get("starter", "blank"))
    if starter is None:
        raise Refused("Choose one of the starting points offered.")
    workflow = wf.workflow_create(
        organisation=request.editor.organisation,
        name=request.POST.get("name", ""),
        description=request.POST.get("description", ""),
        flow=json.loads(json.dumps(starter["flow"])),
        author=request.editor.account,
    )
    return HttpResponseRedirect(f"/workflows/{workflow.id}")


@require_POST
@editor_view(orgs.CREATE)
def workflow_duplicate(request: HttpRequest, workflow_id: str) -> HttpResponse:
    workflow = wf.workflow_get(organisation=request.editor.organisation, workflow_id=workflow_id)
    copy = wf.workflow_duplicate(workflow=workflow, author=request.editor.account)
    messages.success(request, f"Duplicated “{workflow.name}”.")
    return HttpResponseRedirect(f"/workflows/{copy.id}")


@require_POST
@editor_view(orgs.ARCHIVE)
def workflow_archive(request: HttpRequest, workflow_id: str) -> HttpResponse:
    workflow = wf.workflow_get(organisation=request.editor.organisation, workflow_id=workflow_id)
    restore = request.POST.get("restore") == "1"
    wf.workflow_archive(workflow=workflow, archived=not restore)
    messages.success(request, f"{'Restored' if restore else 'Archived'} “{workflow.name}”.")
    return HttpResponseRedirect("/workflows" + ("" if restore else "?archived=1"))


@require_POST
@editor_view(orgs.EDIT)
def workflow_settings(request: HttpRequest, workflow_id: str) -> HttpResponse:
    workflow = wf.workflow_get(organisation=request.editor.organisation, workflow_id=workflow_id)
    wf.workflow_rename(
        workflow=workflow, name=request.POST.get("name", ""), description=request.POST.get("description", "")
    )
    messages.success(request, "Saved the workflow's name and description.")
    return HttpResponseRedirect(f"/workflows/{workflow.id}")


@require_POST
@editor_view(orgs.CREATE)
def workflow_import(request: HttpRequest) -> HttpResponse:
    upload = request.FILES.get("file")
    if upload is None:
        raise Refused("Choose a workflow file (.json or .yaml) to import.")
    if upload.size and upload.size > MAX_IMPORT_BYTES:
        raise Refused("The file is larger than 2 MB.")
    workflow = wf.workflow_import(
        organisation=request.editor.organisation,
        content=upload.read(),
        author=request.editor.account,
        name=request.POST.get("name", ""),
        filename=upload.name or "",
    )
    messages.success(request, f"Imported “{workflow.name}”.")
    unset = wf.unset_secrets(workflow=workflow)
    if unset:
        names = ", ".join(f"{entry['input']} of {entry['node_id']}" for entry in unset)
        messages.warning(
            request,
            f"Trigger secrets are never exported, so these are not set: {names}. Enter them before deploying.",
        )
    return HttpResponseRedirect(f"/workflows/{workflow.id}")


@require_GET
@editor_view()
def workflow_export(request: HttpRequest, workflow_id: str) -> HttpResponse:
    workflow = wf.workflow_get(organisation=request.editor.organisation, workflow_id=workflow_id)
    document = wf.workflow_export(workflow=workflow)
    managed = wf.workflow_managed(workflow=workflow) if request.GET.get("file") else None
    filename = (slugify(workflow.name) or "workflow") + ".json"
    if managed is not None:  # back to its own file: same name, same language (flows-as-code.md)
        filename = slugify(posixpath.splitext(posixpath.basename(managed["path"]))[0]) or "workflow"
        filename += posixpath.splitext(managed["path"])[1].lower()
    if filename.endswith((".yaml", ".yml")):
        import yaml

        body = yaml.safe_dump(document, sort_keys=False, allow_unicode=True)
        response = HttpResponse(body, content_type="application/yaml")
    else:
        response = HttpResponse(json.dumps(document, indent=2), content_type="application/json")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@editor_view(needs_organisation=False)
def welcome(request: HttpRequest) -> HttpResponse:
    """First login: the user has no organisation yet, so they name one (or accept an invitation)."""
    error = ""
    if request.method == "POST":
        try:
            if request.POST.get("invitation"):
                organisation = orgs.invitation_accept(
                    token=request.POST["invitation"], account=request.editor.account
                )
            else:
                organisation = orgs.organisation_create(
                    name=request.POST.get("name", ""), owner=request.editor.account
                )
        except Refused as exc:
            error = exc.message
        else:
            response = HttpResponseRedirect("/workflows")
            response.set_cookie(ORG_COOKIE, str(organisation.id), samesite="Lax", max_age=365 * 86400)
            return response
    return page(request, "editor/welcome.html", {"error": error}, status=400 if error else 200)


@require_POST
@editor_view(needs_organisation=False)
def organisation_switch(request: HttpRequest) -> HttpResponse:
    wanted = request.POST.get("organisation", "")
    if not any(str(m.organisation_id) == wanted for m in request.editor.memberships):
        raise Refused("You are not a member of that organisation.", 404)
    response = HttpResponseRedirect(_safe_next(request.POST.get("next", "")))
    response.set_cookie(ORG_COOKIE, wanted, samesite="Lax", max_age=365 * 86400)
    return response


def _safe_next(value: str) -> str:
    # Only a local path: the switcher must not become an open redirect.
    return value if value.startswith("/") and not value.startswith("//") else "/workflows"
