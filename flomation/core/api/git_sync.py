"""Git sync: an organisation's flow repository, its last sync's outcome, and the Git host's push webhook."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response

from flomation.core.api.base import OrganisationView, validated
from flomation.core.models import FlowSource
from flomation.core.services.flow_sources import git_settings as svc
from flomation.core.services.flow_sources.lease import flow_source_due_now

TAG = ["git sync"]


class GitSourceSerializer(serializers.Serializer):
    id = serializers.UUIDField(read_only=True)
    repository_url = serializers.CharField(
        max_length=2048, help_text="https://..., ssh://... or user@host:path"
    )
    branch = serializers.CharField(max_length=255, default="main")
    sub_path = serializers.CharField(
        max_length=500, allow_blank=True, default="", help_text="folder of flow files"
    )
    connection = serializers.UUIDField(
        source="connection_id", allow_null=True, required=False, default=None,
        help_text="a git connection (token or ssh key) for all environments; none for a public repository",
    )  # fmt: skip
    interval_seconds = serializers.IntegerField(default=300, help_text="how often to fetch")
    default_environment = serializers.CharField(max_length=64, default="production")
    status = serializers.CharField(read_only=True, help_text="pending, synced or failed")
    errors = serializers.JSONField(
        read_only=True, help_text="[{file, line, node_id, message}] of the last sync"
    )
    commit_sha = serializers.CharField(read_only=True, help_text="the last commit read")
    checked_at = serializers.DateTimeField(read_only=True)
    synced_at = serializers.DateTimeField(read_only=True)
    webhook_url = serializers.SerializerMethodField()

    def get_webhook_url(self, source: FlowSource) -> str:
        request = self.context.get("request")
        path = f"/api/v1/git-sync/{source.id}/webhook"
        if settings.API_URL:
            return settings.API_URL.rstrip("/") + path
        return request.build_absolute_uri(path) if request is not None else path


class GitSourceView(OrganisationView):
    permissions = {"GET": "flow.view", "PUT": "flow.deploy", "DELETE": "flow.deploy"}

    def _source(self) -> FlowSource:
        source = svc.git_source_get(organisation=self.organisation)
        if source is None:
            raise NotFound("No Git repository is connected to this organisation.")
        return source

    @extend_schema(tags=TAG, responses=GitSourceSerializer, summary="The connected repository and last sync")
    def get(self, request: Request, org_id: str) -> Response:
        return Response(GitSourceSerializer(self._source(), context={"request": request}).data)

    @extend_schema(
        tags=TAG,
        request=GitSourceSerializer,
        responses={200: GitSourceSerializer, 201: GitSourceSerializer},
        summary="Connect a repository or change its settings",
        description="201 when connected now: the answer's `webhook_secret` is shown this once.",
    )
    def put(self, request: Request, org_id: str) -> Response:
        data = validated(GitSourceSerializer, request.data)
        source, secret = svc.git_source_save(
            organisation=self.organisation,
            repository_url=data["repository_url"],
            branch=data["branch"],
            sub_path=data["sub_path"],
            connection_id=data.get("connection_id"),
            interval_seconds=data["interval_seconds"],
            default_environment=data["default_environment"],
        )
        body = GitSourceSerializer(source, context={"request": request}).data
        if secret is None:
            return Response(body)
        return Response({**body, "webhook_secret": secret}, status=status.HTTP_201_CREATED)

    @extend_schema(tags=TAG, responses={204: None}, summary="Disconnect (its workflows become editable)")
    def delete(self, request: Request, org_id: str) -> Response:
        svc.git_source_disconnect(organisation=self.organisation)
        return Response(status=status.HTTP_204_NO_CONTENT)


class GitSyncNowView(GitSourceView):
    permissions = {"POST": "flow.deploy"}

    @extend_schema(
        tags=TAG,
        request=None,
        responses={202: inline_serializer("GitSyncQueued", {"detail": serializers.CharField()})},
        summary="Fetch and deploy soon",
    )
    def post(self, request: Request, org_id: str) -> Response:
        flow_source_due_now(source=self._source())
        return Response({"detail": "The repository will be fetched within seconds."}, status=202)


class GitWebhookSecretView(GitSourceView):
    permissions = {"POST": "flow.deploy"}

    @extend_schema(
        tags=TAG,
        request=None,
        responses=inline_serializer("GitWebhookSecret", {"webhook_secret": serializers.CharField()}),
        summary="A new webhook secret (shown once; the old one stops)",
    )
    def post(self, request: Request, org_id: str) -> Response:
        return Response({"webhook_secret": svc.git_source_rotate_secret(source=self._source())})


@csrf_exempt
@require_POST
def git_push_webhook(request: HttpRequest, source_id: str) -> JsonResponse:
    """The Git host's push webhook: GitHub's X-Hub-Signature-256 or GitLab's X-Gitlab-Token. A valid call
    only makes the repository due; the sync loop fetches it (the request never waits for git)."""
    if not svc.git_webhook_accept(source_id=source_id, headers=dict(request.headers), body=request.body):
        return JsonResponse(
            {"detail": "The signature (X-Hub-Signature-256) or token (X-Gitlab-Token) is not this "
             "repository's webhook secret."},
            status=401,
        )  # fmt: skip
    return JsonResponse({"detail": "Accepted: the repository will be fetched within seconds."}, status=202)
