"""Every error the API gives is JSON, whatever raised it: DRF's exceptions, Django's 404
for an unknown path, a body too big to read, and (never on purpose) a 500."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views import defaults
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from simulator import metrics
from simulator.password_guard import LoginRefused


class QuotaExceeded(exceptions.Throttled):
    """429 for a limit that no waiting period lifts by itself (active jobs per user). It
    still carries Retry-After: a client backing off that long then finds out again."""

    default_code = "quota_exceeded"

    def __init__(self, detail: str, retry_after: int = 30) -> None:
        super().__init__(wait=retry_after, detail=detail)
        # Throttled appends "Expected available in N seconds." to the message; a quota
        # frees when a job ends, not at a time, so the message says what it is.
        self.detail = exceptions.ErrorDetail(detail, code=self.default_code)


# The 413 for a body over the limit met while it was read (RequestDataTooBig).
TOO_LARGE = "The request body is larger than REQUEST_MAX_BYTES allows."


def invalid_body(detail: str, problems: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """The API's one 400 body (the schema's Invalid): what is wrong, then each problem
    with the path of the bad field (a JSON path, a query parameter, a header) and why."""
    return {
        "detail": detail,
        "errors": [{"path": path, "reason": reason} for path, reason in problems],
    }


def invalid(detail: str, problems: Iterable[tuple[str, str]]) -> exceptions.ValidationError:
    """A 400 with invalid_body, to raise."""
    return exceptions.ValidationError(invalid_body(detail, problems))


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, RequestDataTooBig):
        # The middleware answers from Content-Length; this is the same limit met while
        # reading a body that understated it.
        return Response({"detail": TOO_LARGE}, status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE)
    request = context.get("request")
    if isinstance(exc, QuotaExceeded):
        metrics.note_refusal(request, "quota_active_jobs")
    elif isinstance(exc, LoginRefused):
        metrics.note_refusal(request, "login_failures")
    if isinstance(exc, LoginRefused):
        # Too many failed logins (simulator.password_guard): a throttle's 429 and
        # Retry-After, the detail naming the limit.
        exc = exceptions.Throttled(wait=exc.retry_after, detail=str(exc))
    response = drf_exception_handler(exc, context)
    if isinstance(exc, exceptions.ParseError) and response is not None:
        # A body that is not JSON: the API's one 400 shape, the body itself the bad field.
        reason = str(exc.detail)
        response.data = invalid_body(reason, [("(body)", reason)])
    return response


def _api(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    if _api(request):
        return JsonResponse({"detail": "Not found."}, status=404)
    return defaults.page_not_found(request, exception)


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    if isinstance(exception, RequestDataTooBig):
        return JsonResponse({"detail": TOO_LARGE}, status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE)
    if _api(request):
        return JsonResponse({"detail": "Bad request."}, status=400)
    return defaults.bad_request(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    if _api(request):
        return JsonResponse(
            {"detail": "Internal error; it is logged. Report it with the time of the request."},
            status=500,
        )
    return defaults.server_error(request)
