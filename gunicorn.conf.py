"""Gunicorn settings, read by `gunicorn service.wsgi` from the working directory."""

import os

# Platforms hand the port in PORT and expect the app on every interface.
bind = [f"0.0.0.0:{os.environ.get('PORT', '8000')}"]
# WEB_CONCURRENCY is the platform's hint for the number of processes that fit the dyno.
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
# Every request is short: a submit validates and stores, the engine runs in the worker.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = 20
accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
# Platforms terminate TLS in front of the app and say so in X-Forwarded-Proto.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
