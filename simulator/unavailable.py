"""A database that cannot be reached (refusing connections, restarting, failing over) is
the service being unavailable for a moment, not a fault of the request: the answer is a
503 with Retry-After, JSON under /api/ like every other API error and a plain page
elsewhere, never a 500. /healthz says the same in its own words (simulator/health.py).

Two ways an exception reaches Django, both covered: raised by a view (DRF re-raises what
it does not handle), met in process_exception; or raised anywhere else (a middleware
saving a session), which Django turns into a 500 after sending got_request_exception:
the signal marks the request and the middleware, outermost but one, swaps the 500 for
the 503.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from typing import Any

from django.core.signals import got_request_exception
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse, JsonResponse

# OperationalError (the server refused or dropped the connection) and InterfaceError (a
# closed connection used): the same errors a worker gives its claim back for. Other
# database errors are faults: they stay 500s.
from simulator.services.database import DATABASE_UNREACHABLE

logger = logging.getLogger(__name__)

# A restart or failover of PostgreSQL takes seconds; a client told to come back after 5
# neither hammers it nor waits long once it is back.
RETRY_AFTER_SECONDS = 5
_MARK = "_jost_database_unreachable"

_PAGE = (
    "<!doctype html><html lang=en><meta charset=utf-8><title>Service unavailable</title>"
    "<h1>Service unavailable</h1><p>The service cannot reach its database right now. "
    f"Try again in {RETRY_AFTER_SECONDS} seconds.</p></html>"
)


def unavailable(request: HttpRequest) -> HttpResponse:
    """The 503 for `request`: JSON under /api/, a plain page elsewhere, both with
    Retry-After."""
    response: HttpResponse
    if request.path.startswith("/api/"):
        response = JsonResponse(
            {
                "detail": (
                    "The service cannot reach its database right now; nothing was "
                    f"changed. Try again in {RETRY_AFTER_SECONDS} seconds."
                )
            },
            status=503,
        )
    else:
        response = HttpResponse(_PAGE, status=503, content_type="text/html; charset=utf-8")
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


class DatabaseUnavailableMiddleware:
    """503 with Retry-After instead of a 500 when the database cannot be reached."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if response.status_code == 500 and getattr(request, _MARK, False):
            return unavailable(request)
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, DATABASE_UNREACHABLE):
            return None
        # One line, not a traceback per request while the database is down. Django closes
        # the failed connection when the request ends (it is marked unusable), so the
        # next request opens a fresh one.
        logger.error(
            "503 for %s %s: the database is unreachable (%s: %s)",
            request.method,
            request.path,
            type(exception).__name__,
            exception,
        )
        return unavailable(request)


@receiver(got_request_exception)
def _mark_unreachable(sender: Any = None, request: HttpRequest | None = None, **_: Any) -> None:
    # Sent from inside Django's except block, so the exception is the one being handled.
    if request is not None and isinstance(sys.exc_info()[1], DATABASE_UNREACHABLE):
        setattr(request, _MARK, True)
