"""Tokens: only HS256 tokens signed with AUTH_SECRET, for this realm, in their time window, with a live
session, are honoured. Each refusal says what was wrong and nothing about whether an account exists."""

from __future__ import annotations

import base64
import json
import time
import uuid

import jwt
import pytest
from django.conf import settings
from django.test import Client

from flomation.identity.models import Session
from flomation.identity.services.sessions import session_create
from flomation.identity.testing import session_token

pytestmark = pytest.mark.django_db


def _claims(session: Session, **changes) -> dict:
    now = int(time.time())
    claims = {
        "iss": settings.AUTH_REALM,
        "sub": str(session.user_id),
        "iat": now,
        "nbf": now,
        "exp": now + 600,
        "jti": str(session.id),
        "email": session.user.email,
        "name": "",
    }
    claims.update(changes)
    return {k: v for k, v in claims.items() if v is not None}


def _ask(token: str):
    return Client().get("/identity/api/user", HTTP_AUTHORIZATION=f"Bearer {token}")


@pytest.fixture
def session(make_person) -> Session:
    person = make_person()
    session, _ = session_create(user=person.user)
    return session


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def test_a_well_formed_token_of_a_live_session_is_honoured(session):
    token = jwt.encode(_claims(session), settings.AUTH_SECRET, algorithm="HS256")
    assert _ask(token).status_code == 200


def test_an_unsigned_alg_none_token_is_refused(session):
    token = f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(_claims(session))}."
    response = _ask(token)
    assert response.status_code == 401
    assert response.json()["detail"] == "The token is not valid."


def test_a_token_signed_with_another_key_is_refused(session):
    token = jwt.encode(
        _claims(session), "another-secret-of-the-same-length-0123456789abcdef", algorithm="HS256"
    )
    assert _ask(token).json()["detail"] == "The token is not valid."


def test_a_token_signed_with_another_algorithm_is_refused(session):
    token = jwt.encode(_claims(session), settings.AUTH_SECRET, algorithm="HS512")
    assert _ask(token).status_code == 401


def test_an_expired_token_is_refused(session):
    past = int(time.time()) - 3600
    token = jwt.encode(_claims(session, iat=past - 60, nbf=past - 60, exp=past), settings.AUTH_SECRET)
    assert _ask(token).json()["detail"] == "The token has expired; log in again."


def test_a_token_not_valid_yet_is_refused(session):
    future = int(time.time()) + 3600
    token = jwt.encode(_claims(session, nbf=future), settings.AUTH_SECRET)
    assert _ask(token).json()["detail"] == "The token is not valid yet."


def test_a_token_of_another_realm_is_refused(session):
    token = jwt.encode(_claims(session, iss="elsewhere.example"), settings.AUTH_SECRET)
    assert _ask(token).json()["detail"] == "The token was issued for another realm."


@pytest.mark.parametrize("missing", ["jti", "exp", "sub", "iss"])
def test_a_token_without_a_required_claim_is_refused(session, missing):
    token = jwt.encode(_claims(session, **{missing: None}), settings.AUTH_SECRET)
    assert _ask(token).status_code == 401


def test_a_correctly_signed_token_without_a_session_is_refused(session):
    token = jwt.encode(_claims(session, jti=str(uuid.uuid4())), settings.AUTH_SECRET)
    assert _ask(token).json()["detail"] == "The session has ended; log in again."


def test_a_session_token_presented_for_another_user_is_refused(session, make_person):
    other = make_person("other@example.test")
    token = jwt.encode(_claims(session, sub=str(other.user.id)), settings.AUTH_SECRET)
    assert _ask(token).status_code == 401


def test_a_tampered_payload_breaks_the_signature(session):
    header, _, signature = jwt.encode(_claims(session), settings.AUTH_SECRET).split(".")
    forged = _claims(session, email="admin@example.test")
    assert _ask(f"{header}.{_b64(forged)}.{signature}").json()["detail"] == "The token is not valid."


def test_garbage_and_a_non_bearer_scheme_are_refused():
    assert _ask("not-a-token").status_code == 401
    assert Client().get("/identity/api/user", HTTP_AUTHORIZATION="Basic dXNlcjpwYXNz").status_code == 401
    assert Client().get("/identity/api/user").status_code == 401


def test_tokens_of_a_deactivated_user_stop_at_once(db):
    token = session_token(email="leaver@example.test")
    assert _ask(token).status_code == 200
    Session.objects.get().user.__class__.objects.filter(email="leaver@example.test").update(is_active=False)
    assert _ask(token).status_code == 401


def test_issued_tokens_carry_the_documented_claims(session):
    _, token = session_create(user=session.user)
    claims = jwt.decode(token, settings.AUTH_SECRET, algorithms=["HS256"], issuer=settings.AUTH_REALM)
    assert set(claims) >= {"iss", "sub", "iat", "nbf", "exp", "jti"}
    assert claims["sub"] == str(session.user_id)
    assert claims["exp"] - claims["iat"] == settings.AUTH_TOKEN_LIFETIME
    assert jwt.get_unverified_header(token)["alg"] == "HS256"
