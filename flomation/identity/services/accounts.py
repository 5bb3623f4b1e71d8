"""Accounts: registration, email verification, password login, password reset and change."""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.hashers import check_password, make_password
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils import timezone

from flomation.identity import db as identity_db
from flomation.identity.errors import CodeInvalid, CodeRequired, InvalidEmail, LoginRefused, PasswordRejected
from flomation.identity.models import EmailLink, Session, User, email_normalise
from flomation.identity.services import links, mfa, sessions, throttle
from flomation.identity.services.mail import mail_send

logger = logging.getLogger(__name__)

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 1024
_FIRST_ADMIN_LOCK = 0x1D3A7  # pg_advisory_xact_lock key: one first admin, even under concurrent sign-ups
_dummy_hash: str | None = None


def _equal_effort_check(password: str) -> None:
    """Spends the time of a real password check, for an unknown account (no timing hint)."""
    global _dummy_hash
    if _dummy_hash is None:
        _dummy_hash = make_password("flomation-timing-equaliser")
    check_password(password, _dummy_hash)


def email_clean(*, email: str) -> str:
    """The normalised address, or InvalidEmail."""
    email = email_normalise(email or "")
    try:
        validate_email(email)
    except ValidationError:
        raise InvalidEmail() from None
    return email


def password_validate(*, password: str, user: User | None = None) -> None:
    """Raises PasswordRejected: under 12 characters, on the common-password list, or like the address."""
    problems: list[str] = []
    if len(password) < MIN_PASSWORD_LENGTH:
        problems.append(f"The password must have at least {MIN_PASSWORD_LENGTH} characters.")
    if len(password) > MAX_PASSWORD_LENGTH:
        problems.append(f"The password must have at most {MAX_PASSWORD_LENGTH} characters.")
    if user is not None and password.strip().lower() in {user.email, user.email.split("@")[0]}:
        problems.append("The password must not be your email address.")
    try:
        validate_password(password, user)
    except ValidationError as exc:
        problems.extend(message for message in exc.messages if message not in problems)
    if problems:
        raise PasswordRejected(list(dict.fromkeys(problems)))


def _password_store(*, user: User, password: str) -> None:
    """Sets the password; every session and unused reset link of the user stops working."""
    user.set_password(password)
    user.password_changed_at = timezone.now()
    if user.email_verified_at is None:
        user.email_verified_at = user.password_changed_at
    user.save(update_fields=["password", "password_changed_at", "email_verified_at"])
    sessions.sessions_revoke_all(user=user)
    links.links_revoke(user=user, purpose=EmailLink.Purpose.RESET)


def _link_url(path: str) -> str:
    return settings.IDENTITY_URL.rstrip("/") + path


def platform_has_accounts() -> bool:
    return User.objects.filter(email_verified_at__isnull=False).exists()


def account_register(*, email: str) -> None:
    """Starts a sign-up: emails a verification link, or, for an existing account, a password-reset link.

    The caller's answer is the same either way ("check your inbox"), so it says nothing about the address.
    """
    email = email_clean(email=email)
    user = User.objects.filter(email=email).first()
    if user is None:
        user = User.objects.create_user(email)
    if not user.is_active or not links.link_sending_allowed(user=user):
        return
    if user.email_verified_at is None:
        secret = links.link_issue(user=user, purpose=EmailLink.Purpose.VERIFY)
        mail_send(to=email, template="verify", context={"url": _link_url(f"/identity/verify/{secret}")})
    else:
        secret = links.link_issue(user=user, purpose=EmailLink.Purpose.RESET)
        mail_send(
            to=email, template="account_exists", context={"url": _link_url(f"/identity/reset/{secret}")}
        )


def email_verify_complete(*, secret: str, password: str, display_name: str = "") -> User:
    """Uses a verification link: sets the password, marks the address verified. The first verified
    account of the platform becomes its admin. Returns the user (the caller starts a session)."""
    link = links.link_get(secret=secret, purpose=EmailLink.Purpose.VERIFY)
    user = link.user
    password_validate(password=password, user=user)
    with identity_db.atomic():
        links.link_use(link=link)
        with identity_db.connection().cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_FIRST_ADMIN_LOCK])
        if not platform_has_accounts():
            user.is_staff = user.is_superuser = True
            user.save(update_fields=["is_staff", "is_superuser"])
        if display_name.strip():
            user.display_name = display_name.strip()[:200]
            user.save(update_fields=["display_name"])
        _password_store(user=user, password=password)
    return user


