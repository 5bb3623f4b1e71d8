"""Who is acting and from where, for the audit log: set once per request, read by whatever records a change.

Django-free so that identity (which authenticates users), core (API tokens, runners) and the request
middleware (source address and user agent) can all set it without importing each other. Context variables
keep it per thread and per task; the middleware resets both at the end of every request.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass


@dataclass(frozen=True)
class Actor:
    """`type` is user, token, runner or system; `account` the person behind a user or an API token."""

    type: str
    id: str = ""
    label: str = ""
    account: str = ""


SYSTEM = Actor("system", label="system")


@dataclass(frozen=True)
class Origin:
    address: str = ""
    user_agent: str = ""


_actor: ContextVar[Actor | None] = ContextVar("flomation_audit_actor", default=None)
_origin: ContextVar[Origin | None] = ContextVar("flomation_audit_origin", default=None)
_NO_ORIGIN = Origin()


def actor_set(actor: Actor | None) -> None:
    """Names who the rest of this request (or task) acts as."""
    _actor.set(actor)


def actor_current() -> Actor:
    return _actor.get() or SYSTEM


def origin_current() -> Origin:
    return _origin.get() or _NO_ORIGIN


@contextmanager
def bound(*, actor: Actor | None = None, origin: Origin | None = None) -> Iterator[None]:
    """Sets the actor and origin for the block and restores what was there before, whatever happens."""
    actor_token = _actor.set(actor)
    origin_token = _origin.set(origin or Origin())
    try:
        yield
    finally:
        _actor.reset(actor_token)
        _origin.reset(origin_token)
