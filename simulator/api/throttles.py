"""Throttles, counted in the shared cache (settings.CACHES), each answered with a 429 and
Retry-After by DRF."""

from __future__ import annotations

import logging
from typing import Any

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


class SubmitThrottle(FailOpen, UserRateThrottle):
    """Jobs submitted per user (THROTTLE_SUBMIT_RATE)."""

    scope = "submit"


class ReadThrottle(FailOpen, UserRateThrottle):
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
