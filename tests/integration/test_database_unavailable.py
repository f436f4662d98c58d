"""The web tier when PostgreSQL is not there: a database that refuses connections is a 503
with Retry-After (JSON under /api/, a plain page elsewhere), never a 500; a kept
connection the server dropped costs no request (health checks, on by default).

Gunicorn from the Procfile's `web` line; the outage of a database during a job is in
test_crash_recovery.py."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from tests.integration.helpers import http, live_database_url, start_web
from tests.integration.processes import stop_process

WEB_APP = "jost-web-under-test"


def get(url: str, token: str | None = None, cookie: str | None = None) -> tuple[int, str, Any]:
    """Status, body text and headers of a GET, whatever the status."""
    request = urllib.request.Request(url, headers={"Accept": "application/json"})
    if token:
        request.add_header("Authorization", f"Token {token}")
    if cookie:
        request.add_header("Cookie", cookie)
    try:
        with urllib.request.urlopen(request, timeout=15) as response:
            return response.status, response.read().decode(), response.headers
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode(errors="replace"), error.headers


def web_keeping_connections(service_env, logs_dir, name: str, **extra: str) -> Iterator[str]:
    """Gunicorn with the shipped connection settings (CONN_MAX_AGE 60, health checks on),
    one process, its database connections named for pg_terminate_backend."""
    env = {k: v for k, v in service_env.items() if not k.startswith("CONN_")}
    env.update(extra)
    env["DATABASE_URL"] = live_database_url() + f"?application_name={WEB_APP}"
    proc, base = start_web(env, logs_dir / f"{name}.log")
    try:
        yield base
    finally:
        stop_process(proc)


@pytest.fixture
def web_with_health_checks(service_env, logs_dir) -> Iterator[str]:
    yield from web_keeping_connections(service_env, logs_dir, "web-health-checks")


@pytest.fixture
def web_without_health_checks(service_env, logs_dir) -> Iterator[str]:
    yield from web_keeping_connections(
        service_env, logs_dir, "web-no-health-checks", CONN_HEALTH_CHECKS="false"
    )


def terminate_web_connections() -> int:
    """Terminate the web process's connections, and return once the server has ended them
    (as after a restart or a failover, before the next request comes)."""
    with psycopg.connect(live_database_url(), autocommit=True) as conn:
        row = conn.execute(
            "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid, 5000)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND application_name = %s",
            [WEB_APP],
        ).fetchone()
    return row[0] if row else 0


class TestDatabaseRefusing:
    def test_an_api_call_is_a_json_503_with_retry_after(self, web_with_database_down):
        status, body, headers = get(f"{web_with_database_down}/api/jobs/", token="0" * 40)
        assert status == 503, body
        assert headers["Content-Type"] == "application/json"
        assert int(headers["Retry-After"]) > 0
        assert "database" in json.loads(body)["detail"]

    def test_a_token_request_is_a_503_too(self, web_with_database_down):
        status, body = http(
            "POST",
            f"{web_with_database_down}/api/token/",
            {"username": "alice", "password": "anything-at-all"},
        )
        assert status == 503, body

    def test_a_dashboard_page_is_a_plain_503_with_retry_after(self, web_with_database_down):
        # A session cookie makes the page read the database.
        session = "sessionid=" + "a" * 32
        status, body, headers = get(f"{web_with_database_down}/dashboard/", cookie=session)
        assert status == 503, body
        assert headers["Content-Type"].startswith("text/html")
        assert int(headers["Retry-After"]) > 0
        assert "database" in body


class TestConnectionDropped:
    def test_a_kept_connection_the_server_dropped_costs_no_request(
        self, web_with_health_checks, alice_token
    ):
        for _ in range(20):  # connections kept by several of gunicorn's threads
            assert get(f"{web_with_health_checks}/api/jobs/", alice_token)[0] == 200
        assert terminate_web_connections() >= 1
        statuses = [get(f"{web_with_health_checks}/api/jobs/", alice_token)[0] for _ in range(20)]
        assert statuses == [200] * 20

    def test_without_health_checks_it_costs_a_503_not_a_500(
        self, web_without_health_checks, alice_token
    ):
        # What the health checks buy: without them the first request on a dropped
        # connection fails, and says so as the service being briefly unavailable.
        assert get(f"{web_without_health_checks}/api/jobs/", alice_token)[0] == 200
        assert terminate_web_connections() >= 1
        statuses = [
            get(f"{web_without_health_checks}/api/jobs/", alice_token)[0] for _ in range(20)
        ]
        assert 503 in statuses and 500 not in statuses, statuses
        assert statuses[-1] == 200
