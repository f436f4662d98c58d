"""Limits and hostile input: every refusal is a 4xx with a JSON body, nothing is written,
nothing that is stored fails to be read back, and every 429 says when to retry."""

from __future__ import annotations

import json
import uuid

import pytest
from django.test import override_settings

from simulator.models import JobStatus, SimulationJob

SUBMITS = ["/api/submit/", "/api/jobs/"]


def _post_raw(client, url: str, text: str, **headers):
    return client.post(url, text, content_type="application/json", **headers)


def _config_text(master_config, **replace: str) -> str:
    """master_config as JSON text with some values written raw (as a client could)."""
    text = json.dumps({**master_config, **{k: f"@{k}@" for k in replace}})
    for key, raw in replace.items():
        text = text.replace(f'"@{key}@"', raw)
    return text


class TestBodySize:
    @override_settings(REQUEST_MAX_BYTES=10_000)
    @pytest.mark.parametrize("url", [*SUBMITS, "/api/profiles/", "/api/token/"])
    def test_an_oversized_body_is_a_413_in_json_and_nothing_is_written(
        self, alice_client, master_config, url
    ):
        body = json.dumps({**master_config, "description": "x" * 20_000})
        response = _post_raw(alice_client, url, body)
        assert response.status_code == 413
        assert response["Content-Type"] == "application/json"
        assert "REQUEST_MAX_BYTES" in response.json()["detail"]
        assert not SimulationJob.objects.exists()

    def test_a_bad_content_length_is_a_400_in_json(self, alice_client):
        response = alice_client.post(
            "/api/submit/", "{}", content_type="application/json", CONTENT_LENGTH="lots"
        )
        assert response.status_code == 400
        assert response.json()["detail"]

    @pytest.mark.parametrize("url", [*SUBMITS, "/api/token/"])
    def test_a_chunked_body_is_a_411_and_nothing_is_written(self, alice_client, master_config, url):
        # Django reads a body only up to its Content-Length, so a chunked one would be read
        # as empty; gunicorn's worker answers 411 before the app (tests/integration/
        # test_web_tier.py), this is the same answer under any other server.
        response = alice_client.post(
            url,
            json.dumps(master_config),
            content_type="application/json",
            HTTP_TRANSFER_ENCODING="chunked",
        )
        assert response.status_code == 411
        assert "Content-Length" in response.json()["detail"]
        assert not SimulationJob.objects.exists()


class TestHostileConfigs:
    """The inputs that were 500s, each now a 400 naming where it is."""

    @pytest.mark.parametrize("url", SUBMITS)
    @pytest.mark.parametrize(
        ("field", "raw"),
        [
            ("num_rounds", "1" + "0" * 300),
            ("seed", "-1" + "0" * 300),
            ("num_rounds", "1e309"),
            ("description", "1e309"),
            ("description", '"' + "x" * 2001 + '"'),
            ("name", '"' + "x" * 101 + '"'),
            ("notes", '"a\\u0000b"'),
            ("name", '"\\ud800"'),
            ("players", '[{"name": "a\\u0000b"}]'),
            ("players", '[{"name": "\\ud800"}]'),
            ("casino", '{"deck_count": ' + "9" * 400 + "}"),
            ("casino", '{"double_down_restrictions": ["' + "1" * 5000 + '"]}'),
            ("players", '[{"bankroll": ' + "1" * 500 + "}]"),
        ],
    )
    def test_it_is_a_400_naming_the_field(self, alice_client, master_config, url, field, raw):
        response = _post_raw(alice_client, url, _config_text(master_config, **{field: raw}))
        assert response.status_code == 400, response.content[:300]
        paths = [e["path"] for e in response.json()["errors"]]
        assert any(p.startswith(field) for p in paths), paths
        assert not SimulationJob.objects.exists()

    @pytest.mark.parametrize("url", SUBMITS)
    @pytest.mark.parametrize("depth", [40, 10_000])
    def test_deep_nesting_is_a_400(self, alice_client, master_config, url, depth):
        deep = "[" * depth + "]" * depth
        response = _post_raw(alice_client, url, _config_text(master_config, notes=deep))
        assert response.status_code == 400
        assert response.json()["detail"]
        assert not SimulationJob.objects.exists()

    @pytest.mark.parametrize("url", SUBMITS)
    def test_a_5000_digit_integer_is_a_400(self, alice_client, master_config, url):
        response = _post_raw(alice_client, url, _config_text(master_config, seed="9" * 5000))
        assert response.status_code == 400

    @pytest.mark.parametrize("url", SUBMITS)
    @pytest.mark.parametrize("text", ["not json", "[1, 2]", "null", '"config"', "NaN", "{"])
    def test_a_body_that_is_not_a_config_is_a_400(self, alice_client, url, text):
        response = _post_raw(alice_client, url, text)
        assert response.status_code == 400
        body = response.json()
        # The API's one 400 shape (the schema's Invalid), JSON or not.
        assert body["detail"] and body["errors"]
        assert all(problem["path"] and problem["reason"] for problem in body["errors"])

    def test_validate_answers_the_same_400(self, alice_client, master_config):
        text = _config_text(master_config, num_rounds="1" + "0" * 300)
        response = _post_raw(alice_client, "/api/validate/", text)
        assert response.status_code == 400
        assert response.json()["errors"][0]["path"] == "num_rounds"

    def test_a_bounded_description_and_name_are_stored(self, alice_client, master_config):
        config = {**master_config, "name": "n" * 100, "description": "d" * 2000}
        response = alice_client.post("/api/jobs/", config, format="json")
        assert response.status_code == 201, response.json()


