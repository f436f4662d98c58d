"""Gunicorn settings, read by `gunicorn service.wsgi` from the working directory.

Values come from the environment through service.env's typed readers (importable without
Django set up), so a wrong one (GUNICORN_TIMEOUT=soon, WEB_CONCURRENCY=0) stops gunicorn at
start-up with an error naming the variable instead of a bare ValueError or a silent default.
A word in WEB_CONCURRENCY never gets here: gunicorn int()s it itself when it is imported.
"""

from typing import Any

from django.core.exceptions import ImproperlyConfigured

from service.env import env_bool, env_int, env_str
from service.logs import FORMATS, gunicorn_config
from service.web_worker import ReadLimits

# gunicorn maps an unknown level to info without a word: refuse it instead.
LOG_LEVELS = ("debug", "info", "warning", "error", "critical")

# Platforms hand the port in PORT and expect the app on every interface.
bind = [f"0.0.0.0:{env_int('PORT', 8000, minimum=1)}"]
# WEB_CONCURRENCY is the platform's hint for the number of processes that fit the dyno.
workers = env_int("WEB_CONCURRENCY", 2, minimum=1)
# gthread whose event loop reads each request whole before a thread sees it, with a
# deadline for the headers and one for the body (service/web_worker.py says why): a slow or
# stalled client holds a socket, never a thread. Read here so a wrong value stops gunicorn.
worker_class = "service.web_worker.BufferingWorker"
ReadLimits.from_env()
# Threads run complete requests only, each a few short queries.
threads = env_int("GUNICORN_THREADS", 16, minimum=1)
# Open connections per worker process (reading, running or kept alive); past it the worker
# stops accepting until one closes. Each costs a file descriptor and what it has sent.
worker_connections = env_int("GUNICORN_WORKER_CONNECTIONS", 1000, minimum=1)
# An idle keep-alive connection is closed after this many seconds.
keepalive = env_int("GUNICORN_KEEPALIVE", 5, minimum=1)
# Every request is short: a submit validates and stores, the engine runs in the worker.
timeout = env_int("GUNICORN_TIMEOUT", 30, minimum=1)
graceful_timeout = 20
loglevel = env_str("GUNICORN_LOG_LEVEL", "info").lower()
if loglevel not in LOG_LEVELS:
    raise ImproperlyConfigured(
        f"GUNICORN_LOG_LEVEL={loglevel!r}: use one of {', '.join(LOG_LEVELS)}"
    )
# LOG_FORMAT as settings.py reads it: json (the default with DEBUG off) puts gunicorn's own
# lines in the same one-object-a-line form as the app's, and leaves the access log to the
# app's line per request (simulator/observe.py), which carries the request id and the view.
log_format = env_str("LOG_FORMAT", "text" if env_bool("DEBUG", False) else "json").lower()
if log_format not in FORMATS:
    raise ImproperlyConfigured(f"LOG_FORMAT={log_format!r}: use one of {', '.join(FORMATS)}")
errorlog = "-"
if log_format == "json":
    accesslog = None
    logconfig_dict = gunicorn_config(log_format, loglevel)
else:
    accesslog = "-"
# Platforms terminate TLS in front of the app and say so in X-Forwarded-Proto.
forwarded_allow_ips = env_str("FORWARDED_ALLOW_IPS", "127.0.0.1")
# gunicorn 25+ opens a control socket at one fixed path per user ($HOME/.gunicorn/
# gunicorn.ctl): a second instance on the host took it over from the first. Nothing here
# uses gunicornc, so there is none.
control_socket_disable = True


def child_exit(server: Any, worker: Any) -> None:
    """A worker process exited (a restart, a timeout): its live gauges leave the
    PROMETHEUS_MULTIPROC_DIR sums; its counters stay, so no sum ever goes backwards."""
    from simulator.metrics import mark_process_dead

    mark_process_dead(worker.pid)
