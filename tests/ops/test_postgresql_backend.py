"""service.postgresql: the health check reads the socket before it pays for a round trip,
and still finds a connection the server ended."""

from __future__ import annotations

import psycopg
import pytest
from django.db import connection
from django.db.backends.postgresql import base as django_postgresql

from tests.integration.helpers import live_database_url

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the backend is PostgreSQL's"),
]


@pytest.fixture
def round_trips(monkeypatch) -> list[int]:
    """One entry for each time the check fell back to Django's SELECT 1."""
    calls: list[int] = []
    original = django_postgresql.DatabaseWrapper.is_usable

    def counted(self):
        calls.append(1)
        return original(self)

    monkeypatch.setattr(django_postgresql.DatabaseWrapper, "is_usable", counted)
    return calls


def test_it_is_the_backend_of_a_postgres_url():
    assert connection.settings_dict["ENGINE"] == "service.postgresql"


def test_an_open_idle_connection_is_usable_without_a_round_trip(transactional_db, round_trips):
    connection.ensure_connection()
    assert connection.is_usable()
    assert round_trips == []


def test_a_connection_the_server_ended_is_not_usable(transactional_db, round_trips):
    connection.ensure_connection()
    pid = connection.connection.info.backend_pid
    with psycopg.connect(live_database_url(), autocommit=True) as admin:
        # Waits (up to 5 s) until the backend has gone, as after a restart or a failover.
        assert admin.execute("SELECT pg_terminate_backend(%s, 5000)", [pid]).fetchone()[0]
    try:
        assert not connection.is_usable()
        assert round_trips == [1]  # its socket had something to say: asked the server
    finally:
        connection.close()
