"""Identity's tables: users, sessions (one per issued token), emailed links, MFA devices and login failures.

Other components refer to a user only by `User.id` (the token's `sub`), never by a foreign key into here.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import Group, Permission, PermissionsMixin
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone


def email_normalise(email: str) -> str:
    """The one spelling of an address identity stores and looks up: trimmed and lower-cased."""
    return email.strip().lower()


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **fields: Any) -> User:
        user = self.model(email=email_normalise(email), **fields)
        if password:
            user.set_password(password)
            user.password_changed_at = timezone.now()
        else:
            user.set_unusable_password()
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **fields: Any) -> User:
        fields.setdefault("is_staff", True)
        fields.setdefault("is_superuser", True)
        fields.setdefault("email_verified_at", timezone.now())
        return self.create_user(email, password, **fields)


class User(AbstractBaseUser, PermissionsMixin):
    """A person who logs in. The password is an argon2id hash (settings.PASSWORD_HASHERS)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    email = models.EmailField(max_length=254, unique=True)
    display_name = models.CharField(max_length=200, blank=True)
    is_active = models.BooleanField(
        default=True, help_text="An inactive user cannot log in; its tokens stop."
    )
    is_staff = models.BooleanField(default=False, help_text="May log in to the operators' admin site.")
    email_verified_at = models.DateTimeField(null=True, blank=True)
    password_changed_at = models.DateTimeField(null=True, blank=True)
    date_joined = models.DateTimeField(default=timezone.now)
    # Own reverse names, so this model can sit beside django.contrib.auth's User until it is swapped in.
    groups = models.ManyToManyField(
        Group, blank=True, related_name="identity_users", related_query_name="identity_user"
    )
    user_permissions = models.ManyToManyField(
        Permission, blank=True, related_name="identity_users", related_query_name="identity_user"
    )

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        constraints = [models.UniqueConstraint(Lower("email"), name="identity_user_email_ci_unique")]
        ordering = ["email"]

    def __str__(self) -> str:
        return self.email

    @classmethod
    def from_db(cls, db: str | None, field_names: Any, values: Any) -> User:
        user = super().from_db(db, field_names, values)
        # What the row held, so that save() can tell a deactivation or a password change.
        user._stored = (  # type: ignore[attr-defined]
            user.__dict__.get("is_active"),
            user.__dict__.get("password_changed_at"),
        )
        return user

    def save(self, *args: Any, **kwargs: Any) -> None:
        """Saves; a save that deactivates the account or changes its password tells other components
        (credentials_revoked), so that every credential issued before stops (API tokens, sessions).

        A password hash upgraded on login saves only `password`: that is no change of password.
        """
        stored_active, stored_changed_at = getattr(self, "_stored", (None, None))
        fields = kwargs.get("update_fields")
        saving = (lambda name: True) if fields is None else (lambda name: name in fields)
        reason = ""
        if stored_active is True and self.is_active is False and saving("is_active"):
            reason = "deactivated"
        elif (
            not self._state.adding
            and self.password_changed_at != stored_changed_at
            and saving("password_changed_at")
        ):
            reason = "password_changed"
        super().save(*args, **kwargs)
        self._stored = (self.is_active, self.password_changed_at)
        if reason:
            from flomation.identity.signals import credentials_revoked

            credentials_revoked.send(sender=User, user_id=str(self.id), reason=reason)

    def set_password(self, raw_password: str | None) -> None:
        """Sets the password and notes when: credentials issued before it stop working (API tokens)."""
        super().set_password(raw_password)
        self.password_changed_at = timezone.now()

    def clean(self) -> None:
        super().clean()
        self.email = email_normalise(self.email)

    def get_full_name(self) -> str:
        return self.display_name or self.email

    def get_short_name(self) -> str:
        return self.display_name or self.email

    @property
    def mfa_enabled(self) -> bool:
        device = getattr(self, "totp_device", None)
        return device is not None and device.confirmed_at is not None


class Session(models.Model):
    """One login. Its id is the token's `jti`; a token is honoured only while its session is live."""

    class Method(models.TextChoices):
        BROWSER = "browser", "Browser"
        API = "api", "API token"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="sessions")
    method = models.CharField(max_length=16, choices=Method.choices, default=Method.BROWSER)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    last_seen_at = models.DateTimeField(default=timezone.now)
    revoked_at = models.DateTimeField(null=True, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)

    class Meta:
        indexes = [models.Index(fields=["user", "revoked_at", "expires_at"], name="identity_session_live")]
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.user} {self.method} {self.created_at:%Y-%m-%d %H:%M}"

    @property
    def is_live(self) -> bool:
        return self.revoked_at is None and self.expires_at > timezone.now()


class EmailLink(models.Model):
    """A single-use link sent by email. Only the SHA-256 of its secret is stored."""

    class Purpose(models.TextChoices):
        VERIFY = "verify", "Verify email and set password"
        RESET = "reset", "Reset password"

    id = models.BigAutoField(primary_key=True)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="email_links")
    purpose = models.CharField(max_length=16, choices=Purpose.choices)
    secret_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    # Wrong one-time codes typed on a reset page; the link is used up after MAX_CODE_ATTEMPTS.
    code_attempts = models.PositiveSmallIntegerField(default=0)

    MAX_CODE_ATTEMPTS = 5

    class Meta:
        indexes = [models.Index(fields=["user", "purpose"], name="identity_link_user_purpose")]
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.purpose} link for {self.user}"


class TOTPDevice(models.Model):
    """A user's authenticator app (RFC 6238). The seed is encrypted with FLOMATION_ENCRYPTION_KEYS."""

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="totp_device")
    secret_ciphertext = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    # The last 30-second time step accepted: a code is accepted at most once.
    last_used_step = models.BigIntegerField(default=0)

    class Meta:
        verbose_name = "TOTP device"

    def __str__(self) -> str:
        return f"TOTP for {self.user}"


class RecoveryCode(models.Model):
    """A single-use MFA recovery code; only its SHA-256 is stored (the code has 80 random bits)."""

    id = models.BigAutoField(primary_key=True)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="recovery_codes")
    code_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["user", "code_hash"], name="identity_recovery_lookup")]

    def __str__(self) -> str:
        return f"recovery code of {self.user}"


class LoginFailure(models.Model):
    """A failed login, counted per account (by address, known or not) and per client address."""

    id = models.BigAutoField(primary_key=True)
    email = models.CharField(max_length=254)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            models.Index(fields=["email", "created_at"], name="identity_failure_email"),
            models.Index(fields=["ip_address", "created_at"], name="identity_failure_ip"),
        ]
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.email} from {self.ip_address}"
