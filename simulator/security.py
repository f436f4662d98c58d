"""What every request is checked for before a view runs, and the policy every page is
served with.

RefuseNulMiddleware: PostgreSQL refuses a NUL character in any text it is given (psycopg
raises before the query is sent), so a NUL in a query parameter, a form field or a cookie
that a view hands to a filter (the job history's owner, the admin's list filters and
search, a session key) was a 500. Refused here, once for every page, as a 400 naming
where it is.

ContentSecurityPolicyMiddleware: a page may run only its own scripts and styles: the
files it serves, and the inline ones it marks with this request's nonce (the dashboard's,
the API docs'). Anything an attacker manages to inject into a page does not run.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterable
from typing import Any

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse

from simulator.api.errors import invalid_body

NUL = "\x00"
Problems = list[tuple[str, str]]


def _api(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def _shown(name: str) -> str:
    return name.replace(NUL, "\\x00")


def _pairs_problems(pairs: Iterable[tuple[str, Any]], label: str) -> Problems:
    problems: Problems = []
    for name, values in pairs:
        if NUL in name:
            problems.append((f"{label}{_shown(name)}", "a name containing a NUL character"))
        elif any(isinstance(value, str) and NUL in value for value in values):
            problems.append((f"{label}{name}", "contains a NUL character"))
    return problems


def nul_problems(request: HttpRequest) -> Problems:
    """Where the request carries a NUL character, as (path, reason) pairs: a query
    parameter or form field by its name, a cookie or header by "cookie <name>" or
    "header <name>"."""
    problems: Problems = []
    if NUL in request.path:
        problems.append(("(path)", "contains a NUL character"))
    problems += _pairs_problems(request.GET.lists(), "")
    # A page's form (parsed for a form's content types only, as the CSRF check would
    # anyway). Not the API's: its bodies are JSON, checked by simulator.inputs, and DRF
    # must be the first to read a body it refuses (a form posted to it is a 415).
    if request.method == "POST" and not _api(request):
        problems += _pairs_problems(request.POST.lists(), "")
    problems += _pairs_problems(((k, [v]) for k, v in request.COOKIES.items()), "cookie ")
    # Gunicorn refuses a raw NUL in a header; a cookie's quoted "\000" is decoded by
    # Django, hence the cookies above. Headers are checked in case of another server.
    headers = (
        (key[5:].replace("_", "-").title(), [value])
        for key, value in request.META.items()
        if key.startswith("HTTP_") and key != "HTTP_COOKIE"
    )
    problems += _pairs_problems(headers, "header ")
    return problems


class RefuseNulMiddleware:
    """A 400 for a request with a NUL character in its path, query, form fields, cookies
    or headers: JSON in the API's one shape under /api/, plain text elsewhere."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        problems = nul_problems(request)
        if not problems:
            return self.get_response(request)
        in_query = {path for path, _ in _pairs_problems(request.GET.lists(), "")}
        # The API's words for a bad query parameter (as a list's filters say it).
        detail = (
            "The query is invalid."
            if {path for path, _ in problems} <= in_query
            else "The request contains a NUL character."
        )
        if _api(request):
            return JsonResponse(invalid_body(detail, problems), status=400)
        lines = "\n".join(f"{path}: {reason}" for path, reason in problems)
        return HttpResponseBadRequest(
            f"Bad request. {detail}\n{lines}\n", content_type="text/plain; charset=utf-8"
        )


class Nonce:
    """This request's CSP nonce, drawn the first time a template writes it: a response
    that never used it (JSON, a redirect) is served a policy without one."""

    def __init__(self) -> None:
        self._value: str | None = None

    def __str__(self) -> str:
        if self._value is None:
            self._value = secrets.token_urlsafe(18)
        return self._value

    @property
    def used(self) -> bool:
        return self._value is not None


def policy(nonce: Nonce) -> str:
    """The Content-Security-Policy: this origin's files only; an inline script or style
    only with the nonce; data: images for the icons Swagger UI's stylesheet embeds; no
    plugins, no <base>, forms posting only here, and no framing (as X-Frame-Options)."""
    inline = f" 'nonce-{nonce}'" if nonce.used else ""
    return "; ".join(
        [
            "default-src 'self'",
            f"script-src 'self'{inline}",
            f"style-src 'self'{inline}",
            "img-src 'self' data:",
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )


class ContentSecurityPolicyMiddleware:
    """Sets request.csp_nonce (templates write it through the csp_nonce context
    processor) and the Content-Security-Policy header of every response."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        nonce = Nonce()
        request.csp_nonce = nonce  # type: ignore[attr-defined]
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", policy(nonce))
        return response


def csp_nonce(request: HttpRequest) -> dict[str, Any]:
    """Template context: `csp_nonce`, for `<script nonce="{{ csp_nonce }}">`."""
    return {"csp_nonce": getattr(request, "csp_nonce", "")}
