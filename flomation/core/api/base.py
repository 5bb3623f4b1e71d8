"""What every API view shares: authentication, the caller's Account, the membership check, errors."""

from __future__ import annotations

import logging
from typing import Any, ClassVar

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import exceptions, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import APIView, exception_handler

from flomation.core.api.authentication import ApiTokenAuthentication
from flomation.core.executions.create import ExecutionRefused
from flomation.core.models import Account, ApiToken, Membership, Organisation
from flomation.core.permissions import NotFound, membership_require
from flomation.core.services.errors import Conflict, FlowInvalid
from flomation.core.services.organisations import account_sync, account_touch
from flomation.identity.authentication import FlomationAuthentication

logger = logging.getLogger(__name__)


def _messages(error: DjangoValidationError) -> Any:
    if hasattr(error, "error_dict"):
        return {field: [m for e in errors for m in e.messages] for field, errors in error.error_dict.items()}
    return error.messages


def core_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's handler, plus services' errors: ValidationError -> 400, Conflict -> 409.

    Bodies always carry `detail`, a sentence a person can act on; flow errors add `errors` with node
    and field, form-like errors add the fields.
    """
    if isinstance(exc, FlowInvalid):
        return Response(
            {"detail": "The flow is not valid: " + "; ".join(exc.messages), "errors": exc.flow_errors},
            status=status.HTTP_400_BAD_REQUEST,
        )
    if isinstance(exc, DjangoValidationError):
        messages = _messages(exc)
        if isinstance(messages, dict):
            summary = "; ".join(f"{field}: {' '.join(map(str, msgs))}" for field, msgs in messages.items())
            return Response({"detail": summary, **messages}, status=status.HTTP_400_BAD_REQUEST)
        return Response({"detail": " ".join(map(str, messages))}, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, Conflict):
        return Response({"detail": str(exc)}, status=status.HTTP_409_CONFLICT)
    if isinstance(exc, ExecutionRefused):
        return Response({"detail": str(exc)}, status=status.HTTP_409_CONFLICT)
    response = exception_handler(exc, context)
    if (
        response is not None
        and isinstance(exc, exceptions.ValidationError)
        and isinstance(response.data, dict)
        and "detail" not in response.data
    ):
        summary = "; ".join(
            f"{field}: {' '.join(map(str, value)) if isinstance(value, list) else value}"
            for field, value in response.data.items()
        )
        response.data = {"detail": summary, **response.data}
    return response


class ApiView(APIView):
    """Authenticated with an API token or identity's JWT; records the caller's Account."""

    authentication_classes = [ApiTokenAuthentication, FlomationAuthentication]
    account: Account

    def get_exception_handler(self) -> Any:
        return core_exception_handler

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        self.account = self.caller_account(request, **kwargs)

    def caller_account(self, request: Request, **kwargs: Any) -> Account:
        """The caller's Account, created on their first authenticated request."""
        return account_touch(user=request.user)

    @property
    def api_token(self) -> ApiToken | None:
        auth = getattr(self.request, "auth", None)
        return auth if isinstance(auth, ApiToken) else None


class OrganisationView(ApiView):
    """A view under /organisations/<org_id>/: checks membership and the method's permission first.

    `permissions` maps an HTTP method to the catalogue permission it needs.
    """

    permissions: ClassVar[dict[str, str]] = {}
    pagination_class = api_settings.DEFAULT_PAGINATION_CLASS
    membership: Membership
    organisation: Organisation

    def caller_account(self, request: Request, **kwargs: Any) -> Account:
        """Checks the membership first: one query reads it with the caller's Account and organisation."""
        permission = self.permissions.get(request.method or "GET")
        if permission is None and request.method not in ("OPTIONS", "HEAD"):
            raise exceptions.MethodNotAllowed(request.method or "")
        try:
            self.membership = membership_require(
                account_or_user=request.user,
                organisation_id=kwargs["org_id"],
                permission=permission or self.permissions.get("GET"),
                api_token=self.api_token,
            )
        except NotFound:
            account_touch(user=request.user)  # an outsider's Account exists from their first request too
            raise
        self.organisation = self.membership.organisation
        return account_sync(account=self.membership.account, user=request.user)

    def paginate(self, queryset: Any, serializer_class: Any, **context: Any) -> Response:
        paginator = self.pagination_class() if self.pagination_class else None
        if paginator is None:
            return Response(serializer_class(queryset, many=True, context=context).data)
        page = paginator.paginate_queryset(queryset, self.request, view=self)
        data = serializer_class(page, many=True, context=context).data
        return paginator.get_paginated_response(data)


def validated(serializer_class: Any, data: Any, *, partial: bool = False) -> dict[str, Any]:
    """The request body checked by a serializer; a body that is not a JSON object is refused with 400."""
    if not isinstance(data, dict):
        raise exceptions.ValidationError({"detail": "The request body must be a JSON object."})
    serializer = serializer_class(data=data, partial=partial)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)
