"""Throttles, counted in the shared cache (settings.CACHES), each answered with a 429 and
Retry-After by DRF."""

from __future__ import annotations

import logging
from typing import Any

import redis
from django.core.cache import BaseCache, caches
from django.core.cache import cache as default_cache
from django.core.cache.backends.redis import RedisCache
from redis.exceptions import RedisError
from rest_framework.request import Request
from rest_framework.throttling import UserRateThrottle

from simulator import metrics

logger = logging.getLogger(__name__)


class FailOpen:
    """A throttle whose cache (Redis) does not answer lets the request through: the cache
    being down must cost the limit, never the service (a 500 on every call)."""

    scope: str

    def allow_request(self, request: Request, view: Any) -> bool:
        try:
            return super().allow_request(request, view)  # type: ignore[misc]
        except (RedisError, OSError) as exc:
            logger.error("Throttle %s not applied: its cache failed (%s)", self.scope, exc)
            return True


def count_hit(cache: BaseCache, key: str, ttl: int, by: int = 1) -> int:
    """Add `by` (one, or -1 to give a place back) to the counter at `key` (created at 0
    with a lifetime of `ttl` seconds) and return its new value.

    On Redis it is one round trip: SET NX EX then INCR, written together on a connection
    of the cache's own pool and read back (Django's RedisCache has no atomic
    create-or-increment: its incr() checks that the key exists first). Measured
    in-process, that takes 60 us where a redis-py pipeline took 100 us and Django's
    add() then incr() 360 us, on every poll. Any other cache (local memory on a laptop or
    in the tests) takes two calls.
    """
    if cache is default_cache:
        # DRF's throttles hold django.core.cache.cache, a proxy to this thread's default.
        cache = caches["default"]
    if isinstance(cache, RedisCache):
        full_key = cache.make_and_validate_key(key)
        pool = _redis_pool(cache)
        conn = pool.get_connection()
        try:
            commands = [("SET", full_key, 0, "EX", ttl, "NX"), ("INCRBY", full_key, by)]
            conn.send_packed_command(conn.pack_commands(commands))
            conn.read_response()
            count = int(conn.read_response())
        except BaseException:
            # A reply may be left unread: the connection is not fit to be used again.
            conn.disconnect()
            raise
        finally:
            pool.release(conn)
        return count
    # Each call is atomic within the process (LocMemCache holds its lock through incr).
    cache.add(key, 0, ttl)
    try:
        return int(cache.incr(key, by))
    except ValueError:  # expired between the two calls
        cache.set(key, by, ttl)
        return by


def _redis_pool(cache: RedisCache) -> redis.ConnectionPool:
    # Django's own pool for this cache (RedisCacheClient, pinned Django 5.2).
    client: Any = cache._cache
    pool: redis.ConnectionPool = client._get_connection_pool(write=True)
    return pool


class WindowThrottle(UserRateThrottle):
    """At most `rate` requests per user in each fixed window of the rate's period.

    A counter per user and window costs one small Redis round trip a request, where
    DRF's sliding log reads and writes the user's whole list of timestamps (two round
    trips and up to `rate` floats pickled each way, on every poll of /api/status/). The
    price is that a client may make up to twice the rate across a window boundary.
    """

    # Set by SimpleRateThrottle.__init__ from the rate (the stubs do not declare them).
    num_requests: int
    duration: int
    window_end: float = 0.0

    def allow_request(self, request: Request, view: Any) -> bool:
        if self.rate is None:
            return True
        key = self.get_cache_key(request, view)
        if key is None:
            return True
        self.now = self.timer()
        window = int(self.now // self.duration)
        self.window_end = (window + 1) * self.duration
        # The counter outlives its window by a second, so a late hit never recreates it.
        allowed = count_hit(self.cache, f"{key}:{window}", self.duration + 1) <= self.num_requests
        if not allowed:
            metrics.note_refusal(request, f"throttle_{self.scope}")
        return allowed

    def wait(self) -> float | None:
        return max(self.window_end - self.now, 1.0)


class SubmitThrottle(FailOpen, WindowThrottle):
    """Jobs submitted per user (THROTTLE_SUBMIT_RATE)."""

    scope = "submit"


class ReadThrottle(FailOpen, WindowThrottle):
    """Reads per user (THROTTLE_READ_RATE): polling is expected, a flood is not."""

    scope = "read"
