"""The JSON API: introspection (who is this token?), tokens for scripts and CI, sessions."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import exceptions, serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from flomation.identity.errors import CodeInvalid, CodeRequired, IdentityError, Throttled
from flomation.identity.models import Session, User
from flomation.identity.selectors import session_list_live, user_get
from flomation.identity.services import accounts, sessions
from flomation.identity.views.common import client_address


def _caller(request: Request) -> User:
    user = user_get(user_id=request.user.user_id)
    if user is None:
        raise exceptions.AuthenticationFailed("The session has ended; log in again.")
    return user


_USER = inline_serializer(
    "IdentityUser",
    {
        "user_id": serializers.UUIDField(),
        "email": serializers.EmailField(),
        "display_name": serializers.CharField(),
    },
)
_TOKEN = inline_serializer(
    "IdentityToken",
    {
        "token": serializers.CharField(),
        "token_type": serializers.CharField(),
        "session_id": serializers.UUIDField(),
        "expires_at": serializers.DateTimeField(),
    },
)


class UserView(APIView):
    """GET /identity/api/user: the caller's {user_id, email, display_name} (introspection for other roles)."""

    @extend_schema(responses=_USER)
    def get(self, request: Request) -> Response:
        user = _caller(request)
        return Response({"user_id": str(user.id), "email": user.email, "display_name": user.display_name})


class TokenRequest(serializers.Serializer):
    email = serializers.CharField(max_length=254)
    password = serializers.CharField(max_length=4096, trim_whitespace=False)
    totp = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")


class TokenView(APIView):
    """POST /identity/api/token: email + password (+ totp) in, a Bearer token out. For scripts and CI."""

    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]

    @extend_schema(request=TokenRequest, responses={201: _TOKEN})
    def post(self, request: Request) -> Response:
        body = TokenRequest(data=request.data)
        body.is_valid(raise_exception=True)
        ip = client_address(request._request)
        try:
            user = accounts.login_password(
                email=body.validated_data["email"], password=body.validated_data["password"], ip_address=ip
            )
            if user.mfa_enabled:
                accounts.login_second_factor(user=user, code=body.validated_data["totp"], ip_address=ip)
        except Throttled as exc:
            raise exceptions.Throttled(wait=exc.retry_after, detail=str(exc)) from None
        except (CodeRequired, CodeInvalid) as exc:
            return Response({"detail": str(exc), "mfa_required": True}, status=status.HTTP_401_UNAUTHORIZED)
        except IdentityError as exc:
            return Response({"detail": str(exc)}, status=exc.status)
        session, token = accounts.login_complete(
            user=user,
            method=Session.Method.API,
            ip_address=ip,
            user_agent=request.META.get("HTTP_USER_AGENT", ""),
        )
        return Response(
            {
                "token": token,
                "token_type": "Bearer",
                "session_id": str(session.id),
                "expires_at": session.expires_at.isoformat(),
            },
            status=status.HTTP_201_CREATED,
            headers={"Cache-Control": "no-store"},
        )


class SessionSerializer(serializers.ModelSerializer):
    current = serializers.SerializerMethodField()

    class Meta:
        model = Session
        fields = [
            "id",
            "method",
            "created_at",
            "last_seen_at",
            "expires_at",
            "ip_address",
            "user_agent",
            "current",
        ]

    def get_current(self, session: Session) -> bool:
        return str(session.id) == self.context.get("current")


class SessionListView(APIView):
    """GET /identity/api/sessions: the caller's live sessions, newest activity first."""

    @extend_schema(responses=SessionSerializer(many=True))
    def get(self, request: Request) -> Response:
        user = _caller(request)
        context = {"current": request.user.token_id}
        return Response(SessionSerializer(session_list_live(user=user), many=True, context=context).data)


class SessionDetailView(APIView):
    """DELETE /identity/api/sessions/<id>: ends one of the caller's sessions; its token stops at once."""

    @extend_schema(responses={204: None})
    def delete(self, request: Request, session_id: str) -> Response:
        user = _caller(request)
        if not sessions.session_revoke(user_id=user.id, session_id=session_id):
            raise exceptions.NotFound("No live session of yours has this id.")
        return Response(status=status.HTTP_204_NO_CONTENT)
