"""The database's passing failures: what counts as unreachable, and dropping a broken
connection so the next query opens a fresh one."""

from __future__ import annotations

import contextlib

from django.db import InterfaceError, OperationalError, connection

# The database is unreachable (refused, restarting, the connection dropped by the server):
# not the job's fault, and not for good. A delivery that meets one gives its claim back and
# is retried by its task (simulator/tasks.py), instead of failing the job or losing the
# message; the web answers 503 (simulator/unavailable.py). Other database errors (a
# constraint, a value jsonb refuses) are faults of their own and end the job as before.
DATABASE_UNREACHABLE = (OperationalError, InterfaceError)


def reset_connection() -> None:
    """Drop this thread's database connection, whatever state it is in. Django replaces a
    broken connection only between requests (and Celery between tasks); within a run it
    would answer every later query with "the connection is closed", so the give-back
    after an error needs a fresh one."""
    with contextlib.suppress(Exception):
        connection.close()
