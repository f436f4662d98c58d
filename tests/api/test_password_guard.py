"""simulator/password_guard.py: every password check reserves its place before it is made,
so concurrent guesses against a limit of L check exactly L passwords, in this process's
memory and in the Redis every web process shares."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator

import pytest
from django.contrib.auth import authenticate
from django.test import RequestFactory

from simulator import password_guard
from simulator.password_guard import LoginRefused
from tests.conftest import LOGIN_CLOCK

GUESSES = 24
LIMIT = 10


@pytest.fixture
def redis_cache(settings) -> Iterator[object]:
    """A RedisCache on the broker's Redis under a key prefix of this test's own (nothing
    else's keys are read or removed), emptied afterwards."""
    import redis
    from django.core.cache.backends.redis import RedisCache

    url = settings.CELERY_BROKER_URL
    if not url.startswith("redis://"):
        url = "redis://127.0.0.1:6379/0"
    raw = redis.Redis.from_url(url, socket_connect_timeout=1)
    try:
        raw.ping()
    except redis.exceptions.ConnectionError:
        pytest.skip(f"no Redis at {url}")
    prefix = f"jost-test-guard-{uuid.uuid4().hex}"
    yield RedisCache(url, {"KEY_PREFIX": prefix})
    for key in raw.scan_iter(f"{prefix}:*"):
        raw.delete(key)


@pytest.fixture
def slow_checks(monkeypatch) -> list[str]:
    """Each password check made, recorded, taking 50 ms and failing: long enough that the
    concurrent guesses overlap, so only a reservation made before the check holds them."""
    from django.contrib.auth.backends import ModelBackend

    checked: list[str] = []

    def check(self, request, username=None, password=None, **kwargs):
        checked.append(username)
        time.sleep(0.05)
        return None

    monkeypatch.setattr(ModelBackend, "authenticate", check)
    return checked


def _guess_at_once(usernames: list[str], addresses: list[str]) -> list[str]:
    """One thread per guess, all released together; each says "checked" or "refused"."""
    barrier = threading.Barrier(len(usernames))
    outcomes: list[str] = []

    def guess(username: str, address: str) -> None:
        request = RequestFactory().post("/dashboard/login/", REMOTE_ADDR=address)
        barrier.wait()
        try:
            assert authenticate(request, username=username, password="guess") is None
            outcomes.append("checked")
        except LoginRefused as refused:
            assert refused.retry_after > 0
            outcomes.append("refused")

    threads = [
        threading.Thread(target=guess, args=pair) for pair in zip(usernames, addresses, strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return outcomes


@pytest.fixture(params=["local memory", pytest.param("redis", marks=pytest.mark.processes)])
def guard_cache(request, monkeypatch):
    """The guard counting in this process's memory (the tests' and a laptop's cache), then
    in Redis (production's)."""
    if request.param == "redis":
        monkeypatch.setattr(password_guard, "cache", request.getfixturevalue("redis_cache"))
    return request.param


class TestConcurrentGuesses:
    def test_24_guesses_from_one_address_check_exactly_the_limit(
        self, guard_cache, login_limits, slow_checks
    ):
        login_limits(address=f"{LIMIT}/hour")
        outcomes = _guess_at_once([f"user{i}" for i in range(GUESSES)], ["10.0.0.1"] * GUESSES)
        assert len(slow_checks) == LIMIT
        assert sorted(outcomes) == ["checked"] * LIMIT + ["refused"] * (GUESSES - LIMIT)

    def test_24_guesses_at_one_username_check_exactly_the_limit(
        self, guard_cache, login_limits, slow_checks
    ):
        login_limits(username=f"{LIMIT}/hour")
        outcomes = _guess_at_once(["alice"] * GUESSES, [f"10.0.1.{i}" for i in range(GUESSES)])
        assert slow_checks == ["alice"] * LIMIT
        assert outcomes.count("refused") == GUESSES - LIMIT


class TestWindows:
    def test_the_next_window_counts_afresh(self, login_limits, monkeypatch):
        login_limits(address="2/minute")
        request = RequestFactory().post("/api/token/")
        monkeypatch.setattr(password_guard, "timer", lambda: LOGIN_CLOCK)
        password_guard.reserve(request, "alice")
        password_guard.reserve(request, "alice")
        with pytest.raises(LoginRefused) as refused:
            password_guard.reserve(request, "alice")
        assert refused.value.retry_after == 15
        monkeypatch.setattr(password_guard, "timer", lambda: LOGIN_CLOCK + 15)
        assert password_guard.reserve(request, "alice")  # a place in the next minute

    def test_a_refused_attempt_takes_no_place(self, login_limits):
        # The address is refused first, so a locked-out address adds nothing to a
        # username's count; and what was taken before a refusal is given back.
        login_limits(address="1/hour", username="2/hour")
        first = RequestFactory().post("/api/token/", REMOTE_ADDR="10.0.0.1")
        password_guard.reserve(first, "alice")
        for _ in range(5):
            with pytest.raises(LoginRefused) as refused:
                password_guard.reserve(first, "alice")
            assert refused.value.limit == "address"
        other = RequestFactory().post("/api/token/", REMOTE_ADDR="10.0.0.2")
        password_guard.reserve(other, "alice")  # alice's second place, not her seventh
        third = RequestFactory().post("/api/token/", REMOTE_ADDR="10.0.0.3")
        with pytest.raises(LoginRefused) as refused:
            password_guard.reserve(third, "alice")
        assert refused.value.limit == "username"
        # The address's place taken before alice's refusal was given back: its one place
        # an hour is still free for another username.
        password_guard.reserve(third, "bob")

    def test_a_limit_set_to_none_is_off(self, login_limits, password_checks, alice):
        login_limits(address=None, username=None)
        request = RequestFactory().post("/api/token/")
        for _ in range(30):
            assert authenticate(request, username="alice", password="guess") is None
        assert len(password_checks) == 30

    def test_a_check_without_a_request_counts_by_username(self, login_limits, alice):
        # A script's authenticate() has no client address; its username is still counted,
        # and its success is the login itself.
        login_limits(address="1/hour", username="2/hour")
        for _ in range(3):
            assert authenticate(username="alice", password="alice-password-123") == alice
        assert authenticate(username="alice", password="guess") is None
        assert authenticate(username="alice", password="guess") is None
        with pytest.raises(LoginRefused):
            authenticate(username="alice", password="alice-password-123")

    def test_the_async_path_is_guarded_too(self, login_limits):
        import asyncio

        from django.contrib.auth import aauthenticate

        # ModelBackend's own aauthenticate would check the password past the guard.
        login_limits(address="0/minute")
        request = RequestFactory().post("/api/token/")
        raised: list[BaseException] = []

        def run() -> None:
            # A thread of its own: the browser tests' Playwright may hold this thread's
            # event loop.
            try:
                asyncio.run(aauthenticate(request, username="alice", password="guess"))
            except BaseException as exc:
                raised.append(exc)

        thread = threading.Thread(target=run)
        thread.start()
        thread.join(timeout=30)
        assert len(raised) == 1 and isinstance(raised[0], LoginRefused), raised


class TestCountHit:
    def test_a_place_is_given_back_in_redis(self, redis_cache):
        from simulator.api.throttles import count_hit

        assert [count_hit(redis_cache, "k", 30) for _ in range(3)] == [1, 2, 3]
        assert count_hit(redis_cache, "k", 30, by=-1) == 2
        assert redis_cache.get("k") == 2

    def test_a_place_is_given_back_in_local_memory(self):
        from django.core.cache.backends.locmem import LocMemCache

        from simulator.api.throttles import count_hit

        cache = LocMemCache("guard-test", {})
        assert [count_hit(cache, "k", 30) for _ in range(3)] == [1, 2, 3]
        assert count_hit(cache, "k", 30, by=-1) == 2


def _views(patterns, prefix: str = ""):
    from django.urls import URLResolver

    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _views(pattern.url_patterns, prefix + str(pattern.pattern))
        else:
            yield prefix + str(pattern.pattern), pattern.callback


def test_no_api_view_takes_a_password_on_every_request():
    # HTTP Basic would check a password on every call, each one counted as a failure (a
    # request is not a login that succeeds) and hashed: the token is the API's credential.
    from django.urls import get_resolver
    from rest_framework.authentication import BasicAuthentication

    api_views = [
        (route, callback.cls)
        for route, callback in _views(get_resolver().url_patterns)
        if hasattr(callback, "cls")
    ]
    assert any(route == "api/token/" for route, _ in api_views)
    for route, view in api_views:
        assert not any(issubclass(c, BasicAuthentication) for c in view.authentication_classes), (
            route
        )
