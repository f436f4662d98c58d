"""Real processes for the integration tests: a private Redis, a Celery worker started from
the Procfile's `worker` line and Gunicorn from its `web` line, all on the PostgreSQL
database pytest-django created.

The processes share the test database by name, so the tests that talk to them use
`transactional_db`: their rows are committed (visible to the worker and to Gunicorn) and
flushed after each test. Every process runs in a session of its own and is killed by its
process group at the end, before pytest-django drops the database (the fixtures depend on
`django_db_setup`, so they are torn down first).
"""

from __future__ import annotations

import json
import math
import os
import shutil
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from django.conf import settings

from tests.integration.processes import (
    REPO,
    VENV_BIN,
    free_port,
    start_process,
    stop_process,
    wait_until,
)


def procfile_command(kind: str) -> str:
    for line in (REPO / "Procfile").read_text().splitlines():
        name, _, command = line.partition(":")
        if name.strip() == kind:
            return command.strip()
    raise AssertionError(f"Procfile has no {kind}: line")


def live_database_url() -> str:
    db = settings.DATABASES["default"]
    if db["ENGINE"] != "django.db.backends.postgresql":
        pytest.skip(
            "the integration tests share the test database with real processes: "
            "run them on PostgreSQL (DATABASE_URL=postgres://..., as scripts/test.sh does)"
        )
    auth = quote(db.get("USER") or "")
    if db.get("PASSWORD"):
        auth += ":" + quote(db["PASSWORD"])
    host = db.get("HOST") or "127.0.0.1"
    port = db.get("PORT") or 5432
    return f"postgres://{auth}@{host}:{port}/{db['NAME']}"


def http(
    method: str, url: str, body: Any = None, token: str | None = None, timeout: float = 10
) -> tuple[int, Any]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("Accept", "application/json")
    if data is not None:
        request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Token {token}")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        payload = error.read()
        try:
            return error.code, json.loads(payload)
        except ValueError:
            return error.code, payload.decode(errors="replace")


@pytest.fixture(scope="session")
def logs_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("integration-logs")


@pytest.fixture(scope="session")
def redis_url(logs_dir) -> Iterator[str]:
    """A Redis of our own on a free port: nothing else's queue is touched or read."""
    server = shutil.which("redis-server")
    if server is None:
        pytest.skip("redis-server is not installed (scripts/test.sh installs and starts it)")
    port = free_port()
    data = logs_dir / "redis"
    data.mkdir()
    proc = start_process(
        [
            server,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(data),
        ],
        env=dict(os.environ),
        log=logs_dir / "redis.log",
    )
    import redis

    client = redis.Redis(port=port, socket_connect_timeout=0.5)

    def answers() -> bool:
        try:
            return bool(client.ping())
        except redis.RedisError:
            return False

    try:
        wait_until(answers, 20, "the private redis-server to answer")
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        stop_process(proc)


@pytest.fixture(scope="session")
def service_env(django_db_setup, redis_url) -> dict[str, str]:
    """The environment of a production-like process on the test database."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "DJANGO_"))}
    env.update(
        {
            "PATH": f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}",
            "DJANGO_SETTINGS_MODULE": "service.settings",
            "DATABASE_URL": live_database_url(),
            "CELERY_BROKER_URL": redis_url,
            "SECRET_KEY": "integration-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz",
            "DEBUG": "false",
            "SECURE_SSL_REDIRECT": "false",
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "WEB_CONCURRENCY": "1",
            "CELERY_CONCURRENCY": "1",
            "JOB_PROGRESS_INTERVAL": "0.2",
            "CONN_MAX_AGE": "0",
        }
    )
    return env


@pytest.fixture(scope="session")
def celery_worker(service_env, logs_dir) -> Iterator[Path]:
    """The Procfile's worker line (prefork, one child, as deployed); yields its log."""
    log = logs_dir / "worker.log"
    proc = start_process(procfile_command("worker"), env=service_env, log=log)
    try:
        wait_until(
            lambda: proc.poll() is not None or " ready." in log.read_text(errors="replace"),
            120,
            "the Celery worker to be ready",
        )
        assert proc.poll() is None, f"the worker exited:\n{log.read_text()[-3000:]}"
        yield log
    finally:
        stop_process(proc)


def _start_web(env: dict[str, str], log: Path) -> tuple[Any, str]:
    port = free_port()
    proc = start_process(procfile_command("web"), env={**env, "PORT": str(port)}, log=log)
    base = f"http://127.0.0.1:{port}"

    def answers() -> bool:
        assert proc.poll() is None, f"gunicorn exited:\n{log.read_text()[-3000:]}"
        try:
            return http("GET", f"{base}/healthz", timeout=5)[0] in (200, 503)
        except OSError:
            return False

    wait_until(answers, 60, "gunicorn to answer /healthz")
    return proc, base


@pytest.fixture(scope="session")
def web(service_env, logs_dir) -> Iterator[str]:
    """Gunicorn started from the Procfile's `web` line with PORT set; yields its base URL."""
    proc, base = _start_web(service_env, logs_dir / "web.log")
    try:
        yield base
    finally:
        stop_process(proc)


@pytest.fixture(scope="session")
def web_with_broker_down(service_env, logs_dir) -> Iterator[str]:
    """The same web process, but its broker is a port where nothing listens."""
    env = {
        **service_env,
        "CELERY_BROKER_URL": f"redis://127.0.0.1:{free_port()}/0",
        "BROKER_CHECK_TIMEOUT": "1",
    }
    proc, base = _start_web(env, logs_dir / "web-broker-down.log")
    try:
        yield base
    finally:
        stop_process(proc)


@pytest.fixture(scope="session")
def web_with_database_down(service_env, logs_dir) -> Iterator[str]:
    """The same web process, but its database is a port where nothing listens."""
    env = {**service_env, "DATABASE_URL": f"postgres://nobody@127.0.0.1:{free_port()}/none"}
    proc, base = _start_web(env, logs_dir / "web-database-down.log")
    try:
        yield base
    finally:
        stop_process(proc)


@pytest.fixture
def alice_token(transactional_db, django_user_model) -> str:
    from rest_framework.authtoken.models import Token

    alice = django_user_model.objects.create_user(username="alice", password="alice-password-123")
    return Token.objects.create(user=alice).key


def assert_consistent_results(results: dict[str, Any], rounds: int) -> None:
    """What every COMPLETE job's result must satisfy: each round asked was played, and each
    player's net is the difference of the bankrolls."""
    assert results["rounds_played"] == results["rounds_asked"] == rounds
    assert results["players"]
    for player in results["players"]:
        assert math.isclose(
            player["net_gain_loss"],
            player["final_bankroll"] - player["initial_bankroll"],
            abs_tol=1e-6,
        ), player
        assert player["total_wagered"] > 0
