"""Loaded by pytest before Django reads its settings (see addopts in pyproject.toml).

Tests run with production-like settings (DEBUG off) and fixed, test-only keys; a variable already set in
the environment (DATABASE_URL, for example) wins.
"""

import os

_DEFAULTS = {
    "DEBUG": "false",
    "FLOMATION_IGNORE_DOTENV": "1",
    "SECRET_KEY": "test-secret-key-not-for-production-0123456789abcdef",
    "AUTH_SECRET": "test-auth-secret-not-for-production-0123456789abcdef",
    # Two keys: the first encrypts, both decrypt (rotation is tested).
    "FLOMATION_ENCRYPTION_KEY": "2ZkWfZc9gBvY3Ahq0hX9jQ5mS8h0o0l3Xr0mXb3n5uU=,Qm8zZk5qV2x3cHk0c2F0M1J6eGZ3c2d0ZHdQcVh2Tnk=",
    "AUTH_COOKIE_SECURE": "false",
    "SESSION_COOKIE_SECURE": "false",
    "CSRF_COOKIE_SECURE": "false",
    "FLOMATION_ROLES": "all",
    "LOG_LEVEL": "WARNING",
    # The suite's stand-in runners finish executions themselves; flows that run inline in the web process
    # are tested on their own (tests/launch/test_inline_runs.py), with this turned on.
    "FLOMATION_INLINE_RUNS": "0",
}
for _name, _value in _DEFAULTS.items():
    os.environ.setdefault(_name, _value)
