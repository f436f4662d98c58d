"""Settings for JOST Cloud, every value from the environment.

Defaults suit a laptop (SQLite, a local Redis). Production refuses to start without what it
needs: with DEBUG off, SECRET_KEY must be set. README.md lists every variable.
"""

from __future__ import annotations

import itertools
import logging
import re
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from kombu import Exchange, Queue

from service.env import env_bool, env_float, env_int, env_list, env_str
from service.logs import FORMATS as LOG_FORMATS
from service.logs import logging_config

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = env_bool("DEBUG", False)

SECRET_KEY = env_str("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is required when DEBUG is off: set SECRET_KEY to a long random "
            "string (python -c 'import secrets; print(secrets.token_urlsafe(50))'), "
            "or set DEBUG=true on a development machine."
        )
    # Only ever used with DEBUG on, on a developer's machine.
    SECRET_KEY = "django-insecure-development-only-key-never-used-in-production"

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    # Swagger UI and ReDoc served from our own static files: the docs page loads nothing
    # from a CDN.
    "drf_spectacular_sidecar",
    "simulator",
]

MIDDLEWARE = [
    # Outermost: every answer (a 413 or a 503 too) carries its request id, is counted for
    # /metrics and written as one log line (simulator/observe.py).
    "simulator.observe.ObserveMiddleware",
    # First: an oversized body is refused (413) before anything reads it.
    "simulator.middleware.RequestSizeLimitMiddleware",
    # A database that refuses connections is a 503 with Retry-After, not a 500.
    "simulator.unavailable.DatabaseUnavailableMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "service.urls"
WSGI_APPLICATION = "service.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Browser-facing checks and headers (simulator/security.py) ----------------------------
# Right after SecurityMiddleware: a NUL character in a query parameter, form field, cookie
# or header is a 400 before any view, session lookup or filter can hand it to PostgreSQL;
# every response carries a Content-Security-Policy (the 400 too), whose per-request nonce
# the templates write on their inline <script> and <style>.
_AFTER_SECURITY = MIDDLEWARE.index("django.middleware.security.SecurityMiddleware") + 1
MIDDLEWARE[_AFTER_SECURITY:_AFTER_SECURITY] = [
    "simulator.security.ContentSecurityPolicyMiddleware",
    "simulator.security.RefuseNulMiddleware",
]
TEMPLATES[0]["OPTIONS"]["context_processors"].append("simulator.security.csp_nonce")  # type: ignore[index]

# --- Database -------------------------------------------------------------------------
DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=env_int("CONN_MAX_AGE", 60, minimum=0),
        # A kept connection is checked (a round trip) before a request's first query, so
        # one the server dropped (a restart, a failover, pg_terminate_backend, an idle
        # timeout) is replaced instead of failing that request with a 500. Measured cost:
        # docs/BENCHMARKS.md.
        conn_health_checks=env_bool("CONN_HEALTH_CHECKS", True),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The web process and a worker write at the same time: WAL lets readers run beside a
    # writer, IMMEDIATE takes the write lock at BEGIN (so a transaction waits for it instead
    # of failing half-way with "database is locked"), and the timeout is how long it waits.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            "transaction_mode": "IMMEDIATE",
            "timeout": env_int("SQLITE_TIMEOUT", 20, minimum=1),
        }
    )
    # SQLite connections are cheap and a persistent one would hold the file open in
    # every gunicorn worker for no gain.
    DATABASES["default"]["CONN_MAX_AGE"] = 0

# The status poll's query as a prepared statement (simulator/db.py); false behind a pooler
# that cannot keep a client's prepared statements (PgBouncer in transaction mode without
# its max_prepared_statements).
DB_PREPARED_STATEMENTS = env_bool("DB_PREPARED_STATEMENTS", True)
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Django's PostgreSQL backend, with a health check that reads the socket before it
    # pays for a round trip (service/postgresql/base.py).
    DATABASES["default"]["ENGINE"] = "service.postgresql"
    # An unreachable database must fail a request (and /healthz) in seconds, not hang it.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault(
        "connect_timeout", env_int("DATABASE_CONNECT_TIMEOUT", 5, minimum=1)
    )
    if DB_PREPARED_STATEMENTS:
        # psycopg prepares nothing while its threshold is None (Django's default). Only
        # server-binding cursors ever prepare, and only simulator.db makes them: the ORM's
        # queries are unchanged.
        DATABASES["default"]["OPTIONS"].setdefault("prepare_threshold", 5)

