#!/usr/bin/env bash
# The local AWS endpoints for development and tests: DynamoDB from moto, S3 from
# LocalStack with signature validation on (a tampered, expired or wrong-header presigned
# request is refused, as AWS refuses it).
#
#   emulator.sh ensure [--owner FILE]
#        Each of S3 and DynamoDB, in this order: the endpoint its variable names
#        ($AWS_ENDPOINT_URL_S3, $AWS_ENDPOINT_URL_DYNAMODB); else this checkout's own
#        emulator, if it runs; else a LocalStack at $AWS_ENDPOINT_URL (default
#        http://127.0.0.1:4566) whose /_localstack/health lists that service; else one
#        started for it: moto's server for DynamoDB at $AWS_ENDPOINT_URL, LocalStack
#        4.9.2 (S3 only, signatures checked, from .venv-localstack) at
#        http://127.0.0.1:4567, each on a free port instead when something else answers
#        there. Nothing is reused without asking what it is: another checkout's moto on
#        :4566 is no S3 (it checks no signature and ignores conditional copies), and
#        another checkout's emulators may stop in the middle of this one's tests.
#        Writes the endpoints it settled on to .local/endpoints.env (source it); with
#        --owner, the names of the emulators it started to FILE.
#   emulator.sh stop [--owner FILE]
#        stop the emulators this script started (only those listed in FILE, with --owner)
#   emulator.sh status   exit 0 if both endpoints answer, 1 otherwise
#
# Logs and pid files: .local/<moto|localstack>.{log,pid}.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
state="$root/.local"
general="${AWS_ENDPOINT_URL:-http://127.0.0.1:4566}"
dynamodb="${AWS_ENDPOINT_URL_DYNAMODB:-$general}"
wait_seconds="${EMULATOR_WAIT_SECONDS:-60}"
localstack_default="http://127.0.0.1:4567"

# True when anything answers HTTP at the endpoint (any status code counts).
answers() {
    local code
    code="$(curl --noproxy '*' -s -o /dev/null -m 2 -w '%{http_code}' "$1/" 2>/dev/null || true)"
    [ -n "$code" ] && [ "$code" != "000" ]
}

# Pid of our emulator NAME if alive, else empty.
our_pid() {
    local pidfile="$state/$1.pid" pid
    [ -f "$pidfile" ] || return 0
    pid="$(tr -dc '0-9' <"$pidfile")"
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null \
        && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q "$2"; then
        echo "$pid"
    fi
}

# The services a LocalStack at the endpoint says run ("s3 dynamodb ..."); nothing for
# anything else (moto answers the path with an error, other servers with anything).
localstack_services() {
    curl --noproxy '*' -s -m 2 "$1/_localstack/health" 2>/dev/null | python3 -c '
import json, sys
try:
    services = json.load(sys.stdin).get("services", {})
except Exception:
    sys.exit(0)
if isinstance(services, dict):
    print(" ".join(n for n, state in services.items() if state in ("available", "running")))
' 2>/dev/null || true
}

# Whether a LocalStack at the endpoint runs SERVICE.
localstack_runs() {
    [[ " $(localstack_services "$1") " == *" $2 "* ]]
}

