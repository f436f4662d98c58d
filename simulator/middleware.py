"""Request-size limit: the first middleware, so an oversized body costs no work."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse


class RequestSizeLimitMiddleware:
    """A body over REQUEST_MAX_BYTES is a 413 with a JSON body, answered from the
    Content-Length header before anything reads the body, so nothing is parsed or
    written. A body without a Content-Length (chunked) is never read past the limit
    either: Django reads a request's body only up to its Content-Length."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
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
