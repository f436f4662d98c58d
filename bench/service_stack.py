"""The service stack for the service benchmarks: a database of its own on PostgreSQL, a
private Redis, a Celery worker and Gunicorn started from the Procfile, all stopped (by
process group) and the database dropped at the end. Not a test; never run by pytest."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
# Processes are started and stopped as the live-stack tests do it: each in a session of its
# own, stopped by process group.
sys.path.insert(0, str(REPO))
from tests.integration.processes import (  # noqa: E402
    free_port,
    start_process,
    stop_process,
)

ADMIN_URL = os.environ.get("BENCH_POSTGRES", "postgres://postgres@127.0.0.1:5432/postgres")


def procfile(kind: str) -> str:
    for line in (REPO / "Procfile").read_text().splitlines():
        name, _, command = line.partition(":")
        if name.strip() == kind:
            return command.strip()
    raise SystemExit(f"Procfile has no {kind}: line")


def http(method: str, url: str, body: Any = None, token: str | None = None) -> tuple[int, Any]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method)
    if data is not None:
        request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Token {token}")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode(errors="replace")


def wait(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise SystemExit(f"gave up waiting for {what}")
        time.sleep(0.1)


def redis_server(port: int, directory: Path) -> list[str]:
    """A private Redis on loopback that keeps nothing on disk."""
    return [
        shutil.which("redis-server") or "redis-server",
        "--port",
        str(port),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "no",
        "--dir",
        str(directory),
    ]


def service_env(settings_module: str, database_url: str, redis_port: int) -> dict[str, str]:
    """The environment every process of a bench stack runs with (the Procfile's lines read
    the rest from the shipped defaults)."""
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "JOB_"))},
        "PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        "DJANGO_SETTINGS_MODULE": settings_module,
        "DATABASE_URL": database_url,
        "CELERY_BROKER_URL": f"redis://127.0.0.1:{redis_port}/0",
        "SECRET_KEY": "bench-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz-ABCDEF",
        "DEBUG": "false",
        "SECURE_SSL_REDIRECT": "false",
        "ALLOWED_HOSTS": "127.0.0.1",
        "CELERY_CONCURRENCY": "1",
        "GUNICORN_LOG_LEVEL": "warning",
    }


def manage(env: dict[str, str], *args: str) -> str:
    """`manage.py` with `args` in `env`; its standard output."""
    done = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=REPO,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    return done.stdout


def redis_pings(port: int) -> bool:
    import redis

    try:
        return bool(redis.Redis(port=port, socket_connect_timeout=0.5).ping())
    except redis.RedisError:
        return False


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=3) as response:
            return response.status == 200
    except OSError:
        return False


class Stack:
    def __init__(self, web_concurrency: int = 2) -> None:
        self.web_concurrency = web_concurrency
        self.procs: list[subprocess.Popen] = []
        self.tmp = Path(tempfile.mkdtemp(prefix="jost-bench-"))
        self.db_name = f"jost_bench_{os.getpid()}"
        self.base = ""
        self.token = ""

    def _start(self, command: str | list[str], env: dict[str, str], log: str) -> subprocess.Popen:
        proc = start_process(command, env=env, log=self.tmp / log)
        self.procs.append(proc)
        return proc

    def __enter__(self) -> Stack:
        try:
            return self._bring_up()
        except BaseException:
            # Python calls __exit__ only after __enter__ returned: stop what did start.
            self.__exit__()
            raise

    def _bring_up(self) -> Stack:
        import psycopg

        with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{self.db_name}"')
        redis_port, web_port = free_port(), free_port()
        self._start(redis_server(redis_port, self.tmp), dict(os.environ), "redis.log")
        wait(lambda: redis_pings(redis_port), 20, "redis")
        db_url = ADMIN_URL.rsplit("/", 1)[0] + "/" + self.db_name
        self.env = {
            **service_env("service.settings_bench", db_url, redis_port),
            "WEB_CONCURRENCY": str(self.web_concurrency),
            "PORT": str(web_port),
            # The benches measure what the read throttle costs, not its refusals.
            "THROTTLE_READ_RATE": os.environ.get("THROTTLE_READ_RATE", "1000000/second"),
        }
        manage(self.env, "migrate", "--noinput")
        self.token = manage(self.env, "ensure_dev_user", "--username", "bench").strip()
        worker_log = self.tmp / "worker.log"
        worker = self._start(procfile("worker"), self.env, "worker.log")

        def ready() -> bool:
            return worker.poll() is not None or " ready." in worker_log.read_text(errors="replace")

        wait(ready, 120, "the worker")
        if worker.poll() is not None:
            raise SystemExit(f"the worker exited:\n{worker_log.read_text()[-3000:]}")
        # Access logs off: writing a line per request would be part of what is measured.
        self._start(
            procfile("web").replace("gunicorn ", "gunicorn --access-logfile /dev/null ", 1),
            self.env,
            "web.log",
        )
        self.base = f"http://127.0.0.1:{web_port}"
        wait(lambda: answers(f"{self.base}/healthz"), 60, "gunicorn")
        return self

    def __exit__(self, *exc: object) -> None:
        for proc in reversed(self.procs):
            stop_process(proc)
        import psycopg

        with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self.db_name}" WITH (FORCE)')
        shutil.rmtree(self.tmp, ignore_errors=True)


def master_config(num_rounds: int) -> dict[str, Any]:
    path = REPO / "jost_engine" / "data" / "defaults" / "simulations" / "master_simulation.json"
    config = json.loads(path.read_text())
    config["num_rounds"] = num_rounds
    return config


@contextlib.contextmanager
def stack(web_concurrency: int = 2) -> Iterator[Stack]:
    with Stack(web_concurrency) as running:
        yield running