def login_password(*, email: str, password: str, ip_address: str | None) -> User:
    """The user whose password this is, or LoginRefused (same message and effort for unknown addresses).

    Raises Throttled while the account or address has too many recent failures, even for a right password.
    """
    email = email_normalise(email or "")[:254]
    # Recorded as a failure before the password is checked, so concurrent guesses cannot pass the limit.
    attempt_id = throttle.login_attempt_begin(email=email, ip_address=ip_address)
    user = User.objects.filter(email=email).first()
    if user is None or not user.has_usable_password() or len(password) > MAX_PASSWORD_LENGTH:
        _equal_effort_check(password[:MAX_PASSWORD_LENGTH])
        accepted = False
    else:
        accepted = user.check_password(password) and user.is_active
    if not accepted or user is None:
        logger.warning(
            "Login refused: wrong password or no active account for %s from %s.", email, ip_address
        )
        raise LoginRefused()
    throttle.login_attempt_succeeded(attempt_id=attempt_id)
    return user


def login_second_factor(*, user: User, code: str, ip_address: str | None) -> None:
    """Checks the one-time code of a user with MFA on; raises CodeRequired, CodeInvalid or Throttled."""
    attempt_id = throttle.login_attempt_begin(email=user.email, ip_address=ip_address)
    if not (code or "").strip():
        throttle.login_attempt_succeeded(attempt_id=attempt_id)  # nothing was tried: not a failure
        raise CodeRequired()
    if not mfa.mfa_verify(user=user, code=code):
        logger.warning("Login refused: wrong one-time code for %s from %s.", user.email, ip_address)
        raise CodeInvalid()
    throttle.login_attempt_succeeded(attempt_id=attempt_id)


def login_complete(
    *, user: User, method: str, ip_address: str | None, user_agent: str = ""
) -> tuple[Session, str]:
    """Starts the session of a user who passed every factor; forgets the account's failures."""
    throttle.login_failures_clear(email=user.email)
    return sessions.session_create(user=user, method=method, ip_address=ip_address, user_agent=user_agent)


def password_reset_request(*, email: str) -> None:
    """Emails a reset link when the address has an active account; silently does nothing otherwise."""
    email = email_clean(email=email)
    user = User.objects.filter(email=email, is_active=True).first()
    if user is None or not links.link_sending_allowed(user=user):
        return
    secret = links.link_issue(user=user, purpose=EmailLink.Purpose.RESET)
    mail_send(to=email, template="reset", context={"url": _link_url(f"/identity/reset/{secret}")})


def password_reset_link(*, secret: str) -> EmailLink:
    return links.link_get(secret=secret, purpose=EmailLink.Purpose.RESET)


def password_reset_complete(*, secret: str, password: str, code: str) -> User:
    """Uses a reset link: with MFA on, a current code is needed too. Every session of the user ends;
    the account's login failures are forgotten, so its owner can always get back in this way."""
    link = links.link_get(secret=secret, purpose=EmailLink.Purpose.RESET)
    user = link.user
    password_validate(password=password, user=user)
    if user.mfa_enabled:
        # Not the login throttle: someone failing logins must not lock the owner out of a reset. The link
        # proves the mailbox; wrong codes are limited per link instead.
        if not (code or "").strip():
            raise CodeRequired()
        if not mfa.mfa_verify(user=user, code=code):
            links.link_code_failure(link=link)
            raise CodeInvalid()
    with identity_db.atomic():
        links.link_use(link=link)
        _password_store(user=user, password=password)
    throttle.login_failures_clear(email=user.email)
    return user


def password_change(*, user: User, current_password: str, new_password: str) -> None:
    """Changes the password of a logged-in user; every token of the user stops working."""
    if not user.check_password(current_password):
        raise LoginRefused("The current password is wrong.")
    password_validate(password=new_password, user=user)
    with identity_db.atomic():
        _password_store(user=user, password=new_password)


def user_update_profile(*, user: User, display_name: str) -> User:
    user.display_name = display_name.strip()[:200]
    user.save(update_fields=["display_name"])
    return user


def admin_create(*, email: str, password: str) -> tuple[User, bool]:
    """Creates the platform's first admin, verified, unless an account with this address exists.
    Returns (user, created)."""
    email = email_clean(email=email)
    existing = User.objects.filter(email=email).first()
    if existing is not None and existing.email_verified_at is not None:
        return existing, False
    password_validate(password=password, user=existing or User(email=email))
    with identity_db.atomic():
        user = existing or User.objects.create_user(email)
        user.is_staff = user.is_superuser = True
        user.save(update_fields=["is_staff", "is_superuser"])
        _password_store(user=user, password=password)
    return user, True


def accounts_prune_unverified(*, older_than_days: int = 7) -> int:
    """Deletes sign-ups never verified within `older_than_days` (no password, never logged in)."""
    cutoff = timezone.now() - timedelta(days=older_than_days)
    stale = User.objects.filter(
        email_verified_at__isnull=True,
        password__startswith="!",
        last_login__isnull=True,
        date_joined__lt=cutoff,
    )
    _, per_model = stale.delete()
    return per_model.get(User._meta.label, 0)
