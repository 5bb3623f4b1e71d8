"""Database outages answer 503 with Retry-After, never 500.

While the database cannot be reached, is restarting or is still starting up, every request that needs it
fails with OperationalError or InterfaceError (Django's wrappers of the driver's). That is the service
being briefly unavailable, not a bug: clients (webhook senders, runners, browsers) are told to retry.
Three places turn such an error into 503, so that none escapes as a 500:

* `DatabaseUnavailableMiddleware.process_exception`: an error raised by a view (API, runner protocol,
  identity, editor, launch pages);
* `respond_if_unavailable`, for views called outside the chain (webhook ingress: StatelessViewMiddleware);
* `server_error`, the project's handler500: an error raised by a middleware (sessions, authentication).
"""

from __future__ import annotations

import logging
import sys

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views import defaults

logger = logging.getLogger("flomation.unavailable")

RETRY_AFTER_SECONDS = 5
MESSAGE = "The database is unavailable for a moment ({reason}); try again in a few seconds."


def is_database_unavailable(error: BaseException | None) -> bool:
    """True for errors that mean the database cannot serve now (down, restarting, starting up, the
    connection lost), as opposed to a query the code got wrong."""
    seen = 0
    while error is not None and seen < 5:
        if isinstance(error, OperationalError | InterfaceError):
            return True
        module = type(error).__module__
        if module.startswith("psycopg") and type(error).__name__ in ("OperationalError", "InterfaceError"):
            return True
        error = error.__cause__
        seen += 1
    return False


def reason_of(error: BaseException) -> str:
    text = str(error).lower()
    if "starting up" in text or "in recovery mode" in text or "shutting down" in text:
        return "it is starting up or shutting down"
    if "connection" in text and ("refused" in text or "no such file" in text):
        return "it does not accept connections"
    if "closed" in text or "terminat" in text or "lost" in text:
        return "the connection to it was lost"
    return "it cannot be reached"


def unavailable_response(error: BaseException) -> JsonResponse:
    reason = reason_of(error)
    response = JsonResponse(
        {"detail": MESSAGE.format(reason=reason), "code": "database_unavailable"}, status=503
    )
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def _answer(request: HttpRequest, error: BaseException) -> JsonResponse:
    # One line per request, no traceback: an outage would otherwise flood the log with identical stacks.
    # (Django closes the failed connection as the request ends; the next request connects afresh.)
    logger.warning("%s %s: 503, the database is unavailable: %s", request.method, request.path, error)
    return unavailable_response(error)


def respond_if_unavailable(request: HttpRequest, error: BaseException) -> JsonResponse | None:
    """The 503 for `error` if it means the database is unavailable, else None (let it propagate)."""
    if is_database_unavailable(error):
        return _answer(request, error)
    return None


class DatabaseUnavailableMiddleware:
    def __init__(self, get_response) -> None:  # type: ignore[no-untyped-def]
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        return respond_if_unavailable(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    """handler500: 503 for a database outage raised outside a view, Django's 500 page otherwise."""
    error = sys.exc_info()[1]
    if is_database_unavailable(error):
        assert error is not None
        return unavailable_response(error)
    return defaults.server_error(request)
