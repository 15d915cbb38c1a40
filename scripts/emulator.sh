#!/usr/bin/env bash
# The local AWS endpoint (S3 + DynamoDB) for development and tests.
#
#   emulator.sh ensure   if something already answers at $AWS_ENDPOINT_URL (default
#                        http://127.0.0.1:4566), for example a LocalStack the user runs,
#                        use it as it is; otherwise start moto's server from .venv there
#                        (scripts/moto_server.py if present, else .venv/bin/moto_server;
#                        log .local/moto.log, pid .local/moto.pid) and wait until it answers
#   emulator.sh stop     stop the moto_server this script started (per the pid file);
#                        anything else is left alone
#   emulator.sh status   exit 0 if the endpoint answers, 1 otherwise
#
# Needs .venv (scripts/venv.sh) only when it has to start moto.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
endpoint="${AWS_ENDPOINT_URL:-http://127.0.0.1:4566}"
state="$root/.local"
pidfile="$state/moto.pid"
logfile="$state/moto.log"
moto="$root/.venv/bin/moto_server"
wait_seconds="${EMULATOR_WAIT_SECONDS:-30}"

# True when anything answers HTTP at the endpoint (any status code counts).
answers() {
    if command -v curl >/dev/null 2>&1; then
        local code
        code="$(curl --noproxy '*' -s -o /dev/null -m 2 -w '%{http_code}' "$endpoint/" 2>/dev/null || true)"
        [ -n "$code" ] && [ "$code" != "000" ]
    else
        python3 - "$endpoint" <<'PY' >/dev/null 2>&1
import sys, urllib.error, urllib.request
opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
try:
    opener.open(sys.argv[1].rstrip("/") + "/", timeout=2)
except urllib.error.HTTPError:
    pass  # an HTTP error status is still an answer
except Exception:
    sys.exit(1)
PY
    fi
}

# Pid from the pid file if that process is alive and is a moto_server, else empty.
our_pid() {
    [ -f "$pidfile" ] || return 0
    local pid
    pid="$(tr -dc '0-9' <"$pidfile")"
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null \
        && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q moto_server; then
        echo "$pid"
    fi
}

log_tail() {
    if [ -s "$logfile" ]; then
        echo "---- last lines of $logfile ----" >&2
        tail -n 40 "$logfile" >&2
    fi
}

ensure() {
    local pid
    pid="$(our_pid)"
    if [ -z "$pid" ]; then
        rm -f "$pidfile"
        if answers; then
            echo "emulator: using the endpoint already answering at $endpoint"
            return 0
        fi
        if [[ ! "$endpoint" =~ ^http://(127\.0\.0\.1|localhost)(:([0-9]+))?/?$ ]]; then
            echo "emulator: nothing answers at $endpoint and it is not a local http://127.0.0.1:PORT address," >&2
            echo "emulator: so no moto_server can be started for it; start that endpoint or unset AWS_ENDPOINT_URL" >&2
            exit 1
        fi
        local port="${BASH_REMATCH[3]:-80}"
        if [ ! -x "$moto" ]; then
            echo "emulator: $moto not found; run scripts/venv.sh (make venv) first" >&2
            exit 1
        fi
        # scripts/moto_server.py is moto's server with DynamoDB requests serialised
        # (per-item atomic updates, as DynamoDB gives); plain moto_server otherwise.
        local -a server=("$moto" -H 127.0.0.1 -p "$port")
        if [ -f "$root/scripts/moto_server.py" ]; then
            server=("$root/.venv/bin/python" "$root/scripts/moto_server.py" --host 127.0.0.1 --port "$port")
        fi
        mkdir -p "$state"
        echo "==== $(date -u +%Y-%m-%dT%H:%M:%SZ) ${server[*]}" >>"$logfile"
        # Own session, so a Ctrl-C in the terminal that ran `make dev` does not reach it;
        # the pid file is what `stop` uses.
        if command -v setsid >/dev/null 2>&1; then
            setsid "${server[@]}" </dev/null >>"$logfile" 2>&1 &
        else
            nohup "${server[@]}" </dev/null >>"$logfile" 2>&1 &
        fi
        pid=$!
        echo "$pid" >"$pidfile"
        started=1
    else
        started=0
    fi

    local deadline=$((SECONDS + wait_seconds))
    until answers; do
        if ! kill -0 "$pid" 2>/dev/null; then
            rm -f "$pidfile"
            echo "emulator: moto_server (pid $pid) exited before answering at $endpoint" >&2
            log_tail
            exit 1
        fi
        if [ "$SECONDS" -ge "$deadline" ]; then
            echo "emulator: moto_server (pid $pid) did not answer at $endpoint within ${wait_seconds}s" >&2
            log_tail
            stop
            exit 1
        fi
        sleep 0.2
    done
    if [ "$started" = 1 ]; then
        echo "emulator: started moto_server (pid $pid) at $endpoint, log .local/moto.log"
    else
        echo "emulator: moto_server (pid $pid) started earlier by this script answers at $endpoint"
    fi
}

stop() {
    local pid
    pid="$(our_pid)"
    if [ -z "$pid" ]; then
        rm -f "$pidfile"
        return 0
    fi
    kill "$pid" 2>/dev/null || true

    for _ in $(seq 1 50); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
        kill -9 "$pid" 2>/dev/null || true
    fi
    rm -f "$pidfile"
    echo "emulator: stopped moto_server (pid $pid)"
}

case "${1:-}" in
    ensure) ensure ;;
    stop) stop ;;
    status) answers ;;
    *)
        echo "usage: $0 ensure|stop|status" >&2
        exit 2
        ;;
esac
