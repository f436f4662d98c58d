"""Throttles, counted in the shared cache (settings.CACHES), each answered with a 429 and
Retry-After by DRF."""

from __future__ import annotations

import logging
import weakref
from typing import Any

import redis
from django.core.cache import BaseCache, caches
from django.core.cache import cache as default_cache
from django.core.cache.backends.redis import RedisCache
from redis.exceptions import RedisError
from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle, UserRateThrottle

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


def count_hit(cache: BaseCache, key: str, ttl: int) -> int:
    """Add one to the counter at `key` (created with a lifetime of `ttl` seconds) and
    return its new value.

    On Redis it is one round trip, SET NX EX then INCR in one pipeline (Django's RedisCache
    has no atomic create-or-increment: its incr() checks that the key exists first), on a
    client kept per cache over the cache's own connection pool (Django builds a new client,
    with its table of reply parsers, on every call). Any other cache (local memory on a
    laptop or in the tests) takes two calls.
    """
    if cache is default_cache:
        # DRF's throttles hold django.core.cache.cache, a proxy to this thread's default.
        cache = caches["default"]
    if isinstance(cache, RedisCache):
        full_key = cache.make_and_validate_key(key)
        pipe = _redis_client(cache).pipeline(transaction=False)
        pipe.set(full_key, 0, ex=ttl, nx=True)
        pipe.incr(full_key)
        return int(pipe.execute()[1])
    cache.add(key, 0, ttl)
    try:
        return int(cache.incr(key))
    except ValueError:  # expired between the two calls
        cache.set(key, 1, ttl)
        return 1


_clients: weakref.WeakKeyDictionary[RedisCache, redis.Redis] = weakref.WeakKeyDictionary()


def _redis_client(cache: RedisCache) -> redis.Redis:
    client = _clients.get(cache)
    if client is None:
        # Django's own pool for this cache (RedisCacheClient, pinned Django 5.2).
        pool = cache._cache._get_connection_pool(write=True)  # type: ignore[attr-defined]
        client = _clients[cache] = redis.Redis(connection_pool=pool)
    return client


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
        return count_hit(self.cache, f"{key}:{window}", self.duration + 1) <= self.num_requests

    def wait(self) -> float | None:
        return max(self.window_end - self.now, 1.0)


class SubmitThrottle(FailOpen, WindowThrottle):
    """Jobs submitted per user (THROTTLE_SUBMIT_RATE)."""

    scope = "submit"


class ReadThrottle(FailOpen, WindowThrottle):
    """Reads per user (THROTTLE_READ_RATE): polling is expected, a flood is not."""

    scope = "read"


class TokenFailureThrottle(SimpleRateThrottle):
    """Failed /api/token/ attempts per client address (THROTTLE_TOKEN_FAILURE_RATE).

    Only failures count: a user who types the password right is never slowed. Once the
    rate is reached every attempt from the address is refused, before the password is
    hashed, until the oldest failure is out of the window.
    """

    scope = "token_failures"
    # Set by SimpleRateThrottle.__init__ from the rate (the stubs do not declare them).
    num_requests: int
    duration: int

    def get_cache_key(self, request: Request, view: Any) -> str:
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}

    def _load(self, request: Request, view: Any) -> None:
        self.key = self.get_cache_key(request, view)
        self.history = self.cache.get(self.key, [])
        self.now = self.timer()
        while self.history and self.history[-1] <= self.now - self.duration:
            self.history.pop()

    def allow_request(self, request: Request, view: Any) -> bool:
        if self.rate is None:
            return True
        try:
            self._load(request, view)
        except (RedisError, OSError) as exc:
            logger.error("Throttle %s not applied: its cache failed (%s)", self.scope, exc)
            return True
        if len(self.history) >= self.num_requests:
            return self.throttle_failure()
        # Allowed, but not counted: record_failure counts it if the password was wrong.
        return True

    def record_failure(self, request: Request, view: Any) -> None:
        if self.rate is None:
            return
        try:
            self._load(request, view)
            self.history.insert(0, self.now)
            self.cache.set(self.key, self.history, self.duration)
        except (RedisError, OSError) as exc:
            logger.error("Token failure not counted: the throttle's cache failed (%s)", exc)
