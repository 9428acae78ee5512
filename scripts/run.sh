#!/usr/bin/env bash
# Runs the web server and a Celery worker with beat side by side; Ctrl-C stops both.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin

pids=()
stop() {
    trap - INT TERM EXIT
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
}
trap stop INT TERM EXIT

mkdir -p var/log
$BIN/celery -A config worker --beat --loglevel=info --concurrency=2 \
    --schedule var/celerybeat-schedule >var/log/celery.log 2>&1 &
pids+=($!)
echo "Celery worker and beat running (log: var/log/celery.log)"

$BIN/python manage.py runserver 127.0.0.1:8000 &
pids+=($!)
echo "Web server on http://127.0.0.1:8000/ (admin: http://127.0.0.1:8000/admin/). Ctrl-C stops everything."
wait -n "${pids[@]}"
