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
"""

from __future__ import annotations

import select

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
