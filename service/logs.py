"""Log lines for people and for log pipelines: LOG_FORMAT=json writes one JSON object per
line (the default with DEBUG off), LOG_FORMAT=text a plain line for a laptop.

Every line carries what it is about, from context variables that the web middleware
(simulator.observe) and the worker's tasks bind: the request id, the user id, the job id
and the shard index, and the host that wrote it. The same request id follows a job from
its submit to the worker's lines: it is stored on the job (SimulationJob.request_id) and
bound again by the task that runs it. Importable without Django set up (gunicorn.conf.py
reads it before the app loads).
"""

from __future__ import annotations

import contextvars
import json
import logging
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

FORMATS = ("json", "text")

_request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "jost_request_id", default=None
)
_user_id: contextvars.ContextVar[int | None] = contextvars.ContextVar("jost_user_id", default=None)
_job_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("jost_job_id", default=None)
_shard: contextvars.ContextVar[int | None] = contextvars.ContextVar("jost_shard", default=None)
# The Django request being answered: its user is read when a line is written, once
# authentication (DRF's, inside the view) has found it.
_request: contextvars.ContextVar[Any] = contextvars.ContextVar("jost_request", default=None)

HOST = socket.gethostname()

# Attributes every LogRecord has: anything else on a record came from `extra=` and is
# written as a field of its own.
_STANDARD = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime", "taskName"}
_CONTEXT = ("request_id", "user_id", "job_id", "shard")


def current_request_id() -> str | None:
    return _request_id.get()


@contextmanager
def bound(
    *,
    request_id: str | None = None,
    user_id: int | None = None,
    job_id: Any = None,
    shard: int | None = None,
    request: Any = None,
) -> Iterator[None]:
    """Lines written inside carry these (the ones given; the others keep their value)."""
    tokens: list[tuple[contextvars.ContextVar[Any], contextvars.Token[Any]]] = []
    pairs: tuple[tuple[contextvars.ContextVar[Any], Any], ...] = (
        (_request_id, request_id),
        (_user_id, user_id),
        (_job_id, None if job_id is None else str(job_id)),
        (_shard, shard),
        (_request, request),
    )
    for var, value in pairs:
        if value is not None:
            tokens.append((var, var.set(value)))
    try:
        yield
    finally:
        for var, token in reversed(tokens):
            var.reset(token)


def _user_of_request() -> int | None:
    """The id of the request's user once authentication has found it, never querying for
    it: a session's lazy user that nothing has read yet is left alone."""
    request = _request.get()
    if request is None:
        return None
    user = vars(request).get("user")
    if user is None:
        return None
    wrapped = vars(user).get("_wrapped", user)  # SimpleLazyObject, read or not
    pk = getattr(wrapped, "pk", None)
    return pk if isinstance(pk, int) else None


class ContextFilter(logging.Filter):
    """Puts the bound context on every record (for both formatters)."""

    def filter(self, record: logging.LogRecord) -> bool:
        for name, value in (
            ("request_id", _request_id.get()),
            ("user_id", _user_id.get() or _user_of_request()),
            ("job_id", _job_id.get()),
            ("shard", _shard.get()),
        ):
            if getattr(record, name, None) is None:
                setattr(record, name, value)
        record.host = HOST
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC, ISO 8601), level, logger, message, the context
    that is known (request_id, user_id, job_id, shard), host, any `extra=` fields, and
    the traceback as one string."""

    def format(self, record: logging.LogRecord) -> str:
        doc: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in _CONTEXT:
            value = getattr(record, name, None)
            if value is not None:
                doc[name] = value
        doc["host"] = getattr(record, "host", HOST)
        for name, value in record.__dict__.items():
            if name not in _STANDARD and name not in doc and name not in _CONTEXT:
                doc[name] = value
        if record.exc_info:
            doc["exc_info"] = self.formatException(record.exc_info)
        if record.stack_info:
            doc["stack_info"] = self.formatStack(record.stack_info)
        return json.dumps(doc, default=str, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    """A plain line, with the context in brackets when there is some."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s%(context)s")

    def format(self, record: logging.LogRecord) -> str:
        parts = [
            f"{name}={getattr(record, name)}"
            for name in _CONTEXT
            if getattr(record, name, None) is not None
        ]
        record.context = f" [{' '.join(parts)}]" if parts else ""
        return super().format(record)


def formatter_config(log_format: str) -> dict[str, Any]:
    """The `formatters` entry of a dictConfig for LOG_FORMAT."""
    name = "service.logs.JsonFormatter" if log_format == "json" else "service.logs.TextFormatter"
    return {"()": name}


def logging_config(log_format: str, level: str) -> dict[str, Any]:
    """Django's LOGGING (the web processes and the workers): one handler on the root, to
    stderr, with the context filter and the LOG_FORMAT formatter. Celery's and gunicorn's
    loggers propagate to it."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"context": {"()": "service.logs.ContextFilter"}},
        "formatters": {"default": formatter_config(log_format)},
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "formatter": "default",
                "filters": ["context"],
            }
        },
        "root": {"handlers": ["console"], "level": level},
    }


def gunicorn_config(log_format: str, level: str) -> dict[str, Any]:
    """gunicorn's logconfig_dict: its error log (start-up, worker exits) in LOG_FORMAT to
    stderr. Its access log is off in json mode: simulator.observe writes one line per
    request itself, with the request id, the view and the user."""
    config = logging_config(log_format, level.upper())
    config["loggers"] = {
        "gunicorn.error": {"handlers": ["console"], "level": level.upper(), "propagate": False},
        # Silent: the app's own line per request says more (request id, view, user).
        "gunicorn.access": {"handlers": [], "level": "INFO", "propagate": False},
    }
    config["root"] = {"handlers": ["console"], "level": level.upper()}
    return config