class TestOldRowsAreServed:
    """Rows stored before the checks (SQLite keeps a lone surrogate that PostgreSQL's
    jsonb refuses) never make a read a 500."""

    @pytest.fixture
    def poisoned(self, alice, monkeypatch):
        from simulator import selectors

        job = SimulationJob(
            owner=alice,
            status=JobStatus.COMPLETE,
            request_data={"players": [{"name": "\ud800"}], "x": float("inf")},
            result_data={"players": [{"name": "\ud800", "edge": 0.1}]},
            error="player \ud800",
            rounds_total=1,
        )
        monkeypatch.setattr(selectors, "job_for", lambda user, job_id: job)
        # GET /api/status/ reads the token's user and the job in one query of its own.
        monkeypatch.setattr(selectors, "token_user_and_job", lambda key, job_id: (alice, job))
        return job

    @pytest.mark.parametrize("url", ["/api/status/{}/", "/api/results/{}/", "/api/jobs/{}/"])
    def test_a_lone_surrogate_is_served_replaced(self, alice_client, poisoned, url):
        response = alice_client.get(url.format(poisoned.id))
        assert response.status_code == 200
        assert "\ud800" not in response.content.decode()


class TestQuota:
    @override_settings(JOB_MAX_ACTIVE_PER_USER=2)
    @pytest.mark.parametrize("url", SUBMITS)
    def test_over_the_active_job_quota_is_a_429_naming_it(self, alice_client, master_config, url):
        for _ in range(2):
            assert alice_client.post(url, master_config, format="json").status_code in (201, 202)
        response = alice_client.post(url, master_config, format="json")
        assert response.status_code == 429
        assert "JOB_MAX_ACTIVE_PER_USER" in response.json()["detail"]
        assert int(response["Retry-After"]) > 0
        assert SimulationJob.objects.count() == 2

    @override_settings(JOB_MAX_ACTIVE_PER_USER=1)
    def test_finished_jobs_and_other_users_do_not_count(
        self, alice_client, bob_client, master_config
    ):
        assert alice_client.post("/api/submit/", master_config, format="json").status_code == 202
        SimulationJob.objects.update(status=JobStatus.COMPLETE)
        assert alice_client.post("/api/submit/", master_config, format="json").status_code == 202
        assert bob_client.post("/api/submit/", master_config, format="json").status_code == 202

    @override_settings(JOB_MAX_ROUNDS=1000)
    def test_over_the_rounds_limit_is_a_400_naming_it(self, alice_client, master_config):
        config = {**master_config, "num_rounds": 1001}
        response = alice_client.post("/api/submit/", config, format="json")
        assert response.status_code == 400
        error = response.json()["errors"][0]
        assert error["path"] == "num_rounds" and "JOB_MAX_ROUNDS" in error["reason"]


