#!/usr/bin/env bash
# Part of `make bench` (after scripts/bench.sh has the stack up and release builds): the
# `files` CLI uploading a file in parallel parts through the local API (start, sign,
# PUTs to S3, complete, save with its SHA-256 check) beside boto3's upload_file of the
# same file straight to the bucket. Wall time and peak RSS of each, as Markdown rows.
#   scripts/bench-cli.sh [MiB]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
mib="${1:-512}"
work="$(mktemp -d)"
port=3917
cleanup() { [ -n "${api:-}" ] && kill "$api" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
head -c "$((mib * 1024 * 1024))" /dev/urandom >"$work/file.bin"
CUSTOM_URL_SIGNING_KEY="${CUSTOM_URL_SIGNING_KEY:-local-bench-signing-key-0123456789abcdef}" \
    target/release/local-api serve --addr "127.0.0.1:$port" >"$work/api.log" 2>&1 &
api=$!
for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$port/" && break; sleep 0.1; done
token="$(target/release/local-api token --org bench)"
measure() { # label, command...: seconds and peak RSS (MiB) of the command
    local label="$1"; shift
    local start end
    start=$(date +%s.%N)
    /usr/bin/time -f "%M" -o "$work/rss" "$@" >/dev/null
    end=$(date +%s.%N)
    awk -v l="$label" -v s="$start" -v e="$end" -v m="$mib" -v r="$(cat "$work/rss")" \
        'BEGIN { t = e - s; printf "| %s | %d MiB | %.2f s | %.1f MiB/s | %.1f MiB |\n", l, m, t, m / t, r / 1024 }'
}
echo "| upload of one file | size | time | throughput | peak RSS |"
echo "|---|---|---|---|---|"
measure "files upload --parallel 8 (ours, through the API, SHA-256 checked)" \
    env FILES_API_URL="http://127.0.0.1:$port" FILES_TOKEN="$token" FILES_STATE_DIR="$work/state" \
    target/release/files upload "$work/file.bin" --parallel 8 --quiet
measure "boto3 upload_file, 8 threads (peer, straight to S3)" \
    .venv/bin/python bench/python/sdk_upload_file.py "$work/file.bin" "$FILES_BUCKET" "${AWS_ENDPOINT_URL_S3:-$AWS_ENDPOINT_URL}"
