"""The web tier the Procfile starts cannot be stalled by slow clients, and answers what the
application never sees (chunked bodies, oversized ones, requests gunicorn's parser
refuses) with the service's JSON errors. Against gunicorn as the Procfile's web line runs
it (service/web_worker.py), with the shipped deadlines: the live stack's `web` (one
worker), and for the attack a gunicorn of its own with the Procfile's two."""

from __future__ import annotations

import contextlib
import json
import socket
import time
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest

from service.web_worker import ReadLimits
from tests.integration.helpers import start_web
from tests.integration.processes import stop_process
from tests.integration.slow_clients import hold

# A socket's close is seen within a select() tick of the worker's deadline check, which
# runs at least once a second.
CLOSE_SLACK = 2.0


@pytest.fixture
def own_web(transactional_db, service_env, logs_dir) -> Iterator[str]:
    """Gunicorn from the Procfile's web line, with the Procfile's default worker count and
    the shipped read deadlines."""
    env = {k: v for k, v in service_env.items() if not k.startswith("WEB_")}
    proc, base = start_web(env, logs_dir / "web-slow-clients.log")
    try:
        yield base
    finally:
        stop_process(proc)


def _address(base: str) -> tuple[str, int]:
    parts = urlsplit(base)
    assert parts.hostname and parts.port
    return parts.hostname, parts.port


def _exchange(base: str, *pieces: bytes, pause: float = 0.0, timeout: float = 10) -> bytes:
    """Send `pieces` (with `pause` seconds between them) on one connection and read until
    the server closes it or `timeout` passes."""
    with socket.create_connection(_address(base), timeout=timeout) as sock:
        for i, piece in enumerate(pieces):
            if i and pause:
                time.sleep(pause)
            sock.sendall(piece)
        received = b""
        with contextlib.suppress(TimeoutError, ConnectionResetError):
            while chunk := sock.recv(65536):
                received += chunk
        return received


def _json_body(response: bytes) -> dict:
    head, _, body = response.partition(b"\r\n\r\n")
    assert b"content-type: application/json" in head.lower(), head
    return json.loads(body)


def test_200_slow_clients_held_for_60_s_cost_healthz_nothing_and_each_is_closed_by_its_deadline(
    own_web,
):
    limits = ReadLimits.from_env()
    report = hold(own_web, sockets=200, seconds=60)
    summary = report.summary()
    # /healthz never stalled: every check answered 200 (a stall is a 10 s time-out here,
    # 40 s before this worker), and none took seconds.
    assert not report.health_failures, summary
    assert len(report.health_seconds) >= 150, summary
    assert max(report.health_seconds) < 2.0, summary
    # Every slow socket was closed by the server with a 408 once its deadline passed: half
    # a header block after WEB_HEADER_TIMEOUT, half a body WEB_BODY_TIMEOUT after its
    # headers; none lived longer, and the attack kept 200 open all along.
    heads, bodies = report.lifetimes("head"), report.lifetimes("body")
    assert len(heads) >= 500 and len(bodies) >= 200, summary
    assert max(heads) <= limits.header_timeout + CLOSE_SLACK, summary
    assert min(heads) >= limits.header_timeout - 0.5, summary
    assert max(bodies) <= limits.body_timeout + CLOSE_SLACK, summary
    assert {c.status_line for c in report.closed} == {b"HTTP/1.1 408 Request Timeout"}, summary
    assert len(report.still_open) == 200, summary
    assert max(age for _, age in report.still_open) <= limits.body_timeout + CLOSE_SLACK


def test_a_body_sent_slowly_but_within_the_deadline_reaches_the_application(transactional_db, web):
    body = json.dumps({"username": "", "password": ""}).encode()
    head = (
        b"POST /api/token/ HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        b"Connection: close\r\nContent-Length: " + str(len(body)).encode() + b"\r\n\r\n"
    )
    pieces = [head[:20], head[20:], *(body[i : i + 8] for i in range(0, len(body), 8))]
    response = _exchange(web, *pieces, pause=0.3)
    assert response.startswith(b"HTTP/1.1 400 "), response[:200]
    assert "username" in json.dumps(_json_body(response))


def test_pipelined_requests_on_one_connection_are_each_answered(transactional_db, web):
    request = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
    last = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    response = _exchange(web, request + request + last)
    assert response.count(b"HTTP/1.1 200 OK") == 3, response[:300]


