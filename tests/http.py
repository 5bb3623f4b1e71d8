"""HTTP sessions for tests that call a live test server the way an API client would."""

from __future__ import annotations

import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import ProtocolError
from urllib3.util.retry import Retry


class _DroppedUnanswered(Retry):
    """Sends a request again only when the connection closed before any answer came back (a remote
    disconnect or a reset, urllib3's ProtocolError); a timeout, a refused connection and every answer,
    errors included, reach the test as they are."""

    def increment(self, method=None, url=None, response=None, error=None, _pool=None, _stacktrace=None):
        if response is not None or not isinstance(error, ProtocolError):  # what requests does by default
            return Retry(0, read=False).increment(method, url, response, error, _pool, _stacktrace)
        return super().increment(method, url, response, error, _pool, _stacktrace)


def api_session() -> requests.Session:
    """A session for calls whose subject is the API, not the transport. Django's threaded test server, late
    in a long run, has been seen to close a fresh connection once without answering it; a second try on a
    new connection tells that apart from a request the server refused. Tests about connections themselves
    (slow clients, resets, the runner's own retries) use a plain session."""
    session = requests.Session()
    retry = _DroppedUnanswered(total=2, connect=0, read=2, status=0, other=0, allowed_methods=None)
    session.mount("http://", HTTPAdapter(max_retries=retry))
    return session
