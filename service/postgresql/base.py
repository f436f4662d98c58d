"""Django's PostgreSQL backend with a health check that costs no round trip.

CONN_HEALTH_CHECKS makes Django check a kept connection before a request's first query,
so one the server dropped (a restart, a failover, pg_terminate_backend, an idle timeout)
is replaced instead of failing that request. Django checks with `SELECT 1`: a round trip
on every request that queries, 47 us of a status poll that takes about 1.2 ms (issue 14,
docs/BENCHMARKS.md). A connection the server closed always says so on its socket first
(the FATAL message of a terminated backend, or the end of file of a closed one), so an
idle connection whose socket has nothing to read is still open, and only one that has
something pays for `SELECT 1` (which also reads what the server said). Selected in
service/settings.py for every postgres:// DATABASE_URL.

Every new connection also gets DATABASE_IDLE_TRANSACTION_TIMEOUT as PostgreSQL's
idle_in_transaction_session_timeout: a worker cut off from the database in the middle of
a transaction (its host lost, a network partition) would otherwise hold that
transaction's row locks until the server noticed the connection was dead, hours with the
kernel's defaults, and a job whose row it holds could not finish on any other host
(tests/integration/test_many_hosts.py, docs/OPERATIONS.md "Scaling over hosts").
"""

from __future__ import annotations

import select
from typing import Any

from django.conf import settings
from django.db.backends.postgresql import base
from psycopg import pq


class DatabaseWrapper(base.DatabaseWrapper):
    def is_usable(self) -> bool:
        conn = self.connection
        if conn is None or conn.closed:
            return False
        if conn.info.transaction_status == pq.TransactionStatus.IDLE:
            try:
                readable, _, _ = select.select([conn.fileno()], [], [], 0)
            except (OSError, ValueError):
                return False
            if not readable:
                return True
        # The server said something, or the connection is in a transaction: ask it.
        usable: bool = super().is_usable()
        return usable

    def _configure_connection(self, connection: Any) -> bool:
        # Django's hook (5.1+) for what every new connection is set up with; not in the stubs.
        commit: bool = super()._configure_connection(connection)  # type: ignore[misc]
        timeout = settings.DATABASE_IDLE_TRANSACTION_TIMEOUT
        if timeout > 0:
            # set_config, not SET: psycopg binds parameters on the server, and SET takes none.
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT set_config('idle_in_transaction_session_timeout', %s, false)",
                    [f"{round(timeout * 1000)}ms"],
                )
            commit = True
        return commit
