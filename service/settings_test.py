"""Settings for the test suite: service.settings with the few values tests need.

The suite runs with DEBUG off, like production, so it needs a SECRET_KEY; and the Django
test client speaks plain HTTP, so the HTTPS redirect is off.
"""

import os
from urllib.parse import urlsplit, urlunsplit

os.environ.setdefault("SECRET_KEY", "tests-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz")
os.environ.setdefault("SECURE_SSL_REDIRECT", "false")

from service import settings
from service.settings import *  # noqa: F403

# Hashing passwords at full strength would dominate a suite that creates users per test.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Progress is written at once in tests, so a short job still shows it.
JOB_PROGRESS_INTERVAL = 0.0
# The throttles' and the login guard's counters in this process's memory, emptied before
# every test (tests/conftest.py): counted in a shared Redis, one run's alice would inherit
# another's history.
# tests/api/test_limits.py proves the Redis cache separately, on a database of its own.
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# pytest-django runs each `db` test inside one transaction, open while the test computes
# between queries (an engine run, a numba compile): idle to the server, and no lost
# client. The live processes the integration tests start read service.settings (10 s);
# tests/ops/test_postgresql_backend.py sets it where it tests it.
DATABASE_IDLE_TRANSACTION_TIMEOUT = 0.0

# scripts/test.sh runs the suite in two pytest-xdist worker processes. Each sends its
# tasks to a Redis database of its own (the broker's number plus 1 + the worker's), so a
# test that counts or empties a queue never sees the other worker's messages. The servers
# and workers the integration tests start use Redis instances of their own anyway.
_xdist_worker = os.environ.get("PYTEST_XDIST_WORKER", "")
_broker = urlsplit(settings.CELERY_BROKER_URL)
if _xdist_worker.startswith("gw") and _broker.scheme in {"redis", "rediss"}:
    _database = int(_broker.path.strip("/") or 0) + 1 + int(_xdist_worker[2:])
    CELERY_BROKER_URL = urlunsplit(_broker._replace(path=f"/{_database % 16}"))
