#!/usr/bin/env bash
# Run the test suite.
#
# ./scripts/test.sh --fast [pytest args]: the inner loop. Every test that needs no
# PostgreSQL, server or browser and is not slow (the marks in pytest.ini), on SQLite in
# memory, with nothing installed, checked or started first: it needs a ready
# .venv (start-dev.sh or a full run makes one) and takes under a minute once numba's cache
# (jost_engine/__pycache__, kept between runs) holds the compiled engine.
#
# ./scripts/test.sh [pytest args]: the whole suite (tests/: engine, API, client, integration with a
# real Celery worker and Gunicorn, ops) on PostgreSQL and Redis, what CI runs, setting up
# what is missing first:
#   - .venv with the pinned requirements-dev.txt;
#   - lint (ruff check), format (ruff format --check) and types (mypy) first: any finding
#     stops the run before a test starts;
#   - the committed HEAD cloned alone into an empty folder, its suite collected there: a
#     test that needs a file outside the repository fails here, not on a newcomer's clone;
#   - redis-server, PostgreSQL, nix-instantiate and Chromium installed with apt-get when absent and
#     this runs as root (CI); otherwise the tests needing them skip and say why;
#   - PostgreSQL, Redis and RabbitMQ started when they do not answer.
# Two pytest-xdist worker processes share the tests (TEST_PROCESSES, 0 for none).
# It prints the 15 slowest tests. Extra arguments go to pytest (./scripts/test.sh tests/api -x).
# Exits non-zero on failure.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$PWD
PY=.venv/bin/python
PG_PORT=${PG_PORT:-5432}
TEST_DATABASE_NAME=${TEST_DATABASE_NAME:-jost}

say() { printf 'test.sh: %s\n' "$*"; }

# --- The inner loop ---------------------------------------------------------------------
if [ "${1:-}" = "--fast" ]; then
    shift
    [ -x "$PY" ] || { say "no .venv: run ./scripts/test.sh (or ./start-dev.sh) once to make it"; exit 1; }
    # SQLite (pytest-django makes it in memory: db.sqlite3 is not touched), and a broker where
    # nothing listens: no test here may need one, and none sends to a real queue.
    unset DATABASE_URL
    export CELERY_BROKER_URL=redis://127.0.0.1:1/0
    if ! compgen -G "jost_engine/__pycache__/*.nbi" >/dev/null; then
        say "numba's cache is empty: this first run compiles the engine (about a minute more)"
    fi
    exec "$PY" -m pytest -m "not (postgres or processes or browser or slow)" "$@"
fi

# --- Python environment -----------------------------------------------------------------
if [ ! -x "$PY" ]; then
    BASE_PY=$(command -v python3.11 || command -v python3)
    "$BASE_PY" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' ||
        { say "Python 3.11 is needed"; exit 1; }
    say "creating .venv"
    "$BASE_PY" -m venv .venv
fi
"$PY" -m pip install --disable-pip-version-check -q -r requirements-dev.txt
# The API's client (clients/python: jost_client and the `jost` command), editable, so its
# tests and the console script run from this checkout.
"$PY" -m pip install --disable-pip-version-check -q --no-deps -e ./clients/python

# --- Lint, format and types: the same checks as .pre-commit-config.yaml -------------------
say "ruff check, ruff format --check, mypy"
.venv/bin/ruff check --quiet .
.venv/bin/ruff format --check --quiet .
.venv/bin/mypy  # its files (pyproject.toml) include clients/python/jost_client

# --- The repository alone collects ----------------------------------------------------------
# A clone of the committed HEAD in an empty folder (nothing beside it, as a newcomer has it)
# must collect every test without an error; it reuses this .venv, whose site-packages hold
# no path into this checkout.
if git rev-parse --verify -q HEAD >/dev/null 2>&1; then
    alone=$(mktemp -d)
    trap 'rm -rf "$alone"' EXIT
    git clone -q --no-hardlinks "$PWD" "$alone/jost"
    say "collecting the suite in a lone clone of $(git rev-parse --short HEAD)"
    (cd "$alone/jost" && "$ROOT/$PY" -m pytest -p no:cacheprovider --collect-only -q) \
        >"$alone/collect.log" 2>&1 ||
        { tail -n 30 "$alone/collect.log"; say "collection failed in a clone of the repository alone"; exit 1; }
    rm -rf "$alone"
    trap - EXIT
