"""The service stack for the service benchmarks: a database of its own on PostgreSQL, a
private Redis, a Celery worker and Gunicorn started from the Procfile, all stopped (by
process group) and the database dropped at the end. Not a test; never run by pytest."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
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
ADMIN_URL = os.environ.get("BENCH_POSTGRES", "postgres://postgres@127.0.0.1:5432/postgres")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


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


class Stack:
    def __init__(self, web_concurrency: int = 2) -> None:
        self.web_concurrency = web_concurrency
        self.procs: list[subprocess.Popen] = []
        self.tmp = Path(tempfile.mkdtemp(prefix="jost-bench-"))
        self.db_name = f"jost_bench_{os.getpid()}"
        self.base = ""
        self.token = ""

    def _start(self, command: str | list[str], env: dict[str, str], log: str) -> subprocess.Popen:
        with open(self.tmp / log, "wb") as handle:
            proc = subprocess.Popen(
                command,
                shell=isinstance(command, str),
                cwd=REPO,
                env=env,
                stdout=handle,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
                executable="/bin/bash" if isinstance(command, str) else None,
            )
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
        import redis

        with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{self.db_name}"')
        redis_port, web_port = free_port(), free_port()
        self._start(
            [
                shutil.which("redis-server") or "redis-server",
                "--port",
                str(redis_port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.tmp),
            ],
            dict(os.environ),
            "redis.log",
        )
        wait(lambda: _pings(redis, redis_port), 20, "redis")
        db_url = ADMIN_URL.rsplit("/", 1)[0] + "/" + self.db_name
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")},
            "PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}",
            "DJANGO_SETTINGS_MODULE": "service.settings_bench",
            "DATABASE_URL": db_url,
            "CELERY_BROKER_URL": f"redis://127.0.0.1:{redis_port}/0",
            "SECRET_KEY": "bench-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz-ABCDEF",
            "DEBUG": "false",
            "SECURE_SSL_REDIRECT": "false",
            "ALLOWED_HOSTS": "127.0.0.1",
            "WEB_CONCURRENCY": str(self.web_concurrency),
            "CELERY_CONCURRENCY": "1",
            "PORT": str(web_port),
            "GUNICORN_LOG_LEVEL": "warning",
            # The benches measure what the read throttle costs, not its refusals.
            "THROTTLE_READ_RATE": os.environ.get("THROTTLE_READ_RATE", "1000000/second"),
        }

        def run(*args):
            return subprocess.run(
                [sys.executable, "manage.py", *args],
                cwd=REPO,
                env=self.env,
                check=True,
                capture_output=True,
                text=True,
            )

        run("migrate", "--noinput")
        self.token = run("ensure_dev_user", "--username", "bench").stdout.strip()
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
        wait(lambda: _answers(f"{self.base}/healthz"), 60, "gunicorn")
        return self

    def __exit__(self, *exc: object) -> None:
        for proc in reversed(self.procs):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        import psycopg

        with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self.db_name}" WITH (FORCE)')
        shutil.rmtree(self.tmp, ignore_errors=True)


def _pings(redis_module, port: int) -> bool:
    try:
        return bool(redis_module.Redis(port=port, socket_connect_timeout=0.5).ping())
    except redis_module.RedisError:
        return False


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=3) as response:
            return response.status == 200
    except OSError:
        return False


def master_config(num_rounds: int) -> dict[str, Any]:
    path = REPO / "jost_engine" / "data" / "defaults" / "simulations" / "master_simulation.json"
    config = json.loads(path.read_text())
    config["num_rounds"] = num_rounds
    return config


@contextlib.contextmanager
def stack(web_concurrency: int = 2) -> Iterator[Stack]:
    with Stack(web_concurrency) as running:
        yield running
