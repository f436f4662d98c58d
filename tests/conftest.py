"""Fixtures shared by the service's tests: the personas and a config the engine accepts.

alice owns jobs, bob is another ordinary user, charlie must never see alice's jobs.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import load_master_config

INTEGRATION = Path(__file__).resolve().parent / "integration"

# The live stack's fixtures (Redis, the Procfile's worker and web), for tests/integration/
# and tests/browser/ alike.
pytest_plugins = ["tests.live_stack"]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # The marker follows the folder, so `-m "not integration"` leaves out every test under
    # tests/integration/ without each file having to say so. A test elsewhere that starts
    # a service (tests/ops/test_start_dev.py) carries the marker itself.
    for item in items:
        if item.path.is_relative_to(INTEGRATION):
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
    from simulator.services import submit_job

    return submit_job(alice, master_config)