fi

# --- System packages (only as root with apt-get: CI and fresh machines) -------------------
missing=()
command -v redis-server >/dev/null || missing+=(redis-server)
command -v pg_ctlcluster >/dev/null || missing+=(postgresql)
command -v nix-instantiate >/dev/null || missing+=(nix-bin)
# Debian's Chromium, which the browser tests (tests/browser/, Playwright) drive.
[ -x /usr/bin/chromium ] || missing+=(chromium)
if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        say "installing ${missing[*]}"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq >/dev/null
        # nix-bin only checks the syntax of .idx/dev.nix: its failure must not stop the run.
        for package in "${missing[@]}"; do
            apt-get install -y -qq "$package" >/dev/null || say "could not install $package"
        done
    else
        say "not installed: ${missing[*]} (tests that need them will skip or fail)"
    fi
fi

# --- PostgreSQL -------------------------------------------------------------------------
pg_answers() { pg_isready -q -h 127.0.0.1 -p "$PG_PORT" 2>/dev/null; }
if ! pg_answers && command -v pg_ctlcluster >/dev/null; then
    say "starting PostgreSQL"
    pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start || true
    for _ in $(seq 1 50); do pg_answers && break; sleep 0.2; done
fi
if [ -z "${DATABASE_URL:-}" ]; then
    export DATABASE_URL=postgres://postgres@127.0.0.1:$PG_PORT/$TEST_DATABASE_NAME
    if ! psql "postgres://postgres@127.0.0.1:$PG_PORT/postgres" -qAtc 'select 1' >/dev/null 2>&1 &&
        [ "$(id -u)" = 0 ]; then
        # A fresh install trusts no TCP login: give the postgres role a password, as postgres.
        su postgres -c "psql -qc \"ALTER USER postgres PASSWORD 'postgres'\"" >/dev/null
        export DATABASE_URL=postgres://postgres:postgres@127.0.0.1:$PG_PORT/$TEST_DATABASE_NAME
    fi
fi

# --- Redis (the broker the in-process tests check; integration tests start their own) -----
redis_answers() { "$PY" -c 'import redis; redis.Redis(port=6379, socket_connect_timeout=1).ping()' 2>/dev/null; }
if ! redis_answers && command -v redis-server >/dev/null; then
    say "starting Redis"
    mkdir -p /var/lib/redis /var/log/redis
    redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
        --dir /var/lib/redis --logfile /var/log/redis/ci.log
    for _ in $(seq 1 50); do redis_answers && break; sleep 0.2; done
fi
export CELERY_BROKER_URL=${CELERY_BROKER_URL:-redis://127.0.0.1:6379/0}

# --- RabbitMQ (the tests that prove an amqp:// broker works; they skip only where none can run)
rabbit_answers() { "$PY" -c 'import socket; socket.create_connection(("127.0.0.1", 5672), 1).close()' 2>/dev/null; }
if ! rabbit_answers && command -v rabbitmq-server >/dev/null; then
    say "starting RabbitMQ"
    rabbitmq-server -detached || true
    for _ in $(seq 1 150); do rabbit_answers && break; sleep 0.2; done
fi

# Two pytest-xdist workers (TEST_PROCESSES), a test file each at a time (--dist loadfile:
# a file's module fixtures, a live stack or two network namespaces, are made once, in one
# worker). Many tests spend their time waiting on processes they started, so two workers
# overlap those waits even on two cores: 696 s of pytest on a fresh clone (2026-12-02, two
# cores, a helper's tests beside it) where one process took 1,021 s with numba's cache
# already warm and 1,438 s from a cold one. Each worker has its own test database
# (pytest-django's _gw0, _gw1) and broker database (service/settings_test.py).
# TEST_PROCESSES=0 runs in this one process.
processes=${TEST_PROCESSES:-2}
parallel=()
if [ "$processes" != 0 ]; then
    parallel=(-n "$processes" --dist loadfile)
fi
say "pytest on $(printf '%s' "$DATABASE_URL" | sed -E 's#://([^:@/]*):[^@]*@#://\1:***@#'), ${processes:-0} worker processes"
exec "$PY" -m pytest "${parallel[@]}" --durations=15 "$@"