# Seconds a PostgreSQL session may sit inside a transaction without sending anything before
# the server ends it (idle_in_transaction_session_timeout, set on each new connection by
# service/postgresql/base.py; 0 leaves the server's own setting). No transaction of ours
# waits on anything but the database, so one idle this long lost its client: a worker on
# a host cut off mid-transaction, whose row locks would otherwise stop its job for hours.
# (A data migration that computes longer than this between queries needs it raised for
# the release phase.)
DATABASE_IDLE_TRANSACTION_TIMEOUT = env_float(
    "DATABASE_IDLE_TRANSACTION_TIMEOUT", 10.0, minimum=0.0
)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Static files (whitenoise) ----------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # Compressed but not manifest-hashed: a missing collectstatic then serves nothing
    # instead of turning every admin page into a 500.
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

# --- Security (production values by default; a laptop sets DEBUG=true) -------------------
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
# Platforms probe /healthz, and Prometheus scrapes /metrics, over plain HTTP from inside
# their network.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^metrics$"]
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", not DEBUG)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31_536_000, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", not DEBUG)
# Preloading is a commitment made with browser vendors, so the operator opts in.
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
if env_bool("TRUST_X_FORWARDED_PROTO", False):
    # Only behind a proxy that sets the header itself (Heroku, a load balancer): otherwise
    # a client could claim HTTPS.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# --- Limits ---------------------------------------------------------------------------
