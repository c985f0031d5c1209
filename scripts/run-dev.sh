#!/usr/bin/env bash
# `make run`: the local demo. Migrates the embedded SQLite database (instance/), seeds demo data
# when it is empty, starts localstripe (the fake Stripe) unless STRIPE_SECRET_KEY is set, starts
# one background worker (mail, periodic tasks; its queue is instance/jobs.sqlite), and serves on
# http://127.0.0.1:5000. Ctrl-C stops everything this script started.
# Run it through `make run`, which creates .venv and installs requirements.txt first.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

HOST=127.0.0.1
PORT=5000
STRIPE_PORT=8420
VENV=.venv
FLASK=("$VENV/bin/flask" --app wsgi)

export FLASK_CONFIG=development
export PYTHONUNBUFFERED=1

die() { echo "run-dev: $*" >&2; exit 1; }

[ -x "$VENV/bin/flask" ] || die "$VENV is missing or incomplete: run \`make run\`, which installs it."
command -v curl >/dev/null || die "curl is needed (apt-get install curl)."

# Fails (non-zero) when something already listens on HOST:port, or the port cannot be bound.
port_free() {
    "$VENV/bin/python" - "$1" <<'PY'
import socket, sys
port = int(sys.argv[1])
probe = socket.socket()
probe.settimeout(1)
try:
    if probe.connect_ex(("127.0.0.1", port)) == 0:
        sys.exit(1)            # something answers there
finally:
    probe.close()
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
try:
    s.bind(("127.0.0.1", port))
except OSError:
    sys.exit(1)
finally:
    s.close()
PY
}

port_free "$PORT" || die "port $PORT on $HOST is already in use (another \`make run\`?). Stop whatever listens there (\`ss -ltnp 'sport = :$PORT'\` shows it) and try again."
if [ -z "${STRIPE_SECRET_KEY:-}" ]; then
    port_free "$STRIPE_PORT" || die "port $STRIPE_PORT is already in use, and localstripe needs it (another \`make run\`, or a localstripe left running?). Stop it (\`ss -ltnp 'sport = :$STRIPE_PORT'\` shows it) or set STRIPE_SECRET_KEY to use real Stripe test mode."
fi

mkdir -p instance

# Everything started in the background is stopped on the way out, whatever the reason.
PIDS=()
cleanup() {
    trap - EXIT INT TERM
    local pid
    for pid in ${PIDS[@]+"${PIDS[@]}"}; do
        kill -TERM "$pid" 2>/dev/null || true
    done
    for _ in $(seq 1 50); do
        local alive=0
        for pid in ${PIDS[@]+"${PIDS[@]}"}; do
            if kill -0 "$pid" 2>/dev/null; then alive=1; fi
        done
        [ "$alive" -eq 0 ] && break
        sleep 0.1
    done
    for pid in ${PIDS[@]+"${PIDS[@]}"}; do
        kill -KILL "$pid" 2>/dev/null || true
    done
}
trap cleanup EXIT
trap 'echo; echo "run-dev: stopping."; exit 130' INT
trap 'exit 143' TERM

echo "==> Migrating the database (instance/chapter.sqlite unless DATABASE_URL is set)"
"${FLASK[@]}" db upgrade

if [ -z "${STRIPE_SECRET_KEY:-}" ]; then
    echo "==> Starting localstripe on 127.0.0.1:$STRIPE_PORT (log: instance/localstripe.log)"
    # Same as `localstripe --port 8420 --from-scratch`, but listening on loopback only
    # (the stock command listens on every interface).
    "$VENV/bin/python" -c '
import logging, socket, sys
from aiohttp import web
from localstripe.server import app
logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
port = int(sys.argv[1])
hosts = ["127.0.0.1"]
try:
    with socket.socket(socket.AF_INET6) as s:
        s.bind(("::1", 0))
    hosts.append("::1")
except OSError:
    pass
web.run_app(app, host=hosts, port=port)
' "$STRIPE_PORT" >instance/localstripe.log 2>&1 &
    PIDS+=($!)
    stripe_pid=$!
    ready=0
    for _ in $(seq 1 80); do   # up to ~20 s
        kill -0 "$stripe_pid" 2>/dev/null || { tail -n 20 instance/localstripe.log >&2; die "localstripe exited at start-up (log above)."; }
        if curl -s -o /dev/null -u sk_test_localstripe: "http://127.0.0.1:$STRIPE_PORT/v1/customers"; then
            ready=1; break
        fi
        sleep 0.25
    done
    [ "$ready" -eq 1 ] || { tail -n 20 instance/localstripe.log >&2; die "localstripe did not answer on 127.0.0.1:$STRIPE_PORT within 20 s."; }
    # localstripe forgets its webhooks on restart: register the app's every time.
    curl -sf -o /dev/null -X POST "http://127.0.0.1:$STRIPE_PORT/_config/webhooks/chapter" \
        -d "url=http://$HOST:$PORT/stripe/webhook" -d secret=whsec_localstripe \
        || die "could not register the webhook with localstripe."
else
    echo "==> STRIPE_SECRET_KEY is set: using real Stripe (test mode, please); localstripe is not started."
    echo "    Set STRIPE_PUBLISHABLE_KEY and STRIPE_WEBHOOK_SECRET too, e.g. from \`stripe listen --forward-to $HOST:$PORT/stripe/webhook\`."
fi

echo "==> Seeding demo data if the database is empty"
# Prints the demo log-ins in both cases (seeded now, or data already there).
"${FLASK[@]}" seed-demo --if-empty

echo "==> Starting the background worker (mail goes to the console and instance/outbox/ unless MAIL_SERVER is set)"
"${FLASK[@]}" worker &
PIDS+=($!)
worker_pid=$!

stops="the server and the worker"
[ -z "${STRIPE_SECRET_KEY:-}" ] && stops="the server, the worker and localstripe"
echo
echo "==> Serving on http://$HOST:$PORT  (Ctrl-C stops $stops)"
"${FLASK[@]}" run --host "$HOST" --port "$PORT" &
PIDS+=($!)
server_pid=$!

# Say when it really answers, then stay until the server ends or we are told to stop.
for _ in $(seq 1 80); do
    kill -0 "$server_pid" 2>/dev/null || break
    kill -0 "$worker_pid" 2>/dev/null || die "the worker exited at start-up (its messages are above)."
    if curl -s -o /dev/null "http://$HOST:$PORT/healthz"; then
        echo "==> Ready: http://$HOST:$PORT"
        break
    fi
    sleep 0.25
done

set +e
wait "$server_pid"
status=$?
set -e
exit "$status"