def test_expect_100_continue_is_answered_before_the_body_is_sent(transactional_db, web):
    with socket.create_connection(_address(web), timeout=5) as sock:
        sock.sendall(
            b"POST /api/token/ HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            b"Expect: 100-continue\r\nContent-Length: 2\r\nConnection: close\r\n\r\n"
        )
        assert sock.recv(100).startswith(b"HTTP/1.1 100 Continue\r\n\r\n")
        sock.sendall(b"{}")
        rest = b""
        while chunk := sock.recv(65536):
            rest += chunk
    assert b"HTTP/1.1 400 " in rest


def test_a_chunked_body_is_refused_with_411_saying_to_send_a_content_length(transactional_db, web):
    response = _exchange(
        web,
        b"POST /api/submit/ HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n",
    )
    assert response.startswith(b"HTTP/1.1 411 Length Required"), response[:200]
    assert "Content-Length" in _json_body(response)["detail"]


def test_a_body_over_the_limit_is_refused_with_413_before_it_is_sent(transactional_db, web):
    # Only the headers go out: the answer must not wait for a byte of the body.
    response = _exchange(
        web,
        b"POST /api/submit/ HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 99999999999\r\n\r\n",
        timeout=5,
    )
    assert response.startswith(b"HTTP/1.1 413 "), response[:200]
    assert "REQUEST_MAX_BYTES" in _json_body(response)["detail"]


@pytest.mark.parametrize(
    "request_bytes, status",
    [
        (b"NOT A REQUEST LINE\r\n\r\n", b"400"),
        (b"GET /" + b"a" * 5000 + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", b"414"),
        (
            b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: " + b"a" * 40000 + b"\r\n\r\n",
            b"431",
        ),
        (
            b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: " + b"a" * 9000 + b"\r\n\r\n",
            b"431",
        ),
    ],
    ids=["bad-request-line", "uri-too-long", "header-block-too-large", "header-field-too-large"],
)
def test_errors_the_web_tier_writes_itself_are_json(transactional_db, web, request_bytes, status):
    response = _exchange(web, request_bytes)
    assert response.startswith(b"HTTP/1.1 " + status + b" "), response[:200]
    assert _json_body(response)["detail"]


@pytest.fixture
def small_buffer_web(transactional_db, service_env, logs_dir) -> Iterator[str]:
    """One gunicorn worker that holds at most 1 MiB of requests still being read."""
    env = {k: v for k, v in service_env.items() if not k.startswith("WEB_")}
    env.update(WEB_CONCURRENCY="1", WEB_READ_BUFFER_MB="1")
    proc, base = start_web(env, logs_dir / "web-small-buffer.log")
    try:
        yield base
    finally:
        stop_process(proc)


def test_requests_past_the_read_buffer_are_refused_with_503_and_the_rest_are_served(
    small_buffer_web,
):
    size = 500_000
    head = (
        b"POST /api/validate/ HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        b"Connection: close\r\nContent-Length: " + str(size).encode() + b"\r\n\r\n"
    )
    socks = [socket.create_connection(_address(small_buffer_web), timeout=10) for _ in range(3)]
    try:
        # 3 x 400 kB held at once is over the 1 MiB this worker may hold.
        for sock in socks:
            sock.sendall(head + b" " * 400_000)
            time.sleep(0.2)
        answers: list[bytes] = []
        for sock in socks:
            with contextlib.suppress(OSError):
                sock.sendall(b" " * (size - 400_000))
            received = b""
            with contextlib.suppress(TimeoutError, ConnectionResetError):
                while chunk := sock.recv(65536):
                    received += chunk
            answers.append(received)
    finally:
        for sock in socks:
            sock.close()
    refused = [a for a in answers if a.startswith(b"HTTP/1.1 503 ")]
    served = [a for a in answers if a.startswith(b"HTTP/1.1 401 ")]
    assert len(refused) == 1 and len(served) == 2, [a[:80] for a in answers]
    assert b"\r\nRetry-After: 5\r\n" in refused[0]
    assert _json_body(refused[0])["detail"]
    # Nothing is held any more: a request of the same size is served again.
    response = _exchange(small_buffer_web, head + b" " * size)
    assert response.startswith(b"HTTP/1.1 401 "), response[:80]
