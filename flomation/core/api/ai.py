"""AI: the organisation's model token usage per day."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from flomation.core.api.base import OrganisationView
from flomation.core.api.params import query_int
from flomation.core.selectors.ai import ai_usage_by_day


class AiUsageDaySerializer(serializers.Serializer):
    day = serializers.DateField()
    input_tokens = serializers.IntegerField()
    output_tokens = serializers.IntegerField()
    executions = serializers.IntegerField(help_text="Executions that used a model that day.")


class AiUsageView(OrganisationView):
    permissions = {"GET": "execution.view"}

    @extend_schema(
        tags=["executions"],
        summary="Model tokens per day",
        parameters=[OpenApiParameter("days", int, description="How many days back (1-366, default 30).")],
        responses=AiUsageDaySerializer(many=True),
    )
    def get(self, request: Request, org_id: str) -> Response:
        days = query_int(request.query_params, "days", minimum=1, maximum=366) or 30
        return Response(ai_usage_by_day(organisation_id=self.organisation.id, days=days))
