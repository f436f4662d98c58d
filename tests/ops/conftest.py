"""A live stack of its own for the metrics and logs tests: the Procfile's web line (two
gunicorn workers, so /metrics must add up processes) and worker line, on the test
database and the private Redis (tests/live_stack.py), with a metrics token, a
PROMETHEUS_MULTIPROC_DIR of their own and JSON logs, each process's stderr in a file of
its own (stdout apart: Celery prints its banner there)."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.helpers import http, procfile_command
from tests.integration.processes import REPO, free_port, stop_process, wait_until

METRICS_TOKEN = "ops-test-metrics-token-0123456789abcdef"
SHARD_ROUNDS = 10_000
SHARD_SHOES = 300
# Reads a user may make per minute: bob's fourth is throttled (alice never reads over HTTP).
READ_RATE = 3


def _start(command: str, env: dict[str, str], logs: Path, name: str) -> subprocess.Popen:
    """`command` in a session of its own; its stdout and stderr in logs/<name>.out, .err."""
    with open(logs / f"{name}.out", "ab") as out, open(logs / f"{name}.err", "ab") as err:
        return subprocess.Popen(
            command,
            shell=True,
            executable="/bin/bash",
            cwd=REPO,
            env=env,
            stdout=out,
            stderr=err,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )


@pytest.fixture(scope="session")
def ops_logs(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("ops-stack")


@pytest.fixture(scope="session")
def ops_env(service_env, redis_url, ops_logs) -> dict[str, str]:
    metrics_dir = ops_logs / "prometheus"
    metrics_dir.mkdir()
    return {
        **service_env,
        "CELERY_BROKER_URL": redis_url.rsplit("/", 1)[0] + "/13",
        "METRICS_TOKEN": METRICS_TOKEN,
        "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir),
        "LOG_FORMAT": "json",
        "WEB_CONCURRENCY": "2",
        "GUNICORN_THREADS": "4",
        "THROTTLE_READ_RATE": f"{READ_RATE}/minute",
        "JOB_SHARD_ROUNDS": str(SHARD_ROUNDS),
        "JOB_SHARD_SHOES": str(SHARD_SHOES),
        "JOB_CHUNK_ROUNDS": "5000",
        "JOB_CHUNK_SHOES": "50",
    }


@pytest.fixture(scope="session")
def ops_worker(ops_env, ops_logs) -> Iterator[Path]:
    """The Procfile's worker line; yields the file of its stderr."""
    proc = _start(procfile_command("worker"), ops_env, ops_logs, "worker")
    err = ops_logs / "worker.err"
    try:
        wait_until(
            lambda: proc.poll() is not None or " ready." in err.read_text(errors="replace"),
            240,
            "the Celery worker to be ready",
        )
        assert proc.poll() is None, f"the worker exited:\n{err.read_text()[-3000:]}"
        yield err
    finally:
        stop_process(proc)


def start_ops_web(env: dict[str, str], logs: Path, name: str) -> tuple[subprocess.Popen, str]:
    port = free_port()
    proc = _start(procfile_command("web"), {**env, "PORT": str(port)}, logs, name)
    base = f"http://127.0.0.1:{port}"

    def answers() -> bool:
        assert proc.poll() is None, f"gunicorn exited:\n{(logs / f'{name}.err').read_text()}"
        try:
            return http("GET", f"{base}/healthz", timeout=5)[0] in (200, 503)
        except OSError:
            return False

    try:
        wait_until(answers, 90, "gunicorn to answer /healthz")
    except BaseException:
        stop_process(proc)
        raise
    return proc, base


@pytest.fixture(scope="session")
def ops_web(ops_env, ops_logs) -> Iterator[str]:
    """The Procfile's web line (two gunicorn workers); yields its base URL."""
    proc, base = start_ops_web(ops_env, ops_logs, "web")
    try:
        yield base
    finally:
        stop_process(proc)
