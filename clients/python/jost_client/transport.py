"""HTTP with safe retries, on the standard library's urllib.

A request is tried again after a connection error, a timeout, a 502, 503 or 504, and a
429, with exponential backoff and full jitter, waiting at least what Retry-After says;
`max_attempts` and `max_wait` bound it, so nothing retries forever. A request the server
may have acted on (the connection dropped after it was sent) is sent again only when
repeating it cannot do anything twice: reads, idempotent writes, and submits, which carry
an Idempotency-Key so the service answers a repeat with the first job.
"""

from __future__ import annotations

import email.utils
import http.client
import json
import random
import socket
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from jost_client.errors import ApiError, TransportError

RETRY_STATUSES = frozenset({429, 502, 503, 504})
USER_AGENT = "jost-client/0.1"


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long to try: attempts in all, the first backoff, the longest
    single wait (a Retry-After above it is not waited out: the error is raised)."""

    max_attempts: int = 5
    backoff: float = 0.5
    max_backoff: float = 30.0
    max_wait: float = 120.0

    def delay(self, attempt: int, retry_after: float | None) -> float:
        # Full jitter (a random wait up to the exponential bound): clients that failed
        # together do not all come back together.
        jittered = random.uniform(0, min(self.max_backoff, self.backoff * 2**attempt))
        return max(jittered, retry_after or 0.0)


@dataclass
class Answer:
    status: int
    headers: Mapping[str, str]
    body: Any
    text: str


def parse_retry_after(value: str | None) -> float | None:
    """Retry-After as seconds (a number of seconds, or an HTTP date)."""
    if not value:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(when.timestamp() - time.time(), 0.0)


@dataclass
class Transport:
    base_url: str
    token: str | None = None
    timeout: float = 30.0
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    sleep: Callable[[float], None] = time.sleep

    def request(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        query: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        repeatable: bool = True,
        accept: str = "application/json",
    ) -> Answer:
        url = self.base_url.rstrip("/") + path
        if query:
            pairs = {k: v for k, v in query.items() if v is not None}
            if pairs:
                url += "?" + urllib.parse.urlencode(pairs)
        data = None if body is None else json.dumps(body).encode()
        all_headers = {"Accept": accept, "User-Agent": USER_AGENT, **(headers or {})}
        if data is not None:
            all_headers["Content-Type"] = "application/json"
        if self.token:
            all_headers["Authorization"] = f"Token {self.token}"
        attempt = 0
        while True:
            attempt += 1
            last = attempt >= self.retry.max_attempts
            try:
                answer = self._send(method, url, data, all_headers)
            except _NotSent as exc:
                if last:
                    raise TransportError(f"{method} {url}: {exc.__cause__}") from exc.__cause__
                self.sleep(self.retry.delay(attempt - 1, None))
                continue
            except _Lost as exc:
                # The server may have acted on it: only a request safe to repeat goes again.
                if last or not repeatable:
                    raise TransportError(f"{method} {url}: {exc.__cause__}") from exc.__cause__
                self.sleep(self.retry.delay(attempt - 1, None))
                continue
            if answer.status < 400:
                return answer
            retry_after = parse_retry_after(answer.headers.get("retry-after"))
            # A 502 or 504 may come from a proxy after the service acted; 429 and 503
            # answer before anything is done.
            retryable = answer.status in RETRY_STATUSES and (
                repeatable or answer.status in (429, 503)
            )
            if retryable and not last and (retry_after or 0) <= self.retry.max_wait:
                self.sleep(self.retry.delay(attempt - 1, retry_after))
                continue
            raise ApiError.from_answer(answer.status, answer.body, retry_after)

    def _send(self, method: str, url: str, data: bytes | None, headers: dict[str, str]) -> Answer:
        request = urllib.request.Request(url, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return _answer(response.status, response.headers, response.read())
        except urllib.error.HTTPError as error:
            return _answer(error.code, error.headers, error.read())
        except urllib.error.URLError as error:
            reason = error.reason
            if isinstance(reason, ConnectionRefusedError | socket.gaierror):
                raise _NotSent from reason
            raise _Lost from (reason if isinstance(reason, BaseException) else error)
        except (http.client.HTTPException, ConnectionError, TimeoutError, OSError) as error:
            # Reset or closed after the request went out, or no answer in time.
            raise _Lost from error


class _NotSent(Exception):
    """The connection never opened: nothing reached the server."""


class _Lost(Exception):
    """The request may have reached the server, but no answer was read."""


def _answer(status: int, headers: Any, raw: bytes) -> Answer:
    text = raw.decode("utf-8", errors="replace")
    body: Any
    try:
        body = json.loads(text) if text else None
    except ValueError:
        body = text
    return Answer(status, {k.lower(): v for k, v in headers.items()}, body, text)


__all__ = ["Answer", "ApiError", "RetryPolicy", "Transport", "parse_retry_after"]
