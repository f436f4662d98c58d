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


def _fresh_connection():
    """A new connection of the `default` alias, set up as the backend sets up every one."""
    from django.db import connections

    fresh = connections.create_connection("default")
    fresh.ensure_connection()
    return fresh


def test_every_new_connection_gets_the_idle_transaction_timeout(transactional_db, settings):
    settings.DATABASE_IDLE_TRANSACTION_TIMEOUT = 10.0
    fresh = _fresh_connection()
    try:
        with fresh.cursor() as cursor:
            cursor.execute("SHOW idle_in_transaction_session_timeout")
            assert cursor.fetchone()[0] == "10s"
    finally:
        fresh.close()


def test_zero_leaves_the_servers_own_setting(transactional_db, settings):
    settings.DATABASE_IDLE_TRANSACTION_TIMEOUT = 0.0
    fresh = _fresh_connection()
    try:
        with fresh.cursor() as cursor:
            cursor.execute("SHOW idle_in_transaction_session_timeout")
            assert cursor.fetchone()[0] == "0"  # PostgreSQL's default: never
    finally:
        fresh.close()


def test_the_server_ends_a_transaction_its_client_left_idle(transactional_db, settings):
    # What a worker cut off mid-transaction looks like to the server: a transaction that
    # holds its locks and says nothing. Ended, its locks let go, once the timeout passes.
    import time

    settings.DATABASE_IDLE_TRANSACTION_TIMEOUT = 0.3
    fresh = _fresh_connection()
    raw = fresh.connection
    try:
        raw.autocommit = False
        raw.execute("SELECT 1")
        time.sleep(1.5)
        # The server's FATAL 25P03 when it is read first, or the closed connection.
        ended = (psycopg.errors.IdleInTransactionSessionTimeout, psycopg.OperationalError)
        with pytest.raises(ended):
            raw.execute("SELECT 1")
    finally:
        fresh.close()
