"""The web tier does not stall: idle, half-open connections cannot hold gunicorn's
workers, so /healthz still answers at once with ten of them open."""

from __future__ import annotations

import contextlib
import socket
import time
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest

from tests.integration.helpers import http, start_web
from tests.integration.processes import stop_process


@pytest.fixture
def own_web(service_env, logs_dir) -> Iterator[str]:
    """Gunicorn from the Procfile's web line, with the Procfile's default worker count."""
    env = {k: v for k, v in service_env.items() if k != "WEB_CONCURRENCY"}
    proc, base = start_web(env, logs_dir / "web-half-open.log")
    try:
        yield base
    finally:
        stop_process(proc)


def test_healthz_answers_within_100_ms_with_10_idle_half_open_connections(
    transactional_db, own_web
):
    host, port = urlsplit(own_web).hostname, urlsplit(own_web).port
    idle: list[socket.socket] = []
    try:
        for i in range(10):
            sock = socket.create_connection((host, port), timeout=5)
            # Half a request line for some, nothing at all for the others: both are what a
            # slow or stalled client leaves a server with.
            if i % 2:
                sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")
            idle.append(sock)
        time.sleep(0.5)  # let the server accept them all
        timings = []
        for _ in range(5):
            started = time.perf_counter()
            code, body = http("GET", f"{own_web}/healthz", timeout=5)
            timings.append(time.perf_counter() - started)
            assert code == 200, body
        assert min(timings) < 0.1, timings
        assert sorted(timings)[len(timings) // 2] < 0.1, timings
    finally:
        for sock in idle:
            with contextlib.suppress(OSError):
                sock.close()
