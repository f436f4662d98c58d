"""GET /healthz: 200 when the database and the broker answer, 503 naming what is down.

The broker is the Redis at CELERY_BROKER_URL (scripts/test.sh starts one on 6379).
"""

import time

import pytest


class TestHealthz:
    @pytest.mark.processes  # the Redis at CELERY_BROKER_URL
    def test_it_is_200_when_database_and_broker_answer(self, client, db):
        response = client.get("/healthz")
        assert response.status_code == 200, response.json()
        assert response.json() == {"status": "ok", "checks": {"database": "ok", "broker": "ok"}}

    @pytest.mark.processes
    def test_it_needs_no_token(self, anon_client, db):
        assert anon_client.get("/healthz").status_code == 200

    def test_a_dead_broker_gives_503_naming_the_broker_quickly(self, client, db, settings):
        settings.CELERY_BROKER_URL = "redis://:s3cret@127.0.0.1:1/0"
        settings.BROKER_CHECK_TIMEOUT = 1.0
        started = time.monotonic()
        response = client.get("/healthz")
        elapsed = time.monotonic() - started
        assert response.status_code == 503
        body = response.json()
        assert body["down"] == ["broker"]
        assert body["checks"]["database"] == "ok"
        assert body["checks"]["broker"].startswith("down (")
        assert "127.0.0.1" not in body["checks"]["broker"]
        assert "s3cret" not in response.content.decode()
        assert elapsed < 5, f"healthz took {elapsed:.1f}s with the broker down"

    def test_it_is_never_cached(self, client, db):
        assert "no-cache" in client.get("/healthz")["Cache-Control"]
