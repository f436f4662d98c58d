"""The live stack as a pytest plugin (registered in tests/conftest.py), for the tests that
drive real processes: tests/integration/ and tests/browser/. A private Redis, a Celery
worker started from the Procfile's `worker` line and Gunicorn from its `web` line, all on
the PostgreSQL database pytest-django created.

The processes share the test database by name, so the tests that talk to them use
`transactional_db`: their rows are committed (visible to the worker and to Gunicorn) and
flushed after each test. Every process runs in a session of its own and is killed by its
process group at the end, before pytest-django drops the database (the fixtures depend on
`django_db_setup`, so they are torn down first).
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import REPO
from tests.integration.helpers import live_database_url, start_web, start_worker
from tests.integration.processes import (
    VENV_BIN,
    free_port,
    start_redis,
    stop_process,
)


@pytest.fixture(scope="session")
def logs_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("integration-logs")


@pytest.fixture(scope="session")
def redis_url(logs_dir) -> Iterator[str]:
    """A Redis of our own on a free port: nothing else's queue is touched or read."""
    data = logs_dir / "redis"
    data.mkdir()
    port = free_port()
    proc = start_redis(port, log=logs_dir / "redis.log", data_dir=data)
    try:
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        stop_process(proc)


@pytest.fixture(scope="session")
def service_env(django_db_setup, redis_url, logs_dir) -> dict[str, str]:
    """The environment of a production-like process on the test database, with the
    metrics of this session's processes in a folder of their own (the Procfile's default,
    /tmp/jost-metrics, is every run's on the machine)."""
    metrics = logs_dir / "metrics"
    metrics.mkdir(exist_ok=True)
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
            "PROMETHEUS_MULTIPROC_DIR": str(metrics),
        }
    )
    return env


@pytest.fixture(scope="session")
def celery_worker(service_env, logs_dir) -> Iterator[Path]:
    """The Procfile's worker line (prefork, one child, as deployed); yields its log."""
    log = logs_dir / "worker.log"
    proc = start_worker(service_env, log)
    try:
        yield log
    finally:
        stop_process(proc)


@pytest.fixture(scope="session")
def static_files(service_env, logs_dir) -> None:
    """The build step a deploy runs (a platform's buildpack does): collectstatic, so the
    web process serves the admin's and the API docs' files as in production."""
    log = logs_dir / "collectstatic.log"
    with log.open("w") as out:
        subprocess.run(
            [str(VENV_BIN / "python"), "manage.py", "collectstatic", "--noinput"],
            cwd=REPO,
            env=service_env,
            stdout=out,
            stderr=subprocess.STDOUT,
            check=True,
            timeout=120,
        )


@pytest.fixture(scope="session")
def web(service_env, logs_dir, static_files) -> Iterator[str]:
    """Gunicorn started from the Procfile's `web` line with PORT set; yields its base URL."""
    proc, base = start_web(service_env, logs_dir / "web.log")
    try:
        yield base
    finally:
        stop_process(proc)
