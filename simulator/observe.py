"""The outermost middleware: every request gets a request id (the client's X-Request-ID
when it is sane, else a new one, sent back in the answer's X-Request-ID), its log lines
carry it, and its answer is counted and timed for /metrics by view and status (refusals
by reason too) and written as one log line."""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from service.logs import bound
from simulator import metrics

logger = logging.getLogger("simulator.requests")

# Sane: what a proxy or a client library sends (a UUID, a hex or base64-ish token), short
# enough for a log line, nothing that could break a log pipeline's parsing or a header.
_SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:+/=-]{0,127}")


def request_id_of(request: HttpRequest) -> str:
    given = request.headers.get("X-Request-ID", "").strip()
    if _SANE_REQUEST_ID.fullmatch(given):
        return given
    return uuid.uuid4().hex


def view_label(request: HttpRequest) -> str:
    """The URL pattern's name (a bounded set of labels), never the path (which holds ids
    and would make a label per job)."""
    match = getattr(request, "resolver_match", None)
    if match is None:
        return "unmatched"
    return match.view_name or match.url_name or "unnamed"


class ObserveMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = request_id_of(request)
        request.request_id = request_id  # type: ignore[attr-defined]
        started = time.perf_counter()
        with bound(request_id=request_id, request=request):
            response = self.get_response(request)
            seconds = time.perf_counter() - started
            view = view_label(request)
            metrics.HTTP_REQUESTS.labels(view, str(response.status_code)).inc()
            metrics.HTTP_SECONDS.labels(view).observe(seconds)
            refusal = metrics.refusal_of(request, response.status_code)
            if refusal:
                metrics.HTTP_REFUSED.labels(refusal).inc()
            logger.info(
                "%s %s %d",
                request.method,
                request.path,
                response.status_code,
                extra={
                    "method": request.method,
                    "path": request.path,
                    "view": view,
                    "status": response.status_code,
                    "duration_ms": round(seconds * 1000, 2),
                    **({"refused": refusal} if refusal else {}),
                },
            )
        response["X-Request-ID"] = request_id
        return response
