#!/usr/bin/env bash
# `make dev`: the local stack and the local API on http://127.0.0.1:$PORT (default 3000).
# Starts (or reuses) the emulator, applies template.yaml's bucket and table to it,
# then runs `cargo run -p local-api -- serve` until Ctrl-C. On exit it stops the local
# API, and the emulator too if this run started it.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
# shellcheck source=scripts/env.sh
. scripts/env.sh
# Local development only: a signing key for external-file links, and http:// custom URLs
# to this machine, so the external-file flow of the README works with a local server.
: "${CUSTOM_URL_SIGNING_KEY:=local-development-signing-key-change-me-please}"
: "${ALLOW_HTTP_LOOPBACK_URLS:=true}"
export CUSTOM_URL_SIGNING_KEY ALLOW_HTTP_LOOPBACK_URLS

scripts/venv.sh

# The emulators this run starts are listed here, and stopped when it ends.
owner="$(mktemp)"
api_pid=""

# shellcheck disable=SC2329 # invoked by the traps below
cleanup() {
    local status=$?
    trap - EXIT INT TERM
    if [ -n "$api_pid" ] && kill -0 "$api_pid" 2>/dev/null; then
        kill "$api_pid" 2>/dev/null || true
        wait "$api_pid" 2>/dev/null || true
    fi
    scripts/emulator.sh stop --owner "$owner" || true
    rm -f "$owner"
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

scripts/emulator.sh ensure --owner "$owner"
# shellcheck source=/dev/null
. .local/endpoints.env
.venv/bin/python scripts/local_infra.py apply

port="${PORT:-3000}"
cargo build -q -p local-api
cargo run -q -p local-api -- serve --addr "127.0.0.1:$port" &
api_pid=$!
# A development token (12 hours) of organisation $ORG, in a link that signs the console in.
token="$(cargo run -q -p local-api -- token --org "${ORG:-123}" --ttl 43200)"
for _ in $(seq 1 100); do
    curl -fsS -o /dev/null "http://127.0.0.1:$port/openapi.json" 2>/dev/null && break
    kill -0 "$api_pid" 2>/dev/null || break
    sleep 0.1
done
cat <<EOF
dev: the local API is on http://127.0.0.1:$port (OpenAPI: /openapi.json); Ctrl-C stops it.
dev: the console, signed in as organisation ${ORG:-123}:
  http://127.0.0.1:$port/#token=$token
EOF
wait "$api_pid"
