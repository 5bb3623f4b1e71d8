"""The editor role's URL set, mounted at the root (last, so that prefixed roles win)."""

from django.urls import path

from flomation.editor.views import (
    canvas,
    connections,
    deploy,
    executions,
    git_sync,
    runs,
    settings,
    system,
    test_events,
    vectors,
    workflows,
)

urlpatterns = [
    path("", workflows.home, name="editor-home"),
    path("welcome", workflows.welcome, name="editor-welcome"),
    path("organisations/switch", workflows.organisation_switch, name="editor-org-switch"),
    path("manifest.json", canvas.manifest, name="editor-manifest"),
    path("palette/search", canvas.palette_search, name="editor-palette-search"),
    # Workflows.
    path("workflows", workflows.workflow_list, name="editor-workflows"),
    path("workflows/new", workflows.workflow_create, name="editor-workflow-create"),
    path("workflows/import", workflows.workflow_import, name="editor-workflow-import"),
    path("workflows/<str:workflow_id>", canvas.canvas, name="editor-canvas"),
    path("workflows/<str:workflow_id>/flow", canvas.flow, name="editor-flow"),
    path("workflows/<str:workflow_id>/validate", canvas.validate, name="editor-validate"),
    path("workflows/<str:workflow_id>/cron-preview", canvas.cron_preview, name="editor-cron-preview"),
    path("workflows/<str:workflow_id>/nodes/<str:node_id>/listen", test_events.listen, name="editor-listen"),
    path("workflows/<str:workflow_id>/listen/<str:listen_id>", test_events.listened, name="editor-listened"),
    path("workflows/<str:workflow_id>/revisions", canvas.revisions, name="editor-revisions"),
    path(
        "workflows/<str:workflow_id>/revisions/<int:number>/restore",
        canvas.revision_restore,
        name="editor-revision-restore",
    ),
    path(
        "workflows/<str:workflow_id>/settings", workflows.workflow_settings, name="editor-workflow-settings"
    ),
    path(
        "workflows/<str:workflow_id>/duplicate",
        workflows.workflow_duplicate,
        name="editor-workflow-duplicate",
    ),
    path("workflows/<str:workflow_id>/archive", workflows.workflow_archive, name="editor-workflow-archive"),
    path("workflows/<str:workflow_id>/export", workflows.workflow_export, name="editor-workflow-export"),
    path("workflows/<str:workflow_id>/run", runs.run, name="editor-run"),
    path("workflows/<str:workflow_id>/run/form", runs.run_form, name="editor-run-form"),
    path("workflows/<str:workflow_id>/deploy", deploy.deploy_page, name="editor-deploy"),
    path("workflows/<str:workflow_id>/publish", deploy.deploy, name="editor-publish"),
    path("workflows/<str:workflow_id>/promote", deploy.promote, name="editor-promote"),
    path(
        "workflows/<str:workflow_id>/triggers/<str:public_id>/enabled",
        deploy.trigger_switch,
        name="editor-trigger-switch",
    ),
    path(
        "workflows/<str:workflow_id>/deployments/<str:deployment_id>/rollback",
        deploy.rollback,
        name="editor-rollback",
    ),
    # Executions.
    path("executions", executions.execution_list, name="editor-executions"),
    path("executions/<str:execution_id>", runs.execution_page, name="editor-execution"),
    path("executions/<str:execution_id>/state", runs.execution_state, name="editor-execution-state"),
    path("executions/<str:execution_id>/events", runs.execution_events, name="editor-execution-events"),
    path("executions/<str:execution_id>/cancel", runs.execution_cancel, name="editor-execution-cancel"),
    path("executions/<str:execution_id>/rerun", runs.execution_rerun, name="editor-execution-rerun"),
    # Settings.
    path("system", system.system_page, name="editor-system"),
    path("settings", settings.environments, name="editor-settings"),
    path("settings/environments", settings.environments, name="editor-environments"),
    path(
        "settings/environments/<str:environment_id>/<str:kind>/<str:action>",
        settings.environment_change,
        name="editor-environment-change",
    ),
    path("settings/connections", connections.connection_list, name="editor-connections"),
    path("settings/connections/new", connections.connection_create, name="editor-connection-create"),
    path("settings/connections/<str:connection_id>", connections.connection_edit, name="editor-connection"),
    path(
        "settings/connections/<str:connection_id>/delete",
        connections.connection_delete,
        name="editor-connection-delete",
    ),
    path(
        "settings/connections/<str:connection_id>/test",
        connections.connection_test,
        name="editor-connection-test",
    ),
    path("settings/vectors", vectors.collection_list, name="editor-vectors"),
    path(
        "settings/vectors/<str:collection_id>/delete",
        vectors.collection_delete,
        name="editor-vector-delete",
    ),
    path("settings/git", git_sync.git_settings, name="editor-git"),
    path("settings/git/<str:action>", git_sync.git_settings_change, name="editor-git-change"),
    path("settings/queues", settings.queues, name="editor-queues"),
    path("settings/queues/new", settings.queue_create, name="editor-queue-create"),
    path("settings/queues/<str:queue_id>/rotate", settings.queue_rotate, name="editor-queue-rotate"),
    path("settings/queues/<str:queue_id>/code", settings.queue_code, name="editor-queue-code"),
    path("settings/runners", settings.runners, name="editor-runners"),
    path("settings/runners/<str:runner_id>/enabled", settings.runner_enable, name="editor-runner-enable"),
    path("settings/members", settings.members, name="editor-members"),
    path("settings/members/<str:action>", settings.member_change, name="editor-member-change"),
    path("settings/tokens", settings.tokens, name="editor-tokens"),
    path("settings/tokens/<str:action>", settings.token_change, name="editor-token-change"),
    path("settings/account", settings.account, name="editor-account"),
]