@pytest.fixture
def throttle_rates():
    """Set throttle rates for one test. DRF reads its rates once, at class definition."""
    from rest_framework.throttling import SimpleRateThrottle

    original = SimpleRateThrottle.THROTTLE_RATES

    def apply(**rates: str | None) -> None:
        SimpleRateThrottle.THROTTLE_RATES = {**original, **rates}

    yield apply
    SimpleRateThrottle.THROTTLE_RATES = original


class TestThrottles:
    @pytest.mark.parametrize("url", SUBMITS)
    def test_a_flood_of_submits_is_a_429_with_retry_after(
        self, alice_client, bob_client, master_config, throttle_rates, url
    ):
        throttle_rates(submit="3/minute")
        codes = [alice_client.post(url, master_config, format="json").status_code for _ in range(3)]
        assert codes == [codes[0]] * 3 and codes[0] in (201, 202)
        response = alice_client.post(url, master_config, format="json")  # the fourth
        assert response.status_code == 429
        assert 0 < int(response["Retry-After"]) <= 60
        assert response.json()["detail"]
        # Counted per user: bob is not slowed by alice.
        assert bob_client.post(url, master_config, format="json").status_code in (201, 202)

    def test_a_flood_of_reads_is_a_429_with_retry_after(self, alice_client, throttle_rates):
        throttle_rates(read="5/minute")
        codes = [alice_client.get("/api/jobs/").status_code for _ in range(5)]
        assert codes == [200] * 5
        refused = alice_client.get("/api/jobs/")
        assert refused.status_code == 429
        assert 1 <= int(refused["Retry-After"]) <= 60
        assert refused.json()["detail"]

    def test_a_password_no_hash_can_read_is_a_400_not_a_500(self, anon_client, alice):
        body = '{"username": "alice", "password": "\\ud800"}'
        response = _post_raw(anon_client, "/api/token/", body)
        assert response.status_code == 400


class TestJsonErrors:
    @pytest.mark.parametrize(
        "url", ["/api/nothing-here/", "/api/status/not-a-uuid/", "/api/profiles/x/"]
    )
    def test_an_unknown_api_path_is_json(self, alice_client, url):
        response = alice_client.get(url)
        assert response.status_code == 404
        assert response["Content-Type"] == "application/json"
        assert response.json() == {"detail": "Not found."}

    def test_an_unknown_job_is_json(self, alice_client):
        response = alice_client.get(f"/api/status/{uuid.uuid4()}/")
        assert response.status_code == 404 and response.json()["detail"]


@pytest.mark.processes
class TestSharedCache:
    """With a Redis broker, throttles count in Redis: every web process sees one count."""

    def test_the_cache_is_redis_at_the_broker_url(self):
        import os
        import subprocess
        import sys

        from tests.integration.processes import REPO

        env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "CACHE_"))}
        env.update(
            DJANGO_SETTINGS_MODULE="service.settings",
            SECRET_KEY="x" * 60,
            CELERY_BROKER_URL="redis://127.0.0.1:6379/13",
        )
        code = (
            "import django; django.setup(); from django.core.cache import caches; "
            "cache = caches['default']; "
            "key = 'jost-test-shared-cache'; cache.set(key, 1, 10); "
            "import redis; r = redis.Redis.from_url('redis://127.0.0.1:6379/13'); "
            "print(cache.__class__.__name__, any(k.endswith(key.encode()) for k in r.keys('*'))); "
            "cache.delete(key)"
        )
        done = subprocess.run(
            [sys.executable, "-c", code], env=env, cwd=REPO, capture_output=True, text=True
        )
        if "Connection refused" in done.stderr:
            pytest.skip("no Redis on 127.0.0.1:6379")
        assert done.returncode == 0, done.stderr
        assert done.stdout.split() == ["RedisCache", "True"]


