#!/usr/bin/env bash
# Runs the web server and a Celery worker with beat side by side. Ctrl-C, SIGTERM or SIGHUP (to this
# script or to its whole process group: a closed terminal, a supervisor, `kill -- -PGID`) stop both,
# leaving no process behind within about RUN_STOP_GRACE_SECONDS + 10 seconds.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
VAR=${VAR_DIR:-var}
ADDRESS=${RUN_ADDRESS:-127.0.0.1:8000}
GRACE=${RUN_STOP_GRACE_SECONDS:-15}  # running tasks may finish this long; then they are redelivered later

# Each child starts in its own process group (job control on while starting them), so a signal sent to
# this script's group reaches only this script, which then stops the children in the right order.
# Why: the prefork pool's children, reached directly by SIGTERM, die while waiting on the pool's shared
# queue and take its lock with them; the worker's warm shutdown then waits for that lock forever.
# SIGHUP would make the worker restart itself (exec) instead of stopping.
worker=""
web=""
stopping=""

alive() { [ -n "$1" ] && kill -0 "$1" 2>/dev/null; }

wait_for_exit() {  # pid seconds: 0 when the process is gone in time
    local deadline=$((SECONDS + $2))
    while alive "$1"; do
        [ "$SECONDS" -lt "$deadline" ] || return 1
        sleep 0.2
    done
}

stop() {
    [ -n "$stopping" ] && return
    stopping=1
    trap '' INT TERM HUP  # a second signal (the group's and the supervisor's) does not cut the stop short
    # The worker stops consuming, lets running tasks finish, stops its pool and beat (warm shutdown);
    # the web server (its autoreloader and the serving process) stops at once.
    alive "$worker" && kill -TERM "$worker" 2>/dev/null || true
    alive "$web" && kill -TERM -- "-$web" 2>/dev/null || true
    if alive "$worker" && ! wait_for_exit "$worker" "$GRACE"; then
        echo "Celery worker still busy after ${GRACE}s: cold shutdown (unfinished tasks are redelivered)" >&2
        kill -QUIT "$worker" 2>/dev/null || true
        wait_for_exit "$worker" 5 || true
    fi
    wait_for_exit "$web" 5 || true
    # Whatever is left of either group (a pool child, the embedded beat, the serving process) is killed.
    for group in "$worker" "$web"; do
        [ -n "$group" ] && kill -KILL -- "-$group" 2>/dev/null || true
    done
    wait 2>/dev/null || true
}
trap 'stop; exit 130' INT
trap 'stop; exit 143' TERM
trap 'stop; exit 129' HUP
trap stop EXIT

mkdir -p "$VAR/log"
set -m
$BIN/celery -A config worker --beat --loglevel=info --concurrency=2 \
    --schedule "$VAR/celerybeat-schedule" >"$VAR/log/celery.log" 2>&1 &
worker=$!
$BIN/python manage.py runserver "$ADDRESS" &
web=$!
set +m
echo "Celery worker and beat running (log: $VAR/log/celery.log)"
echo "Web server on http://$ADDRESS/ (admin: http://$ADDRESS/admin/). Ctrl-C stops everything."
# Either one ending (a crash, a port in use) stops the other, through the EXIT trap, with its status.
status=0
wait -n "$worker" "$web" || status=$?
exit "$status"
