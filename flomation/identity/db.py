"""Identity's database: its transactions and raw SQL go to the alias that holds its tables, which is not the
default one when IDENTITY_DATABASE_URL is set (flomation.db.routers)."""

from __future__ import annotations

from django.db import connections, transaction
from django.db.backends.base.base import BaseDatabaseWrapper

from flomation.db.routers import identity_alias


def atomic() -> transaction.Atomic:
    """transaction.atomic on identity's database (a bare atomic() would open one on the default database)."""
    return transaction.atomic(using=identity_alias())


def connection() -> BaseDatabaseWrapper:
    """The connection for identity's raw SQL (advisory locks, the per-request session check)."""
    return connections[identity_alias()]