class TestCacheDown:
    def test_a_cache_that_does_not_answer_lets_requests_through(
        self, alice_client, anon_client, master_config, monkeypatch
    ):
        from django.core.cache.backends.redis import RedisCache
        from rest_framework.throttling import SimpleRateThrottle

        from simulator import password_guard

        # A port where nothing listens: every throttle's read and write fails.
        dead = RedisCache(
            "redis://127.0.0.1:1/0",
            {"OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2}},
        )
        monkeypatch.setattr(SimpleRateThrottle, "cache", dead)
        monkeypatch.setattr(password_guard, "cache", dead)
        submit = alice_client.post("/api/submit/", master_config, format="json")
        assert submit.status_code == 202
        assert alice_client.get("/api/jobs/").status_code == 200
        wrong = {"username": "alice", "password": "guess"}
        assert anon_client.post("/api/token/", wrong, format="json").status_code == 400
        right = {"username": "alice", "password": "alice-password-123"}
        assert anon_client.post("/api/token/", right, format="json").status_code == 200


@pytest.fixture
def redis_cache():
    """A RedisCache on a database of its own of the Redis on 127.0.0.1:6379, emptied."""
    import redis
    from django.core.cache.backends.redis import RedisCache

    url = "redis://127.0.0.1:6379/14"
    try:
        redis.Redis.from_url(url, socket_connect_timeout=1).flushdb()
    except redis.exceptions.ConnectionError:
        pytest.skip("no Redis on 127.0.0.1:6379")
    yield RedisCache(url, {"KEY_PREFIX": "jost-test"})
    redis.Redis.from_url(url).flushdb()


class TestWindowThrottle:
    def test_count_hit_counts_in_redis_with_a_lifetime(self, redis_cache):
        import redis

        from simulator.api.throttles import count_hit

        assert [count_hit(redis_cache, "k", 30) for _ in range(3)] == [1, 2, 3]
        raw = redis.Redis.from_url("redis://127.0.0.1:6379/14")
        (key,) = raw.keys("*k")
        assert int(raw.get(key)) == 3
        assert 0 < raw.ttl(key) <= 30
        assert redis_cache.get("k") == 3  # the cache's own key, readable through it

    def test_count_hit_reuses_its_pooled_connection(self, redis_cache):
        import redis
        from django.core.cache.backends.redis import RedisCache

        from simulator.api.throttles import count_hit

        # A cache whose connections carry a name of their own, so that other tests'
        # connections (open, or closing as they are collected) do not count.
        url = "redis://127.0.0.1:6379/14"
        cache = RedisCache(url, {"KEY_PREFIX": "jost-test", "OPTIONS": {"client_name": "reuse"}})
        raw = redis.Redis.from_url(url)

        def connections() -> int:
            return sum(1 for client in raw.client_list() if client["name"] == "reuse")

        assert [count_hit(cache, "k", 30) for _ in range(50)][-1] == 50
        assert connections() == 1

    def test_a_connection_that_failed_mid_count_is_not_reused(self, redis_cache, monkeypatch):
        import redis

        from simulator.api import throttles

        count = throttles.count_hit(redis_cache, "k", 30)
        pool = throttles._redis_pool(redis_cache)
        (connection,) = pool._available_connections  # the one connection, back in the pool
        calls = []

        def fail_after_the_first_reply(self, *args, **kwargs):
            calls.append(1)
            if len(calls) == 2:  # the SET's reply read, the INCR's left in the socket
                raise redis.exceptions.TimeoutError("Timeout reading from socket")
            return original(self, *args, **kwargs)

        original = type(connection).read_response
        monkeypatch.setattr(type(connection), "read_response", fail_after_the_first_reply)
        with pytest.raises(redis.exceptions.TimeoutError):
            throttles.count_hit(redis_cache, "k", 30)
        monkeypatch.undo()
        # Had the connection gone back as it was, the next count would read the stale
        # INCR reply (2) as its SET's and return 2 for a counter that stands at 3.
        assert throttles.count_hit(redis_cache, "k", 30) == count + 2

    def test_count_hit_counts_in_any_other_cache(self):
        from django.core.cache.backends.locmem import LocMemCache

        from simulator.api.throttles import count_hit

        cache = LocMemCache("throttle-test", {})
        assert [count_hit(cache, "k", 30) for _ in range(3)] == [1, 2, 3]

    def test_a_flood_of_reads_counted_in_redis_is_a_429_with_retry_after(
        self, alice_client, redis_cache, throttle_rates
    ):
        from rest_framework.throttling import SimpleRateThrottle

        throttle_rates(read="5/minute")
        original = SimpleRateThrottle.cache
        SimpleRateThrottle.cache = redis_cache
        try:
            codes = [alice_client.get("/api/jobs/").status_code for _ in range(5)]
            refused = alice_client.get("/api/jobs/")
        finally:
            SimpleRateThrottle.cache = original
        assert codes == [200] * 5
        assert refused.status_code == 429
        assert 1 <= int(refused["Retry-After"]) <= 60
