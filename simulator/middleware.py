"""Request-size limit: the first middleware, so an oversized body costs no work."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse


class RequestSizeLimitMiddleware:
    """A body over REQUEST_MAX_BYTES is a 413 with a JSON body, answered from the
    Content-Length header before anything reads the body, so nothing is parsed or
    written. A body without a Content-Length (chunked) is a 411: Django reads a request's
    body only up to its Content-Length, so it would be taken for an empty one. (Under
    gunicorn, service/web_worker.py answers both before the application is called.)"""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if "HTTP_TRANSFER_ENCODING" in request.META:
            return JsonResponse(
                {
                    "detail": (
                        "A request body must be sent with a Content-Length header, "
                        "not in chunks (Transfer-Encoding)."
                    )
                },
                status=411,
            )
        raw = request.META.get("CONTENT_LENGTH") or "0"
        try:
            length = int(raw)
        except ValueError:
            return JsonResponse(
                {"detail": f"Content-Length {raw[:40]!r} is not a number of bytes."}, status=400
            )
        limit = settings.REQUEST_MAX_BYTES
        if length > limit:
            response = JsonResponse(
                {
                    "detail": (
                        f"The request body is {length} bytes; the most accepted is {limit} "
                        "(REQUEST_MAX_BYTES)."
                    ),
                    "limit": limit,
                },
                status=413,
            )
            return response
        return self.get_response(request)
