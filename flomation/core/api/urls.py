"""/api/v1/: the REST API, its OpenAPI schema and an offline Swagger UI."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from flomation.core.api import (
    ai,
    audit,
    connections,
    deployments,
    environments,
    events,
    executions,
    git_sync,
    ingress,
    organisations,
    queues,
    schema,  # noqa: F401  (registers the OpenAPI extensions)
    vectors,
    workflows,
)
from flomation.core.mcp import views as mcp_views


def api_root(request: HttpRequest) -> JsonResponse:
    return JsonResponse(
        {"name": "Flomation API", "version": "v1", "schema": "/api/v1/schema/", "docs": "/api/v1/docs/"}
    )


o = organisations
workflow_patterns = [
    path("", workflows.WorkflowListView.as_view(), name="workflow-list"),
    path("import", workflows.WorkflowImportView.as_view(), name="workflow-import"),
    path("<uuid:workflow_id>/", workflows.WorkflowDetailView.as_view(), name="workflow-detail"),
    path(
        "<uuid:workflow_id>/duplicate", workflows.WorkflowDuplicateView.as_view(), name="workflow-duplicate"
    ),
    path(
        "<uuid:workflow_id>/favourite", workflows.WorkflowFavouriteView.as_view(), name="workflow-favourite"
    ),
    path("<uuid:workflow_id>/export", workflows.WorkflowExportView.as_view(), name="workflow-export"),
    path("<uuid:workflow_id>/revisions/", workflows.RevisionListView.as_view(), name="revision-list"),
    path(
        "<uuid:workflow_id>/revisions/<int:number>",
        workflows.RevisionDetailView.as_view(),
        name="revision-detail",
    ),
    path("<uuid:workflow_id>/deployments/", deployments.DeploymentListView.as_view(), name="deployment-list"),
    path(
        "<uuid:workflow_id>/triggers",
        deployments.DeployedTriggerListView.as_view(),
        name="deployed-trigger-list",
    ),
    path("<uuid:workflow_id>/rollback", deployments.RollbackView.as_view(), name="deployment-rollback"),
    path("<uuid:workflow_id>/promote", deployments.PromoteView.as_view(), name="deployment-promote"),
    path("<uuid:workflow_id>/run", executions.RunNowView.as_view(), name="workflow-run"),
    path(
        "<uuid:workflow_id>/executions",
        ingress.TriggerExecutionView.as_view(),
        name="workflow-trigger-ingress",
    ),
]
environment_patterns = [
    path("", environments.EnvironmentListView.as_view(), name="environment-list"),
    path("<uuid:environment_id>/", environments.EnvironmentDetailView.as_view(), name="environment-detail"),
    path("<uuid:environment_id>/variables/", environments.VariableListView.as_view(), name="variable-list"),
    path(
        "<uuid:environment_id>/variables/<str:name>",
        environments.VariableDetailView.as_view(),
        name="variable-detail",
    ),
    path("<uuid:environment_id>/secrets/", environments.SecretListView.as_view(), name="secret-list"),
    path(
        "<uuid:environment_id>/secrets/<str:name>",
        environments.SecretDetailView.as_view(),
        name="secret-detail",
    ),
]
execution_patterns = [
    path("", executions.ExecutionListView.as_view(), name="execution-list"),
    path("<uuid:execution_id>/", executions.ExecutionDetailView.as_view(), name="execution-detail"),
    path("<uuid:execution_id>/steps", executions.StepListView.as_view(), name="execution-steps"),
    path("<uuid:execution_id>/events", events.ExecutionEventsView.as_view(), name="execution-events"),
    path("<uuid:execution_id>/cancel", executions.CancelView.as_view(), name="execution-cancel"),
    path("<uuid:execution_id>/rerun", executions.RerunView.as_view(), name="execution-rerun"),
    path("<uuid:execution_id>/resume", executions.ResumeView.as_view(), name="execution-resume"),
]
connection_patterns = [
    path("", connections.ConnectionListView.as_view(), name="connection-list"),
    path("<uuid:connection_id>", connections.ConnectionDetailView.as_view(), name="connection-detail"),
    path("<uuid:connection_id>/test", connections.ConnectionTestView.as_view(), name="connection-test"),
]
organisation_patterns = [
    path("", o.OrganisationDetailView.as_view(), name="organisation-detail"),
    path("permissions", o.PermissionCatalogueView.as_view(), name="permission-catalogue"),
    path("members/", o.MemberListView.as_view(), name="member-list"),
    path("members/<uuid:account_id>", o.MemberDetailView.as_view(), name="member-detail"),
    path("invitations/", o.InvitationListView.as_view(), name="invitation-list"),
    path("invitations/<uuid:invitation_id>", o.InvitationDetailView.as_view(), name="invitation-detail"),
    path("groups/", o.GroupListView.as_view(), name="group-list"),
    path("groups/<int:group_id>", o.GroupDetailView.as_view(), name="group-detail"),
    path("tokens/", o.ApiTokenListView.as_view(), name="token-list"),
    path("tokens/<uuid:token_id>", o.ApiTokenDetailView.as_view(), name="token-detail"),
    path("audit", audit.AuditListView.as_view(), name="audit-list"),
    path("workflows/", include(workflow_patterns)),
    path("environments/", include(environment_patterns)),
    path("connections/", include(connection_patterns)),
    path("connection-types", connections.ConnectionTypeListView.as_view(), name="connection-types"),
    path("vector-collections/", vectors.VectorCollectionListView.as_view(), name="vector-collection-list"),
    path(
        "vector-collections/<uuid:collection_id>",
        vectors.VectorCollectionDetailView.as_view(),
        name="vector-collection-detail",
    ),
    path("executions/", include(execution_patterns)),
    path("ai-usage", ai.AiUsageView.as_view(), name="ai-usage"),
    path("queues/", queues.QueueListView.as_view(), name="queue-list"),
    path("queues/<uuid:queue_id>/", queues.QueueDetailView.as_view(), name="queue-detail"),
    path(
        "queues/<uuid:queue_id>/registration-code", queues.RegistrationCodeView.as_view(), name="queue-code"
    ),
    path("git-sync", git_sync.GitSourceView.as_view(), name="git-sync"),
    path("git-sync/sync", git_sync.GitSyncNowView.as_view(), name="git-sync-now"),
    path("git-sync/webhook-secret", git_sync.GitWebhookSecretView.as_view(), name="git-sync-secret"),
    path("runners/", queues.RunnerListView.as_view(), name="runner-list"),
    path("runners/<uuid:runner_id>", queues.RunnerDetailView.as_view(), name="runner-detail"),
]

urlpatterns = [
    path("", api_root, name="api-root"),
    path("schema/", SpectacularAPIView.as_view(urlconf="flomation.core.api.schema"), name="api-schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("me", o.MeView.as_view(), name="me"),
    path("deploy", deployments.CiDeployView.as_view(), name="ci-deploy"),
    path("git-sync/<uuid:source_id>/webhook", git_sync.git_push_webhook, name="git-sync-webhook"),
    path("invitations/accept", o.InvitationAcceptView.as_view(), name="invitation-accept"),
    path("organisations/", o.OrganisationListView.as_view(), name="organisation-list"),
    path("organisations/<uuid:org_id>/", include(organisation_patterns)),
    path("mcp/<uuid:environment_id>", mcp_views.endpoint, name="mcp"),
]
