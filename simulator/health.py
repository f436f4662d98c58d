"""GET /healthz: is this process able to serve? It checks the two things a job needs, the
database and the broker, each with a short timeout, and names whatever is down."""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from kombu import Connection

logger = logging.getLogger(__name__)


def _down(what: str, exc: Exception) -> str:
    # The detail (hosts, ports, user names) goes to the log; the public answer says only
    # what kind of failure it was.
    logger.error("healthz: %s is down: %s: %s", what, type(exc).__name__, exc)
    return f"down ({type(exc).__name__})"


def check_database() -> str | None:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:
        return _down("database", exc)
    return None


def check_broker() -> str | None:
    timeout = settings.BROKER_CHECK_TIMEOUT
    try:
        with Connection(
            settings.CELERY_BROKER_URL,
            connect_timeout=timeout,
            transport_options={"socket_connect_timeout": timeout, "socket_timeout": timeout},
        ) as conn:
            conn.ensure_connection(max_retries=0, timeout=timeout)
    except Exception as exc:
        return _down("broker", exc)
    return None


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    problems = {"database": check_database(), "broker": check_broker()}
    down = [name for name, problem in problems.items() if problem]
    body: dict[str, object] = {
        "status": "down" if down else "ok",
        "checks": {name: problem or "ok" for name, problem in problems.items()},
    }
    if down:
        body["down"] = down
    return JsonResponse(body, status=503 if down else 200)
