"""Prepared statements on PostgreSQL, for the one query every poll runs.

Django runs every query with client-side binding (psycopg's ClientCursor), which never
prepares: PostgreSQL parses and plans each statement anew. For the token-user-and-job
join that GET /api/status/ runs on every poll, planning is most of the query's cost
(measured in-process: 0.33 ms a query unprepared, 0.10 ms prepared). `prepared_cursor`
gives such a query a server-binding cursor whose statements are prepared once per
connection, wrapped by Django like any cursor (its error mapping, execute wrappers and
DEBUG query log still apply).

DB_PREPARED_STATEMENTS=false turns it off, for a pooler that may run one client's
statements on another server connection (PgBouncer in transaction mode without its
max_prepared_statements): the query then runs on an ordinary cursor.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.postgresql.base import ServerBindingCursor
from django.db.backends.postgresql.psycopg_any import register_tzloader
from django.db.backends.utils import CursorWrapper
from psycopg.errors import FeatureNotSupported
from psycopg.postgres import types
from psycopg.pq import Format, TransactionStatus

_TIMESTAMPTZ_OID = types["timestamptz"].oid


# django-stubs declare these cursor classes without psycopg's Cursor as their base.
_ServerBindingCursor: Any = ServerBindingCursor


class PreparingCursor(_ServerBindingCursor):
    """Django's server-binding cursor, preparing every statement it runs."""

    def execute(self, query: Any, params: Any = None, **kwargs: Any) -> Any:
        kwargs.setdefault("prepare", True)
        try:
            return super().execute(query, params, **kwargs)
        except FeatureNotSupported as exc:
            # A column the statement returns changed type since it was prepared (a
            # migration run by another process): PostgreSQL refuses the old plan on every
            # call. Outside a transaction, drop this connection's prepared statements
            # (psycopg forgets its own on DEALLOCATE ALL) and prepare it again.
            in_transaction = self.connection.info.transaction_status != TransactionStatus.IDLE
            if in_transaction or not _stale_plan(exc):
                raise
            self.connection.execute("DEALLOCATE ALL")
            return super().execute(query, params, **kwargs)


def _stale_plan(exc: FeatureNotSupported) -> bool:
    return "cached plan must not change result type" in str(exc)


def prepared_statements_on(db: BaseDatabaseWrapper) -> bool:
    return db.vendor == "postgresql" and settings.DB_PREPARED_STATEMENTS


def prepared_cursor(db: BaseDatabaseWrapper) -> CursorWrapper:
    """A cursor of `db` (this thread's connection, e.g. connections["default"]) whose
    statements are prepared on PostgreSQL; an ordinary one elsewhere or with prepared
    statements off. For a statement run on nearly every request with only its parameters
    changing: each one holds a plan in the server for the connection's life (psycopg
    keeps at most `prepared_max` of them)."""
    if not prepared_statements_on(db):
        return db.cursor()
    # As Django's cursor(), with only the psycopg cursor class changed.
    db.close_if_health_check_failed()
    db.ensure_connection()
    with db.wrap_database_errors:
        raw = PreparingCursor(db.connection)
        # DatabaseWrapper.create_cursor's time-zone step: a zone changed since the
        # connection opened (override_settings in tests) is registered on the cursor.
        loader = db.connection.adapters.get_loader(_TIMESTAMPTZ_OID, Format.TEXT)
        if db.timezone != loader.timezone:
            register_tzloader(db.timezone, raw)
        wrapped: CursorWrapper = db._prepare_cursor(raw)  # type: ignore[attr-defined]
        return wrapped
