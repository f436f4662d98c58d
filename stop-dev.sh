#!/usr/bin/env bash
# Stop what ./start-dev.sh started, and nothing else: each pid file under var/run/ names a
# process (and its session's children) that start-dev.sh launched. A pid that now belongs
# to another program is left alone. Safe to run twice.
set -uo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")"
RUN=$PWD/var/run

say() { printf 'stop-dev: %s\n' "$*"; }

# stop NAME WORD: end the process in var/run/NAME.pid if its command line holds WORD.
stop() {
    local name=$1 word=$2 pidfile=$RUN/$1.pid pid
    if [ ! -f "$pidfile" ]; then
        say "$name: not started by start-dev.sh"
        return
    fi
    pid=$(cat "$pidfile")
    if [ -z "$pid" ] || ! kill -0 "$pid" 2>/dev/null; then
        say "$name: not running"
    # -ww: the whole command line (cut at 80 columns, a long path hid the word; start-dev.sh).
    elif ! ps -ww -o args= -p "$pid" 2>/dev/null | grep -q -- "$word"; then
        say "$name: pid $pid is now another program's; left alone"
    else
        # start-dev.sh made it a session (and group) leader: the group holds its children
        # (gunicorn's workers, celery's pool) and nothing else.
        kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null
        for _ in $(seq 1 100); do
            kill -0 -- "-$pid" 2>/dev/null || break
            sleep 0.1
        done
        if kill -0 -- "-$pid" 2>/dev/null; then
            say "$name: still running after 10 s; killing it"
            kill -KILL -- "-$pid" 2>/dev/null
        fi
        say "$name: stopped (pid $pid)"
    fi
    rm -f "$pidfile"
}

stop web gunicorn
stop beat celery
stop worker celery
stop redis redis
rm -f "$RUN/broker_url" "$RUN/web.port" "$RUN"/*.log_offset
