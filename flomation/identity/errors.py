"""Errors a user can cause. Each message is safe to show: it never says whether an account exists."""

from __future__ import annotations


class IdentityError(Exception):
    """Base class; `str(error)` is the message to show."""

    status = 400


class InvalidEmail(IdentityError):
    def __init__(self) -> None:
        super().__init__("Enter a valid email address, such as name@example.com.")


class LoginRefused(IdentityError):
    status = 401

    def __init__(self, message: str = "The email address or password is wrong.") -> None:
        super().__init__(message)


class CodeRequired(IdentityError):
    status = 401

    def __init__(self) -> None:
        super().__init__("Enter the 6-digit code from your authenticator app, or a recovery code.")


class CodeInvalid(IdentityError):
    status = 401

    def __init__(self) -> None:
        super().__init__("The code is wrong or has already been used. Enter the current code from your app.")


class Throttled(IdentityError):
    status = 429

    def __init__(self, retry_after: int) -> None:
        self.retry_after = max(1, retry_after)
        minutes = max(1, round(self.retry_after / 60))
        super().__init__(
            f"Too many failed attempts. Try again in about {minutes} minute{'s' if minutes != 1 else ''}, "
            "or reset your password by email."
        )


class LinkInvalid(IdentityError):
    status = 400

    def __init__(self) -> None:
        super().__init__(
            "This link is not valid: it has expired, has already been used, or a newer one was sent. "
            "Ask for a new link."
        )


class PasswordRejected(IdentityError):
    def __init__(self, messages: list[str]) -> None:
        self.messages = messages
        super().__init__(" ".join(messages))


class MfaStateError(IdentityError):
    """An MFA operation that does not fit the account's current state (already on, not started, ...)."""

    status = 409