# The largest request body (bytes) accepted; a larger one is a 413 before it is read. A
# full config with every chart written out is about 20 kB.
REQUEST_MAX_BYTES = env_int("REQUEST_MAX_BYTES", 512 * 1024, minimum=1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = REQUEST_MAX_BYTES
# Rounds one job may ask for (the engine's own bound is 10^10). 10^9 rounds of a full
# table fit within CELERY_TASK_SOFT_TIME_LIMIT even at ENGINE_SPOT_ROUNDS_PER_SECOND (the
# check made at submit); one player plays them in about a minute of one core.
JOB_MAX_ROUNDS = env_int("JOB_MAX_ROUNDS", 1_000_000_000, minimum=1)
# Shoes one index job (POST /api/indices/) may deal; the engine's own bound is 10^8. The
# 22 plays of the Illustrious 18 and Fab 4 deal about 400 shoes a core-second, so 10^7
# shoes hold two cores for some hours: more is a job to split by hand, not one request.
JOB_MAX_SHOES = env_int("JOB_MAX_SHOES", 10_000_000, minimum=1)
# PENDING or RUNNING jobs one user may have; one more is a 429 naming this limit.
JOB_MAX_ACTIVE_PER_USER = env_int("JOB_MAX_ACTIVE_PER_USER", 10, minimum=1)
# Seconds an Idempotency-Key is remembered (at least a day, as clients expect).
IDEMPOTENCY_KEY_TTL = env_int("IDEMPOTENCY_KEY_TTL", 86_400, minimum=86_400)

# --- CORS -------------------------------------------------------------------------------
# No CORS headers are sent: browsers on other origins cannot call the API. Clients are
# scripts and user_terminal, which CORS does not concern.


def _throttle_rate(name: str, default: str) -> str | None:
    """A DRF rate ("30/minute"), or None for "none" (that throttle off)."""
    rate = env_str(name, default)
    if rate == "none":
        return None
    if not re.fullmatch(r"\d+/(s|sec|second|m|min|minute|h|hour|d|day)", rate):
        raise ImproperlyConfigured(f"{name}={rate!r}: use <count>/<second|minute|hour|day> or none")
    return rate


# Requests per user; over it a 429 with Retry-After. Counted in the cache below.
THROTTLE_RATES = {
    "submit": _throttle_rate("THROTTLE_SUBMIT_RATE", "30/minute"),
    "read": _throttle_rate("THROTTLE_READ_RATE", "1200/minute"),
}

# Failed password checks (the API's token, the dashboard's and the admin's logins), per
# client address and per username, counted by simulator.password_guard in the cache below;
# past either, every attempt is a 429 with Retry-After before its password is hashed. A
# hash costs PBKDF2's CPU, so guessing must neither find passwords nor burn the workers.
# Per username, so that many addresses cannot share out the guesses at one account.
if env_str("THROTTLE_TOKEN_FAILURE_RATE", ""):
    raise ImproperlyConfigured(
        "THROTTLE_TOKEN_FAILURE_RATE is now THROTTLE_LOGIN_ADDRESS_RATE (it counts every "
        "login, not only /api/token/), beside THROTTLE_LOGIN_USERNAME_RATE"
    )
LOGIN_FAILURE_RATES = {
    "address": _throttle_rate("THROTTLE_LOGIN_ADDRESS_RATE", "10/minute"),
    "username": _throttle_rate("THROTTLE_LOGIN_USERNAME_RATE", "20/hour"),
}
AUTHENTICATION_BACKENDS = ["simulator.password_guard.GuardedModelBackend"]
# Last, so it sees first what a view raised: a refused login form is a 429 page.
MIDDLEWARE = [*MIDDLEWARE, "simulator.password_guard.LoginRefusedMiddleware"]

# --- REST API -------------------------------------------------------------------------
REST_FRAMEWORK = {
    # Token first: its WWW-Authenticate header is what makes DRF answer 401 (not 403)
    # to a request without credentials.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": env_int("API_PAGE_SIZE", 20, minimum=1),
    "DEFAULT_RENDERER_CLASSES": [
        "simulator.api.parsers.SafeJSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    # Every body the API takes is JSON (a config, a profile, the token's credentials).
    "DEFAULT_PARSER_CLASSES": ["simulator.api.parsers.StrictJSONParser"],
    # Reads by default; the submit endpoints count against the submit rate instead.
    "DEFAULT_THROTTLE_CLASSES": ["simulator.api.throttles.ReadThrottle"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "simulator.api.errors.exception_handler",
    "DEFAULT_THROTTLE_RATES": THROTTLE_RATES,
    # Proxies in front of the app that append to X-Forwarded-For (1 on Heroku). With 0
    # the client address is the connection's: a client cannot pick its own by header.
    "NUM_PROXIES": env_int("NUM_PROXIES", 0, minimum=0),
}

SPECTACULAR_SETTINGS = {
    "TITLE": "JOST Cloud API",
    "DESCRIPTION": (
        "Blackjack simulations as a service. Every call but /api/token/ needs "
        "`Authorization: Token <token>`. Errors are JSON: 400 "
        '`{"detail", "errors": [{"path", "reason"}]}`, 401, 404 (another user\'s job or '
        "profile), 413 (body over REQUEST_MAX_BYTES), 422 (an Idempotency-Key reused "
        "with another request), 429 (throttled or over a quota, with Retry-After)."
    ),
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
}

# --- Celery ---------------------------------------------------------------------------
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", "redis://127.0.0.1:6379/0")
# The database row is the ledger; Redis only carries job ids.
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
# A worker that dies mid-job leaves its message unacknowledged, so the broker hands it out
# again; the job's conditional claim keeps a redelivery from running it twice.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
# A worker takes one job at a time, so a long job never holds others hostage in its buffer.
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = env_int("CELERY_TASK_SOFT_TIME_LIMIT", 3600, minimum=1)
CELERY_TASK_TIME_LIMIT = env_int(
    "CELERY_TASK_TIME_LIMIT", CELERY_TASK_SOFT_TIME_LIMIT + 60, minimum=1
)
if CELERY_TASK_TIME_LIMIT <= CELERY_TASK_SOFT_TIME_LIMIT:
    raise ImproperlyConfigured(
        f"CELERY_TASK_TIME_LIMIT={CELERY_TASK_TIME_LIMIT} must be above "
        f"CELERY_TASK_SOFT_TIME_LIMIT={CELERY_TASK_SOFT_TIME_LIMIT}, so a job can record "
        "why it stopped before it is killed"
    )
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Task events (received, started, succeeded, failed, each with its args and the worker's
# host name) are what Flower and `celery events` draw the fleet from. Off by default: each
# event is one more message on the broker per task state, which nobody reads unless a
# monitor runs (`celery -A service control enable_events` turns them on for a while).
# The "sent" event comes from the process that sends the task (web, sweep), so a monitor
# also sees a shard waiting in the queue.
CELERY_WORKER_SEND_TASK_EVENTS = env_bool("CELERY_WORKER_SEND_TASK_EVENTS", False)
CELERY_TASK_SEND_SENT_EVENT = env_bool(
    "CELERY_TASK_SEND_SENT_EVENT", CELERY_WORKER_SEND_TASK_EVENTS
)
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# How long a submit or /healthz waits for the broker before calling it down.
BROKER_CHECK_TIMEOUT = env_float("BROKER_CHECK_TIMEOUT", 2.0, minimum=0.1)
# With late acks Redis re-delivers a message not acknowledged within this time; it must
# outlast the longest task or a running one would be handed out again. (RabbitMQ gives a
# message back when the connection that holds it drops, so it has no such timeout.)
CELERY_VISIBILITY_TIMEOUT = env_int(
    "CELERY_VISIBILITY_TIMEOUT", CELERY_TASK_TIME_LIMIT + 300, minimum=1
)
if urlsplit(CELERY_BROKER_URL).scheme in {"redis", "rediss", "redis+socket"}:
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": CELERY_VISIBILITY_TIMEOUT,
        "socket_connect_timeout": BROKER_CHECK_TIMEOUT,
        # A worker's BRPOP names the queues in the order it consumes them (the Procfile's
        # -Q urgent,priority,celery) and Redis pops the first non-empty one: strict
        # priority. The default, round_robin, would serve the queues in turn, and a
        # priority user's job would wait behind everyone else's every other time.
        "queue_order_strategy": "priority",
    }

# How often (seconds at most) a running job writes its progress to its row.
JOB_PROGRESS_INTERVAL = env_float("JOB_PROGRESS_INTERVAL", 1.0, minimum=0.0)
# Rounds the engine plays between two progress reports. A chunked run gives the same
# result bit for bit; smaller chunks show progress sooner and let a soft time limit
# (a signal, handled between chunks) stop a job sooner.
JOB_CHUNK_ROUNDS = env_int("JOB_CHUNK_ROUNDS", 50_000, minimum=1)

# --- Crash recovery: heartbeat, reclaim, sweep --------------------------------------------
# A running job or shard refreshes heartbeat_at this often (seconds), from a thread of its
# own while the engine runs (the loops release the GIL), so neither a long chunk nor a
# numba compile delays it; each progress write refreshes it too.
JOB_HEARTBEAT_INTERVAL = env_float("JOB_HEARTBEAT_INTERVAL", 2.0, minimum=0.1)
# A RUNNING job whose heartbeat is older than this (seconds) is taken to have lost its
# worker: any delivery may claim it again, and the sweep re-enqueues it (a split job's
# shard is put back in its queue). Five heartbeats: a killed worker's work runs again
# within JOB_STALE_AFTER + JOB_SWEEP_INTERVAL seconds.
JOB_STALE_AFTER = env_float("JOB_STALE_AFTER", 10.0, minimum=1.0)
# A PENDING job whose last enqueue (or submission) is older than this (seconds) is sent
# to the broker again by the sweep. On Redis the sweep sees a lost message at once (it
# reads the queues: simulator.services.broker.lost_messages); this is the fallback where
# it cannot (a RabbitMQ broker, which gives a dead consumer's messages back at once).
JOB_REQUEUE_AFTER = env_float("JOB_REQUEUE_AFTER", 300.0, minimum=0.0)
# Seconds a job or shard just sent is given before the sweep calls its message lost for
# not being on the broker: the send that follows a submit's commit may still be on its way.
JOB_LOST_MESSAGE_GRACE = env_float("JOB_LOST_MESSAGE_GRACE", 5.0, minimum=0.0)
# A job whose worker died this many times (its heartbeat went stale while it ran) is
# FAILED instead of claimed again: a job that kills its worker must not kill them all.
# Restarts count too (a deploy's SIGTERM stops the running job), hence room for a few.
JOB_MAX_ATTEMPTS = env_int("JOB_MAX_ATTEMPTS", 5, minimum=1)
# How often (seconds) Celery beat runs the sweep.
JOB_SWEEP_INTERVAL = env_float("JOB_SWEEP_INTERVAL", 5.0, minimum=1.0)

# --- Split jobs: shards, the window, the time budget ---------------------------------------
# Rounds per shard of a split job (stop_when_broke false, or sessions): under a second of
# one core for one player, several for a full table. The
# shards, and so the bits of the result, depend on it: it is stored with each job, and
# jost_engine.SHARD_ROUNDS (what `python -m jost_engine` uses) has the same default.
JOB_SHARD_ROUNDS = env_int("JOB_SHARD_ROUNDS", 10_000_000, minimum=1)
# Shoes per shard of an index job: a few seconds of one core for the 22 plays of the
# Illustrious 18 and Fab 4. Like JOB_SHARD_ROUNDS it fixes the shards' seeds, so it is
# stored with each job; jost_engine.indices.SHARD_SHOES has the same default.
JOB_SHARD_SHOES = env_int("JOB_SHARD_SHOES", 5_000, minimum=1)
# Shoes an index shard deals between two progress reports (and cancel checks); the sums
# are the same bits whatever the chunk. jost_engine.indices.CHUNK_SHOES has the default.
JOB_CHUNK_SHOES = env_int("JOB_CHUNK_SHOES", 250, minimum=1)
# Shards of one job waiting in the broker's queue at most: the next is sent as one starts,
# so every idle worker finds one while another user's job waits behind only this many.
JOB_SHARD_WINDOW = env_int("JOB_SHARD_WINDOW", 2, minimum=1)
# A shard sent this long ago (seconds) and still not started is sent again: its message
# was lost. The fallback where the sweep cannot read the broker (see JOB_REQUEUE_AFTER): on
# Redis a lost shard is sent again at once. A duplicate is harmless.
JOB_SHARD_REQUEUE_AFTER = env_float("JOB_SHARD_REQUEUE_AFTER", 60.0, minimum=0.0)

# A speed in spot-rounds a second that the engine beats several times over on one core,
# for one spot as for a full table, kept low to be safe: an unsplit
# job whose rounds x spots would take longer than the soft time limit at this speed is
# refused at submit, naming how many rounds fit.
ENGINE_SPOT_ROUNDS_PER_SECOND = env_int("ENGINE_SPOT_ROUNDS_PER_SECOND", 4_000_000, minimum=1)
# Megabytes one shard of a job (or the merge of a split job's shards) may need beyond the
# worker's own (jost_engine.footprint): a config that needs more, such as a million
# sessions of a full table, is refused at submit naming the field and what fits, rather
# than run a worker out of memory.
JOB_SHARD_MAX_MEMORY_MB = env_int("JOB_SHARD_MAX_MEMORY_MB", 512, minimum=16)
# Compile (or load from numba's cache) the round loops in the worker's main process at
# start, before the pool forks, so no task pays for it.
WORKER_WARM_UP = env_bool("WORKER_WARM_UP", True)
# The slowest the engine is assumed to play (rounds a second, one core): a full table
# with the hand log, its slowest game, plays more than ten times as fast. It bounds how
# long one chunk can go without a heartbeat.
ENGINE_SLOWEST_ROUNDS_PER_SECOND = 100_000
JOB_CHUNK_SECONDS_MAX = JOB_CHUNK_ROUNDS / ENGINE_SLOWEST_ROUNDS_PER_SECOND


def check_job_recovery_settings(
    stale_after: float, heartbeat_interval: float, chunk_seconds: float
) -> None:
    """A live job must never look stale: the stale threshold must be comfortably (3x)
    larger than the gap between two heartbeats, or a healthy job would be taken from its
    worker and run twice. The gap counts one chunk beside the interval: the margin from
    before the heartbeat had a thread of its own, kept for a beat delayed by a busy
    worker."""
    gap = heartbeat_interval + chunk_seconds
    if stale_after < 3 * gap:
        raise ImproperlyConfigured(
            f"JOB_STALE_AFTER={stale_after:g} is too short: a running job may go "
            f"JOB_HEARTBEAT_INTERVAL ({heartbeat_interval:g} s) plus one chunk of "
            f"JOB_CHUNK_ROUNDS (up to {chunk_seconds:g} s) without a heartbeat, so "
            f"JOB_STALE_AFTER must be at least 3 x {gap:g} = {3 * gap:g} s. Raise "
            "JOB_STALE_AFTER, or lower JOB_HEARTBEAT_INTERVAL or JOB_CHUNK_ROUNDS."
        )


check_job_recovery_settings(JOB_STALE_AFTER, JOB_HEARTBEAT_INTERVAL, JOB_CHUNK_SECONDS_MAX)


def check_time_budget(budget: list[tuple[str, float]]) -> None:
    """Each of (name, seconds) must be below the next: heartbeat < stale threshold < soft
    time limit < hard time limit < broker visibility timeout. Out of order, a live task
    looks dead (and runs twice), a task is killed before it can record why, or Redis
    hands a running task out again."""
    for (low_name, low), (high_name, high) in itertools.pairwise(budget):
        if not low < high:
            raise ImproperlyConfigured(
                f"{high_name}={high:g} must be above {low_name}={low:g}: the time budget is "
                "JOB_HEARTBEAT_INTERVAL < JOB_STALE_AFTER < CELERY_TASK_SOFT_TIME_LIMIT < "
                "CELERY_TASK_TIME_LIMIT < CELERY_VISIBILITY_TIMEOUT"
            )


check_time_budget(
    [
        ("JOB_HEARTBEAT_INTERVAL", JOB_HEARTBEAT_INTERVAL),
        ("JOB_STALE_AFTER", JOB_STALE_AFTER),
        ("CELERY_TASK_SOFT_TIME_LIMIT", CELERY_TASK_SOFT_TIME_LIMIT),
        ("CELERY_TASK_TIME_LIMIT", CELERY_TASK_TIME_LIMIT),
        ("CELERY_VISIBILITY_TIMEOUT", CELERY_VISIBILITY_TIMEOUT),
    ]
)
# A delivery that finds its job RUNNING with a fresh heartbeat (a duplicate, or a
# redelivery right after a crash) retries itself later; this many times covers a job
# running up to the hard time limit, after which the sweep is the backstop.
JOB_BUSY_MAX_RETRIES = int(CELERY_TASK_TIME_LIMIT // JOB_STALE_AFTER) + 2
# A delivery that meets an unreachable database (refused, restarting, a dropped connection)
# gives its claim back and retries itself after 1, 2, 4, then every
# JOB_DATABASE_RETRY_MAX_DELAY seconds, for as long as a hard time limit; past that the
# sweep is the backstop. Its message is never dropped for it, nor its job failed.
JOB_DATABASE_RETRY_MAX_DELAY = 5.0
JOB_DATABASE_MAX_RETRIES = int(CELERY_TASK_TIME_LIMIT // JOB_DATABASE_RETRY_MAX_DELAY) + 3
# Celery beat's schedule is this one entry, rebuilt at every start: an in-memory
# scheduler keeps no schedule file, and a sweep missed while beat was down is harmless.
CELERY_BEAT_SCHEDULER = "celery.beat:Scheduler"
CELERY_BEAT_SCHEDULE = {
    "sweep-jobs": {
        "task": "simulator.sweep_jobs",
        "schedule": JOB_SWEEP_INTERVAL,
        # A sweep still queued when the next one is due is dropped, so busy workers do
        # not find a pile of them.
        "options": {"expires": JOB_SWEEP_INTERVAL},
    }
}

# --- Priorities: the queues and the bound on waiting (docs/OPERATIONS.md, Priorities) ------
# Workers serve three queues strictly in this order (the Procfile's -Q names them so, and
# queue_order_strategy above makes Redis pop them so). "urgent": the sweep, and the work
# of a user without priority that has waited JOB_PRIORITY_MAX_WAIT; "priority": the jobs
# and shards of the users in the PRIORITY_GROUP group; "celery": everyone else's, under
# Celery's default name, so a worker of the previous release (which consumes only it)
# still serves it in a deploy.
URGENT_QUEUE = "urgent"
PRIORITY_QUEUE = "priority"
DEFAULT_QUEUE = "celery"
JOB_QUEUES = (URGENT_QUEUE, PRIORITY_QUEUE, DEFAULT_QUEUE)
# Members of this group (set in the admin, on the user's page) have their jobs run first.
PRIORITY_GROUP = "priority"
# A job or shard of a user without priority whose message has waited this long (seconds
# since it was sent) goes to the urgent queue at the next sweep, ahead of priority work:
# it starts within JOB_PRIORITY_MAX_WAIT + JOB_SWEEP_INTERVAL + the run time of the task
# a worker finishes first, however much priority work keeps coming.
JOB_PRIORITY_MAX_WAIT = env_float("JOB_PRIORITY_MAX_WAIT", 30.0, minimum=0.0)
for _name, _after in (
    ("JOB_SHARD_REQUEUE_AFTER", JOB_SHARD_REQUEUE_AFTER),
    ("JOB_REQUEUE_AFTER", JOB_REQUEUE_AFTER),
):
    # Each of those re-sends a waiting message to its own queue and starts its wait
    # again: below JOB_PRIORITY_MAX_WAIT, a waiting job would never be due to go first.
    if _after <= JOB_PRIORITY_MAX_WAIT:
        raise ImproperlyConfigured(
            f"JOB_PRIORITY_MAX_WAIT={JOB_PRIORITY_MAX_WAIT:g} must be below "
            f"{_name}={_after:g}: a message waiting that long is sent again to its own "
            "queue, so it would never be moved ahead of priority work"
        )
CELERY_TASK_DEFAULT_QUEUE = DEFAULT_QUEUE
# Each queue with a direct exchange and routing key of its own name, as Celery declares a
# queue it creates on demand: a broker that already holds "celery" (RabbitMQ keeps
# declarations) sees the same declaration again, not a conflicting one.
CELERY_TASK_QUEUES = tuple(
    Queue(name, Exchange(name, type="direct"), routing_key=name) for name in JOB_QUEUES
)
# The sweep goes first: stuck behind priority work it could not move the waiting ones.
CELERY_TASK_ROUTES = {"simulator.sweep_jobs": {"queue": URGENT_QUEUE}}

# --- Cache (the request throttles' and the login guard's counters) -----------------------
# THROTTLE_RATES and LOGIN_FAILURE_RATES count in a cache every web process shares: Redis,
# at the broker's URL when the broker is Redis (CACHE_URL names another). With neither (a
# RabbitMQ broker and no CACHE_URL) each process counts alone in its own memory, so every
# limit is multiplied by the number of web processes (WEB_CONCURRENCY on each machine).
CACHE_URL = env_str("CACHE_URL", "")
if not CACHE_URL and urlsplit(CELERY_BROKER_URL).scheme in {"redis", "rediss"}:
    CACHE_URL = CELERY_BROKER_URL
if CACHE_URL:
    if urlsplit(CACHE_URL).scheme not in {"redis", "rediss"}:
        raise ImproperlyConfigured(f"CACHE_URL={CACHE_URL!r}: use a redis:// or rediss:// URL")
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": CACHE_URL,
            "KEY_PREFIX": env_str("CACHE_KEY_PREFIX", "jost"),
            # A Redis that is down must not hang every request behind a throttle check.
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Logging: to stderr, where Procfile platforms collect it ----------------------------
# json: one JSON object per line with the request, user, job and shard ids and the host
# (service/logs.py), what a log pipeline reads; text: a plain line for a laptop.
LOG_FORMAT = env_str("LOG_FORMAT", "text" if DEBUG else "json").lower()
if LOG_FORMAT not in LOG_FORMATS:
    raise ImproperlyConfigured(f"LOG_FORMAT={LOG_FORMAT!r}: use one of {', '.join(LOG_FORMATS)}")
LOG_LEVEL = env_str("LOG_LEVEL", "INFO").upper()
LOGGING = logging_config(LOG_FORMAT, LOG_LEVEL)
if LOG_FORMAT == "json":
    # A Python warning is a log line too (logger py.warnings), not a bare text line on
    # stderr amid the JSON.
    logging.captureWarnings(True)

# --- Metrics (simulator/metrics.py) ----------------------------------------------------
# GET /metrics answers only `Authorization: Bearer <METRICS_TOKEN>`; unset, it is a 404.
METRICS_TOKEN = env_str("METRICS_TOKEN", "")
