"""The client's retry rules and its error and config-file handling, in this process alone:
a local HTTP server that answers as told, no service."""

from __future__ import annotations

import json
import os
import stat
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from jost_client import ApiError, JostClient, RateLimited, RetryPolicy, TransportError
from jost_client import settings as jost_settings
from jost_client.transport import parse_retry_after


class Script:
    """The answers the server gives, in order, and the requests it saw."""

    def __init__(self) -> None:
        self.answers: list[tuple[int, dict[str, str], Any]] = []
        self.seen: list[tuple[str, str, dict[str, str]]] = []


@pytest.fixture
def server() -> Iterator[tuple[str, Script]]:
    script = Script()

    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            self.rfile.read(length)
            script.seen.append((self.command, self.path, dict(self.headers)))
            code, headers, body = script.answers.pop(0) if script.answers else (200, {}, {})
            payload = json.dumps(body).encode()
            self.send_response(code)
            for name, value in {"Content-Type": "application/json", **headers}.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _answer

        def log_message(self, *args: Any) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", script
    finally:
        httpd.shutdown()
        httpd.server_close()


def _client(url: str, waits: list[float], attempts: int = 5) -> JostClient:
    client = JostClient(url, "tok", retry=RetryPolicy(max_attempts=attempts, backoff=0.01))
    client.transport.sleep = waits.append
    return client


ACCEPTED = {"message": "Simulation job accepted.", "job_id": "5f0c6a2e-0000-4000-8000-000000000001"}


def test_503_and_429_are_retried_waiting_at_least_retry_after(server):
    url, script = server
    script.answers = [
        (503, {"Retry-After": "2"}, {"detail": "down"}),
        (429, {"Retry-After": "7"}, {"detail": "slow"}),
        (202, {}, ACCEPTED),
    ]
    waits: list[float] = []
    accepted = _client(url, waits).jobs.submit({"num_rounds": 1})
    assert accepted.job_id == ACCEPTED["job_id"]
    assert waits[0] >= 2 and waits[1] >= 7 and len(waits) == 2
    keys = {headers["Idempotency-Key"] for _, _, headers in script.seen}
    assert len(script.seen) == 3 and len(keys) == 1, "every retry carries the same key"


def test_each_submit_has_its_own_idempotency_key(server):
    url, script = server
    script.answers = [(202, {}, ACCEPTED), (202, {}, ACCEPTED)]
    client = _client(url, [])
    client.jobs.submit({})
    client.jobs.submit({})
    assert len({headers["Idempotency-Key"] for _, _, headers in script.seen}) == 2


def test_retries_stop_after_max_attempts_with_the_last_error(server):
    url, script = server
    script.answers = [(429, {"Retry-After": "1"}, {"detail": "Request was throttled."})] * 3
    waits: list[float] = []
    with pytest.raises(RateLimited) as raised:
        _client(url, waits, attempts=3).engine()
    assert raised.value.status == 429 and raised.value.retry_after == 1
    assert len(waits) == 2 and len(script.seen) == 3


def test_a_retry_after_longer_than_max_wait_is_not_waited(server):
    url, script = server
    script.answers = [(429, {"Retry-After": "3600"}, {"detail": "quota"})]
    waits: list[float] = []
    with pytest.raises(RateLimited):
        _client(url, waits).engine()
    assert waits == []


def test_a_400_is_not_retried_and_carries_every_path_and_reason(server):
    url, script = server
    errors = [
        {"path": "num_rounds", "reason": "must be a whole number"},
        {"path": "players[0].profile", "reason": "unknown"},
    ]
    script.answers = [(400, {}, {"detail": "The simulation config is invalid.", "errors": errors})]
    with pytest.raises(ApiError) as raised:
        _client(url, []).validate({})
    assert len(script.seen) == 1 and raised.value.status == 400
    assert [(p.path, p.reason) for p in raised.value.errors] == [
        (e["path"], e["reason"]) for e in errors
    ]
    assert str(raised.value) == (
        "400: The simulation config is invalid.\n"
        "  num_rounds: must be a whole number\n"
        "  players[0].profile: unknown"
    )


def test_502_503_and_504_on_a_read_are_retried_with_jittered_backoff(server):
    url, script = server
    script.answers = [
        (502, {}, {"detail": "bad gateway"}),
        (504, {}, {"detail": "gateway timeout"}),
        (503, {}, {"detail": "unavailable"}),
        (200, {}, {"engine": "jost_engine"}),
    ]
    waits: list[float] = []
    client = JostClient(url, "tok", retry=RetryPolicy(max_attempts=5, backoff=0.5))
    client.transport.sleep = waits.append
    client.engine()
    assert len(script.seen) == 4 and len(waits) == 3
    # Full jitter: each wait is somewhere up to its exponential bound (0.5, 1, 2 s).
    assert all(0 <= wait <= 0.5 * 2**attempt for attempt, wait in enumerate(waits)), waits


def test_a_502_on_a_call_not_safe_to_repeat_is_not_repeated(server):
    url, script = server
    script.answers = [(502, {}, {"detail": "bad gateway"})]
    with pytest.raises(ApiError):
        _client(url, []).profiles.create("casino", "x", {})
    assert len(script.seen) == 1


def test_a_refused_connection_is_retried_then_raised():
    waits: list[float] = []
    client = _client("http://127.0.0.1:1", waits, attempts=3)
    with pytest.raises(TransportError):
        client.engine()
    assert len(waits) == 2


@pytest.mark.parametrize(
    ("header", "seconds"), [("5", 5.0), ("0", 0.0), (None, None), ("soon", None)]
)
def test_retry_after_is_read_as_seconds(header, seconds):
    assert parse_retry_after(header) == seconds


def test_retry_after_as_an_http_date_is_the_time_until_it():
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0


def test_the_login_is_kept_under_xdg_config_home_with_mode_600(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    monkeypatch.delenv("JOST_URL", raising=False)
    monkeypatch.delenv("JOST_TOKEN", raising=False)
    path = jost_settings.save("http://x", "secret", "alice")
    assert path == tmp_path / "jost" / "config.json"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    login = jost_settings.load()
    assert (login.url, login.token, login.username) == ("http://x", "secret", "alice")
    monkeypatch.setenv("JOST_URL", "http://y")
    monkeypatch.setenv("JOST_TOKEN", "other")
    login = jost_settings.load()
    assert (login.url, login.token, login.source) == ("http://y", "other", "JOST_TOKEN")