# A loopback port nothing listens on now.
free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Where our emulator NAME answers when it runs (DEFAULT for one started before the
# endpoint was recorded), else nothing.
our_endpoint() {
    local name="$1" pattern="$2" default="$3"
    [ -n "$(our_pid "$name" "$pattern")" ] || return 0
    if [ -f "$state/$name.endpoint" ]; then cat "$state/$name.endpoint"; else echo "$default"; fi
}

# PREFERRED when nothing answers there, else the same on a free port.
vacant() {
    if answers "$1"; then echo "http://127.0.0.1:$(free_port)"; else echo "$1"; fi
}

local_port() {
    if [[ ! "$1" =~ ^http://(127\.0\.0\.1|localhost)(:([0-9]+))?/?$ ]]; then
        echo "emulator: nothing answers at $1 and it is not a local http://127.0.0.1:PORT address;" >&2
        echo "emulator: start that endpoint or unset the variable that names it" >&2
        exit 1
    fi
    echo "${BASH_REMATCH[3]:-80}"
}

# start NAME ENDPOINT PATTERN COMMAND...: runs COMMAND in its own session (a Ctrl-C in
# the terminal of `make dev` does not reach it) and waits until ENDPOINT answers.
start() {
    local name="$1" endpoint="$2" pattern="$3" pid
    shift 3
    mkdir -p "$state"
    echo "==== $(date -u +%Y-%m-%dT%H:%M:%SZ) $*" >>"$state/$name.log"
    setsid "$@" </dev/null >>"$state/$name.log" 2>&1 &
    pid=$!
    echo "$pid" >"$state/$name.pid"
    echo "$endpoint" >"$state/$name.endpoint"
    local deadline=$((SECONDS + wait_seconds))
    until answers "$endpoint"; do
        if ! kill -0 "$pid" 2>/dev/null || [ "$SECONDS" -ge "$deadline" ]; then
            echo "emulator: $name did not answer at $endpoint; last lines of .local/$name.log:" >&2
            tail -n 30 "$state/$name.log" >&2
            stop_one "$name" "$pattern"
            exit 1
        fi
        sleep 0.2
    done
    echo "emulator: started $name (pid $pid) at $endpoint, log .local/$name.log"
    [ -z "$owner" ] || echo "$name" >>"$owner"
}

start_moto() {
    local endpoint="$1" port
    port="$(local_port "$endpoint")"
    [ -x "$root/.venv/bin/python" ] || { echo "emulator: run scripts/venv.sh (make venv) first" >&2; exit 1; }
    # scripts/moto_server.py: moto's server with DynamoDB requests serialised (per-item
    # atomic updates, as DynamoDB gives).
    start moto "$endpoint" moto_server \
        "$root/.venv/bin/python" "$root/scripts/moto_server.py" --host 127.0.0.1 --port "$port"
}

start_localstack() {
    local endpoint="$1" port
    port="$(local_port "$endpoint")"
    "$root/scripts/venv.sh" "$root/scripts/requirements-localstack.txt" "$root/.venv-localstack"
    # Host mode, S3 only, signatures checked; no downloads (there is no network here).
    start localstack "$endpoint" localstack env \
        GATEWAY_LISTEN="127.0.0.1:$port" SERVICES=s3 S3_SKIP_SIGNATURE_VALIDATION=0 \
        DISABLE_EVENTS=1 LOCALSTACK_VOLUME_DIR="$state/localstack-volume" \
        "$root/.venv-localstack/bin/python" -m localstack.runtime.main
}

# Settles one service's endpoint, in $chosen: CONFIGURED if set; else this checkout's
# emulator NAME, if it runs; else a LocalStack at $general that lists SERVICE; else NAME
# started by STARTER at DEFAULT, or on a free port when something else answers there.
settle() {
    local configured="$1" name="$2" pattern="$3" service="$4" default="$5" starter="$6"
    chosen="$configured"
    [ -n "$chosen" ] || chosen="$(our_endpoint "$name" "$pattern" "$default")"
    if [ -z "$chosen" ] && localstack_runs "$general" "$service"; then
        chosen="$general"
        echo "emulator: using the LocalStack at $general for $service"
    fi
    if [ -z "$chosen" ]; then
        chosen="$(vacant "$default")"
        "$starter" "$chosen"
    fi
}

ensure() {
    local s3 db
    settle "${AWS_ENDPOINT_URL_DYNAMODB:-}" moto moto_server dynamodb "$general" start_moto
    db="$chosen"
    settle "${AWS_ENDPOINT_URL_S3:-}" localstack localstack s3 "$localstack_default" start_localstack
    s3="$chosen"
    mkdir -p "$state"
    printf 'export AWS_ENDPOINT_URL_S3=%s\nexport AWS_ENDPOINT_URL_DYNAMODB=%s\n' "$s3" "$db" \
        >"$state/endpoints.env"
}

stop_one() {
    local name="$1" pattern="$2" pid
    pid="$(our_pid "$name" "$pattern")"
    rm -f "$state/$name.pid" "$state/$name.endpoint"
    [ -n "$pid" ] || return 0
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -9 "$pid" 2>/dev/null || true
    echo "emulator: stopped $name (pid $pid)"
}

stop() {
    local names=(moto localstack)
    if [ -n "$owner" ]; then
        mapfile -t names <"$owner" 2>/dev/null || names=()
    fi
    for name in "${names[@]}"; do
        case "$name" in
            moto) stop_one moto moto_server ;;
            localstack) stop_one localstack localstack ;;
        esac
    done
}

command="${1:-}"
owner=""
if [ "${2:-}" = "--owner" ]; then
    owner="${3:?--owner takes a file}"
fi
case "$command" in
    ensure) ensure ;;
    stop) stop ;;
    status)
        # shellcheck disable=SC1091
        [ -f "$state/endpoints.env" ] && . "$state/endpoints.env"
        answers "${AWS_ENDPOINT_URL_DYNAMODB:-$dynamodb}" && answers "${AWS_ENDPOINT_URL_S3:-$localstack_default}"
        ;;
    *)
        echo "usage: $0 ensure|stop [--owner FILE] | status" >&2
        exit 2
        ;;
esac
