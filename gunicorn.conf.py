"""Gunicorn settings, read by `gunicorn service.wsgi` from the working directory.

Values come from the environment through service.env's typed readers (importable without
Django set up), so a wrong one (GUNICORN_TIMEOUT=soon, WEB_CONCURRENCY=0) stops gunicorn at
start-up with an error naming the variable instead of a bare ValueError or a silent default.
A word in WEB_CONCURRENCY never gets here: gunicorn int()s it itself when it is imported.
"""

from django.core.exceptions import ImproperlyConfigured

from service.env import env_int, env_str

# gunicorn maps an unknown level to info without a word: refuse it instead.
LOG_LEVELS = ("debug", "info", "warning", "error", "critical")

# Platforms hand the port in PORT and expect the app on every interface.
bind = [f"0.0.0.0:{env_int('PORT', 8000, minimum=1)}"]
# WEB_CONCURRENCY is the platform's hint for the number of processes that fit the dyno.
workers = env_int("WEB_CONCURRENCY", 2, minimum=1)
# Threaded workers: a sync worker is held by one connection until that client has sent
# its whole request, so two slow or half-open clients stalled both workers (/healthz took
# 33 s). A gthread worker parks a connection that sends nothing in its event loop after
# 5 s, but a thread that has begun reading a request waits for the rest of it, so each
# half-sent request holds one thread: 16 threads a worker keep dozens of such clients from
# stalling the site (tests/integration/test_web_tier.py opens 10). Past that, the
# platform's router (which buffers request headers) or a proxy in front is the defence.
# Threads are cheap here: every request is a few short queries.
worker_class = "gthread"
threads = env_int("GUNICORN_THREADS", 16, minimum=1)
# An idle keep-alive connection is closed after this many seconds.
keepalive = env_int("GUNICORN_KEEPALIVE", 5, minimum=1)
# Every request is short: a submit validates and stores, the engine runs in the worker.
timeout = env_int("GUNICORN_TIMEOUT", 30, minimum=1)
graceful_timeout = 20
accesslog = "-"
errorlog = "-"
loglevel = env_str("GUNICORN_LOG_LEVEL", "info").lower()
if loglevel not in LOG_LEVELS:
    raise ImproperlyConfigured(
        f"GUNICORN_LOG_LEVEL={loglevel!r}: use one of {', '.join(LOG_LEVELS)}"
    )
# Platforms terminate TLS in front of the app and say so in X-Forwarded-Proto.
forwarded_allow_ips = env_str("FORWARDED_ALLOW_IPS", "127.0.0.1")
