#!/usr/bin/env bash
# `make dev`: the local stack and the local API on http://127.0.0.1:3000.
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

# The pid file appears only when emulator.sh starts a moto_server; if there was none
# before and there is one after, this run started it and this run stops it.
started_emulator=0
[ -f .local/moto.pid ] && had_pidfile=1 || had_pidfile=0
api_pid=""

# shellcheck disable=SC2329 # invoked by the traps below
cleanup() {
    local status=$?
    trap - EXIT INT TERM
    if [ -n "$api_pid" ] && kill -0 "$api_pid" 2>/dev/null; then
        kill "$api_pid" 2>/dev/null || true
        wait "$api_pid" 2>/dev/null || true
    fi
    if [ "$started_emulator" = 1 ]; then
        scripts/emulator.sh stop || true
    fi
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

scripts/emulator.sh ensure
if [ "$had_pidfile" = 0 ] && [ -f .local/moto.pid ]; then
    started_emulator=1
fi
.venv/bin/python scripts/local_infra.py apply

echo "dev: local API on http://127.0.0.1:3000 (token: make token); Ctrl-C stops it"
cargo run -p local-api -- serve &
api_pid=$!
wait "$api_pid"
