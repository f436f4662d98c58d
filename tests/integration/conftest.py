"""Real processes for the integration tests. The live stack itself (a private Redis, the
Procfile's worker and web processes: `redis_url`, `service_env`, `celery_worker`, `web`)
is in tests/live_stack.py, shared with tests/browser/; here are the variants of it that
only these tests use, on the PostgreSQL database pytest-django created.

The processes share the test database by name, so the tests that talk to them use
`transactional_db`: their rows are committed (visible to the worker and to Gunicorn) and
flushed after each test. Every process runs in a session of its own and is killed by its
process group at the end, before pytest-django drops the database (the fixtures depend on
`django_db_setup`, so they are torn down first).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.integration.helpers import start_web
from tests.integration.processes import free_port, stop_process


@pytest.fixture(scope="session")
def web_with_broker_down(service_env, logs_dir) -> Iterator[str]:
    """The same web process, but its broker is a port where nothing listens."""
    env = {
        **service_env,
        "CELERY_BROKER_URL": f"redis://127.0.0.1:{free_port()}/0",
        "BROKER_CHECK_TIMEOUT": "1",
    }
    proc, base = start_web(env, logs_dir / "web-broker-down.log")
    try:
        yield base
    finally:
        stop_process(proc)


@pytest.fixture(scope="session")
def web_with_database_down(service_env, logs_dir) -> Iterator[str]:
    """The same web process, but its database is a port where nothing listens."""
    env = {**service_env, "DATABASE_URL": f"postgres://nobody@127.0.0.1:{free_port()}/none"}
    proc, base = start_web(env, logs_dir / "web-database-down.log")
    try:
        yield base
    finally:
        stop_process(proc)


def _token_of_new_user(django_user_model, username: str) -> str:
    from rest_framework.authtoken.models import Token

    password = f"{username}-password-123"
    user = django_user_model.objects.create_user(username=username, password=password)
    return Token.objects.create(user=user).key


@pytest.fixture
def alice_token(transactional_db, django_user_model) -> str:
    return _token_of_new_user(django_user_model, "alice")


@pytest.fixture
def bob_token(transactional_db, django_user_model) -> str:
    return _token_of_new_user(django_user_model, "bob")
