"""Django's permission checks for identity's users, without Django's password login.

The admin reads `has_perm` through this backend; `authenticate()` never accepts a password, so no path
but identity's login (throttled, with MFA and sessions) can turn a password into a logged-in user.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend


class PermissionsOnlyBackend(ModelBackend):
    def authenticate(
        self, request: Any, username: str | None = None, password: str | None = None, **kwargs: Any
    ):
        return None
