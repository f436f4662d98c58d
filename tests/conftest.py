"""Fixtures shared by the service's tests: the personas and a config the engine accepts.

alice owns jobs, bob is another ordinary user, charlie must never see alice's jobs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.helpers import load_master_config

# The live stack's fixtures (Redis, the Procfile's worker and web), for tests/integration/
# and tests/browser/ alike.
pytest_plugins = ["tests.live_stack"]

# Fixtures that start a server process, or reach one that must already run: every fixture
# of the live stack (tests/live_stack.py, tests/integration/) is built on `redis_url` or
# `service_env`, and `redis_cache` talks to the broker's Redis. A test that uses one, even
# through another fixture, needs processes; a test that starts one itself says so with
# its own mark (tests/ops/test_start_dev.py).
PROCESS_FIXTURES = frozenset({"redis_url", "service_env", "redis_cache"})
BROWSER_FIXTURES = frozenset({"browser"})
# A test that needs any of these cannot run inside pytest's process alone on SQLite.
NEEDS_A_SERVICE = ("postgres", "processes", "browser")


@pytest.hookimpl(tryfirst=True)  # before `-m` deselects by these marks
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # Marks follow what a test uses, not the folder it is in: the in-process claim, shard
    # and task tests under tests/integration/ run in `--fast` (scripts/test.sh), and a
    # test anywhere that asks for the live stack is left out of it. `integration` stays
    # the union, so `-m "not integration"` still means "nothing but this process".
    for item in items:
        used = set(getattr(item, "fixturenames", ()))
        if used & PROCESS_FIXTURES:
            item.add_marker(pytest.mark.processes)
        if used & BROWSER_FIXTURES:
            item.add_marker(pytest.mark.browser)
        if any(item.get_closest_marker(name) for name in NEEDS_A_SERVICE):
            item.add_marker(pytest.mark.integration)


@pytest.fixture
def master_config() -> dict[str, Any]:
    return load_master_config(num_rounds=500)


# The fields of a results document that measure how fast the run went: the same seed plays
# the same rounds to the same result, never in the same time.
TIMING_FIELDS = ("duration_seconds", "play_seconds", "rounds_per_second")


@pytest.fixture(scope="session")
def without_timing() -> Callable[[dict[str, Any]], dict[str, Any]]:
    """without_timing(doc): a results document without its timing fields, for comparing
    two runs of the same seed (engine runs, CLI runs and a job run twice alike)."""

    def strip(doc: dict[str, Any]) -> dict[str, Any]:
        return {key: value for key, value in doc.items() if key not in TIMING_FIELDS}

    return strip


@pytest.fixture(autouse=True)
def _fresh_throttles():
    """Every test starts with no request counted against any throttle."""
    from django.core.cache import cache

    cache.clear()


def _make_user(django_user_model, name: str):
    return django_user_model.objects.create_user(
        username=name, email=f"{name}@example.com", password=f"{name}-password-123"
    )


@pytest.fixture
def alice(db, django_user_model):
    return _make_user(django_user_model, "alice")


@pytest.fixture
def bob(db, django_user_model):
    return _make_user(django_user_model, "bob")


@pytest.fixture
def charlie(db, django_user_model):
    return _make_user(django_user_model, "charlie")


def _token_client(user):
    from rest_framework.authtoken.models import Token
    from rest_framework.test import APIClient

    client = APIClient()
    token, _ = Token.objects.get_or_create(user=user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


@pytest.fixture
def alice_client(alice):
    return _token_client(alice)


@pytest.fixture
def bob_client(bob):
    return _token_client(bob)


@pytest.fixture
def charlie_client(charlie):
    return _token_client(charlie)


@pytest.fixture
def anon_client():
    from rest_framework.test import APIClient

    return APIClient()


@pytest.fixture
def alice_job(alice, master_config):
    """A PENDING job of alice's. Inside the test's transaction on_commit never fires, so
    nothing reaches the broker."""
    from simulator.services.submit import submit_job

    return submit_job(alice, master_config)


# --- The password guard (simulator/password_guard.py) ----------------------------------

# A time 45 s into a minute and 1,845 s into an hour: a refused login must then be told
# to wait exactly 15 s (a per-minute limit) or 1,755 s (per hour).
LOGIN_CLOCK = 3600 * 480_000 + 1845


@pytest.fixture
def login_limits(settings) -> Callable[..., None]:
    """login_limits(address="3/minute", username=None): the guard's limits for one test
    (None is off); it reads them at every check."""

    def apply(address: str | None = None, username: str | None = None) -> None:
        settings.LOGIN_FAILURE_RATES = {"address": address, "username": username}

    return apply


@pytest.fixture
def login_clock(monkeypatch) -> float:
    """The guard's clock stopped at LOGIN_CLOCK."""
    from simulator import password_guard

    monkeypatch.setattr(password_guard, "timer", lambda: LOGIN_CLOCK)
    return LOGIN_CLOCK


@pytest.fixture
def password_checks(monkeypatch) -> list[str]:
    """The username of every password actually checked (hashed), in order: each call of
    ModelBackend.authenticate, which the guard's backend calls once it let a check through."""
    from django.contrib.auth.backends import ModelBackend

    checked: list[str] = []
    original = ModelBackend.authenticate

    def counted(self, request, username=None, password=None, **kwargs):
        checked.append(username)
        return original(self, request, username=username, password=password, **kwargs)

    monkeypatch.setattr(ModelBackend, "authenticate", counted)
    return checked
